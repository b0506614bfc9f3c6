package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/longboatdb/longboat/shard"
)

// loadTSBSLike applies a TSBS cpu-only-like day (hosts series, 10 integral
// float fields 0..100, one point per 10 s) in time order, in batches of
// 10000 rows, flushing whenever NeedsFlush says so: the block layout a bulk
// load leaves behind.
func loadTSBSLike(b *testing.B, s *Shard, hosts int) {
	rng := rand.New(rand.NewPCG(1, 2))
	const points, fields = 8640, 10
	ids := make([]uint16, fields)
	for i := range ids {
		ids[i] = uint16(i + 1)
	}
	vals := make([]float64, hosts*fields)
	idx := uint64(0)
	tr := TableRows{TableID: 1, FieldIDs: ids}
	for h := range hosts {
		tr.Series = append(tr.Series, []string{fmt.Sprintf("host_%d", h)})
	}
	reset := func() {
		tr.SeriesIdx, tr.Times = tr.SeriesIdx[:0], tr.Times[:0]
		tr.Fields = make([]Vector, fields)
		for f := range tr.Fields {
			tr.Fields[f] = Vector{Type: shard.TypeFloat8, F64: []float64{}}
		}
	}
	flush := func() {
		idx++
		if err := s.Apply(idx, &WriteBatch{Tables: []TableRows{tr}}); err != nil {
			b.Fatal(err)
		}
		if s.NeedsFlush() {
			if err := s.Flush(); err != nil {
				b.Fatal(err)
			}
		}
		reset()
	}
	reset()
	for p := range points {
		for h := range hosts {
			tr.SeriesIdx = append(tr.SeriesIdx, uint32(h))
			tr.Times = append(tr.Times, int64(p)*10_000_000)
			for f := range fields {
				v := &vals[h*fields+f]
				*v = min(100, max(0, *v+float64(rng.IntN(5)-2)))
				tr.Fields[f].F64 = append(tr.Fields[f].F64, *v)
			}
			if len(tr.Times) == 10000 {
				flush()
			}
		}
	}
	if len(tr.Times) > 0 {
		flush()
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCompactTSBSDay measures Shard.Compact (merge + Pebble range
// compaction) of one shard holding a bulk-loaded TSBS-like day: the work the
// idle compactor does once after a load.
func BenchmarkCompactTSBSDay(b *testing.B) {
	for _, hosts := range []int{10, 100} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			var st CompactStats
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				db := openTestDB(b, b.TempDir(), Options{})
				s, err := db.OpenShard(1)
				if err != nil {
					b.Fatal(err)
				}
				loadTSBSLike(b, s, hosts)
				b.StartTimer()
				if st, err = s.Compact(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				_ = db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(st.GroupsBefore), "groups_before")
			b.ReportMetric(float64(st.GroupsAfter), "groups_after")
			b.ReportMetric(float64(hosts*8640*10)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
		})
	}
}
