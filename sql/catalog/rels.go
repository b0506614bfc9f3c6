package catalog

import (
	"sort"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/types"
)

// relation is one pg_class row: an emulated system relation, a user table or
// a user table's primary-key index.
type relation struct {
	oid   uint32
	name  string
	nsp   uint32
	kind  byte // 'r', 'v', 'i'
	cols  []relCol
	table *shard.Table // user table, or the table an index belongs to
}

// relCol is one pg_attribute row of a relation.
type relCol struct {
	name    string
	typ     types.OID
	typmod  int32
	notNull bool
}

// nspOID maps an emulated schema name to its namespace OID.
func nspOID(schema string) uint32 {
	switch schema {
	case "pg_catalog":
		return NamespacePgCatalog
	case "information_schema":
		return NamespaceInformationSchema
	}
	return NamespacePublic
}

// nspName maps a namespace OID to its name ("" if unknown).
func nspName(oid uint32) string {
	switch oid {
	case NamespacePgCatalog:
		return "pg_catalog"
	case NamespacePublic:
		return "public"
	case NamespaceInformationSchema:
		return "information_schema"
	}
	return ""
}

// userTables returns the current database's tables sorted by ID, or nil when
// the session has no database.
func userTables(v View) []shard.Table {
	db := v.CurrentDatabase()
	if db == nil {
		return nil
	}
	ts := append([]shard.Table(nil), v.Tables(db.ID)...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].ID < ts[j].ID })
	return ts
}

// findUserTable returns the current database's table with catalog ID id.
func findUserTable(v View, id uint32) (*shard.Table, bool) {
	db := v.CurrentDatabase()
	if db == nil {
		return nil, false
	}
	ts := v.Tables(db.ID)
	for i := range ts {
		if ts[i].ID == id {
			t := ts[i]
			return &t, true
		}
	}
	return nil, false
}

// pkColumns returns the primary-key column indexes of t: the tags in key
// order, then the time column.
func pkColumns(t *shard.Table) []int {
	out := make([]int, 0, len(t.Tags)+1)
	for _, i := range t.Tags {
		if i >= 0 && i < len(t.Columns) && i != t.TimeCol {
			out = append(out, i)
		}
	}
	if t.TimeCol >= 0 && t.TimeCol < len(t.Columns) {
		out = append(out, t.TimeCol)
	}
	return out
}

// pkName is the primary-key index and constraint name, as PostgreSQL
// chooses it for an unnamed primary key.
func pkName(t *shard.Table) string { return t.Name + "_pkey" }

// userTableRelation describes a user table as a pg_class row.
func userTableRelation(t *shard.Table) relation {
	r := relation{oid: TableOID(t), name: t.Name, nsp: NamespacePublic, kind: 'r', table: t}
	pk := pkColumns(t)
	inPK := func(i int) bool {
		for _, j := range pk {
			if j == i {
				return true
			}
		}
		return false
	}
	for i := range t.Columns {
		c := &t.Columns[i]
		r.cols = append(r.cols, relCol{
			name:    c.Name,
			typ:     types.OfColType(c.Type),
			typmod:  ColumnTypmod(c),
			notNull: c.NotNull || inPK(i), // a primary key implies NOT NULL
		})
	}
	return r
}

// userIndexRelation describes a user table's primary-key index.
func userIndexRelation(t *shard.Table) relation {
	r := relation{oid: IndexOID(t), name: pkName(t), nsp: NamespacePublic, kind: 'i', table: t}
	for _, i := range pkColumns(t) {
		c := &t.Columns[i]
		r.cols = append(r.cols, relCol{name: c.Name, typ: types.OfColType(c.Type), typmod: ColumnTypmod(c)})
	}
	return r
}

// systemRelations describes every emulated relation as a pg_class row.
func systemRelations() []relation {
	all := registryOnce().all
	out := make([]relation, 0, len(all))
	for _, t := range all {
		r := relation{oid: t.OID, name: t.Name, nsp: nspOID(t.Schema), kind: t.kind}
		for _, c := range t.Columns {
			r.cols = append(r.cols, relCol{name: c.Name, typ: c.Type, typmod: -1})
		}
		out = append(out, r)
	}
	return out
}

// relations returns every pg_class row visible to the session: system
// relations, then user tables and their indexes, by OID.
func relations(v View) []relation {
	out := systemRelations()
	ts := userTables(v)
	for i := range ts {
		t := &ts[i]
		out = append(out, userTableRelation(t))
		if len(pkColumns(t)) > 0 {
			out = append(out, userIndexRelation(t))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].oid < out[j].oid })
	return out
}

// findRelation returns the pg_class row with the given OID.
func findRelation(v View, oid uint32) (relation, bool) {
	if t, ok := registryOnce().byOID[oid]; ok {
		r := relation{oid: t.OID, name: t.Name, nsp: nspOID(t.Schema), kind: t.kind}
		for _, c := range t.Columns {
			r.cols = append(r.cols, relCol{name: c.Name, typ: c.Type, typmod: -1})
		}
		return r, true
	}
	kind, id := classifyOID(oid)
	switch kind {
	case oidTable:
		if t, ok := findUserTable(v, id); ok {
			return userTableRelation(t), true
		}
	case oidIndex:
		if t, ok := findUserTable(v, id); ok && len(pkColumns(t)) > 0 {
			return userIndexRelation(t), true
		}
	}
	return relation{}, false
}

// RelationName returns the name and schema of the relation with pg_class
// OID oid (system relation, user table or primary-key index).
func RelationName(v View, oid uint32) (schema, name string, ok bool) {
	r, ok := findRelation(v, oid)
	if !ok {
		return "", "", false
	}
	return nspName(r.nsp), r.name, true
}

// RelationOID resolves a relation name to its pg_class OID the way
// 'name'::regclass does: an unqualified name searches pg_catalog then
// public; schema-qualified names ("public.cpu", "information_schema.tables")
// are accepted. Names are matched exactly (the caller folds case).
func RelationOID(v View, name string) (uint32, bool) {
	schema, rel := "", name
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			schema, rel = name[:i], name[i+1:]
			break
		}
	}
	if schema == "" || schema == "pg_catalog" || schema == "information_schema" {
		if t, ok := Lookup(schema, rel); ok {
			return t.OID, true
		}
		if schema != "" {
			return 0, false
		}
	}
	if schema != "" && schema != "public" {
		return 0, false
	}
	ts := userTables(v)
	for i := range ts {
		t := &ts[i]
		if t.Name == rel {
			return TableOID(t), true
		}
		if pkName(t) == rel && len(pkColumns(t)) > 0 {
			return IndexOID(t), true
		}
	}
	return 0, false
}

// RegclassText renders a pg_class OID as regclass output does: the name,
// quoted if needed, qualified when the relation is not on the search path
// (information_schema); the number itself when there is no such relation.
func RegclassText(v View, oid uint32) string {
	r, ok := findRelation(v, oid)
	if !ok {
		return uitoa(oid)
	}
	if r.nsp == NamespaceInformationSchema {
		return "information_schema." + QuoteIdent(r.name)
	}
	return QuoteIdent(r.name)
}

func uitoa(v uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}
