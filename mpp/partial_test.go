package mpp

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/longboatdb/longboat/planner"
)

// partialShards is remoteShards whose scanners also aggregate remotely
// (PartialAggregator), as a cluster node's do.
type partialShards struct {
	remoteShards
	partials atomic.Int64
}

type partialScanner struct {
	remoteScanner
	p *partialShards
}

func (r *partialShards) Scanner(ctx context.Context, id uint64, ref FragmentRef) (Scanner, error) {
	return partialScanner{remoteScanner: remoteScanner{r: &r.remoteShards, id: id, ref: ref}, p: r}, nil
}

func (s partialScanner) PartialAggregate(ctx context.Context) ([]byte, error) {
	p, local, err := s.replan(ctx)
	if err != nil {
		return nil, err
	}
	s.p.partials.Add(1)
	return ServePartialAggregate(ctx, p, s.ref, local)
}

// TestRemotePartialAggregatesMatchLocal runs every TSBS query type through
// fragments that aggregate on the "remote" node and ship partial groups,
// and requires the rows of the local run.
func TestRemotePartialAggregatesMatchLocal(t *testing.T) {
	c := smallCluster(0.1)
	queries := tsbsQueriesAnd(t,
		"SELECT hostname, max(usage_user), __lb_first(usage_idle, time), __lb_last(usage_idle, time), count(*) FROM cpu WHERE region <> 'us-east-1' AND usage_user > 10 GROUP BY 1 ORDER BY 1",
		"SELECT count(*) FROM cpu WHERE hostname IN (SELECT hostname FROM cpu WHERE usage_user > 99 AND time < '2016-01-01 01:00:00+00')",
	)
	partials := 0
	for _, sql := range queries {
		p, want := runSQL(t, c, sql)
		rs := &partialShards{remoteShards: remoteShards{t: t, c: c, sql: sql}}
		got := runOn(t, sql, p, rs)
		if rs.partials.Load() > 0 {
			partials++
		}
		checkRows(t, sql, got, want, strings.Contains(sql, "ORDER BY"))
	}
	if partials < len(queries)/2 {
		t.Fatalf("only %d of %d queries aggregated remotely", partials, len(queries))
	}
}

// TestPartialAggCodec round-trips partial groups and checks that every
// truncation or corruption is an error, never a panic.
func TestPartialAggCodec(t *testing.T) {
	ba := &planner.BucketAgg{Aggs: []planner.PushedAgg{{Kind: planner.AggCountStar}, {Kind: planner.AggMax}, {Kind: planner.AggFirst}}}
	a := newFragAgg(ba)
	a.tagVals = [][]string{{"host_1", "eu"}, {"", "us"}}
	a.keys = []groupKey{{0, 0}, {1, 3600e6}, {0, -7200e6}}
	for i := range len(a.keys) * a.naggs {
		a.states = append(a.states, aggState{n: int64(i), sum: float64(i) / 3, min: -1, max: 1e300, firstT: int64(i), lastT: -int64(i),
			first: 2, last: 3, firstNull: i%2 == 0, lastNull: i%3 == 0, haveBounds: i%4 != 0})
	}
	data := a.appendPartial(nil)
	b := newFragAgg(ba)
	if err := b.decodePartial(data); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a.tagVals, a.keys, a.states) != fmt.Sprint(b.tagVals, b.keys, b.states) {
		t.Fatalf("round trip:\n got %v %v %v\nwant %v %v %v", b.tagVals, b.keys, b.states, a.tagVals, a.keys, a.states)
	}
	for n := range len(data) {
		if err := newFragAgg(ba).decodePartial(data[:n]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(data))
		}
	}
	if err := newFragAgg(ba).decodePartial(append(data, 0)); err == nil {
		t.Fatal("trailing byte: no error")
	}
	other := newFragAgg(&planner.BucketAgg{Aggs: ba.Aggs[:1]})
	if err := other.decodePartial(data); err == nil || !strings.Contains(err.Error(), "plan mismatch") {
		t.Fatalf("aggregate count mismatch: err %v", err)
	}
}

func FuzzDecodePartialAgg(f *testing.F) {
	ba := &planner.BucketAgg{Aggs: []planner.PushedAgg{{Kind: planner.AggCountStar}, {Kind: planner.AggSum}}}
	a := newFragAgg(ba)
	a.tagVals = [][]string{{"a"}}
	a.keys = []groupKey{{0, 10}}
	a.states = make([]aggState, 2)
	f.Add(a.appendPartial(nil))
	f.Add([]byte{1, 2, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := newFragAgg(ba)
		if err := b.decodePartial(data); err != nil {
			return
		}
		if len(b.states) != len(b.keys)*b.naggs {
			t.Fatalf("%d states for %d groups of %d aggregates", len(b.states), len(b.keys), b.naggs)
		}
		for _, k := range b.keys {
			if int(k.tags) >= len(b.tagVals) {
				t.Fatalf("group refers to tag tuple %d of %d", k.tags, len(b.tagVals))
			}
		}
	})
}
