// Package catalog emulates PostgreSQL 15's pg_catalog and information_schema
// over Longboat's catalog, so that psql (\d, \dt, \d tbl, \l, \dn, \du),
// JDBC DatabaseMetaData, Grafana's query builder and DBeaver can introspect a
// Longboat database.
//
// # Architecture
//
//	session layer ──implements──► View (current database, tables, user, settings)
//	      │                          │
//	      │ Lookup("pg_catalog","pg_class")      Rows(ctx, View)
//	      ▼                          ▼
//	planner/executor ◄── [][]types.Datum (materialised per statement)
//	      │
//	      └── Functions()["pg_get_indexdef"](ctx, View, args)
//
// Relations are virtual: every Table's Rows builds the whole relation from
// the View when a statement scans it (catalogs are small; filtering, joins
// and ordering are the executor's job). Nothing is cached, so DDL is visible
// to the next statement. The set of relations and their column lists
// (schema.go) and the pg_type rows (typeinfo_data.go) were taken from a real
// PostgreSQL 15.18 cluster, so column names, order and types match what
// clients expect; Table, Lookup and All are immutable after first use.
//
// # Object model and OIDs
//
// A Postgres connection's "database" selects one Longboat database; its
// tables all live in schema public. System objects use PostgreSQL's own
// OIDs (pg_catalog 11, public 2200, information_schema 13207, pg_class 1259,
// types as in pg_type, the session user is role 10). User objects get
// stable OIDs derived from catalog IDs (see oids.go):
//
//	16384 + table.ID        table            pg_class relkind 'r', relam heap
//	0x40000000 + table.ID   <table>_pkey     pg_class relkind 'i', relam btree; pg_index
//	0x50000000 + table.ID   <table>_pkey     pg_constraint contype 'p', conindid = index
//	0x60000000 + db.ID      database         pg_database
//
// The primary key is the tag columns in key order followed by the time
// column (PRIMARY KEY (hostname, region, "time")); primary-key columns are
// reported NOT NULL, as PostgreSQL does.
//
// # Datum conventions
//
// Catalog datums follow sql/types, plus:
//
//	name, text, varchar      S
//	"char"                   S, one byte or "" for PostgreSQL's '\0'
//	oid                      I
//	regclass, regtype        I (and S, the number, for elements from ArrayIndex)
//	regproc columns          declared as name: S is the function name, "-" for none
//	                         (sql/types prints regproc datums as numbers)
//	xid                      I and S (the decimal text)
//	arrays (text[], int2[],  S: PostgreSQL's text form '{a,"b c",NULL}'
//	oid[], name[], "char"[])    (FormatArray / ParseArray / NewArray)
//	int2vector, oidvector    S: space-separated '2 3 1' (zero-based subscripts)
//	aclitem[], pg_node_tree, always NULL
//	anyarray
//
// An array datum's T is the array type OID (1009 text[], 1005 int2[], 1028
// oid[], 1003 name[], 1002 "char"[], 22 int2vector, 30 oidvector). The wire
// layer sends S as the text-format value of any of these (sql/types.FormatText
// falls back to S for types it does not know). Array functions
// (array_to_string, array_length, array_lower, array_upper, cardinality,
// string_to_array, ArrayIndex for subscripts) work on this representation.
//
// # Functions
//
// Functions() holds the catalog and session functions psql, JDBC, Grafana and
// DBeaver call (format_type, pg_get_indexdef, pg_get_constraintdef,
// pg_get_userbyid, pg_table_is_visible, quote_ident, current_setting,
// version, ...); LookupFunc gives their result types for RowDescription.
// Node-tree functions (pg_get_expr) and descriptions return NULL because
// Longboat has no defaults, comments or expressions to show. Privilege
// checks always succeed: the session user is a superuser.
//
// # What the planner/executor must provide
//
// Catalog queries need from the executor: joins (incl. LEFT JOIN), ORDER BY,
// CASE, LIKE and ~ on names, = ANY(array) and array subscripts (ArrayIndex),
// scalar subqueries, and casts: 'name'::regclass → RelationOID,
// oid::regclass::text → RegclassText, '16384' (unknown) compared with an oid
// column as a number, 'int4'::regtype → TypeOIDByName, x::regtype::text →
// FormatType(x, -1, true). Function arguments arrive as evaluated datums;
// untyped literals ('16384', 'pg_class') are accepted where PostgreSQL would
// coerce them to oid/int.
//
// # Testing
//
// Unit and datadriven tests (testdata/) run over a fake View. With
// LONGBOAT_PG_URL pointing at a PostgreSQL 15 server (scripts/pg-start.sh),
// TestAgainstPostgres* compare the emulated column lists, keyword list,
// format_type, quote_ident, and a table's pg_attribute, pg_index,
// pg_constraint, information_schema.columns and index/constraint
// definitions with the real thing.
//
// # Settings
//
// Settings() is the pg_settings / SHOW surface with PostgreSQL 15 defaults
// (server_version "15.0", server_version_num "150000", DateStyle "ISO, MDY",
// search_path "\"$user\", public", ...). CurrentSetting overlays the
// session's values from View.Setting.
package catalog
