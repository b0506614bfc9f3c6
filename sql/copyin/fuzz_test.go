package copyin

import (
	"bytes"
	"testing"
	"testing/iotest"

	"github.com/longboatdb/longboat/sql/types"
)

// FuzzReaderBinary decodes arbitrary PGCOPY bytes twice: whole (the
// in-buffer fast path) and one byte per Read (the field-by-field path).
// Both must agree on every row and on whether the stream fails, and
// neither may panic.
func FuzzReaderBinary(f *testing.F) {
	f.Add(appendBinaryTSBS(nil, 3, 2, 2))
	f.Add(appendBinaryTSBS(nil, 1, 1, 0)[:40])
	f.Add([]byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	oids := []types.OID{types.Timestamptz, types.Text, types.Float8}
	f.Fuzz(func(t *testing.T, data []byte) {
		decode := func(fast bool) ([]string, bool) {
			r := iotest.OneByteReader(bytes.NewReader(data))
			if fast {
				r = bytes.NewReader(data)
			}
			rd, err := NewReader(r, oids, Options{Format: Binary})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for len(out) < 1000 {
				row := make([]types.Datum, len(oids))
				ok, err := rd.Next(row)
				if err != nil {
					return out, false
				}
				if !ok {
					break
				}
				out = append(out, describeRow(row))
			}
			return out, true
		}
		// Only tuples with exactly len(oids) fields decode; fuzz inputs
		// mostly test the error paths.
		a, okA := decode(true)
		b, okB := decode(false)
		if okA != okB || len(a) != len(b) {
			t.Fatalf("fast: %d rows ok=%v; slow: %d rows ok=%v", len(a), okA, len(b), okB)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("row %d: fast %s, slow %s", i, a[i], b[i])
			}
		}
	})
}
