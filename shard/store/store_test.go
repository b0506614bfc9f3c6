package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/longboatdb/longboat/shard"
)

var allTime = ScanRequest{TableID: 1, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: []uint16{1, 2}}

func req(mod func(*ScanRequest)) ScanRequest {
	r := allTime
	if mod != nil {
		mod(&r)
	}
	return r
}

func rowsString(rows []row) string {
	var b bytes.Buffer
	for _, r := range rows {
		fmt.Fprintf(&b, "%s@%d:%s\n", r.series, r.t, r.vals)
	}
	return b.String()
}

func mustApply(t testing.TB, s *Shard, idx uint64, wb *WriteBatch) {
	t.Helper()
	if err := s.Apply(idx, wb); err != nil {
		t.Fatal(err)
	}
}

func pt(tag string, tm int64, f1, f2 float64) point {
	return point{[]string{tag}, tm, map[uint16]float64{1: f1, 2: f2}}
}

func TestApplyFlushReopen(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, Options{})
	s, err := db.OpenShard(5)
	if err != nil {
		t.Fatal(err)
	}
	if s2, _ := db.OpenShard(5); s2 != s {
		t.Fatal("OpenShard not idempotent")
	}
	if s.AppliedIndex() != 0 {
		t.Fatal("new shard has applied index")
	}
	mustApply(t, s, 1, makeBatch(1, []uint16{1, 2}, []point{pt("a", 10, 1, 2), pt("b", 10, 3, 4)}))
	mustApply(t, s, 2, makeBatch(1, []uint16{1, 2}, []point{pt("a", 20, 5, 6)}))
	if s.AppliedIndex() != 0 {
		t.Fatal("applied index durable before Flush")
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if s.AppliedIndex() != 2 {
		t.Fatalf("applied %d", s.AppliedIndex())
	}
	// Unflushed: gone after reopen.
	mustApply(t, s, 3, makeBatch(1, []uint16{1, 2}, []point{pt("c", 30, 7, 8), pt("a", 30, 9, 9)}))
	want := "[a]@10: 1 2\n[a]@20: 5 6\n[b]@10: 3 4\n"
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, dir, Options{})
	defer db.Close()
	s, err = db.OpenShard(5)
	if err != nil {
		t.Fatal(err)
	}
	if s.AppliedIndex() != 2 {
		t.Fatalf("after reopen applied %d", s.AppliedIndex())
	}
	rows, _ := scanAll(t, s, allTime)
	if got := rowsString(rows); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if s.SeriesCount(1) != 2 {
		t.Fatalf("series count %d", s.SeriesCount(1))
	}
	// Raft replays entry 3: series c gets the same next ID as before.
	mustApply(t, s, 3, makeBatch(1, []uint16{1, 2}, []point{pt("c", 30, 7, 8)}))
	var ids []uint64
	_ = s.Scan(context.Background(), &allTime, func(b *SeriesBatch) error { ids = append(ids, b.SeriesID); return nil })
	if fmt.Sprint(ids) != "[0 0 1 2]" && fmt.Sprint(ids) != "[0 1 2]" {
		t.Fatalf("series ids %v", ids)
	}
	var listed []string
	_ = s.Series(1, func(id uint64, tags []string) bool { listed = append(listed, fmt.Sprint(id, tags)); return true })
	if fmt.Sprint(listed) != "[0 [a] 1 [b] 2 [c]]" {
		t.Fatalf("series %v", listed)
	}
	if other, _ := db.OpenShard(6); other.AppliedIndex() != 0 || other.SeriesCount(1) != 0 {
		t.Fatal("shards share state")
	}
}

