package bench

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The loader writes binary COPY data itself: the same bytes pgx CopyFrom
// sends (see TestCopyBinaryMatchesPgx), without its per-value encode plans
// and interface boxing, which made the client as costly as the server
// under test. Both targets get the same stream.

// copyBinarySQL is the statement pgx CopyFrom sends for table cpu.
var copyBinarySQL = func() string {
	cols := CPUColumns()
	for i, c := range cols {
		cols[i] = `"` + c + `"`
	}
	return `copy "cpu" ( ` + strings.Join(cols, ", ") + ` ) from stdin binary;`
}()

// pgEpochMicros is 2000-01-01T00:00:00Z in µs since the Unix epoch.
const pgEpochMicros = 946684800 * 1_000_000

// appendCopyHeader appends the PGCOPY signature, flags and header
// extension length.
func appendCopyHeader(dst []byte) []byte {
	dst = append(dst, "PGCOPY\n\377\r\n\000"...)
	return append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
}

// appendCopyTrailer appends the end-of-data marker (field count -1).
func appendCopyTrailer(dst []byte) []byte { return append(dst, 0xFF, 0xFF) }

// appendCopyRow appends r as one binary tuple of the cpu table's columns.
func appendCopyRow(dst []byte, r *cpuRow) []byte {
	dst = binary.BigEndian.AppendUint16(dst, numCols)
	dst = binary.BigEndian.AppendUint32(dst, 8)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Time.UnixMicro()-pgEpochMicros))
	for j, s := range r.Tags {
		if r.Null&(1<<(1+j)) != 0 {
			dst = binary.BigEndian.AppendUint32(dst, math.MaxUint32) // -1: NULL
			continue
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	for j, f := range r.Fields {
		if r.Null&(1<<(1+numTags+j)) != 0 {
			dst = binary.BigEndian.AppendUint32(dst, math.MaxUint32)
			continue
		}
		dst = binary.BigEndian.AppendUint32(dst, 8)
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
	}
	return dst
}

// appendCopyLine appends one CSV line (without its newline) as a binary
// tuple; r is scratch for lines that need the general CSV parser. It
// accepts exactly what parseRecord accepts, with the same errors.
func (l *csvLayout) appendCopyLine(dst, line []byte, r *cpuRow) ([]byte, error) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if bytes.IndexByte(line, '"') >= 0 {
		// Quoted fields: the general parser.
		rec, err := csv.NewReader(bytes.NewReader(line)).Read()
		if err != nil {
			return dst, fmt.Errorf("cannot read CSV: %w", err)
		}
		if err := l.parseRecord(rec, r); err != nil {
			return dst, err
		}
		return appendCopyRow(dst, r), nil
	}
	var byCol [numCols][]byte
	n := 0
	for {
		k := bytes.IndexByte(line, ',')
		f := line
		if k >= 0 {
			f, line = line[:k], line[k+1:]
		}
		if n < numCols {
			byCol[l.colOf[n]] = f
		}
		n++
		if k < 0 {
			break
		}
	}
	if n != numCols {
		return dst, fmt.Errorf("record has %d fields, want %d", n, numCols)
	}
	ts := byCol[0]
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return dst, fmt.Errorf("cannot parse time %q: %w", ts, err)
	}
	dst = binary.BigEndian.AppendUint16(dst, numCols)
	dst = binary.BigEndian.AppendUint32(dst, 8)
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.UnixMicro()-pgEpochMicros))
	for c := 1; c <= numTags; c++ {
		f := byCol[c]
		if len(f) == 0 {
			dst = binary.BigEndian.AppendUint32(dst, math.MaxUint32)
			continue
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(f)))
		dst = append(dst, f...)
	}
	for c := 1 + numTags; c < numCols; c++ {
		f := byCol[c]
		if len(f) == 0 {
			dst = binary.BigEndian.AppendUint32(dst, math.MaxUint32)
			continue
		}
		v, err := strconv.ParseFloat(string(f), 64)
		if err != nil {
			return dst, fmt.Errorf("cannot parse %s value %q: %w", CPUColumns()[c], f, err)
		}
		dst = binary.BigEndian.AppendUint32(dst, 8)
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(v))
	}
	return dst, nil
}
