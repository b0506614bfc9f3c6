package catalog

import (
	"context"
	"strconv"
	"strings"

	"github.com/longboatdb/longboat/sql/types"
)

// rowFuncs maps "schema.name" to the function producing its rows. Relations
// without an entry are always empty (pg_attrdef, pg_description, pg_trigger,
// pg_extension, ...).
func rowFuncs() map[string]rowsFunc {
	return map[string]rowsFunc{
		"pg_catalog.pg_namespace":     pgNamespace,
		"pg_catalog.pg_class":         pgClass,
		"pg_catalog.pg_attribute":     pgAttribute,
		"pg_catalog.pg_type":          pgType,
		"pg_catalog.pg_database":      pgDatabase,
		"pg_catalog.pg_roles":         pgRoles,
		"pg_catalog.pg_user":          pgUser,
		"pg_catalog.pg_shadow":        pgShadow,
		"pg_catalog.pg_authid":        pgAuthid,
		"pg_catalog.pg_am":            pgAm,
		"pg_catalog.pg_index":         pgIndex,
		"pg_catalog.pg_constraint":    pgConstraint,
		"pg_catalog.pg_collation":     pgCollation,
		"pg_catalog.pg_tablespace":    pgTablespace,
		"pg_catalog.pg_settings":      pgSettings,
		"pg_catalog.pg_stat_activity": pgStatActivity,
		"pg_catalog.pg_tables":        pgTables,
		"pg_catalog.pg_indexes":       pgIndexes,
		"pg_catalog.pg_proc":          pgProc,
		"pg_catalog.pg_language":      pgLanguage,

		"information_schema.schemata":          isSchemata,
		"information_schema.tables":            isTables,
		"information_schema.columns":           isColumns,
		"information_schema.table_constraints": isTableConstraints,
		"information_schema.key_column_usage":  isKeyColumnUsage,
	}
}

func pgNamespace(_ context.Context, _ View, rs *rowSet) error {
	for _, n := range []struct {
		oid   uint32
		name  string
		owner uint32
	}{
		{NamespacePgCatalog, "pg_catalog", RoleSuperuser},
		{NamespacePublic, "public", RolePgDatabaseOwner},
		{NamespaceInformationSchema, "information_schema", RoleSuperuser},
	} {
		rs.add().set("oid", dOID(n.oid)).set("nspname", dName(n.name)).set("nspowner", dOID(n.owner))
	}
	return nil
}

// sharedRelation reports whether a system relation is cluster-wide.
func sharedRelation(name string) bool {
	switch name {
	case "pg_database", "pg_authid", "pg_auth_members", "pg_tablespace", "pg_shdescription":
		return true
	}
	return false
}

func pgClass(_ context.Context, v View, rs *rowSet) error {
	for _, r := range relations(v) {
		am, filenode, replident := uint32(0), uint32(0), byte('n')
		frozen, minmxid := uint32(0), uint32(0)
		tuples := float32(-1)
		switch r.kind {
		case 'r':
			am, filenode, replident, frozen, minmxid = AmHeap, r.oid, 'd', 716, 1
		case 'i':
			am, filenode, tuples = AmBtree, r.oid, 0
		}
		rs.add().
			set("oid", dOID(r.oid)).
			set("relname", dName(r.name)).
			set("relnamespace", dOID(r.nsp)).
			set("reltype", dOID(0)).
			set("reloftype", dOID(0)).
			set("relowner", dOID(RoleSuperuser)).
			set("relam", dOID(am)).
			set("relfilenode", dOID(filenode)).
			set("reltablespace", dOID(0)).
			set("relpages", dInt4(0)).
			set("reltuples", dFloat4(tuples)).
			set("relallvisible", dInt4(0)).
			set("reltoastrelid", dOID(0)).
			set("relhasindex", dBool(r.kind == 'r' && r.table != nil && len(pkColumns(r.table)) > 0)).
			set("relisshared", dBool(r.table == nil && sharedRelation(r.name))).
			set("relpersistence", dChar('p')).
			set("relkind", dChar(r.kind)).
			set("relnatts", dInt2(len(r.cols))).
			set("relchecks", dInt2(0)).
			set("relhasrules", dBool(r.kind == 'v')).
			set("relhastriggers", dBool(false)).
			set("relhassubclass", dBool(false)).
			set("relrowsecurity", dBool(false)).
			set("relforcerowsecurity", dBool(false)).
			set("relispopulated", dBool(true)).
			set("relreplident", dChar(replident)).
			set("relispartition", dBool(false)).
			set("relrewrite", dOID(0)).
			set("relfrozenxid", dXid(frozen)).
			set("relminmxid", dXid(minmxid))
	}
	return nil
}

