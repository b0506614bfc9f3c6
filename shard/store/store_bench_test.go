package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/longboatdb/longboat/shard"
)

// TSBS cpu-only shape: 100 hosts, 10 tag strings, 10 float fields holding
// integers 0-100, one point per host every 10 s, one day = 864,000 rows.
const (
	tsbsHosts  = 100
	tsbsFields = 10
	tsbsSteps  = 8640
	tsbsStepUS = 10_000_000
	tsbsRows   = tsbsHosts * tsbsSteps
)

func tsbsTags(h int) []string {
	return []string{
		fmt.Sprintf("host_%d", h), fmt.Sprintf("region_%d", h%3), fmt.Sprintf("dc_%d", h%6),
		fmt.Sprintf("rack_%d", h%50), "Ubuntu16.04LTS", "x64", fmt.Sprintf("team_%d", h%4),
		fmt.Sprintf("svc_%d", h%20), fmt.Sprintf("v%d", h%2), "production",
	}
}

// tsbsBatches returns WriteBatches of stepsPerBatch time steps × 100 hosts.
func tsbsBatches(stepsPerBatch int) []*WriteBatch { return tsbsBatchesN(stepsPerBatch, tsbsSteps) }

// tsbsBatchesN is tsbsBatches for the first steps time steps.
func tsbsBatchesN(stepsPerBatch, steps int) []*WriteBatch {
	rng := rand.New(rand.NewPCG(1, 2))
	series := make([][]string, tsbsHosts)
	for h := range series {
		series[h] = tsbsTags(h)
	}
	fieldIDs := make([]uint16, tsbsFields)
	for i := range fieldIDs {
		fieldIDs[i] = uint16(i + 1)
	}
	base := int64(1_700_000_000_000_000)
	var out []*WriteBatch
	for step := 0; step < steps; step += stepsPerBatch {
		n := min(stepsPerBatch, steps-step) * tsbsHosts
		tr := TableRows{TableID: 1, FieldIDs: fieldIDs, Series: series,
			SeriesIdx: make([]uint32, 0, n), Times: make([]int64, 0, n)}
		tr.Fields = make([]Vector, tsbsFields)
		for f := range tr.Fields {
			tr.Fields[f] = Vector{Type: shard.TypeFloat8, F64: make([]float64, 0, n)}
		}
		for s := step; s < step+stepsPerBatch && s < steps; s++ {
			for h := range tsbsHosts {
				tr.SeriesIdx = append(tr.SeriesIdx, uint32(h))
				tr.Times = append(tr.Times, base+int64(s)*tsbsStepUS)
				for f := range tr.Fields {
					tr.Fields[f].F64 = append(tr.Fields[f].F64, float64(rng.IntN(101)))
				}
			}
		}
		out = append(out, &WriteBatch{Tables: []TableRows{tr}})
	}
	return out
}

