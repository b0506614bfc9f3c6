package raftsm

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/lni/dragonboat/v4/config"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
)

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// tcpConfig is a single-node config on Dragonboat's real TCP transport.
func tcpConfig(t testing.TB, dir string, rtt uint64) Config {
	db := openStore(t, dir)
	t.Cleanup(func() { _ = db.Close() })
	return Config{DataDir: dir, RaftAddr: freeAddr(t), NodeID: 1, Store: db, Logger: testLogger(t), RTTMillisecond: rtt}
}

// TestHostTCP runs the default (TCP) transport once.
func TestHostTCP(t *testing.T) {
	cfg := tcpConfig(t, t.TempDir(), 10)
	h := mustStart(t, cfg)
	defer h.Close()
	shards, err := h.EnsureShards(testCtx(t), 1, []int64{0})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.CreateTable(testCtx(t), 1, cpuTable(), false); err != nil {
		t.Fatal(err)
	}
	tbl, _ := h.Catalog().Table(1, "cpu")
	if err := h.Write(testCtx(t), shards[0].ID, oneRow(tbl.ID, 1, "a")); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkStart measures Start on an empty data dir (bootstrap, meta
// election, init) and a restart with 100 data shards (Start returning, then
// all 100 shards having a leader).
func BenchmarkStart(b *testing.B) {
	for _, rtt := range []uint64{5, 100} {
		b.Run(fmt.Sprintf("empty/rtt=%dms", rtt), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				cfg := tcpConfig(b, b.TempDir(), rtt)
				start := time.Now()
				h := mustStart(b, cfg)
				b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/start")
				_ = h.Close()
			}
		})
		b.Run(fmt.Sprintf("restart-100-shards/rtt=%dms", rtt), func(b *testing.B) {
			cfg := tcpConfig(b, b.TempDir(), rtt)
			h := mustStart(b, cfg)
			ctx := testCtx(b)
			starts := make([]int64, 100)
			for i := range starts {
				starts[i] = int64(i) * day
			}
			shards, err := h.EnsureShards(ctx, 1, starts)
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]uint64, len(shards))
			for i, s := range shards {
				ids[i] = s.ID
			}
			_ = h.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				h := mustStart(b, cfg)
				started := time.Since(start)
				if err := h.waitLeaders(ctx, ids); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(started.Milliseconds()), "ms/start")
				b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/all-leaders")
				b.StopTimer()
				_ = h.Close()
				b.StartTimer()
			}
		})
	}
}

// bigBatch returns a WriteBatch of about size encoded bytes: 100 series of
// one float field with random-ish values (poorly compressible).
func bigBatch(st Storage, tableID uint32, size int) (*store.WriteBatch, int) {
	rows := size / 10
	for {
		wb := &store.WriteBatch{Tables: []store.TableRows{{TableID: tableID, FieldIDs: []uint16{3}}}}
		t := &wb.Tables[0]
		for s := 0; s < 100; s++ {
			t.Series = append(t.Series, []string{fmt.Sprintf("host-%03d", s)})
		}
		f := make([]float64, rows)
		x := uint64(88172645463325252)
		for r := 0; r < rows; r++ {
			t.SeriesIdx = append(t.SeriesIdx, uint32(r%100))
			t.Times = append(t.Times, int64(r/100)*1_000_000)
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			f[r] = float64(x%1_000_000) / 100
		}
		t.Fields = []store.Vector{{Type: shard.TypeFloat8, F64: f}}
		n := len(st.AppendWriteBatch(nil, wb))
		if n >= size*9/10 || rows >= store.MaxWriteBatchRows {
			return wb, n
		}
		rows = min(rows*size/n+1, store.MaxWriteBatchRows)
	}
}

func benchHost(b *testing.B) (*Host, uint64, uint32) {
	cfg := tcpConfig(b, b.TempDir(), 100)
	if os.Getenv("LOGDB_SMALL") != "" {
		l := config.GetSmallMemLogDBConfig()
		cfg.LogDB = &l
	}
	h := mustStart(b, cfg)
	b.Cleanup(func() { _ = h.Close() })
	ctx := testCtx(b)
	if err := h.CreateTable(ctx, 1, cpuTable(), false); err != nil {
		b.Fatal(err)
	}
	tbl, _ := h.Catalog().Table(1, "cpu")
	shards, err := h.EnsureShards(ctx, 1, []int64{0})
	if err != nil {
		b.Fatal(err)
	}
	return h, shards[0].ID, tbl.ID
}

