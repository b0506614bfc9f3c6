package pgwire

import (
	"context"
	"testing"
)

// BenchmarkSelectRows measures streaming rows through pgx (binary int8).
func BenchmarkSelectRows(b *testing.B) {
	ts := startServer(b)
	conn := pgxConnect(b, ts, "")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var rows int64
	for i := 0; i < b.N; i++ {
		r, err := conn.Query(ctx, "select * from series(10000)")
		if err != nil {
			b.Fatal(err)
		}
		for r.Next() {
			rows++
		}
		if err := r.Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPointQuery measures one Bind/Execute/Sync round trip.
func BenchmarkPointQuery(b *testing.B) {
	ts := startServer(b)
	conn := pgxConnect(b, ts, "")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var n int64
		if err := conn.QueryRow(ctx, "select $1::int8", int64(i)).Scan(&n); err != nil {
			b.Fatal(err)
		}
	}
}
