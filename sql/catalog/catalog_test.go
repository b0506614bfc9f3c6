package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

func TestRowsMatchDeclaredColumns(t *testing.T) {
	v := newFakeView()
	all := All()
	if len(all) < 50 {
		t.Fatalf("only %d relations", len(all))
	}
	for _, tbl := range all {
		rows, err := tbl.Rows(context.Background(), v)
		if err != nil {
			t.Fatalf("%s.%s: %v", tbl.Schema, tbl.Name, err)
		}
		for i, r := range rows {
			if len(r) != len(tbl.Columns) {
				t.Fatalf("%s.%s row %d: %d datums, %d columns", tbl.Schema, tbl.Name, i, len(r), len(tbl.Columns))
			}
			for j, d := range r {
				if d.T != tbl.Columns[j].Type {
					t.Errorf("%s.%s row %d column %s: datum type %d, declared %d",
						tbl.Schema, tbl.Name, i, tbl.Columns[j].Name, d.T, tbl.Columns[j].Type)
				}
				if IsArrayType(d.T) && !d.Null {
					if _, err := ArrayElements(d); err != nil {
						t.Errorf("%s.%s row %d column %s: bad array %q: %v", tbl.Schema, tbl.Name, i, tbl.Columns[j].Name, d.S, err)
					}
				}
			}
		}
	}
}

func TestDeclaredColumnTypesExistInPgType(t *testing.T) {
	for _, tbl := range All() {
		seen := map[string]bool{}
		for _, c := range tbl.Columns {
			if _, ok := lookupType(c.Type); !ok {
				t.Errorf("%s.%s.%s: type %d not in pg_type", tbl.Schema, tbl.Name, c.Name, c.Type)
			}
			if seen[c.Name] {
				t.Errorf("%s.%s: duplicate column %s", tbl.Schema, tbl.Name, c.Name)
			}
			seen[c.Name] = true
		}
	}
}

func oidSet(t *testing.T, v View, rel, col string) map[int64]bool {
	t.Helper()
	schema := "pg_catalog"
	if s, n, ok := strings.Cut(rel, "."); ok {
		schema, rel = s, n
	}
	m := map[int64]bool{}
	for _, r := range scan(t, v, schema, rel) {
		m[r[col].I] = true
	}
	return m
}

func TestOIDsJoin(t *testing.T) {
	v := newFakeView()
	classes := oidSet(t, v, "pg_class", "oid")
	namespaces := oidSet(t, v, "pg_namespace", "oid")
	typesOIDs := oidSet(t, v, "pg_type", "oid")
	roleOIDs := oidSet(t, v, "pg_roles", "oid")
	ams := oidSet(t, v, "pg_am", "oid")
	spaces := oidSet(t, v, "pg_tablespace", "oid")
	colls := oidSet(t, v, "pg_collation", "oid")

	natts := map[int64]int{}
	attnums := map[int64][]int64{}
	for _, a := range scan(t, v, "pg_catalog", "pg_attribute") {
		rel := a["attrelid"].I
		if !classes[rel] {
			t.Errorf("pg_attribute.attrelid %d not in pg_class", rel)
		}
		if !typesOIDs[a["atttypid"].I] {
			t.Errorf("pg_attribute %d.%s: atttypid %d not in pg_type", rel, a["attname"].S, a["atttypid"].I)
		}
		if c := a["attcollation"].I; c != 0 && !colls[c] {
			t.Errorf("attcollation %d not in pg_collation", c)
		}
		natts[rel]++
		attnums[rel] = append(attnums[rel], a["attnum"].I)
	}
	for rel, nums := range attnums {
		for i, n := range nums {
			if n != int64(i+1) {
				t.Errorf("relation %d: attnums %v not 1..n", rel, nums)
				break
			}
		}
	}
	for _, c := range scan(t, v, "pg_catalog", "pg_class") {
		if !namespaces[c["relnamespace"].I] {
			t.Errorf("pg_class %s: relnamespace %d not in pg_namespace", c["relname"].S, c["relnamespace"].I)
		}
		if am := c["relam"].I; am != 0 && !ams[am] {
			t.Errorf("pg_class %s: relam %d not in pg_am", c["relname"].S, am)
		}
		if !roleOIDs[c["relowner"].I] {
			t.Errorf("pg_class %s: relowner not in pg_roles", c["relname"].S)
		}
		if got, want := natts[c["oid"].I], int(c["relnatts"].I); got != want {
			t.Errorf("pg_class %s: relnatts %d but %d pg_attribute rows", c["relname"].S, want, got)
		}
	}
	for _, n := range scan(t, v, "pg_catalog", "pg_namespace") {
		if !roleOIDs[n["nspowner"].I] {
			t.Errorf("pg_namespace %s: owner %d not in pg_roles", n["nspname"].S, n["nspowner"].I)
		}
	}
	for _, ty := range scan(t, v, "pg_catalog", "pg_type") {
		for _, col := range []string{"typarray", "typelem"} {
			if o := ty[col].I; o != 0 && !typesOIDs[o] {
				t.Errorf("pg_type %s: %s %d not in pg_type", ty["typname"].S, col, o)
			}
		}
		if !namespaces[ty["typnamespace"].I] {
			t.Errorf("pg_type %s: bad namespace", ty["typname"].S)
		}
	}
	idx := scan(t, v, "pg_catalog", "pg_index")
	if len(idx) != 2 {
		t.Fatalf("pg_index: %d rows, want 2", len(idx))
	}
	indexes := map[int64]bool{}
	for _, i := range idx {
		if !classes[i["indexrelid"].I] || !classes[i["indrelid"].I] {
			t.Errorf("pg_index row does not join pg_class: %v", i)
		}
		indexes[i["indexrelid"].I] = true
	}
	for _, c := range scan(t, v, "pg_catalog", "pg_constraint") {
		if !classes[c["conrelid"].I] || !indexes[c["conindid"].I] {
			t.Errorf("pg_constraint %s does not join pg_class/pg_index", c["conname"].S)
		}
		if !namespaces[c["connamespace"].I] {
			t.Errorf("pg_constraint %s: bad namespace", c["conname"].S)
		}
	}
	for _, d := range scan(t, v, "pg_catalog", "pg_database") {
		if !spaces[d["dattablespace"].I] || !roleOIDs[d["datdba"].I] {
			t.Errorf("pg_database %s does not join", d["datname"].S)
		}
	}
}