func pgAttribute(_ context.Context, v View, rs *rowSet) error {
	for _, r := range relations(v) {
		for i, c := range r.cols {
			ti, _ := lookupType(c.typ)
			var (
				tlen           = int16(-1)
				byval          bool
				align, storage        = byte('i'), byte('x')
				collation      uint32 = 0
			)
			if ti != nil {
				tlen, byval, align, storage, collation = ti.len, ti.byval, ti.align, ti.storage, ti.collation
			}
			if collation == CollationC && r.table != nil {
				collation = CollationDefault
			}
			rs.add().
				set("attrelid", dOID(r.oid)).
				set("attname", dName(c.name)).
				set("atttypid", dOID(uint32(c.typ))).
				set("attstattarget", dInt4(-1)).
				set("attlen", dInt2(int(tlen))).
				set("attnum", dInt2(i+1)).
				set("attndims", dInt4(0)).
				set("attcacheoff", dInt4(-1)).
				set("atttypmod", dInt4(int(c.typmod))).
				set("attbyval", dBool(byval)).
				set("attalign", dChar(align)).
				set("attstorage", dChar(storage)).
				set("attcompression", dCharS("")).
				set("attnotnull", dBool(c.notNull)).
				set("atthasdef", dBool(false)).
				set("atthasmissing", dBool(false)).
				set("attidentity", dCharS("")).
				set("attgenerated", dCharS("")).
				set("attisdropped", dBool(false)).
				set("attislocal", dBool(true)).
				set("attinhcount", dInt4(0)).
				set("attcollation", dOID(collation))
		}
	}
	return nil
}

func pgType(_ context.Context, _ View, rs *rowSet) error {
	for _, t := range typeIndexOnce().list {
		rs.add().
			set("oid", dOID(uint32(t.oid))).
			set("typname", dName(t.name)).
			set("typnamespace", dOID(NamespacePgCatalog)).
			set("typowner", dOID(RoleSuperuser)).
			set("typlen", dInt2(int(t.len))).
			set("typbyval", dBool(t.byval)).
			set("typtype", dChar(t.typtype)).
			set("typcategory", dChar(t.category)).
			set("typispreferred", dBool(t.preferred)).
			set("typisdefined", dBool(true)).
			set("typdelim", dChar(',')).
			set("typrelid", dOID(0)).
			set("typsubscript", dRegproc(t.subscript)).
			set("typelem", dOID(uint32(t.elem))).
			set("typarray", dOID(uint32(t.array))).
			set("typinput", dRegproc(t.input)).
			set("typoutput", dRegproc(t.output)).
			set("typreceive", dRegproc(t.receive)).
			set("typsend", dRegproc(t.send)).
			set("typmodin", dRegproc(t.modin)).
			set("typmodout", dRegproc(t.modout)).
			set("typanalyze", dRegproc(typAnalyze(t))).
			set("typalign", dChar(t.align)).
			set("typstorage", dChar(t.storage)).
			set("typnotnull", dBool(false)).
			set("typbasetype", dOID(0)).
			set("typtypmod", dInt4(-1)).
			set("typndims", dInt4(0)).
			set("typcollation", dOID(t.collation))
	}
	return nil
}

func typAnalyze(t typeInfo) string {
	if t.elem != 0 && t.len == -1 && t.subscript == "array_subscript_handler" && t.oid != Int2Vector && t.oid != OidVector {
		return "array_typanalyze"
	}
	return ""
}

func pgDatabase(_ context.Context, v View, rs *rowSet) error {
	for _, d := range v.Databases() {
		rs.add().
			set("oid", dOID(DatabaseOID(&d))).
			set("datname", dName(d.Name)).
			set("datdba", dOID(RoleSuperuser)).
			set("encoding", dInt4(EncodingUTF8)).
			set("datlocprovider", dChar('c')).
			set("datistemplate", dBool(false)).
			set("datallowconn", dBool(true)).
			set("datconnlimit", dInt4(-1)).
			set("datfrozenxid", dXid(716)).
			set("datminmxid", dXid(1)).
			set("dattablespace", dOID(TablespaceDefault)).
			set("datcollate", dText("C")).
			set("datctype", dText("C"))
	}
	return nil
}

// role is one pg_authid row.
type role struct {
	oid   uint32
	name  string
	super bool
	login bool
}

// roles are the session user, presented as the bootstrap superuser, and
// pg_database_owner, which owns schema public.
func roles(v View) []role {
	return []role{
		{oid: RoleSuperuser, name: sessionUser(v), super: true, login: true},
		{oid: RolePgDatabaseOwner, name: "pg_database_owner"},
	}
}

