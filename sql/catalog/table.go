package catalog

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// Column is one column of an emulated catalog relation.
type Column struct {
	Name string
	Type types.OID
}

// View is what the catalog needs to know about the session and the cluster
// catalog. The session layer implements it; every call must be cheap and
// safe to make several times per statement (the catalog does not cache).
//
// Optional capabilities, checked by type assertion: BackendPIDer,
// StartTimer, ServerAddresser.
type View interface {
	// CurrentDatabase is the Longboat database selected by the connection's
	// "database" startup parameter, or nil when there is none.
	CurrentDatabase() *shard.Database
	// Databases lists every database.
	Databases() []shard.Database
	// Tables lists the tables of database dbID.
	Tables(dbID uint32) []shard.Table
	// User is the session user name.
	User() string
	// Setting returns the session's value of a run-time parameter if the
	// session has one (SET, startup parameters); ok=false falls back to the
	// default in Settings(). Names are case-insensitive.
	Setting(name string) (string, bool)
}

// BackendPIDer is implemented by Views that know the backend process ID they
// advertised in BackendKeyData (pg_backend_pid(), pg_stat_activity.pid).
type BackendPIDer interface {
	BackendPID() int32
}

// StartTimer is implemented by Views that know when the server started
// (pg_postmaster_start_time()), as microseconds since the Unix epoch.
type StartTimer interface {
	ServerStartTime() int64
}

// ServerAddresser is implemented by Views that know the server and client
// socket addresses (inet_server_addr(), inet_client_addr(),
// inet_server_port(), pg_stat_activity.client_addr). ok=false for Unix
// sockets.
type ServerAddresser interface {
	ServerAddr() (addr string, port int32, ok bool)
	ClientAddr() (addr string, port int32, ok bool)
}

// Table is one emulated relation of pg_catalog or information_schema.
// Tables returned by Lookup and All are shared and must not be modified.
type Table struct {
	Schema, Name string // e.g. "pg_catalog", "pg_class"; "information_schema", "columns"
	OID          uint32
	Columns      []Column
	// Rows materialises the relation for one statement. Every row has
	// exactly len(Columns) datums whose T is the column's type (NULLs
	// included). The caller owns the returned slices.
	Rows func(ctx context.Context, v View) ([][]types.Datum, error)

	kind byte // pg_class.relkind: 'r' table, 'v' view
}

// relDef is a relation definition from schema.go.
type relDef struct {
	schema, name string
	oid          uint32
	kind         byte
	cols         []Column
}

// rowsFunc fills rs with the rows of one relation.
type rowsFunc func(ctx context.Context, v View, rs *rowSet) error

// registry is the immutable set of emulated relations.
type registry struct {
	all    []*Table // sorted by schema, name
	byName map[string]*Table
	byOID  map[uint32]*Table
}

// registryCache holds the registry, built on first use. It is written once
// (under once) and immutable afterwards.
var registryCache struct {
	once sync.Once
	r    *registry
}

func registryOnce() *registry {
	registryCache.once.Do(func() { registryCache.r = buildRegistry() })
	return registryCache.r
}

func buildRegistry() *registry {
	fill := rowFuncs()
	r := &registry{byName: map[string]*Table{}, byOID: map[uint32]*Table{}}
	for _, d := range relationDefs() {
		t := &Table{Schema: d.schema, Name: d.name, OID: d.oid, Columns: d.cols, kind: d.kind}
		f := fill[d.schema+"."+d.name] // nil: always empty
		idx := make(map[string]int, len(d.cols))
		for i, c := range d.cols {
			idx[c.Name] = i
		}
		t.Rows = func(ctx context.Context, v View) ([][]types.Datum, error) {
			rs := &rowSet{t: t, idx: idx}
			if f != nil {
				if err := f(ctx, v, rs); err != nil {
					return nil, err
				}
			}
			if rs.err != nil {
				return nil, rs.err
			}
			return rs.rows, nil
		}
		r.all = append(r.all, t)
		r.byName[d.schema+"."+d.name] = t
		r.byOID[d.oid] = t
	}
	sort.Slice(r.all, func(i, j int) bool {
		if r.all[i].Schema != r.all[j].Schema {
			return r.all[i].Schema < r.all[j].Schema
		}
		return r.all[i].Name < r.all[j].Name
	})
	return r
}

