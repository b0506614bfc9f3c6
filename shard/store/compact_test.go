package store

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/cockroachdb/pebble/v2"
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