func sessionUser(v View) string {
	if u := v.User(); u != "" {
		return u
	}
	return "postgres"
}

func pgRoles(_ context.Context, v View, rs *rowSet) error {
	for _, r := range roles(v) {
		rs.add().
			set("rolname", dName(r.name)).
			set("rolsuper", dBool(r.super)).
			set("rolinherit", dBool(true)).
			set("rolcreaterole", dBool(r.super)).
			set("rolcreatedb", dBool(r.super)).
			set("rolcanlogin", dBool(r.login)).
			set("rolreplication", dBool(r.super)).
			set("rolconnlimit", dInt4(-1)).
			set("rolpassword", dText("********")).
			set("rolbypassrls", dBool(r.super)).
			set("oid", dOID(r.oid))
	}
	return nil
}

func pgAuthid(_ context.Context, v View, rs *rowSet) error {
	for _, r := range roles(v) {
		rs.add().
			set("oid", dOID(r.oid)).
			set("rolname", dName(r.name)).
			set("rolsuper", dBool(r.super)).
			set("rolinherit", dBool(true)).
			set("rolcreaterole", dBool(r.super)).
			set("rolcreatedb", dBool(r.super)).
			set("rolcanlogin", dBool(r.login)).
			set("rolreplication", dBool(r.super)).
			set("rolbypassrls", dBool(r.super)).
			set("rolconnlimit", dInt4(-1))
	}
	return nil
}

func pgUser(_ context.Context, v View, rs *rowSet) error {
	for _, r := range roles(v) {
		if !r.login {
			continue
		}
		rs.add().
			set("usename", dName(r.name)).
			set("usesysid", dOID(r.oid)).
			set("usecreatedb", dBool(r.super)).
			set("usesuper", dBool(r.super)).
			set("userepl", dBool(r.super)).
			set("usebypassrls", dBool(r.super)).
			set("passwd", dText("********"))
	}
	return nil
}

func pgShadow(_ context.Context, v View, rs *rowSet) error {
	for _, r := range roles(v) {
		if !r.login {
			continue
		}
		rs.add().
			set("usename", dName(r.name)).
			set("usesysid", dOID(r.oid)).
			set("usecreatedb", dBool(r.super)).
			set("usesuper", dBool(r.super)).
			set("userepl", dBool(r.super)).
			set("usebypassrls", dBool(r.super))
	}
	return nil
}

func pgAm(_ context.Context, _ View, rs *rowSet) error {
	rs.add().set("oid", dOID(AmHeap)).set("amname", dName("heap")).
		set("amhandler", dRegproc("heap_tableam_handler")).set("amtype", dChar('t'))
	rs.add().set("oid", dOID(AmBtree)).set("amname", dName("btree")).
		set("amhandler", dRegproc("bthandler")).set("amtype", dChar('i'))
	return nil
}

// indexVectors returns pg_index's indkey, indcollation and indclass text
// forms for t's primary key.
func indexVectors(t *relation) (key, coll, class []string) {
	tbl := t.table
	for _, i := range pkColumns(tbl) {
		key = append(key, strconv.Itoa(i+1))
		typ := types.OfColType(tbl.Columns[i].Type)
		c := uint32(0)
		if ti, ok := lookupType(typ); ok && ti.collation != 0 {
			c = CollationDefault
		}
		coll = append(coll, uitoa(c))
		class = append(class, uitoa(defaultBtreeOpclass(typ)))
	}
	return key, coll, class
}

// defaultBtreeOpclass is the default btree operator class of a type (PG 15).
func defaultBtreeOpclass(t types.OID) uint32 {
	switch t {
	case types.Bool:
		return 10003
	case types.Int8:
		return 3124
	case types.Int2:
		return 1979
	case types.Int4:
		return 1978
	case types.Text, types.Varchar:
		return opclassTextOps
	case types.Float4:
		return 10012
	case types.Float8:
		return 3123
	case types.Date:
		return 3122
	case types.Timestamp:
		return 3128
	case types.Timestamptz:
		return opclassTimestamptzOps
	case types.Numeric:
		return 3125
	}
	return 0
}

