package planner

import (
	"context"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/types"
)

// Catalog is what the planner needs from the cluster catalog. The session
// layer implements it over the Raft meta group. Implementations must be safe
// for concurrent use; the planner never retains the returned slices beyond
// Build.
type Catalog interface {
	Database(name string) (*shard.Database, bool)
	Table(dbID uint32, name string) (*shard.Table, bool)
	Tables(dbID uint32) []shard.Table
	// Shards returns the shards of dbID whose partitions overlap
	// [minTime, maxTime); all shards of the database for open bounds.
	Shards(dbID uint32, minTime, maxTime int64) []shard.ShardInfo
	// VirtualTable resolves pg_catalog / information_schema relations.
	// schema is "" when the name was unqualified.
	VirtualTable(schema, name string) (VirtualTable, bool)
}

// FuncCatalog is an optional capability of a Catalog: functions outside the
// builtin registry (funcs.go), such as the pg_catalog emulation's
// format_type, pg_get_expr or has_table_privilege that psql, JDBC and
// Grafana call. The planner asks only for names no builtin has.
type FuncCatalog interface {
	Function(name string) (ExternalFunc, bool)
}

// RelationResolver is an optional capability of a Catalog: it resolves a
// relation name as 'name'::regclass does (unqualified: pg_catalog, then
// public; "schema.name" accepted; the name already case-folded) to its
// pg_class OID. JDBC's metadata queries use 'pg_class'::regclass.
type RelationResolver interface {
	RelationOID(name string) (uint32, bool)
}

// ExternalFunc is a scalar function a FuncCatalog provides. Its result
// depends only on its arguments and the catalog snapshot the Catalog was
// built from, so calls with constant arguments are folded at build time.
type ExternalFunc struct {
	Result  types.OID
	MinArgs int
	MaxArgs int  // -1: variadic
	Strict  bool // NULL in any argument gives NULL without calling Eval
	// Eval computes the result; it must not retain args.
	Eval func(args []types.Datum) (types.Datum, error)
}

// VirtualTable is a small in-memory relation (catalog emulation).
type VirtualTable interface {
	Columns() []Column
	Rows(ctx context.Context) ([][]types.Datum, error)
}

// Column describes one result column (RowDescription).
type Column struct {
	Name      string
	Type      types.OID
	TableOID  uint32
	ColumnNum int16
}

// Env is the per-statement environment of a Build.
type Env struct {
	Database   string        // current database name
	Params     []types.Datum // nil when only describing (Prepare): infer types
	ParamTypes []types.OID   // declared by the client (0 = unknown)
	Now        int64         // statement timestamp, µs since epoch
	User       string
	Setting    func(name string) (string, bool) // current_setting(), SHOW
}