func TestUserTablesInPgClass(t *testing.T) {
	v := newFakeView()
	byName := map[string]map[string]types.Datum{}
	for _, c := range scan(t, v, "pg_catalog", "pg_class") {
		byName[c["relname"].S] = c
	}
	cpu, ok := byName["cpu"]
	if !ok {
		t.Fatal("cpu missing from pg_class")
	}
	if cpu["oid"].I != 16384 || cpu["relkind"].S != "r" || cpu["relnamespace"].I != int64(NamespacePublic) || cpu["relnatts"].I != 5 {
		t.Errorf("cpu row: oid=%d relkind=%q nsp=%d natts=%d", cpu["oid"].I, cpu["relkind"].S, cpu["relnamespace"].I, cpu["relnatts"].I)
	}
	if !cpu["relhasindex"].Bool() {
		t.Error("cpu: relhasindex false")
	}
	pkey, ok := byName["cpu_pkey"]
	if !ok || pkey["relkind"].S != "i" || pkey["relam"].I != int64(AmBtree) || pkey["relnatts"].I != 3 {
		t.Errorf("cpu_pkey row: %v", pkey)
	}
	if c := byName["pg_class"]; c["oid"].I != 1259 || c["relnamespace"].I != int64(NamespacePgCatalog) {
		t.Errorf("pg_class row: %v", c)
	}
	if c := byName["tables"]; c["relkind"].S != "v" || c["relnamespace"].I != int64(NamespaceInformationSchema) {
		t.Errorf("information_schema.tables row: %v", c)
	}
}

func TestPgAttributeUserColumns(t *testing.T) {
	v := newFakeView()
	type att struct {
		num     int64
		typ     int64
		typmod  int64
		notnull bool
		coll    int64
	}
	got := map[string]att{}
	for _, a := range scan(t, v, "pg_catalog", "pg_attribute") {
		if a["attrelid"].I != 16384 {
			continue
		}
		if a["attisdropped"].Bool() || a["attidentity"].S != "" || a["attgenerated"].S != "" {
			t.Errorf("%s: dropped/identity/generated set", a["attname"].S)
		}
		got[a["attname"].S] = att{a["attnum"].I, a["atttypid"].I, a["atttypmod"].I, a["attnotnull"].Bool(), a["attcollation"].I}
	}
	want := map[string]att{
		"time":       {1, 1184, -1, true, 0},
		"hostname":   {2, 25, -1, true, 100},
		"region":     {3, 1043, 24, true, 100},
		"usage_user": {4, 701, -1, false, 0},
		"cost":       {5, 1700, 10<<16 | 2 + 4, false, 0},
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("pg_attribute cpu.%s = %+v, want %+v", name, got[name], w)
		}
	}
}