// Overwrites and out-of-order writes, across buffer and several flushes,
// checked against a map oracle under random flush points.
func TestOverwriteOutOfOrderOracle(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			db := openTestDB(t, t.TempDir(), Options{MaxBlockPoints: 1 + rng.IntN(40)})
			defer db.Close()
			s, _ := db.OpenShard(1)
			oracle := map[oKey]string{}
			for idx := uint64(1); idx <= 60; idx++ {
				var pts []point
				for range rng.IntN(30) {
					tag := fmt.Sprint("s", rng.IntN(4))
					tm := rng.Int64N(300)
					p := point{[]string{tag}, tm, map[uint16]float64{}}
					v := ""
					for _, f := range []uint16{1, 2} {
						if rng.IntN(4) == 0 {
							v += " NULL"
							continue
						}
						x := float64(rng.IntN(1000)) / 4
						p.f[f] = x
						v += fmt.Sprintf(" %g", x)
					}
					pts = append(pts, p)
					oracle[oKey{fmt.Sprint([]string{tag}), tm}] = v
				}
				mustApply(t, s, idx, makeBatch(1, []uint16{1, 2}, pts))
				if rng.IntN(5) == 0 {
					if err := s.Flush(); err != nil {
						t.Fatal(err)
					}
				}
				if rng.IntN(10) == 0 {
					lo, hi := rng.Int64N(300), rng.Int64N(300)
					checkOracle(t, s, oracle, lo, hi, rng)
				}
			}
			checkOracle(t, s, oracle, math.MinInt64, math.MaxInt64, rng)
			if err := db.Compact(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkOracle(t, s, oracle, 50, 250, rng)
		})
	}
}

type oKey struct {
	tag string
	t   int64
}

func checkOracle(t *testing.T, s *Shard, oracle map[oKey]string, lo, hi int64, rng *rand.Rand) {
	t.Helper()
	var want []row
	for k, v := range oracle {
		if k.t >= lo && k.t < hi {
			want = append(want, row{k.tag, k.t, v})
		}
	}
	sort.Slice(want, func(i, j int) bool {
		if want[i].series != want[j].series {
			return want[i].series < want[j].series
		}
		return want[i].t < want[j].t
	})
	got, _ := scanAll(t, s, req(func(r *ScanRequest) { r.MinTime, r.MaxTime = lo, hi }))
	if a, b := sortedLines(rowsString(got)), sortedLines(rowsString(want)); a != b {
		t.Fatalf("range [%d,%d): got\n%s\nwant\n%s", lo, hi, a, b)
	}
	// Reverse with a limit: the newest points per series, newest first.
	limit := 1 + rng.IntN(5)
	got, _ = scanAll(t, s, req(func(r *ScanRequest) { r.MinTime, r.MaxTime, r.Reverse, r.Limit = lo, hi, true, limit }))
	var wantRev []row
	for i := len(want) - 1; i >= 0; {
		j := i
		for j >= 0 && want[j].series == want[i].series {
			j--
		}
		for k := i; k > j && i-k < limit; k-- {
			wantRev = append(wantRev, want[k])
		}
		i = j
	}
	// Series are visited in ID order, not tag order: compare as sets of lines.
	if a, b := sortedLines(rowsString(got)), sortedLines(rowsString(wantRev)); a != b {
		t.Fatalf("reverse limit %d [%d,%d): got\n%s\nwant\n%s", limit, lo, hi, a, b)
	}
	// Forward limit.
	got, _ = scanAll(t, s, req(func(r *ScanRequest) { r.MinTime, r.MaxTime, r.Limit = lo, hi, limit }))
	var wantFwd []row
	for i := 0; i < len(want); {
		j := i
		for j < len(want) && want[j].series == want[i].series {
			j++
		}
		wantFwd = append(wantFwd, want[i:min(j, i+limit)]...)
		i = j
	}
	if a, b := sortedLines(rowsString(got)), sortedLines(rowsString(wantFwd)); a != b {
		t.Fatalf("limit %d: got\n%s\nwant\n%s", limit, a, b)
	}
}

