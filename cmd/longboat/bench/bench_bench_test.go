package bench

import (
	"fmt"
	"strings"
	"testing"
)

func BenchmarkParseRecord(b *testing.B) {
	l := mustLayout(b, testHeader)
	rec := strings.Split("2016-01-01T00:00:10Z,host_1,us-west-1,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,staging,84,11,53,87,29,20,54,77,53,74", ",")
	var r cpuRow
	vals := make([]any, numCols)
	b.ReportAllocs()
	for b.Loop() {
		if err := l.parseRecord(rec, &r); err != nil {
			b.Fatal(err)
		}
		r.values(vals)
	}
}

func BenchmarkCompareResults(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			rows := make([]string, n)
			for i := range rows {
				rows[i] = fmt.Sprintf("%d,host_%d,%d", i/10, i%10, i%97)
			}
			a := res("hour:1184,hostname:25,v:701", rows...)
			c := res("hour:1184,hostname:25,v:701", rows...)
			for _, q := range []string{
				"SELECT hour, hostname, v FROM x ORDER BY hour",
				"SELECT * FROM cpu",
			} {
				b.Run(strings.Fields(q)[len(strings.Fields(q))-1], func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if ms := CompareResults(q, a, c, 5); len(ms) != 0 {
							b.Fatal(ms)
						}
					}
				})
			}
		})
	}
}

func BenchmarkGenerator(b *testing.B) {
	g, err := NewGenerator("single-groupby-5-8-1", 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = g.Next()
	}
}
