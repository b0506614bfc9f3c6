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