func sortedLines(s string) string {
	lines := bytes.Split([]byte(s), []byte("\n"))
	sort.Slice(lines, func(i, j int) bool { return bytes.Compare(lines[i], lines[j]) < 0 })
	return string(bytes.Join(lines, []byte("\n")))
}

func TestScanOrderAndBatches(t *testing.T) {
	db := openTestDB(t, t.TempDir(), Options{MaxBlockPoints: 3})
	defer db.Close()
	s, _ := db.OpenShard(1)
	var pts []point
	for i := range 10 {
		pts = append(pts, pt("a", int64(100-i*10), float64(i), float64(-i)))
	}
	mustApply(t, s, 1, makeBatch(1, []uint16{1, 2}, pts))
	_ = s.Flush()
	mustApply(t, s, 2, makeBatch(1, []uint16{1, 2}, []point{pt("a", 55, 100, 100), pt("a", 200, 1, 1)}))
	// Every batch is sorted, non-overlapping and in scan order.
	for _, reverse := range []bool{false, true} {
		var last int64
		first := true
		err := s.Scan(context.Background(), &ScanRequest{TableID: 1, MinTime: 0, MaxTime: 1000, Fields: []uint16{2}, Reverse: reverse},
			func(b *SeriesBatch) error {
				for _, tm := range b.Times {
					if !first && (tm <= last) != reverse {
						return fmt.Errorf("order: %d after %d (reverse=%v)", tm, last, reverse)
					}
					first, last = false, tm
				}
				if len(b.Fields) != 1 || b.Fields[0].Len() != len(b.Times) {
					return fmt.Errorf("misaligned batch")
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Filters: series filter and unknown fields come back NULL.
	mustApply(t, s, 3, makeBatch(1, []uint16{1}, []point{{[]string{"b"}, 5, map[uint16]float64{1: 1}}}))
	rows, _ := scanAll(t, s, ScanRequest{TableID: 1, MinTime: 0, MaxTime: 10, Fields: []uint16{7, 1},
		SeriesFilter: func(tags []string) bool { return tags[0] == "b" }})
	if got := rowsString(rows); got != "[b]@5: NULL 1\n" {
		t.Fatalf("got %q", got)
	}
	// Unknown table: nothing, no error.
	rows, _ = scanAll(t, s, ScanRequest{TableID: 9, MinTime: 0, MaxTime: 10})
	if len(rows) != 0 {
		t.Fatal("rows from unknown table")
	}
	// Callback errors propagate.
	sentinel := errors.New("stop")
	if err := s.Scan(context.Background(), &allTime, func(*SeriesBatch) error { return sentinel }); !errors.Is(err, sentinel) {
		t.Fatalf("got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Scan(ctx, &allTime, func(*SeriesBatch) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scan: %v", err)
	}
}

func TestStats(t *testing.T) {
	db := openTestDB(t, t.TempDir(), Options{MaxBlockPoints: 4})
	defer db.Close()
	s, _ := db.OpenShard(1)
	var pts []point
	for i := range 8 {
		p := pt("a", int64(i*10), float64(i), 0.5)
		if i == 1 {
			delete(p.f, 2)
		}
		pts = append(pts, p)
	}
	mustApply(t, s, 1, makeBatch(1, []uint16{1, 2}, pts))
	_ = s.Flush()
	mustApply(t, s, 2, makeBatch(1, []uint16{1, 2}, []point{pt("a", 65, 1, 1)})) // overlaps the 2nd block
	var offered [][2]int64
	rows, stats := scanAll(t, s, ScanRequest{TableID: 1, MinTime: 0, MaxTime: 1000, Fields: []uint16{1, 2, 3},
		UseStats: func(lo, hi int64) bool { offered = append(offered, [2]int64{lo, hi}); return true }})
	if len(stats) != 1 || fmt.Sprint(offered) != "[[0 30]]" {
		t.Fatalf("stats %+v offered %v", stats, offered)
	}
	st := stats[0]
	if st.MinTime != 0 || st.MaxTime != 30 || st.Rows != 4 {
		t.Fatalf("%+v", st)
	}
	want := []ColumnStats{
		{Count: 4, Min: 0, Max: 3, Sum: 6, First: 0, Last: 3, NonNull: true},
		{Count: 3, Min: 0.5, Max: 0.5, Sum: 1.5, First: 0.5, Last: 0.5, NonNull: true},
		{},
	}
	if fmt.Sprint(st.Cols) != fmt.Sprint(want) {
		t.Fatalf("cols %+v", st.Cols)
	}
	if got := rowsString(rows); got != "[a]@40: 4 0.5 NULL\n[a]@50: 5 0.5 NULL\n[a]@60: 6 0.5 NULL\n[a]@65: 1 1 NULL\n[a]@70: 7 0.5 NULL\n" {
		t.Fatalf("rows %s", got)
	}
	// A block only partly inside the range is not offered.
	offered = nil
	_, stats = scanAll(t, s, ScanRequest{TableID: 1, MinTime: 5, MaxTime: 1000, Fields: []uint16{1},
		UseStats: func(lo, hi int64) bool { offered = append(offered, [2]int64{lo, hi}); return true }})
	if len(stats) != 0 || len(offered) != 0 {
		t.Fatalf("partial block offered: %v", offered)
	}
}

func TestTypesAndNulls(t *testing.T) {
	db := openTestDB(t, t.TempDir(), Options{})
	defer db.Close()
	s, _ := db.OpenShard(1)
	wb := mixedBatch()
	mustApply(t, s, 1, wb)
	r := ScanRequest{TableID: 3, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: []uint16{1, 2, 3, 4, 9}}
	before, _ := scanAll(t, s, r)
	_ = s.Flush()
	after, _ := scanAll(t, s, r)
	want := "[ y]@100: 2 4611686018427387904 false \"q\" 6\n" +
		"[]@-5: 4 4 NULL \"p\" 8\n" +
		"[a x]@90: NULL 3 false NULL 7\n" +
		"[a x]@100: 1.5 -1 true \"p\" 5\n"
	if sortedLines(rowsString(before)) != sortedLines(want) || sortedLines(rowsString(after)) != sortedLines(want) {
		t.Fatalf("before\n%s\nafter\n%s\nwant\n%s", rowsString(before), rowsString(after), want)
	}
	// A conflicting type for a buffered column is rejected and changes nothing.
	bad := mixedBatch()
	mustApply(t, s, 2, bad)
	bad.Tables[0].Fields[0] = Vector{Type: shard.TypeText, Str: []string{"a", "b", "c", "d"}}
	if err := s.Apply(3, bad); err == nil {
		t.Fatal("type conflict accepted")
	}
	if err := s.Apply(4, &WriteBatch{Tables: []TableRows{{TableID: 1, Times: []int64{1}}}}); err == nil {
		t.Fatal("invalid batch accepted")
	}
	if err := s.Flush(); err != nil || s.AppliedIndex() != 4 {
		t.Fatalf("flush %v applied %d", err, s.AppliedIndex())
	}
}

func TestLastPointFromHeaders(t *testing.T) {
	db := openTestDB(t, t.TempDir(), Options{MaxBlockPoints: 100})
	defer db.Close()
	s, _ := db.OpenShard(1)
	var pts []point
	for i := range 1000 {
		pts = append(pts, pt(fmt.Sprint("h", i%10), int64(i), float64(i), float64(-i)))
	}
	mustApply(t, s, 1, makeBatch(1, []uint16{1, 2}, pts))
	_ = s.Flush()
	rows, _ := scanAll(t, s, req(func(r *ScanRequest) { r.Reverse, r.Limit = true, 1 }))
	if len(rows) != 10 || rows[0].t != 990 || rows[0].vals != " 990 -990" || rows[9].t != 999 {
		t.Fatalf("%s", rowsString(rows))
	}
	rows, _ = scanAll(t, s, req(func(r *ScanRequest) { r.Limit = 1; r.MinTime = 0 }))
	if len(rows) != 10 || rows[0].t != 0 || rows[0].vals != " 0 0" {
		t.Fatalf("%s", rowsString(rows))
	}
}

func TestConcurrentScanApplyFlush(t *testing.T) {
	db := openTestDB(t, t.TempDir(), Options{FlushPoints: 500, MaxBlockPoints: 64})
	defer db.Close()
	s, _ := db.OpenShard(1)
	const steps = 300
	done := make(chan struct{})
	var wg sync.WaitGroup
	var scanErr error
	var mu sync.Mutex
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				// Every scan sees a prefix of the writes: for each series the
				// times are 0..k-1 contiguous, each value equal to its time.
				err := s.Scan(context.Background(), &ScanRequest{TableID: 1, MinTime: math.MinInt64, MaxTime: math.MaxInt64,
					Fields: []uint16{1}, Reverse: g == 1},
					func(b *SeriesBatch) error {
						for i, tm := range b.Times {
							if b.Fields[0].F64[i] != float64(tm) {
								return fmt.Errorf("value %g at %d", b.Fields[0].F64[i], tm)
							}
						}
						return nil
					})
				if err != nil {
					mu.Lock()
					scanErr = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	for i := range steps {
		var pts []point
		for h := range 5 {
			pts = append(pts, point{[]string{fmt.Sprint(h)}, int64(i), map[uint16]float64{1: float64(i)}})
		}
		mustApply(t, s, uint64(i+1), makeBatch(1, []uint16{1}, pts))
		if s.NeedsFlush() {
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	if scanErr != nil {
		t.Fatal(scanErr)
	}
	rows, _ := scanAll(t, s, ScanRequest{TableID: 1, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: []uint16{1}})
	if len(rows) != steps*5 {
		t.Fatalf("%d rows", len(rows))
	}
}

func TestSnapshotRecover(t *testing.T) {
	src := openTestDB(t, t.TempDir(), Options{})
	defer src.Close()
	s, _ := src.OpenShard(3)
	mustApply(t, s, 7, makeBatch(1, []uint16{1, 2}, []point{pt("a", 1, 1, 1), pt("b", 2, 2, 2)}))
	_ = s.Flush()
	mustApply(t, s, 8, makeBatch(1, []uint16{1, 2}, []point{pt("a", 3, 3, 3)}))
	sn, err := s.PrepareSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	sn2, _ := s.PrepareSnapshot() // several live at once
	// Writes after the snapshot are not in it.
	mustApply(t, s, 9, makeBatch(1, []uint16{1, 2}, []point{pt("c", 4, 4, 4)}))
	_ = s.Flush()
	var buf bytes.Buffer
	if err := sn.WriteTo(&buf, nil); err != nil {
		t.Fatal(err)
	}
	_ = sn.Close()
	_ = sn2.Close()
	_ = sn.Close()

	dst := openTestDB(t, t.TempDir(), Options{})
	defer dst.Close()
	d, _ := dst.OpenShard(44) // a different shard ID
	mustApply(t, d, 1, makeBatch(1, []uint16{1, 2}, []point{pt("zzz", 1, 9, 9)}))
	_ = d.Flush()
	mustApply(t, d, 2, makeBatch(1, []uint16{1, 2}, []point{pt("yyy", 1, 9, 9)}))
	if err := d.RecoverFromSnapshot(bytes.NewReader(buf.Bytes()), nil); err != nil {
		t.Fatal(err)
	}
	if d.AppliedIndex() != 8 {
		t.Fatalf("applied %d", d.AppliedIndex())
	}
	rows, _ := scanAll(t, d, allTime)
	if got := rowsString(rows); got != "[a]@1: 1 1\n[a]@3: 3 3\n[b]@2: 2 2\n" {
		t.Fatalf("recovered\n%s", got)
	}
	// New series continue after the recovered IDs.
	mustApply(t, d, 9, makeBatch(1, []uint16{1, 2}, []point{pt("c", 4, 4, 4)}))
	var ids []uint64
	_ = d.Scan(context.Background(), &allTime, func(b *SeriesBatch) error { ids = append(ids, b.SeriesID); return nil })
	if fmt.Sprint(ids) != "[0 0 1 2]" { // a has two flushed groups
		t.Fatalf("ids %v", ids)
	}
	// Corrupt streams are rejected and leave no applied index.
	bad := bytes.Clone(buf.Bytes())
	bad[len(bad)/2] ^= 0xff
	if err := d.RecoverFromSnapshot(bytes.NewReader(bad), nil); err == nil {
		t.Fatal("corrupt snapshot accepted")
	}
	if d.AppliedIndex() != 0 {
		t.Fatalf("applied %d after failed recovery", d.AppliedIndex())
	}
	if err := d.RecoverFromSnapshot(bytes.NewReader(buf.Bytes()[:20]), nil); err == nil {
		t.Fatal("truncated snapshot accepted")
	}
	// Stopped.
	stop := make(chan struct{})
	close(stop)
	sn3, _ := s.PrepareSnapshot()
	defer sn3.Close()
	var big bytes.Buffer
	if err := sn3.WriteTo(&big, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.RecoverFromSnapshot(bytes.NewReader(big.Bytes()), stop); !errors.Is(err, ErrStopped) {
		t.Fatalf("stopped recovery: %v", err)
	}
}

func TestDropShardDeleteTableClose(t *testing.T) {
	db := openTestDB(t, t.TempDir(), Options{})
	defer db.Close()
	s, _ := db.OpenShard(1)
	o, _ := db.OpenShard(2)
	for _, sh := range []*Shard{s, o} {
		mustApply(t, sh, 1, makeBatch(1, []uint16{1, 2}, []point{pt("a", 1, 1, 1)}))
		mustApply(t, sh, 2, makeBatch(2, []uint16{1, 2}, []point{pt("b", 1, 1, 1)}))
		_ = sh.Flush()
		mustApply(t, sh, 3, makeBatch(2, []uint16{1, 2}, []point{pt("c", 2, 1, 1)}))
	}
	if err := s.DeleteTable(2); err != nil {
		t.Fatal(err)
	}
	if rows, _ := scanAll(t, s, req(func(r *ScanRequest) { r.TableID = 2 })); len(rows) != 0 || s.SeriesCount(2) != 0 {
		t.Fatalf("table survived: %v", rows)
	}
	if rows, _ := scanAll(t, s, allTime); len(rows) != 1 {
		t.Fatalf("other table lost: %v", rows)
	}
	if err := db.DropShard(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Scan(context.Background(), &allTime, func(*SeriesBatch) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("scan after drop: %v", err)
	}
	s, _ = db.OpenShard(1)
	if s.AppliedIndex() != 0 || s.SeriesCount(1) != 0 {
		t.Fatal("dropped shard has data")
	}
	if rows, _ := scanAll(t, o, req(func(r *ScanRequest) { r.TableID = 2 })); len(rows) != 2 {
		t.Fatalf("neighbour shard damaged: %v", rows)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Scan(context.Background(), &allTime, func(*SeriesBatch) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("scan after close: %v", err)
	}
	if err := o.Apply(9, makeBatch(1, nil, nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("apply after close: %v", err)
	}
	if o2, _ := db.OpenShard(2); o2 == o || o2.AppliedIndex() != 2 {
		t.Fatal("reopen after close")
	}
	_ = db.Close()
	if err := s.Scan(context.Background(), &allTime, func(*SeriesBatch) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("scan after db close: %v", err)
	}
}