// Lookup finds an emulated relation. schema "" means the search path:
// pg_catalog (always searched first, as in PostgreSQL) then public, which
// holds no emulated relations. A qualified name in name
// ("information_schema.tables") is accepted too. Names are case-insensitive.
func Lookup(schema, name string) (*Table, bool) {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	if schema == "" {
		if s, n, ok := strings.Cut(name, "."); ok {
			schema, name = s, n
		}
	}
	r := registryOnce()
	switch schema {
	case "":
		t, ok := r.byName["pg_catalog."+name]
		return t, ok
	case "pg_catalog", "information_schema":
		t, ok := r.byName[schema+"."+name]
		return t, ok
	}
	return nil, false
}

// All returns every emulated relation, sorted by schema and name.
func All() []*Table {
	return append([]*Table(nil), registryOnce().all...)
}

// ErrUndefinedTable returns the 42P01 error for a relation that does not
// exist, worded as PostgreSQL words it.
func ErrUndefinedTable(name string) error {
	return pgerror.Newf(pgerror.CodeUndefinedTable, "relation %q does not exist", name)
}

// rowSet accumulates the rows of one relation, filling columns by name. A
// column that is not set stays NULL of its declared type; setting an unknown
// column or a datum of the wrong type records an assertion error (XX000).
type rowSet struct {
	t    *Table
	idx  map[string]int
	rows [][]types.Datum
	err  error
}

// row is one row under construction.
type row struct {
	rs *rowSet
	d  []types.Datum
}

// add starts a new row with every column NULL.
func (rs *rowSet) add() row {
	d := make([]types.Datum, len(rs.t.Columns))
	for i, c := range rs.t.Columns {
		d[i] = types.NullOf(c.Type)
	}
	rs.rows = append(rs.rows, d)
	return row{rs: rs, d: d}
}

// set assigns column name. It returns the row for chaining.
func (r row) set(name string, v types.Datum) row {
	i, ok := r.rs.idx[name]
	if !ok {
		r.rs.fail(fmt.Errorf("longboat/catalog: %s.%s has no column %q", r.rs.t.Schema, r.rs.t.Name, name))
		return r
	}
	if want := r.rs.t.Columns[i].Type; v.T != want {
		r.rs.fail(fmt.Errorf("longboat/catalog: %s.%s.%s is type %d, got datum of type %d",
			r.rs.t.Schema, r.rs.t.Name, name, want, v.T))
		return r
	}
	r.d[i] = v
	return r
}

func (rs *rowSet) fail(err error) {
	if rs.err == nil {
		rs.err = pgerror.Wrap(err, pgerror.CodeInternal)
	}
}

// Datum constructors for catalog column types.

func dOID(v uint32) types.Datum  { return types.NewInt(types.Oid, int64(v)) }
func dName(s string) types.Datum { return types.Datum{T: types.Name, S: s} }
func dText(s string) types.Datum { return types.NewText(s) }
func dVarchar(s string) types.Datum {
	return types.Datum{T: types.Varchar, S: s}
}
func dBool(b bool) types.Datum    { return types.NewBool(b) }
func dInt2(v int) types.Datum     { return types.NewInt(types.Int2, int64(v)) }
func dInt4(v int) types.Datum     { return types.NewInt(types.Int4, int64(v)) }
func dInt8(v int64) types.Datum   { return types.NewInt(types.Int8, v) }
func dChar(c byte) types.Datum    { return dCharS(string(rune(c))) }
func dCharS(s string) types.Datum { return types.Datum{T: types.Char, S: s} }
func dFloat4(f float32) types.Datum {
	return types.Datum{T: types.Float4, F: float64(f)}
}

// dXid is an xid datum. Both I and S hold the value: sql/types renders
// types it does not know from S.
func dXid(v uint32) types.Datum { return types.Datum{T: Xid, I: int64(v), S: uitoa(v)} }

// dRegproc renders a regproc column (declared as name, see schema.go): the
// function name, or "-" for none, as regprocout prints them.
func dRegproc(s string) types.Datum {
	if s == "" {
		s = "-"
	}
	return dName(s)
}

// dYesNo is information_schema's yes_or_no.
func dYesNo(b bool) types.Datum {
	if b {
		return dVarchar("YES")
	}
	return dVarchar("NO")
}