func TestPgIndexAndConstraint(t *testing.T) {
	v := newFakeView()
	for _, i := range scan(t, v, "pg_catalog", "pg_index") {
		if i["indrelid"].I != 16384 {
			continue
		}
		if i["indkey"].S != "2 3 1" || i["indcollation"].S != "100 100 0" || i["indclass"].S != "3126 3126 3127" {
			t.Errorf("cpu pg_index vectors: %q %q %q", i["indkey"].S, i["indcollation"].S, i["indclass"].S)
		}
		if !i["indisprimary"].Bool() || !i["indisunique"].Bool() || i["indnatts"].I != 3 {
			t.Errorf("cpu pg_index flags: %v", i)
		}
	}
	var found bool
	for _, c := range scan(t, v, "pg_catalog", "pg_constraint") {
		if c["conname"].S != "cpu_pkey" {
			continue
		}
		found = true
		if c["contype"].S != "p" || c["conkey"].S != "{2,3,1}" || c["conkey"].T != types.Int2Array {
			t.Errorf("cpu_pkey constraint: contype=%q conkey=%q", c["contype"].S, c["conkey"].S)
		}
	}
	if !found {
		t.Error("cpu_pkey constraint missing")
	}
}

func TestInformationSchemaColumns(t *testing.T) {
	v := newFakeView()
	type col struct {
		pos      int64
		nullable string
		dataType string
		udt      string
	}
	got := map[string]col{}
	for _, r := range scan(t, v, "information_schema", "columns") {
		if r["table_schema"].S != "public" {
			continue
		}
		if r["table_catalog"].S != "metrics" {
			t.Errorf("table_catalog %q", r["table_catalog"].S)
		}
		got[r["table_name"].S+"."+r["column_name"].S] = col{r["ordinal_position"].I, r["is_nullable"].S, r["data_type"].S, r["udt_name"].S}
	}
	want := map[string]col{
		"cpu.time":         {1, "NO", "timestamp with time zone", "timestamptz"},
		"cpu.hostname":     {2, "NO", "text", "text"},
		"cpu.region":       {3, "NO", "character varying", "varchar"},
		"cpu.usage_user":   {4, "YES", "double precision", "float8"},
		"cpu.cost":         {5, "YES", "numeric", "numeric"},
		"weather.location": {1, "NO", "text", "text"},
		"weather.ts":       {2, "NO", "timestamp without time zone", "timestamp"},
		"weather.temp":     {3, "YES", "real", "float4"},
		"weather.ok":       {4, "YES", "boolean", "bool"},
		"weather.day":      {5, "YES", "date", "date"},
		"weather.n":        {6, "YES", "bigint", "int8"},
		"weather.i4":       {7, "YES", "integer", "int4"},
		"weather.i2":       {8, "YES", "smallint", "int2"},
		"weather.price":    {9, "YES", "numeric", "numeric"},
	}
	if len(got) != len(want) {
		t.Errorf("got %d public columns, want %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %+v, want %+v", k, got[k], w)
		}
	}
}

func TestInformationSchemaTables(t *testing.T) {
	v := newFakeView()
	var public []string
	kinds := map[string]string{}
	for _, r := range scan(t, v, "information_schema", "tables") {
		kinds[r["table_schema"].S+"."+r["table_name"].S] = r["table_type"].S
		if r["table_schema"].S == "public" {
			public = append(public, r["table_name"].S)
			if r["table_type"].S != "BASE TABLE" {
				t.Errorf("%s: table_type %q", r["table_name"].S, r["table_type"].S)
			}
		}
	}
	if strings.Join(public, ",") != "cpu,weather" {
		t.Errorf("public tables %v", public)
	}
	if kinds["pg_catalog.pg_class"] != "BASE TABLE" || kinds["pg_catalog.pg_roles"] != "VIEW" {
		t.Errorf("system relation kinds: %q %q", kinds["pg_catalog.pg_class"], kinds["pg_catalog.pg_roles"])
	}
}

func TestEmptyRelations(t *testing.T) {
	v := newFakeView()
	for _, name := range []string{"pg_extension", "pg_attrdef", "pg_description", "pg_inherits", "pg_policy",
		"pg_statistic_ext", "pg_publication", "pg_publication_rel", "pg_publication_namespace", "pg_enum",
		"pg_trigger", "pg_rewrite", "pg_sequence", "pg_foreign_table", "pg_partitioned_table", "pg_range"} {
		if rows := scan(t, v, "pg_catalog", name); len(rows) != 0 {
			t.Errorf("%s: %d rows, want 0", name, len(rows))
		}
	}
}

