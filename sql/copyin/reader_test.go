package copyin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// readAll decodes every row of data.
func readAll(t *testing.T, r io.Reader, oids []types.OID, opts Options) ([][]types.Datum, error) {
	t.Helper()
	rd, err := NewReader(r, oids, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]types.Datum
	for {
		row := make([]types.Datum, len(oids))
		ok, err := rd.Next(row)
		if err != nil {
			return out, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, row)
	}
}

// TestBinaryTSBS decodes a binary stream, delivered whole and one byte per
// Read (fields then straddle every buffer boundary), against the rows it
// was built from.
func TestBinaryTSBS(t *testing.T) {
	const n, hosts = 3000, 37
	data := appendBinaryTSBS(nil, n, hosts, 7)
	for name, r := range map[string]func() io.Reader{
		"whole":     func() io.Reader { return bytes.NewReader(data) },
		"one-byte":  func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"half-read": func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
	} {
		t.Run(name, func(t *testing.T) {
			rows, err := readAll(t, r(), tsbsOIDs(), Options{Format: Binary})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != n {
				t.Fatalf("got %d rows, want %d", len(rows), n)
			}
			for i, row := range rows {
				if got, want := describeRow(row), describeRow(expectTSBS(i, hosts, 7)); got != want {
					t.Fatalf("row %d:\n got %s\nwant %s", i, got, want)
				}
			}
		})
	}
}