func pgIndex(_ context.Context, v View, rs *rowSet) error {
	ts := userTables(v)
	for i := range ts {
		t := &ts[i]
		pk := pkColumns(t)
		if len(pk) == 0 {
			continue
		}
		rel := userTableRelation(t)
		key, coll, class := indexVectors(&rel)
		opts := make([]string, len(pk))
		for j := range opts {
			opts[j] = "0"
		}
		rs.add().
			set("indexrelid", dOID(IndexOID(t))).
			set("indrelid", dOID(TableOID(t))).
			set("indnatts", dInt2(len(pk))).
			set("indnkeyatts", dInt2(len(pk))).
			set("indisunique", dBool(true)).
			set("indnullsnotdistinct", dBool(false)).
			set("indisprimary", dBool(true)).
			set("indisexclusion", dBool(false)).
			set("indimmediate", dBool(true)).
			set("indisclustered", dBool(false)).
			set("indisvalid", dBool(true)).
			set("indcheckxmin", dBool(false)).
			set("indisready", dBool(true)).
			set("indislive", dBool(true)).
			set("indisreplident", dBool(false)).
			set("indkey", types.Datum{T: Int2Vector, S: strings.Join(key, " ")}).
			set("indcollation", types.Datum{T: OidVector, S: strings.Join(coll, " ")}).
			set("indclass", types.Datum{T: OidVector, S: strings.Join(class, " ")}).
			set("indoption", types.Datum{T: Int2Vector, S: strings.Join(opts, " ")})
	}
	return nil
}

func pgConstraint(_ context.Context, v View, rs *rowSet) error {
	ts := userTables(v)
	for i := range ts {
		t := &ts[i]
		pk := pkColumns(t)
		if len(pk) == 0 {
			continue
		}
		keys := make([]string, len(pk))
		for j, c := range pk {
			keys[j] = strconv.Itoa(c + 1)
		}
		rs.add().
			set("oid", dOID(ConstraintOID(t))).
			set("conname", dName(pkName(t))).
			set("connamespace", dOID(NamespacePublic)).
			set("contype", dChar('p')).
			set("condeferrable", dBool(false)).
			set("condeferred", dBool(false)).
			set("convalidated", dBool(true)).
			set("conrelid", dOID(TableOID(t))).
			set("contypid", dOID(0)).
			set("conindid", dOID(IndexOID(t))).
			set("conparentid", dOID(0)).
			set("confrelid", dOID(0)).
			set("confupdtype", dChar(' ')).
			set("confdeltype", dChar(' ')).
			set("confmatchtype", dChar(' ')).
			set("conislocal", dBool(true)).
			set("coninhcount", dInt4(0)).
			set("connoinherit", dBool(true)).
			set("conkey", NewStringArray(types.Int2Array, keys...))
	}
	return nil
}

func pgCollation(_ context.Context, _ View, rs *rowSet) error {
	for _, c := range []struct {
		oid      uint32
		name     string
		provider byte
		enc      int
		locale   string
	}{
		{CollationDefault, "default", 'd', -1, ""},
		{CollationC, "C", 'c', -1, "C"},
		{CollationPOSIX, "POSIX", 'c', -1, "POSIX"},
	} {
		r := rs.add().
			set("oid", dOID(c.oid)).
			set("collname", dName(c.name)).
			set("collnamespace", dOID(NamespacePgCatalog)).
			set("collowner", dOID(RoleSuperuser)).
			set("collprovider", dChar(c.provider)).
			set("collisdeterministic", dBool(true)).
			set("collencoding", dInt4(c.enc))
		if c.locale != "" {
			r.set("collcollate", dText(c.locale)).set("collctype", dText(c.locale))
		}
	}
	return nil
}

func pgTablespace(_ context.Context, _ View, rs *rowSet) error {
	rs.add().set("oid", dOID(TablespaceDefault)).set("spcname", dName("pg_default")).set("spcowner", dOID(RoleSuperuser))
	rs.add().set("oid", dOID(TablespaceGlobal)).set("spcname", dName("pg_global")).set("spcowner", dOID(RoleSuperuser))
	return nil
}

func pgSettings(_ context.Context, v View, rs *rowSet) error {
	for _, s := range Settings() {
		if s.NoShowAll {
			continue
		}
		val := s.Setting
		source := "default"
		if sv, ok := v.Setting(s.Name); ok {
			val, source = sv, "session"
		}
		r := rs.add().
			set("name", dText(s.Name)).
			set("setting", dText(val)).
			set("category", dText(s.Category)).
			set("short_desc", dText(s.ShortDesc)).
			set("context", dText(s.Context)).
			set("vartype", dText(s.VarType)).
			set("source", dText(source)).
			set("boot_val", dText(s.Setting)).
			set("reset_val", dText(s.Setting)).
			set("pending_restart", dBool(false))
		if s.Unit != "" {
			r.set("unit", dText(s.Unit))
		}
		if s.VarType == "integer" || s.VarType == "real" {
			r.set("min_val", dText(s.MinVal)).set("max_val", dText(s.MaxVal))
		}
		if len(s.EnumVals) > 0 {
			r.set("enumvals", NewStringArray(types.TextArray, s.EnumVals...))
		}
	}
	return nil
}