func TestNoDatabase(t *testing.T) {
	v := &noDBView{}
	for _, tbl := range All() {
		if _, err := tbl.Rows(context.Background(), v); err != nil {
			t.Fatalf("%s.%s without a database: %v", tbl.Schema, tbl.Name, err)
		}
	}
	if rows := scan(t, v, "pg_catalog", "pg_index"); len(rows) != 0 {
		t.Errorf("pg_index: %d rows", len(rows))
	}
}

type noDBView struct{}

func (noDBView) CurrentDatabase() *shard.Database { return nil }
func (noDBView) Databases() []shard.Database      { return nil }
func (noDBView) Tables(uint32) []shard.Table      { return nil }
func (noDBView) User() string                     { return "" }
func (noDBView) Setting(string) (string, bool)    { return "", false }

func TestLookup(t *testing.T) {
	for _, c := range []struct {
		schema, name string
		want         string
	}{
		{"", "pg_class", "pg_catalog.pg_class"},
		{"pg_catalog", "pg_class", "pg_catalog.pg_class"},
		{"", "PG_CLASS", "pg_catalog.pg_class"},
		{"information_schema", "tables", "information_schema.tables"},
		{"", "information_schema.columns", "information_schema.columns"},
		{"", "pg_catalog.pg_type", "pg_catalog.pg_type"},
		{"", "tables", ""},
		{"public", "pg_class", ""},
		{"", "cpu", ""},
	} {
		tbl, ok := Lookup(c.schema, c.name)
		got := ""
		if ok {
			got = tbl.Schema + "." + tbl.Name
		}
		if got != c.want {
			t.Errorf("Lookup(%q, %q) = %q, want %q", c.schema, c.name, got, c.want)
		}
	}
}

func TestRelationOIDAndRegclass(t *testing.T) {
	v := newFakeView()
	for _, c := range []struct {
		name string
		oid  uint32
	}{
		{"pg_class", 1259}, {"pg_catalog.pg_class", 1259}, {"cpu", 16384}, {"public.cpu", 16384},
		{"cpu_pkey", 0x40000000}, {"weather", 16385}, {"information_schema.tables", 13425},
	} {
		got, ok := RelationOID(v, c.name)
		if !ok || got != c.oid {
			t.Errorf("RelationOID(%q) = %d, %v; want %d", c.name, got, ok, c.oid)
		}
	}
	if _, ok := RelationOID(v, "nope"); ok {
		t.Error("RelationOID(nope) succeeded")
	}
	if got := RegclassText(v, 16384); got != "cpu" {
		t.Errorf("RegclassText(16384) = %q", got)
	}
	if got := RegclassText(v, 13425); got != "information_schema.tables" {
		t.Errorf("RegclassText(13425) = %q", got)
	}
	if got := RegclassText(v, 99); got != "99" {
		t.Errorf("RegclassText(99) = %q", got)
	}
}

func TestSettings(t *testing.T) {
	v := newFakeView()
	want := map[string]string{
		"server_version": "15.0", "server_version_num": "150000", "client_encoding": "UTF8",
		"datestyle": "ISO, MDY", "TimeZone": "UTC", "search_path": `"$user", public`,
		"standard_conforming_strings": "on", "integer_datetimes": "on",
		"transaction_isolation": "read committed", "max_identifier_length": "63",
		"application_name": "psql", "session_authorization": "alice", "is_superuser": "on",
	}
	for name, w := range want {
		if got, ok := CurrentSetting(v, name); !ok || got != w {
			t.Errorf("CurrentSetting(%q) = %q, %v; want %q", name, got, ok, w)
		}
	}
	if _, ok := CurrentSetting(v, "no_such_setting"); ok {
		t.Error("unknown setting found")
	}
	s, ok := LookupSetting("datestyle")
	if !ok || s.Name != "DateStyle" {
		t.Errorf("LookupSetting(datestyle) = %+v", s)
	}
	var sawApp, sawHidden bool
	for _, r := range scan(t, v, "pg_catalog", "pg_settings") {
		switch r["name"].S {
		case "application_name":
			sawApp = r["setting"].S == "psql" && r["source"].S == "session"
		case "is_superuser":
			sawHidden = true
		}
	}
	if !sawApp || sawHidden {
		t.Errorf("pg_settings: application_name overlay %v, hidden shown %v", sawApp, sawHidden)
	}
}

