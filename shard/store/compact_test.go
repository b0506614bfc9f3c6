package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// timeBlocks counts the time blocks (groups) of the shard.
func timeBlocks(t *testing.T, s *Shard) int {
	t.Helper()
	lo := append(shardPrefix(nil, s.id), subBlock)
	it, err := s.db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if it.Key()[len(lo)+12] == colKindTime {
			n++
		}
	}
	return n
}

func TestCompactBlocks(t *testing.T) {
	db := openTestDB(t, t.TempDir(), Options{MaxBlockPoints: 10})
	defer db.Close()
	s, _ := db.OpenShard(1)
	idx := uint64(0)
	// Five flushes of 6 points each for one series, the last ones
	// overwriting earlier times; field 2 appears only in some flushes and
	// field 3 is a text column.
	for f := range 5 {
		var pts []point
		for i := range 6 {
			tm := int64(f*5 + i) // overlaps the previous flush by one point
			p := point{[]string{"a"}, tm, map[uint16]float64{1: float64(100*f + i)}}
			if f%2 == 0 {
				p.f[2] = float64(f)
			}
			pts = append(pts, p)
		}
		idx++
		mustApply(t, s, idx, makeBatch(1, []uint16{1, 2}, pts))
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	// A buffered overwrite must keep winning after compaction.
	idx++
	mustApply(t, s, idx, makeBatch(1, []uint16{1, 2}, []point{pt("a", 3, -1, -1)}))
	r := ScanRequest{TableID: 1, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: []uint16{1, 2}}
	before, _ := scanAll(t, s, r)
	if n := timeBlocks(t, s); n != 5 {
		t.Fatalf("%d groups before", n)
	}
	if err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := scanAll(t, s, r)
	if rowsString(before) != rowsString(after) {
		t.Fatalf("compaction changed data:\n%s\nvs\n%s", rowsString(before), rowsString(after))
	}
	if len(after) != 26 {
		t.Fatalf("%d rows", len(after))
	}
	if n := timeBlocks(t, s); n != 3 { // 26 distinct times / 10
		t.Fatalf("%d groups after", n)
	}
	// Compacted groups no longer overlap: all but the one holding the
	// buffered point are offered as stats.
	var offered []string
	_, stats := scanAll(t, s, ScanRequest{TableID: 1, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: []uint16{1},
		UseStats: func(lo, hi int64) bool { offered = append(offered, fmt.Sprint(lo, "-", hi)); return true }})
	if len(stats) != 2 {
		t.Fatalf("stats %v", offered)
	}
	// Idempotent: nothing left to do.
	if err := s.CompactBlocks(context.Background()); err != nil || timeBlocks(t, s) != 3 {
		t.Fatal("second compaction changed groups", err)
	}
	// Survives reopen with the sequence counter persisted.
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	final, _ := scanAll(t, s, r)
	var buf bytes.Buffer
	sn, _ := s.PrepareSnapshot()
	_ = sn.WriteTo(&buf, nil)
	_ = sn.Close()
	d2, _ := db.OpenShard(2)
	if err := d2.RecoverFromSnapshot(&buf, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := scanAll(t, d2, r)
	if rowsString(got) != rowsString(final) {
		t.Fatal("snapshot of compacted shard differs")
	}
}

// rowsMap keys scan rows by series and time.
func rowsMap(rows []row) map[string]string {
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[fmt.Sprintf("%s@%d", r.series, r.t)] = r.vals
	}
	return m
}

// pointVals renders p's fields 1 and 2 as scanAll does.
func pointVals(p point) string {
	v := ""
	for _, f := range []uint16{1, 2} {
		if x, ok := p.f[f]; ok {
			v += fmt.Sprintf(" %g", x)
		} else {
			v += " NULL"
		}
	}
	return v
}

// randomPoints returns n points over a few series: mostly short in-order
// runs around base, some anywhere (out of order, overwrites), random NULLs.
func randomPoints(rng *rand.Rand, n int, base int64) []point {
	tags := []string{"a", "b", "c", "d"}
	pts := make([]point, 0, n)
	for i := range n {
		tm := base + int64(i) + int64(rng.IntN(3))
		if rng.IntN(4) == 0 {
			tm = int64(rng.IntN(4000))
		}
		p := point{[]string{tags[rng.IntN(len(tags))]}, tm, map[uint16]float64{}}
		if rng.IntN(5) != 0 {
			p.f[1] = float64(rng.IntN(100))
		}
		if rng.IntN(3) != 0 {
			p.f[2] = float64(rng.IntN(1000)) / 8
		}
		pts = append(pts, p)
	}
	return pts
}

// TestCompactMatchesOracle runs rounds of random writes (out of order,
// overwrites, NULLs, buffered and flushed) and compactions against a map
// of the latest write per (series, time): compaction never changes what a
// scan returns, later writes keep winning over compacted blocks, and a
// second pass finds nothing to rewrite.
func TestCompactMatchesOracle(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			maxPts := 1 + rng.IntN(12)
			db := openTestDB(t, t.TempDir(), Options{MaxBlockPoints: maxPts})
			defer db.Close()
			s, err := db.OpenShard(1)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			oracle := map[string]string{}
			idx := uint64(0)
			rewrote := false
			for round := range 5 {
				for range 1 + rng.IntN(10) {
					pts := randomPoints(rng, 1+rng.IntN(150), int64(rng.IntN(4000)))
					for _, p := range pts {
						oracle[fmt.Sprintf("%v@%d", p.tags, p.t)] = pointVals(p)
					}
					idx++
					mustApply(t, s, idx, makeBatch(1, []uint16{1, 2}, pts))
					if rng.IntN(4) != 0 {
						if err := s.Flush(); err != nil {
							t.Fatal(err)
						}
					}
				}
				before, _ := scanAll(t, s, allTime)
				if got := rowsMap(before); !maps.Equal(got, oracle) {
					t.Fatalf("round %d: scan differs from oracle before compaction (%d vs %d rows)", round, len(got), len(oracle))
				}
				st, err := s.Compact(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if st.Skipped != 0 || st.GroupsAfter > st.GroupsBefore {
					t.Fatalf("round %d: stats %+v", round, st)
				}
				rewrote = rewrote || st.Rewritten > 0
				after, _ := scanAll(t, s, allTime)
				if rowsString(after) != rowsString(before) {
					t.Fatalf("round %d: compaction changed the data:\n%s\nvs\n%s", round, rowsString(before), rowsString(after))
				}
				st2, err := s.Compact(ctx)
				if err != nil || !st2.Clean {
					t.Fatalf("round %d: second pass %+v %v", round, st2, err)
				}
				// Forget the marker: a full re-plan must find nothing either.
				db.clearPacked(s.id)
				if st3, err := s.Compact(ctx); err != nil || st3.Rewritten != 0 || st3.Clean {
					t.Fatalf("round %d: re-plan rewrote %+v %v", round, st3, err)
				}
			}
			if !rewrote {
				t.Fatal("no compaction rewrote anything: the test is not testing")
			}
		})
	}
}