func pgStatActivity(_ context.Context, v View, rs *rowSet) error {
	r := rs.add().
		set("usesysid", dOID(RoleSuperuser)).
		set("usename", dName(sessionUser(v))).
		set("state", dText("active")).
		set("backend_type", dText("client backend"))
	if db := v.CurrentDatabase(); db != nil {
		r.set("datid", dOID(DatabaseOID(db))).set("datname", dName(db.Name))
	}
	if p, ok := v.(BackendPIDer); ok {
		r.set("pid", dInt4(int(p.BackendPID())))
	}
	if app, ok := v.Setting("application_name"); ok {
		r.set("application_name", dText(app))
	} else {
		r.set("application_name", dText(""))
	}
	if a, ok := v.(ServerAddresser); ok {
		if addr, port, ok := a.ClientAddr(); ok {
			r.set("client_addr", types.Datum{T: Inet, S: addr}).set("client_port", dInt4(int(port)))
		} else {
			r.set("client_port", dInt4(-1))
		}
	}
	return nil
}

func pgTables(_ context.Context, v View, rs *rowSet) error {
	for _, r := range relations(v) {
		if r.kind != 'r' {
			continue
		}
		rs.add().
			set("schemaname", dName(nspName(r.nsp))).
			set("tablename", dName(r.name)).
			set("tableowner", dName(sessionUser(v))).
			set("hasindexes", dBool(r.table != nil && len(pkColumns(r.table)) > 0)).
			set("hasrules", dBool(false)).
			set("hastriggers", dBool(false)).
			set("rowsecurity", dBool(false))
	}
	return nil
}

func pgIndexes(_ context.Context, v View, rs *rowSet) error {
	ts := userTables(v)
	for i := range ts {
		t := &ts[i]
		if len(pkColumns(t)) == 0 {
			continue
		}
		rs.add().
			set("schemaname", dName("public")).
			set("tablename", dName(t.Name)).
			set("indexname", dName(pkName(t))).
			set("indexdef", dText(indexDef(t, false)))
	}
	return nil
}

// pgProc lists the functions of the registry as pg_catalog functions, so
// that tools browsing pg_proc see what Longboat can run. Argument types are
// not modelled (proargtypes is empty, pronargs is the minimum count).
func pgProc(_ context.Context, _ View, rs *rowSet) error {
	for i, d := range funcRegistry().defs {
		rs.add().
			set("oid", dOID(procOIDBase+uint32(i))).
			set("proname", dName(d.Name)).
			set("pronamespace", dOID(NamespacePgCatalog)).
			set("proowner", dOID(RoleSuperuser)).
			set("prolang", dOID(langInternal)).
			set("procost", dFloat4(1)).
			set("prorows", dFloat4(0)).
			set("provariadic", dOID(0)).
			set("prosupport", dRegproc("")).
			set("prokind", dChar('f')).
			set("prosecdef", dBool(false)).
			set("proleakproof", dBool(false)).
			set("proisstrict", dBool(false)).
			set("proretset", dBool(false)).
			set("provolatile", dChar('s')).
			set("proparallel", dChar('s')).
			set("pronargs", dInt2(d.MinArgs)).
			set("pronargdefaults", dInt2(0)).
			set("prorettype", dOID(uint32(d.Result))).
			set("proargtypes", types.Datum{T: OidVector, S: ""}).
			set("prosrc", dText(d.Name))
	}
	return nil
}

// OIDs for pg_proc and pg_language rows.
const (
	procOIDBase  uint32 = 8000 // Longboat's functions: 8000 + index in funcDefs
	langInternal uint32 = 12
	langSQL      uint32 = 14
)

func pgLanguage(_ context.Context, _ View, rs *rowSet) error {
	for _, l := range []struct {
		oid  uint32
		name string
	}{{langInternal, "internal"}, {langSQL, "sql"}} {
		rs.add().
			set("oid", dOID(l.oid)).
			set("lanname", dName(l.name)).
			set("lanowner", dOID(RoleSuperuser)).
			set("lanispl", dBool(false)).
			set("lanpltrusted", dBool(l.oid == langSQL)).
			set("lanplcallfoid", dOID(0)).
			set("laninline", dOID(0)).
			set("lanvalidator", dOID(0))
	}
	return nil
}