// TestCSVTSBS decodes the same rows as CSV.
func TestCSVTSBS(t *testing.T) {
	const n, hosts = 500, 37
	rows, err := readAll(t, bytes.NewReader(appendCSVTSBS(nil, n, hosts)), tsbsOIDs(), Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n {
		t.Fatalf("got %d rows, want %d", len(rows), n)
	}
	for i, row := range rows {
		if got, want := describeRow(row), describeRow(expectTSBS(i, hosts, 0)); got != want {
			t.Fatalf("row %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestTextFormats checks NULL markers, escapes and quoting of the text and
// CSV formats, including values the interning of text columns must keep
// apart (a value, its NULL marker, and the same bytes unescaped).
func TestTextFormats(t *testing.T) {
	oids := []types.OID{types.Text, types.Int8}
	f := func(format Format, in string, want ...string) {
		t.Helper()
		rows, err := readAll(t, strings.NewReader(in), oids, Options{Format: format})
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		var got []string
		for _, r := range rows {
			for _, d := range r {
				if d.Null {
					got = append(got, "NULL")
				} else {
					got = append(got, string(types.FormatText(nil, d)))
				}
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%q: got %q, want %q", in, got, want)
		}
	}
	f(Text, "a\t1\n\\N\t\\N\na\\tb\t3\nx\\\\N\t4\na\t5\n", "a", "1", "NULL", "NULL", "a\tb", "3", `x\N`, "4", "a", "5")
	f(Text, "a\t1\n\\.\nignored\t2\n", "a", "1")
	f(CSV, "a,1\n,\n\"\",2\n\"x,\"\"y\"\"\",3\n\"two\nlines\",4\na,5\n", "a", "1", "NULL", "NULL", "", "2", `x,"y"`, "3", "two\nlines", "4", "a", "5")
}

// TestBinaryErrors feeds malformed streams: each must fail with 22P04 or
// 22P02/22021 (never panic, never succeed).
func TestBinaryErrors(t *testing.T) {
	oids := []types.OID{types.Text, types.Float8}
	hdr := append(append([]byte(nil), binarySignature...), 0, 0, 0, 0, 0, 0, 0, 0)
	tuple := func(fields ...[]byte) []byte {
		b := binary.BigEndian.AppendUint16(nil, uint16(len(fields)))
		for _, f := range fields {
			if f == nil {
				b = binary.BigEndian.AppendUint32(b, 0xFFFFFFFF)
				continue
			}
			b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
			b = append(b, f...)
		}
		return b
	}
	f8 := binary.BigEndian.AppendUint64(nil, 0x3ff0000000000000)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	trailer := []byte{0xFF, 0xFF}
	f := func(name string, data []byte, code string) {
		t.Helper()
		_, err := readAll(t, bytes.NewReader(data), oids, Options{Format: Binary, Table: "t", Columns: []string{"a", "b"}})
		var pe *pgerror.Error
		if !errors.As(err, &pe) || pe.Code != code {
			t.Fatalf("%s: got %v, want SQLSTATE %s", name, err, code)
		}
	}
	f("bad signature", []byte("PGCOPY\nxxxxxxxxxxxx"), CodeBadCopyFileFormat)
	f("wrong field count", cat(hdr, tuple([]byte("a")), trailer), CodeBadCopyFileFormat)
	f("negative length", cat(hdr, []byte{0, 2, 0xFF, 0xFF, 0xFF, 0xFE}), CodeBadCopyFileFormat)
	f("truncated field", cat(hdr, []byte{0, 2, 0, 0, 0, 9, 'a'}), CodeBadCopyFileFormat)
	f("truncated tuple", cat(hdr, tuple([]byte("a"), f8)[:5]), CodeBadCopyFileFormat)
	f("bad float width", cat(hdr, tuple([]byte("a"), []byte{1, 2, 3}), trailer), "22P03")
	f("bad utf8", cat(hdr, tuple([]byte{0xff, 0xfe}, f8), trailer), "22021")

	// A valid stream, NULLs included, still decodes after the error cases.
	rows, err := readAll(t, bytes.NewReader(cat(hdr, tuple([]byte("a"), f8), tuple(nil, nil), trailer)), oids, Options{Format: Binary})
	if err != nil || len(rows) != 2 || rows[0][0].S != "a" || rows[0][1].F != 1 || !rows[1][0].Null || !rows[1][1].Null {
		t.Fatalf("valid stream: rows %+v err %v", rows, err)
	}
}

// TestInternedStringsAreIndependent checks that a text value the Reader
// hands out stays intact after later rows are read (interned strings are
// shared, never overwritten).
func TestInternedStringsAreIndependent(t *testing.T) {
	oids := []types.OID{types.Text}
	var in strings.Builder
	for i := range 5000 {
		in.WriteString([]string{"alpha", "beta", "gamma"}[i%3])
		if i%1000 == 999 {
			// Many distinct values: the intern table must bound itself.
			for j := range 3000 {
				in.WriteString("\nv")
				in.WriteString(strings.Repeat("x", j%50))
				in.WriteString(string(rune('a' + j%26)))
			}
		}
		in.WriteByte('\n')
	}
	rows, err := readAll(t, strings.NewReader(in.String()), oids, Options{Format: Text})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(in.String(), "\n"), "\n")
	if len(rows) != len(lines) {
		t.Fatalf("got %d rows, want %d", len(rows), len(lines))
	}
	for i, r := range rows {
		if r[0].S != lines[i] {
			t.Fatalf("row %d: got %q, want %q", i, r[0].S, lines[i])
		}
	}
}

// TestParseTextMatchesTypes checks the Reader's fast conversions against
// types.ParseText, the oracle, on edge cases of each fast path.
func TestParseTextMatchesTypes(t *testing.T) {
	oids := []types.OID{types.Float8, types.Text, types.Varchar}
	rd, err := NewReader(strings.NewReader(""), oids, Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	inputs := []string{"0", "-0", "0.0", "1", "-1.5", "+.5", "1e5", "1E-5", "1e400", "1e-400", "1e-310", "NaN",
		"Infinity", "-inf", " 1.5", "1.5 ", "0x10", "1_000", "", ".", "-", "1e", "abc", "12345678901234567890",
		"\xff", "é", "host_1", "host_1"}
	for i, typ := range oids {
		for _, in := range inputs {
			got, gotErr := rd.parseText(i, []byte(in))
			want, wantErr := types.ParseText(typ, in)
			if (gotErr == nil) != (wantErr == nil) || describeRow([]types.Datum{got}) != describeRow([]types.Datum{want}) {
				t.Errorf("%s %q: got %+v, %v; want %+v, %v", types.TypeName(typ), in, got, gotErr, want, wantErr)
			}
		}
	}
}
