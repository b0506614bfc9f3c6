package store

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/longboatdb/longboat/shard"
)

// benchSeriesBatch is a TSBS cpu-shaped batch: n points, 10 float fields of
// small integral gauges (as TSBS generates), one with a NULL every 50 points.
func benchSeriesBatch(n int) *SeriesBatch {
	rng := rand.New(rand.NewPCG(1, 2))
	b := &SeriesBatch{SeriesID: 42, Tags: []string{"host_42", "eu-west-1", "x86"}}
	for i := range n {
		b.Times = append(b.Times, 1_700_000_000_000_000+int64(i)*10_000_000)
	}
	for f := range 10 {
		v := Vector{Type: shard.TypeFloat8, F64: make([]float64, n)}
		for i := range v.F64 {
			v.F64[i] = float64(rng.IntN(100))
		}
		if f == 0 {
			v.Null = make([]bool, n)
			for i := 0; i < n; i += 50 {
				v.Null[i] = true
				v.F64[i] = 0
			}
		}
		b.Fields = append(b.Fields, v)
	}
	return b
}

// rawSize is the in-memory size of the batch's values (for SetBytes).
func rawSize(b *SeriesBatch) int64 { return int64(len(b.Times)) * int64(8+8*len(b.Fields)) }

func BenchmarkSeriesBatchEncode(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			sb := benchSeriesBatch(n)
			var enc SeriesBatchEncoder
			buf := enc.Append(nil, sb)
			b.SetBytes(rawSize(sb))
			b.ReportAllocs()
			for b.Loop() {
				buf = enc.Append(buf[:0], sb)
			}
			b.ReportMetric(float64(len(buf))/float64(n), "bytes/point")
		})
	}
}

func BenchmarkSeriesBatchDecode(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			sb := benchSeriesBatch(n)
			buf := AppendSeriesBatch(nil, sb)
			var got SeriesBatch
			b.SetBytes(rawSize(sb))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeSeriesBatch(buf, &got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
