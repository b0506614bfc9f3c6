package copyin

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/longboatdb/longboat/sql/types"
)

// BenchmarkReaderTSBS decodes TSBS cpu rows (time, ten text tags, ten
// float8 fields) in each format; ns/op and allocs/op are per row.
func BenchmarkReaderTSBS(b *testing.B) {
	const n, hosts = 10000, 100
	for _, f := range []Format{Binary, CSV} {
		var data []byte
		if f == Binary {
			data = appendBinaryTSBS(nil, n, hosts, 0)
		} else {
			data = appendCSVTSBS(nil, n, hosts)
		}
		b.Run(fmt.Sprintf("format=%s", FormatName(f)), func(b *testing.B) {
			oids := tsbsOIDs()
			row := make([]types.Datum, len(oids))
			b.SetBytes(int64(len(data) / n))
			b.ReportAllocs()
			var sink float64
			var rd *Reader
			i := n
			c0 := cpuNanos()
			for b.Loop() {
				if i == n {
					var err error
					if rd, err = NewReader(bytes.NewReader(data), oids, Options{Format: f, Table: "cpu"}); err != nil {
						b.Fatal(err)
					}
					i = 0
				}
				ok, err := rd.Next(row)
				if err != nil || !ok {
					b.Fatalf("row %d: ok=%v err=%v", i, ok, err)
				}
				sink += row[11].F
				i++
			}
			if c := cpuNanos() - c0; c > 0 {
				b.ReportMetric(float64(c)/float64(b.N), "cpu-ns/op")
			}
			_ = sink
		})
	}
}