// BenchmarkWriteSmall is the latency of a one-row Write on a single node
// (propose, LogDB fsync, apply).
func BenchmarkWriteSmall(b *testing.B) {
	h, id, tbl := benchHost(b)
	ctx := context.Background()
	wb := oneRow(tbl, 1, "a")
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		wb.Tables[0].Times[0] = int64(i)
		start := time.Now()
		if err := h.Write(ctx, id, wb); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkWrite8MiB is the throughput of 8 MiB write batches on one shard.
func BenchmarkWrite8MiB(b *testing.B) {
	h, id, tbl := benchHost(b)
	ctx := context.Background()
	wb, n := bigBatch(h.storage, tbl, 8<<20)
	b.SetBytes(int64(n))
	b.ReportMetric(float64(len(wb.Tables[0].Times)), "rows/batch")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := range wb.Tables[0].Times {
			wb.Tables[0].Times[r] += 1 << 40 // new points, not overwrites
		}
		if err := h.Write(ctx, id, wb); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*float64(len(wb.Tables[0].Times))/b.Elapsed().Seconds(), "rows/s")
}

// tsbsBatch returns a WriteBatch of n TSBS cpu rows (ten tags, ten float
// fields; 100 hosts, 10 s apart) starting at row first.
func tsbsBatch(tableID uint32, fieldIDs []uint16, first, n int) *store.WriteBatch {
	t := store.TableRows{TableID: tableID, FieldIDs: fieldIDs}
	for h := range 100 {
		t.Series = append(t.Series, []string{fmt.Sprintf("host_%d", h), "us-west-1", "us-west-1a", fmt.Sprint(h % 97),
			"Ubuntu15.10", "x64", "NYC", fmt.Sprint(h % 19), "1", "staging"})
	}
	t.Fields = make([]store.Vector, len(fieldIDs))
	for i := range t.Fields {
		t.Fields[i] = store.Vector{Type: shard.TypeFloat8, F64: make([]float64, 0, n)}
	}
	t.SeriesIdx, t.Times = make([]uint32, 0, n), make([]int64, 0, n)
	for r := first; r < first+n; r++ {
		t.SeriesIdx = append(t.SeriesIdx, uint32(r%100))
		t.Times = append(t.Times, int64(r/100)*10_000_000)
		for i := range t.Fields {
			t.Fields[i].F64 = append(t.Fields[i].F64, float64((r*7+i*13)%100)+0.25*float64(i))
		}
	}
	return &store.WriteBatch{Tables: []store.TableRows{t}}
}

// BenchmarkWriteTSBS is the commit latency of Host.Write for batches of
// TSBS rows as ingest ships them (one writer, one shard): encode, propose,
// LogDB fsync, decode, apply. cpu-ns/row is the process's CPU per row.
func BenchmarkWriteTSBS(b *testing.B) {
	for _, rows := range []int{1024, 4096, 16384} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			h, id, _ := benchHost(b)
			ctx := testCtx(b)
			cols := []shard.Column{{Name: "time", Type: shard.TypeTimestamptz, NotNull: true}}
			tags := []int{}
			for i := range 10 {
				cols = append(cols, shard.Column{Name: fmt.Sprintf("t%d", i), Type: shard.TypeText})
				tags = append(tags, 1+i)
			}
			for i := range 10 {
				cols = append(cols, shard.Column{Name: fmt.Sprintf("f%d", i), Type: shard.TypeFloat8})
			}
			if err := h.CreateTable(ctx, 1, shard.Table{Name: "tsbs", Columns: cols, Tags: tags}, false); err != nil {
				b.Fatal(err)
			}
			tbl, _ := h.Catalog().Table(1, "tsbs")
			var fids []uint16
			for _, i := range tbl.Fields() {
				fids = append(fids, tbl.Columns[i].ID)
			}
			// 864,000 rows (a TSBS day) of batches, reused round robin.
			var batches []*store.WriteBatch
			for first := 0; first < 864000; first += rows {
				batches = append(batches, tsbsBatch(tbl.ID, fids, first, min(rows, 864000-first)))
			}
			lat := make([]time.Duration, 0, b.N)
			runtime.GC()
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuNanos()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if err := h.Write(ctx, id, batches[i%len(batches)]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			cpu := cpuNanos() - c0
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds()), "p90-µs")
			b.ReportMetric(float64(b.N)*float64(rows)/b.Elapsed().Seconds(), "rows/s")
			if cpu > 0 {
				b.ReportMetric(float64(cpu)/float64(b.N*rows), "cpu-ns/row")
			}
		})
	}
}