func TestPlanWindows(t *testing.T) {
	const maxPts = 2 // windows of compactWindowBlocks*2 = 128 rows
	f := func(groups []blockGroup, want string) {
		t.Helper()
		var got []string
		for _, w := range planWindows(groups, maxPts) {
			got = append(got, fmt.Sprintf("[%d,%d) %d..%d rows=%d overlap=%t rewrite=%t",
				w.first, w.last, w.minT, w.maxT, w.rows, w.overlap, w.rewrite(maxPts)))
		}
		if s := strings.Join(got, "; "); s != want {
			t.Fatalf("got  %s\nwant %s", s, want)
		}
	}
	g := func(minT, maxT int64, count int) blockGroup { return blockGroup{minT: minT, maxT: maxT, count: count} }
	f(nil, "")
	f([]blockGroup{g(0, 1, 2)}, "[0,1) 0..1 rows=2 overlap=false rewrite=false")
	// Packed: two full groups and one partial.
	f([]blockGroup{g(0, 1, 2), g(2, 3, 2), g(4, 4, 1)}, "[0,3) 0..4 rows=5 overlap=false rewrite=false")
	// One group of slack is tolerated, two are not.
	f([]blockGroup{g(0, 0, 1), g(1, 1, 1)}, "[0,2) 0..1 rows=2 overlap=false rewrite=false")
	f([]blockGroup{g(0, 0, 1), g(1, 1, 1), g(2, 2, 1)}, "[0,3) 0..2 rows=3 overlap=false rewrite=false")
	f([]blockGroup{g(0, 0, 1), g(1, 1, 1), g(2, 2, 1), g(3, 3, 1)}, "[0,4) 0..3 rows=4 overlap=false rewrite=true")
	// Overlap, including with a group that is not the previous one.
	f([]blockGroup{g(0, 10, 2), g(3, 4, 2), g(5, 5, 1)}, "[0,3) 0..10 rows=5 overlap=true rewrite=true")
	// MaxTime is exclusive: a group ending at MaxInt64 is never rewritten.
	f([]blockGroup{g(0, math.MaxInt64, 2), g(3, 4, 2)}, "[0,2) 0..9223372036854775807 rows=4 overlap=true rewrite=false")
	// Windows are cut at cluster boundaries once they hold 128 rows.
	var gs []blockGroup
	for i := range int64(70) {
		gs = append(gs, g(10*i, 10*i+1, 2))
	}
	gs[64].minT = gs[63].maxT // overlaps group 63: the window grows past 128 rows
	f(gs, "[0,65) 0..641 rows=130 overlap=true rewrite=true; [65,70) 650..691 rows=10 overlap=false rewrite=false")
}

