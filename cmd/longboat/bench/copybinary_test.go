package bench

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

// TestCopyBinaryMatchesPgx checks appendCopyRow against pgx's own binary
// encoders, tuple by tuple, NULLs included: the loader must send what pgx
// CopyFrom would.
func TestCopyBinaryMatchesPgx(t *testing.T) {
	l := mustLayout(t, testHeader)
	m := pgtype.NewMap()
	oids := []uint32{pgtype.TimestamptzOID}
	for range numTags {
		oids = append(oids, pgtype.TextOID)
	}
	for range numFields {
		oids = append(oids, pgtype.Float8OID)
	}
	vals := make([]any, numCols)
	for k, line := range []string{
		"2016-01-01T00:00:10Z,host_1,us-west-1,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,staging,84,11,53,87,29,20,54,77,53,74.5",
		"2016-01-01T23:59:59.5Z,host_99,,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,,84,,53,87,-0,20,1e300,77,53,",
		"1999-12-31T23:59:59Z,h,r,d,1,o,a,t,s,v,e,1,2,3,4,5,6,7,8,9,10",
	} {
		var r cpuRow
		if err := l.parseRecord(strings.Split(line, ","), &r); err != nil {
			t.Fatal(err)
		}
		r.values(vals)
		want := binary.BigEndian.AppendUint16(nil, numCols)
		for i, v := range vals {
			if v == nil {
				want = binary.BigEndian.AppendUint32(want, 0xFFFFFFFF)
				continue
			}
			enc, err := m.Encode(oids[i], pgtype.BinaryFormatCode, v, nil)
			if err != nil {
				t.Fatal(err)
			}
			want = binary.BigEndian.AppendUint32(want, uint32(len(enc)))
			want = append(want, enc...)
		}
		if got := appendCopyRow([]byte("keep"), &r); !bytes.Equal(got[4:], want) || string(got[:4]) != "keep" {
			t.Fatalf("row %d:\n got %x\nwant %x", k, got[4:], want)
		}
	}
	if !strings.HasPrefix(copyBinarySQL, `copy "cpu" ( "time", "hostname", `) || !strings.HasSuffix(copyBinarySQL, `"usage_guest_nice" ) from stdin binary;`) {
		t.Fatalf("copyBinarySQL = %s", copyBinarySQL)
	}
}

// BenchmarkAppendCopyRow encodes one TSBS row.
func BenchmarkAppendCopyRow(b *testing.B) {
	l := mustLayout(b, testHeader)
	var r cpuRow
	if err := l.parseRecord(strings.Split("2016-01-01T00:00:10Z,host_1,us-west-1,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,staging,84,11,53,87,29,20,54,77,53,74", ","), &r); err != nil {
		b.Fatal(err)
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendCopyRow(buf[:0], &r)
	}
}
