package session

import (
	"context"

	"github.com/longboatdb/longboat/mpp"
	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/raftsm"
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/catalog"
	"github.com/longboatdb/longboat/sql/types"
)

// planCatalog adapts one catalog snapshot to planner.Catalog.
type planCatalog struct {
	s   *Session
	cat *raftsm.Catalog
}

var _ planner.Catalog = planCatalog{}

func (s *Session) catalog() planCatalog { return planCatalog{s: s, cat: s.h.Host.Catalog()} }

func (c planCatalog) Database(name string) (*shard.Database, bool) { return c.cat.Database(name) }
func (c planCatalog) Table(dbID uint32, name string) (*shard.Table, bool) {
	return c.cat.Table(dbID, name)
}
func (c planCatalog) Tables(dbID uint32) []shard.Table { return c.cat.Tables(dbID) }
func (c planCatalog) Shards(dbID uint32, minTime, maxTime int64) []shard.ShardInfo {
	return c.cat.Partitions.Overlapping(dbID, minTime, maxTime)
}

func (c planCatalog) VirtualTable(schema, name string) (planner.VirtualTable, bool) {
	if vt, ok := c.systemTable(schema, name); ok {
		return vt, true
	}
	t, ok := catalog.Lookup(schema, name)
	if !ok {
		return nil, false
	}
	return virtualTable{t: t, v: catalogView{c}}, true
}

var (
	_ planner.FuncCatalog      = planCatalog{}
	_ planner.RelationResolver = planCatalog{}
)

// RelationOID resolves 'name'::regclass.
func (c planCatalog) RelationOID(name string) (uint32, bool) {
	return catalog.RelationOID(catalogView{c}, name)
}

// Function resolves the pg_catalog emulation's functions (format_type,
// pg_get_expr, has_table_privilege, ...) against this catalog snapshot.
func (c planCatalog) Function(name string) (planner.ExternalFunc, bool) {
	d, ok := catalog.LookupFunc(name)
	if !ok {
		return planner.ExternalFunc{}, false
	}
	fn, v := d.Fn, catalogView{c}
	return planner.ExternalFunc{
		Result: d.Result, MinArgs: d.MinArgs, MaxArgs: d.MaxArgs, Strict: d.Strict,
		Eval: func(args []types.Datum) (types.Datum, error) {
			// Catalog functions only read the snapshot in v; none blocks.
			return fn(context.Background(), v, args)
		},
	}, true
}

// virtualTable adapts a catalog emulation table to planner.VirtualTable.
type virtualTable struct {
	t *catalog.Table
	v catalogView
}

func (vt virtualTable) Columns() []planner.Column {
	out := make([]planner.Column, len(vt.t.Columns))
	for i, c := range vt.t.Columns {
		out[i] = planner.Column{Name: c.Name, Type: c.Type, TableOID: vt.t.OID, ColumnNum: int16(i + 1)}
	}
	return out
}

func (vt virtualTable) Rows(ctx context.Context) ([][]types.Datum, error) {
	return vt.t.Rows(ctx, vt.v)
}

// catalogView adapts the session to catalog.View.
type catalogView struct{ c planCatalog }

var _ catalog.View = catalogView{}

func (v catalogView) CurrentDatabase() *shard.Database {
	db, _ := v.c.cat.Database(v.c.s.database)
	return db
}
func (v catalogView) Databases() []shard.Database        { return v.c.cat.Databases }
func (v catalogView) Tables(dbID uint32) []shard.Table   { return v.c.cat.Tables(dbID) }
func (v catalogView) User() string                       { return v.c.s.user }
func (v catalogView) Setting(name string) (string, bool) { return v.c.s.setting(name) }

// runPlan runs p, built from statement text with env.
func runPlan(ctx context.Context, s *Session, p *planner.Plan, text string, env *planner.Env, catVersion uint64, emit func([]types.Datum) error) error {
	consistency, _ := s.setting("read_consistency")
	q := &FragmentQuery{
		Database: s.database, SQL: text, Params: env.Params, ParamTypes: env.ParamTypes,
		Now: env.Now, User: s.user, Consistency: consistency, CatalogVersion: catVersion,
	}
	return mpp.Run(ctx, p, shardSource{s: s, q: q}, emit)
}