// countdownCtx reports cancellation after n calls of Err: it stops a
// compaction at a deterministic point.
type countdownCtx struct {
	context.Context
	n atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestCompactCrashMidway stops a compaction after k steps (k = 0, 1, ...
// until it completes) and simulates a crash that keeps a random part of
// the unsynced writes: the reopened store returns exactly the flushed
// data, and compacts to it.
func TestCompactCrashMidway(t *testing.T) {
	midway := false
	for k := int64(0); ; k++ {
		if k > 1000 {
			t.Fatal("compaction never completes")
		}
		rng := rand.New(rand.NewPCG(uint64(k), 3))
		fs := vfs.NewCrashableMem()
		db := openTestDB(t, "db", Options{FS: fs, MaxBlockPoints: 4})
		s, err := db.OpenShard(3)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 12 {
			mustApply(t, s, uint64(i+1), makeBatch(1, []uint16{1, 2}, randomPoints(rng, 60, int64(i*40))))
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		want, _ := scanAll(t, s, allTime)
		ctx := &countdownCtx{Context: context.Background()}
		ctx.n.Store(k)
		st, err := s.Compact(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		done := err == nil
		midway = midway || (!done && st.Rewritten > 0)
		if got, _ := scanAll(t, s, allTime); rowsString(got) != rowsString(want) {
			t.Fatalf("k=%d: interrupted compaction changed the data", k)
		}
		crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rng})
		_ = db.Close()

		db2 := openTestDB(t, "db", Options{FS: crashed, MaxBlockPoints: 4})
		s2, err := db2.OpenShard(3)
		if err != nil {
			t.Fatal(err)
		}
		if s2.AppliedIndex() != 12 {
			t.Fatalf("k=%d: applied %d", k, s2.AppliedIndex())
		}
		if got, _ := scanAll(t, s2, allTime); rowsString(got) != rowsString(want) {
			t.Fatalf("k=%d: after crash:\n%s\nwant\n%s", k, rowsString(got), rowsString(want))
		}
		if _, err := s2.Compact(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got, _ := scanAll(t, s2, allTime); rowsString(got) != rowsString(want) {
			t.Fatalf("k=%d: compaction after crash changed the data", k)
		}
		// The block sequence counter survived consistently: a later
		// overwrite still wins over the compacted blocks.
		mustApply(t, s2, 13, makeBatch(1, []uint16{1, 2}, []point{pt("a", 41, -1, -2)}))
		if err := s2.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, err := s2.Compact(context.Background()); err != nil {
			t.Fatal(err)
		}
		rows, _ := scanAll(t, s2, req(func(r *ScanRequest) { r.MinTime, r.MaxTime = 41, 42 }))
		if v := rowsMap(rows)["[a]@41"]; v != " -1 -2" {
			t.Fatalf("k=%d: overwrite lost: %q", k, v)
		}
		_ = db2.Close()
		if done {
			break
		}
	}
	if !midway {
		t.Fatal("no run stopped after rewriting part of the shard")
	}
}

// TestCompactAbortsOnConcurrentFlush plans and merges a window, then lets
// a Flush add a group to the series before the commit: the commit must
// refuse (its range deletion would drop the new group), and a later pass
// compacts everything.
func TestCompactAbortsOnConcurrentFlush(t *testing.T) {
	db := openTestDB(t, t.TempDir(), Options{MaxBlockPoints: 4})
	defer db.Close()
	s, _ := db.OpenShard(1)
	for i := range 6 {
		mustApply(t, s, uint64(i+1), makeBatch(1, []uint16{1, 2}, []point{pt("a", int64(i), float64(i), 0)}))
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	mustApply(t, s, 7, makeBatch(1, []uint16{1, 2}, []point{pt("b", 1, 1, 1)}))
	s.mu.RLock()
	se := s.mu.tables[1].series[0]
	s.mu.RUnlock()

	c := compaction{s: s, maxPts: 4}
	lo, hi := seriesBlockBounds(s.id, se.table, se.id)
	planSeq := s.nextSeq
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if err := c.readGroups(it, se); err != nil {
		t.Fatal(err)
	}
	ws := planWindows(c.groups, c.maxPts)
	if len(ws) != 1 || !ws[0].rewrite(c.maxPts) {
		t.Fatalf("windows %+v", ws)
	}
	if err := c.merge(it, se, &ws[0]); err != nil {
		t.Fatal(err)
	}
	// Flushing another series only: the commit may proceed...
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if s.nextSeq == planSeq {
		t.Fatal("flush of series b did not advance the counter")
	}
	p := planSeq
	if err := c.commit(se, &ws[0], &p); err != nil {
		t.Fatalf("commit after an unrelated flush: %v", err)
	}
	// ...but not once series a itself got a new group.
	mustApply(t, s, 8, makeBatch(1, []uint16{1, 2}, []point{pt("a", 3, 33, 33)}))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	p = planSeq
	if err := c.commit(se, &ws[0], &p); !errors.Is(err, errSeriesChanged) {
		t.Fatalf("commit over a new group: %v", err)
	}
	rows, _ := scanAll(t, s, allTime)
	if v := rowsMap(rows)["[a]@3"]; v != " 33 33" {
		t.Fatalf("new group lost: %q", v)
	}
	if len(rows) != 7 {
		t.Fatalf("rows %v", rows)
	}
	st, err := s.Compact(context.Background())
	if err != nil || st.Rewritten != 1 {
		t.Fatalf("%+v %v", st, err)
	}
	after, _ := scanAll(t, s, allTime)
	if rowsString(after) != rowsString(rows) {
		t.Fatal("compaction changed the data")
	}
}

// TestCompactSkipsDeletedTable: a table deleted between plan and commit
// must not come back.
func TestCompactSkipsDeletedTable(t *testing.T) {
	db := openTestDB(t, t.TempDir(), Options{MaxBlockPoints: 4})
	defer db.Close()
	s, _ := db.OpenShard(1)
	for i := range 6 {
		mustApply(t, s, uint64(i+1), makeBatch(1, []uint16{1, 2}, []point{pt("a", int64(i), 1, 2)}))
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.RLock()
	se := s.mu.tables[1].series[0]
	s.mu.RUnlock()
	c := compaction{s: s, maxPts: 4}
	lo, hi := seriesBlockBounds(s.id, se.table, se.id)
	it, _ := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	defer it.Close()
	if err := c.readGroups(it, se); err != nil {
		t.Fatal(err)
	}
	ws := planWindows(c.groups, c.maxPts)
	if err := c.merge(it, se, &ws[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTable(1); err != nil {
		t.Fatal(err)
	}
	p := s.nextSeq
	if err := c.commit(se, &ws[0], &p); !errors.Is(err, errSeriesChanged) {
		t.Fatalf("commit after DeleteTable: %v", err)
	}
	if rows, _ := scanAll(t, s, allTime); len(rows) != 0 {
		t.Fatalf("deleted rows came back: %v", rows)
	}
	if n := timeBlocks(t, s); n != 0 {
		t.Fatalf("%d groups left", n)
	}
}

// TestCompactConcurrentWithWrites runs compactions in a loop while another
// goroutine applies and flushes random writes (Dragonboat's apply path) and
// a third scans: the result matches the oracle (run it with -race).
func TestCompactConcurrentWithWrites(t *testing.T) {
	db := openTestDB(t, t.TempDir(), Options{MaxBlockPoints: 6})
	defer db.Close()
	s, err := db.OpenShard(1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(42, 42))
	oracle := map[string]string{}
	var batches []*WriteBatch
	for i := range 60 {
		pts := randomPoints(rng, 40, int64(i*30))
		for _, p := range pts {
			oracle[fmt.Sprintf("%v@%d", p.tags, p.t)] = pointVals(p)
		}
		batches = append(batches, makeBatch(1, []uint16{1, 2}, pts))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if _, err := s.Compact(ctx); err != nil && ctx.Err() == nil {
				errc <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		r := ScanRequest{TableID: 1, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: []uint16{1, 2}}
		for ctx.Err() == nil {
			if err := s.Scan(ctx, &r, func(*SeriesBatch) error { return nil }); err != nil && ctx.Err() == nil {
				errc <- err
				return
			}
		}
	}()
	for i, wb := range batches {
		mustApply(t, s, uint64(i+1), wb)
		if i%2 == 1 {
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	cancel()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if _, err := s.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, _ := scanAll(t, s, allTime)
	if got := rowsMap(rows); !maps.Equal(got, oracle) {
		t.Fatalf("scan differs from oracle (%d vs %d rows)", len(got), len(oracle))
	}
}
