package rpc

import (
	"context"
	"fmt"
	"testing"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
)

// benchBatch is a TSBS cpu-shaped run: n points, 10 float gauge fields.
func benchBatch(n int) *store.SeriesBatch {
	b := &store.SeriesBatch{SeriesID: 1, Tags: []string{"host_1", "eu-west-1"}}
	for i := range n {
		b.Times = append(b.Times, int64(i)*10_000_000)
	}
	for f := range 10 {
		v := store.Vector{Type: shard.TypeFloat8, F64: make([]float64, n)}
		for i := range v.F64 {
			v.F64[i] = float64((i*7 + f*13) % 100)
		}
		b.Fields = append(b.Fields, v)
	}
	return b
}

// BenchmarkScanStream streams 1,000 batches of 1,000 points (10 fields) per
// op from a server on loopback and decodes them on the client.
func BenchmarkScanStream(b *testing.B) {
	const batches, points = 1000, 1000
	sb := benchBatch(points)
	ts := startServer(b, Handlers{Scan: scanFunc(func(ctx context.Context, f *ScanFragment, send func(*store.SeriesBatch) error) error {
		for range batches {
			if err := send(sb); err != nil {
				return err
			}
		}
		return nil
	})}, ServerOptions{})
	c := NewClient(ClientOptions{Logger: quietLogger()})
	defer c.Close()
	b.SetBytes(batches * points * 8 * 11)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := c.Scan(context.Background(), ts.addr, &ScanFragment{}, func(b *store.SeriesBatch) error {
			n += len(b.Times)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if n != batches*points {
			b.Fatalf("%d points", n)
		}
	}
	b.ReportMetric(float64(b.N)*batches*points/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkForwardWrite is the round trip of a forwarded write of n rows.
func BenchmarkForwardWrite(b *testing.B) {
	ts := startServer(b, Handlers{Write: &nopWrite{}}, ServerOptions{})
	c := NewClient(ClientOptions{Logger: quietLogger()})
	defer c.Close()
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			wb := &store.WriteBatch{Tables: []store.TableRows{{TableID: 1, FieldIDs: []uint16{1}, Series: [][]string{{"h"}},
				SeriesIdx: make([]uint32, n), Times: make([]int64, n), Fields: []store.Vector{{Type: shard.TypeFloat8, F64: make([]float64, n)}}}}}
			for i := range n {
				wb.Tables[0].Times[i] = int64(i)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.ForwardWrite(context.Background(), ts.addr, 1, 1, wb); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type nopWrite struct{}

func (nopWrite) Write(_ context.Context, req *WriteRequest) (WriteResult, error) {
	return WriteResult{Rows: uint64(len(req.Batch.Tables[0].Times))}, nil
}
