package mpp

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/types"
)

// remoteShards simulates fragments running on another node: for every shard
// scan it rebuilds the plan from the SQL text (as the remote node does) and
// runs the fragment with ServeFragment; the coordinator's ScanRequest
// functions are dropped, as they would be on the wire.
type remoteShards struct {
	t      testing.TB
	c      *fakeCluster
	sql    string
	served atomic.Int64
	stats  atomic.Int64 // batches delivered as block statistics
}

type remoteScanner struct {
	r   *remoteShards
	id  uint64
	ref FragmentRef
}

func (r *remoteShards) Scanner(ctx context.Context, id uint64, ref FragmentRef) (Scanner, error) {
	return remoteScanner{r: r, id: id, ref: ref}, nil
}

func (s remoteScanner) Scan(ctx context.Context, req *store.ScanRequest, fn func(*store.SeriesBatch) error) error {
	// What crosses the wire: plain fields only.
	wire := *req
	wire.SeriesFilter, wire.UseStats = nil, nil
	_ = wire
	p, local, err := s.replan(ctx)
	if err != nil {
		return err
	}
	s.r.served.Add(1)
	return ServeFragment(ctx, p, s.ref, local, func(b *store.SeriesBatch) error {
		if b.Stats != nil {
			s.r.stats.Add(1)
		}
		return fn(b)
	})
}

// replan rebuilds the statement's plan from its SQL text and opens the
// shard, as the node holding it does.
func (s remoteScanner) replan(ctx context.Context) (*planner.Plan, Scanner, error) {
	p, err := planner.Build(parse(s.r.t, s.r.sql), s.r.c, &planner.Env{Database: "benchmark", Params: []types.Datum{}})
	if err != nil {
		return nil, nil, fmt.Errorf("remote re-plan: %w", err)
	}
	local, err := s.r.c.Scanner(ctx, s.id, s.ref)
	return p, local, err
}

// TestRemoteFragmentsMatchLocal runs every TSBS query type and the
// datadriven query set through re-planned remote fragments and requires
// the same rows as the local run.
// tsbsQueriesAnd returns the SQL of every TSBS query, then extra.
func tsbsQueriesAnd(t testing.TB, extra ...string) []string {
	var queries []string
	for _, q := range loadTSBS(t) {
		queries = append(queries, q.sql)
	}
	return append(queries, extra...)
}

// runOn runs p with its shards served by src and returns the rows.
func runOn(t testing.TB, sql string, p *planner.Plan, src Shards) [][]types.Datum {
	t.Helper()
	var got [][]types.Datum
	if err := Run(context.Background(), p, src, func(r []types.Datum) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatalf("%s: remote run: %v", sql, err)
	}
	return got
}

func TestRemoteFragmentsMatchLocal(t *testing.T) {
	c := smallCluster(0.1)
	queries := tsbsQueriesAnd(t,
		"SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC",
		"SELECT count(*) FROM cpu WHERE hostname IN (SELECT hostname FROM cpu WHERE usage_user > 99 AND time < '2016-01-01 01:00:00+00')",
		"SELECT hostname, max(usage_user) FROM cpu WHERE region <> 'us-east-1' GROUP BY 1 ORDER BY 1",
	)
	for _, sql := range queries {
		p, want := runSQL(t, c, sql)
		rs := &remoteShards{t: t, c: c, sql: sql}
		got := runOn(t, sql, p, rs)
		if rs.served.Load() == 0 {
			t.Fatalf("%s: no fragment was served remotely", sql)
		}
		checkRows(t, sql, got, want, strings.Contains(sql, "ORDER BY"))
	}
}

// TestRemoteFragmentUsesStats checks that the statistics shortcut is taken
// on the remote side too (the coordinator's UseStats cannot cross the wire).
func TestRemoteFragmentUsesStats(t *testing.T) {
	c := smallCluster(0)
	sql := "SELECT count(*), max(usage_user) FROM cpu"
	p, want := runSQL(t, c, sql)
	rs := &remoteShards{t: t, c: c, sql: sql}
	var got [][]types.Datum
	if err := Run(context.Background(), p, rs, func(r []types.Datum) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checkRows(t, sql, got, want, true)
	if rs.stats.Load() == 0 {
		t.Fatalf("no block was served as statistics")
	}
}

func TestServeFragmentBadRef(t *testing.T) {
	c := smallCluster(0)
	p, _ := runSQL(t, c, "SELECT count(*) FROM cpu")
	local, _ := c.Scanner(context.Background(), c.infos[0].ID, FragmentRef{})
	for _, ref := range []FragmentRef{{Scan: 1}, {Scan: -1}, {Scan: 0, Subqueries: [][]types.Datum{nil}}} {
		err := ServeFragment(context.Background(), p, ref, local, func(*store.SeriesBatch) error { return nil })
		if err == nil {
			t.Fatalf("ref %+v: want an error", ref)
		}
	}
}