func TestRowSetTypeMismatchIsError(t *testing.T) {
	tbl, _ := Lookup("pg_catalog", "pg_am")
	rs := &rowSet{t: tbl, idx: map[string]int{"oid": 0}}
	rs.add().set("oid", dText("x"))
	var pe *pgerror.Error
	if rs.err == nil || !errors.As(rs.err, &pe) || pe.Code != pgerror.CodeInternal {
		t.Fatalf("type mismatch not reported: %v", rs.err)
	}
	rs = &rowSet{t: tbl, idx: map[string]int{}}
	rs.add().set("nope", dOID(1))
	if rs.err == nil {
		t.Fatal("unknown column not reported")
	}
}

func TestOIDLayout(t *testing.T) {
	tb := &shard.Table{ID: 7}
	db := &shard.Database{ID: 3}
	for _, c := range []struct {
		oid  uint32
		kind oidKind
	}{
		{TableOID(tb), oidTable}, {IndexOID(tb), oidIndex}, {ConstraintOID(tb), oidConstraint},
	} {
		k, id := classifyOID(c.oid)
		if k != c.kind || id != 7 {
			t.Errorf("classifyOID(%d) = %v, %d", c.oid, k, id)
		}
	}
	if k, id := classifyOID(DatabaseOID(db)); k != oidDatabase || id != 3 {
		t.Errorf("database OID classified %v %d", k, id)
	}
	if k, _ := classifyOID(1259); k != oidOther {
		t.Error("pg_class OID classified as user object")
	}
	if TableOID(&shard.Table{ID: 0}) != 16384 {
		t.Error("first table OID is not 16384")
	}
}

// oddView has tables with unusual shapes: no tags, an out-of-range time
// column and tag indexes, a tag that is also the time column, no columns.
type oddView struct{ fakeView }

func (oddView) Tables(uint32) []shard.Table {
	return []shard.Table{
		{ID: 1, Name: "only_time", Columns: []shard.Column{{Name: "time", Type: shard.TypeTimestamptz}}},
		{ID: 2, Name: "bad_refs", Columns: []shard.Column{{Name: "a", Type: shard.TypeText}}, TimeCol: 5, Tags: []int{-1, 7, 0}},
		{ID: 3, Name: "dup", Columns: []shard.Column{{Name: "time", Type: shard.TypeTimestamptz}}, TimeCol: 0, Tags: []int{0}},
		{ID: 4, Name: "empty", TimeCol: -1},
		{ID: 5, Name: "Weird Name", Columns: []shard.Column{{Name: "select", Type: shard.ColType(200)}}, TimeCol: 0},
	}
}

func TestOddTables(t *testing.T) {
	v := &oddView{*newFakeView()}
	for _, tbl := range All() {
		rows, err := tbl.Rows(context.Background(), v)
		if err != nil {
			t.Fatalf("%s.%s: %v", tbl.Schema, tbl.Name, err)
		}
		for _, r := range rows {
			if len(r) != len(tbl.Columns) {
				t.Fatalf("%s.%s: bad row width", tbl.Schema, tbl.Name)
			}
		}
	}
	defs := map[string]string{}
	for _, c := range scan(t, v, "pg_catalog", "pg_constraint") {
		d := call(t, v, "pg_get_constraintdef", c["oid"])
		defs[c["conname"].S] = d.S
	}
	want := map[string]string{
		"only_time_pkey":  `PRIMARY KEY ("time")`,
		"bad_refs_pkey":   `PRIMARY KEY (a)`,
		"dup_pkey":        `PRIMARY KEY ("time")`,
		"Weird Name_pkey": `PRIMARY KEY ("select")`,
	}
	for k, w := range want {
		if defs[k] != w {
			t.Errorf("%s: %q, want %q", k, defs[k], w)
		}
	}
	if _, ok := defs["empty_pkey"]; ok {
		t.Error("table without columns has a primary key")
	}
	got := call(t, v, "pg_get_indexdef", dOID(IndexOID(&shard.Table{ID: 5})))
	if got.S != `CREATE UNIQUE INDEX "Weird Name_pkey" ON public."Weird Name" USING btree ("select")` {
		t.Errorf("indexdef: %q", got.S)
	}
	for _, c := range scan(t, v, "pg_catalog", "pg_class") {
		if c["relname"].S == "empty" && c["relhasindex"].Bool() {
			t.Error("empty: relhasindex")
		}
	}
}