func ingest(tb testing.TB, s *Shard, batches []*WriteBatch, idx uint64) uint64 {
	for _, wb := range batches {
		idx++
		if err := s.Apply(idx, wb); err != nil {
			tb.Fatal(err)
		}
		if s.NeedsFlush() {
			if err := s.Flush(); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := s.Flush(); err != nil {
		tb.Fatal(err)
	}
	return idx
}

// cpuTime is the process's user+system CPU time: on a shared, loaded box
// rows per CPU-second is steadier than wall-clock throughput.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkTSBSApplyFlush(b *testing.B) {
	batches := tsbsBatches(10) // 1,000 rows per Raft entry
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := openTestDB(b, b.TempDir(), Options{})
		s, err := db.OpenShard(1)
		if err != nil {
			b.Fatal(err)
		}
		c0 := cpuTime()
		b.StartTimer()
		ingest(b, s, batches, 0)
		b.StopTimer()
		cpu += cpuTime() - c0
		_ = db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(tsbsRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(tsbsRows)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
}

// tsbsDB ingests the TSBS day, flushes and compacts.
func tsbsDB(b *testing.B, opts Options) (*DB, *Shard) {
	db := openTestDB(b, b.TempDir(), opts)
	s, err := db.OpenShard(1)
	if err != nil {
		b.Fatal(err)
	}
	ingest(b, s, tsbsBatches(10), 0)
	if err := db.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db, s
}

func allFields() []uint16 {
	f := make([]uint16, tsbsFields)
	for i := range f {
		f[i] = uint16(i + 1)
	}
	return f
}

func BenchmarkTSBSScan(b *testing.B) {
	db, s := tsbsDB(b, Options{})
	defer db.Close()
	disk, total := db.DiskUsage(), db.DiskUsageTotal()
	req := &ScanRequest{TableID: 1, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: allFields()}
	var sum float64
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		n := 0
		err := s.Scan(context.Background(), req, func(sb *SeriesBatch) error {
			for _, f := range sb.Fields {
				sum += f.F64[len(f.F64)-1]
				n += len(f.F64)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if n != tsbsRows*tsbsFields {
			b.Fatalf("scanned %d values", n)
		}
	}
	b.ReportMetric(float64(tsbsRows*tsbsFields)*float64(b.N)/b.Elapsed().Seconds(), "values/s")
	b.ReportMetric(float64(tsbsRows*tsbsFields)*float64(b.N)/(cpuTime()-c0).Seconds(), "values/cpu-s")
	b.ReportMetric(float64(disk)/float64(tsbsRows*tsbsFields), "disk-bytes/value")
	b.ReportMetric(float64(total)/float64(tsbsRows*tsbsFields), "total-disk-bytes/value")
	_ = sum
}

func BenchmarkTSBSLastPoint(b *testing.B) {
	db, s := tsbsDB(b, Options{})
	defer db.Close()
	req := &ScanRequest{TableID: 1, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: allFields(), Reverse: true, Limit: 1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := s.Scan(context.Background(), req, func(sb *SeriesBatch) error { n += len(sb.Times); return nil }); err != nil {
			b.Fatal(err)
		}
		if n != tsbsHosts {
			b.Fatalf("got %d points", n)
		}
	}
}

func BenchmarkTSBSStats(b *testing.B) {
	db, s := tsbsDB(b, Options{})
	defer db.Close()
	req := &ScanRequest{TableID: 1, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: allFields(),
		UseStats: func(int64, int64) bool { return true }}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows := 0
		if err := s.Scan(context.Background(), req, func(sb *SeriesBatch) error {
			if sb.Stats != nil {
				rows += sb.Stats.Rows
			} else {
				rows += len(sb.Times)
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if rows != tsbsRows {
			b.Fatalf("got %d rows", rows)
		}
	}
	b.ReportMetric(float64(tsbsRows*tsbsFields)*float64(b.N)/b.Elapsed().Seconds(), "values/s")
}

func BenchmarkWriteBatchCodec(b *testing.B) {
	wb := tsbsBatches(10)[0]
	buf := AppendWriteBatch(nil, wb)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for i := 0; i < b.N; i++ {
			buf = AppendWriteBatch(buf[:0], wb)
		}
		b.ReportMetric(float64(len(buf))/float64(1000*tsbsFields), "bytes/value")
	})
	b.Run("decode", func(b *testing.B) {
		var out WriteBatch
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for i := 0; i < b.N; i++ {
			if err := DecodeWriteBatch(buf, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTSBSDiskSize reports bytes per stored value after Flush+Compact
// under each Pebble compression setting (our codecs run first).
func BenchmarkTSBSDiskSize(b *testing.B) {
	for _, c := range []string{"none", "snappy", "zstd"} {
		b.Run("compression="+c, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				db, _ := tsbsDB(b, Options{Compression: c})
				b.ReportMetric(float64(db.DiskUsage())/float64(tsbsRows*tsbsFields), "disk-bytes/value")
				b.ReportMetric(float64(db.DiskUsageTotal())/float64(tsbsRows*tsbsFields), "total-disk-bytes/value")
				_ = db.Close()
			}
		})
	}
}

// BenchmarkTSBSApply is Apply alone (flushes untimed) of the TSBS day in
// batches of 41 steps (4,100 rows, about what ingest ships); ns/op and
// cpu-ns/op are per row.
func BenchmarkTSBSApply(b *testing.B) {
	batches := tsbsBatches(41)
	db := openTestDB(b, b.TempDir(), Options{})
	defer db.Close()
	s, err := db.OpenShard(1)
	if err != nil {
		b.Fatal(err)
	}
	rows := len(batches[0].Tables[0].Times)
	idx := uint64(0)
	var cpu time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += rows {
		wb := batches[(i/rows)%len(batches)]
		idx++
		c0 := cpuTime()
		if err := s.Apply(idx, wb); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		if s.NeedsFlush() {
			b.StopTimer()
			if err := s.Flush(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
