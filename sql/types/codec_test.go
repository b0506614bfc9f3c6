package types

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/lib/pq"
	"github.com/longboatdb/longboat/sql/pgerror"
)

func errString(err error) string {
	var pe *pgerror.Error
	if errors.As(err, &pe) {
		return fmt.Sprintf("ERROR %s: %s", pe.Code, pe.Message)
	}
	return "ERROR (no code): " + err.Error()
}

// parseCase is one input line of a `parse` directive.
type parseCase struct {
	typ   OID
	input string
	want  string
	nopg  bool // PostgreSQL itself differs (e.g. cannot parse its own output)
}

func readParseCases(t *testing.T) []parseCase {
	var cases []parseCase
	datadriven.RunTest(t, "testdata/parse", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "parse" {
			t.Fatalf("unknown command %s", d.Cmd)
		}
		var tn string
		d.ScanArgs(t, "type", &tn)
		typ, ok := OIDByName(tn)
		if !ok {
			t.Fatalf("unknown type %s", tn)
		}
		var out strings.Builder
		for _, line := range strings.Split(d.Input, "\n") {
			got := parseAndFormat(t, typ, line)
			out.WriteString(got)
			out.WriteByte('\n')
			cases = append(cases, parseCase{typ: typ, input: line, want: got, nopg: d.HasArg("nopg")})
		}
		return out.String()
	})
	return cases
}

// parseAndFormat parses, formats, and checks the binary and text round trips.
func parseAndFormat(t *testing.T, typ OID, in string) string {
	t.Helper()
	d, err := ParseText(typ, in)
	if err != nil {
		return errString(err)
	}
	text := FormatText(nil, d)
	// Text round trip: parsing the output yields the same datum.
	d2, err := ParseText(typ, string(text))
	if err != nil {
		t.Errorf("%s %q: reparse of %q: %v", TypeName(typ), in, text, err)
	} else if Compare(d, d2) != 0 || !bytes.Equal(FormatText(nil, d2), text) {
		t.Errorf("%s %q: text round trip %q -> %q", TypeName(typ), in, text, FormatText(nil, d2))
	}
	// Binary round trip.
	bin := FormatBinary(nil, d)
	d3, err := ParseBinary(typ, bin)
	if err != nil {
		t.Errorf("%s %q: binary decode of %x: %v", TypeName(typ), in, bin, err)
	} else if !bytes.Equal(FormatText(nil, d3), text) {
		t.Errorf("%s %q: binary round trip gives %q want %q", TypeName(typ), in, FormatText(nil, d3), text)
	}
	return string(text)
}

func TestParseFormat(t *testing.T) { readParseCases(t) }

// TestDifferentialPostgres compares the golden cases with a real PostgreSQL
// 15 (e.g. LONGBOAT_TEST_PGURL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
func TestDifferentialPostgres(t *testing.T) {
	url := os.Getenv("LONGBOAT_TEST_PGURL")
	if url == "" {
		t.Skip("LONGBOAT_TEST_PGURL not set")
	}
	cases := readParseCases(t)
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = postgres; SET extra_float_digits = 1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.nopg {
			continue
		}
		var got string
		var s sql.NullString
		err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT CAST($1::text AS %s)::text", TypeName(c.typ)), c.input).Scan(&s)
		if err != nil {
			var pqErr *pq.Error
			if errors.As(err, &pqErr) {
				got = fmt.Sprintf("ERROR %s: %s", pqErr.Code, pqErr.Message)
			} else {
				got = "ERROR " + err.Error()
			}
			if c.want != got {
				t.Errorf("%s %q: postgres %s (%v), we %s", TypeName(c.typ), c.input, got, err, c.want)
			}
			continue
		}
		got = s.String
		if c.typ == Bool {
			got = got[:1] // bool::text is true/false
		}
		if got != c.want {
			t.Errorf("%s %q: postgres %q, we %q", TypeName(c.typ), c.input, got, c.want)
		}
	}
}

func TestFormatBinaryKnownBytes(t *testing.T) {
	f := func(d Datum, wantHex string) {
		t.Helper()
		got := fmt.Sprintf("%x", FormatBinary([]byte("keep"), d))
		if got != fmt.Sprintf("%x", "keep")+wantHex {
			t.Errorf("%v: got %s want %s", d, got, wantHex)
		}
	}
	// From the pgx trace: 2026-11-22 04:00:18.025322+00 style values.
	ts, _ := ParseText(Timestamptz, "2000-01-01 00:00:01+00")
	f(ts, "00000000000f4240")
	f(NewInt(Int8, 42), "000000000000002a")
	f(NewInt(Int4, 1), "00000001")
	f(NewInt(Int2, -1), "ffff")
	f(NewBool(true), "01")
	f(NewFloat8(1.5), "3ff8000000000000")
	f(Datum{T: Date, I: pgEpochDays + 1}, "00000001")
	f(NewInterval(2, 3, 4), "0000000000000004"+"00000003"+"00000002")
	f(Datum{T: Numeric, S: "0"}, "0000000000000000")
	f(Datum{T: Numeric, S: "12.50"}, "0002000000000002"+"000c"+"1388")
	f(Datum{T: Numeric, S: "-10000.5"}, "0003000140000001"+"0001"+"0000"+"1388")
	f(Datum{T: Numeric, S: "0.0001"}, "0001ffff00000004"+"0001")
	f(Datum{T: Numeric, S: "NaN"}, "00000000c0000000")
	f(NewText("hé"), "68c3a9")
	f(Datum{T: JSONB, S: `{}`}, "017b7d")
	f(NullOf(Int8), "")
}

func TestNumericBinaryRoundTrip(t *testing.T) {
	for _, s := range []string{"0", "0.00", "1", "-1", "12.50", "10000", "100000000", "0.0001", "0.00001",
		"123456789.123456789", "-0.5", "99999999999999999999.9999", "1e-20", "1e30", "NaN", "Infinity", "-Infinity"} {
		c, err := canonicalNumeric(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeNumericBinary(appendNumericBinary(nil, c))
		if err != nil || got != c {
			t.Errorf("%s: round trip %q, %v", c, got, err)
		}
	}
}

func TestOIDByName(t *testing.T) {
	for name, want := range map[string]OID{
		"int": Int4, "integer": Int4, "INT4": Int4, "bigint": Int8, "int8": Int8, "smallint": Int2, "int2": Int2,
		"real": Float4, "float4": Float4, "double precision": Float8, "float8": Float8, "float": Float8,
		"numeric": Numeric, "decimal": Numeric, "numeric(10, 2)": Numeric, "text": Text, "varchar": Varchar,
		"character varying": Varchar, "varchar(20)": Varchar, "name": Name, "bool": Bool, "boolean": Bool,
		"date": Date, "timestamp": Timestamp, "timestamp without time zone": Timestamp,
		"timestamptz": Timestamptz, "timestamp with time zone": Timestamptz, "timestamp(3) with time zone": Timestamptz,
		"pg_catalog.timestamptz": Timestamptz, "interval": Interval, "oid": Oid, "regclass": Oid, "json": JSON,
		"jsonb": JSONB, "bytea": Bytea, "uuid": UUID, "char": BPChar, "bpchar": BPChar, "text[]": TextArray,
		"float(10)": Float4, "float(30)": Float8, "double  precision": Float8,
	} {
		got, ok := OIDByName(name)
		if !ok || got != want {
			t.Errorf("OIDByName(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	for _, bad := range []string{"", "nosuchtype", "float(0)", "numeric(1"} {
		if _, ok := OIDByName(bad); ok {
			t.Errorf("OIDByName(%q) succeeded", bad)
		}
	}
}

func TestTypeNameAndLen(t *testing.T) {
	f := func(o OID, name string, l int16) {
		t.Helper()
		if TypeName(o) != name || TypeLen(o) != l {
			t.Errorf("%d: %q %d", o, TypeName(o), TypeLen(o))
		}
		if back, ok := OIDByName(name); ok && back != o && o != BPChar {
			t.Errorf("OIDByName(TypeName(%d)) = %d", o, back)
		}
	}
	f(Timestamptz, "timestamp with time zone", 8)
	f(Timestamp, "timestamp without time zone", 8)
	f(Float8, "double precision", 8)
	f(Float4, "real", 4)
	f(Int4, "integer", 4)
	f(Int8, "bigint", 8)
	f(Int2, "smallint", 2)
	f(Bool, "boolean", 1)
	f(Text, "text", -1)
	f(Varchar, "character varying", -1)
	f(Interval, "interval", 16)
	f(Numeric, "numeric", -1)
	f(Date, "date", 4)
	f(UUID, "uuid", 16)
}

func TestCompare(t *testing.T) {
	ordered := [][]Datum{
		{NewInt(Int4, -5), NewFloat8(-4.5), {T: Numeric, S: "-4"}, NewInt(Int8, 0), {T: Numeric, S: "0.5"},
			NewFloat8(1), {T: Numeric, S: "1.0000001"}, NewInt(Int2, 2), NewFloat8(math.Inf(1)), NewFloat8(math.NaN()), NullOf(Int4)},
		{NewInt(Int8, math.MaxInt64-1), NewInt(Int8, math.MaxInt64), NewFloat8(9.3e18)},
		{NewBool(false), NewBool(true), NullOf(Bool)},
		{NewText(""), NewText("A"), NewText("a"), NewText("ab"), NewText("b")},
		{{T: Date, I: NegInfinityUs}, NewTimestamp(-1), {T: Date, I: 0}, NewTimestamptz(1), NewTimestamp(usPerDay), {T: Date, I: 2}, NewTimestamptz(InfinityUs)},
		{NewInterval(0, 0, -1), NewInterval(0, 0, 0), NewInterval(0, 0, 25*usPerHour), NewInterval(0, 2, 0), NewInterval(1, -1, 0), NewInterval(1, 0, 0)},
	}
	for gi, g := range ordered {
		for i := range g {
			for j := range g {
				want := cmpInt(int64(i), int64(j))
				if got := Compare(g[i], g[j]); got != want {
					t.Errorf("group %d: Compare(%v, %v) = %d, want %d", gi, g[i], g[j], got, want)
				}
			}
		}
	}
	if Compare(NewInterval(0, 1, 0), NewInterval(0, 0, 24*usPerHour)) != 0 {
		t.Error("1 day != 24 hours")
	}
	if Compare(Datum{T: Numeric, S: "1.50"}, Datum{T: Numeric, S: "1.5"}) != 0 {
		t.Error("1.50 != 1.5")
	}
}

func TestCast(t *testing.T) {
	f := func(d Datum, to OID, want string) {
		t.Helper()
		got, err := Cast(d, to)
		var s string
		if err != nil {
			s = errString(err)
		} else {
			if got.T != to && !(to == UnknownLit && got.T == Unknown) {
				t.Errorf("Cast(%v, %d) has type %d", d, to, got.T)
			}
			s = string(FormatText(nil, got))
		}
		if s != want {
			t.Errorf("Cast(%v, %s) = %q, want %q", d, TypeName(to), s, want)
		}
	}
	f(NewFloat8(2.5), Int4, "2")
	f(NewFloat8(3.5), Int4, "4")
	f(NewFloat8(-2.5), Int8, "-2")
	f(NewFloat8(1e10), Int4, "ERROR 22003: integer out of range")
	f(NewFloat8(math.NaN()), Int8, "ERROR 22003: bigint out of range")
	f(Datum{T: Numeric, S: "2.5"}, Int4, "3")
	f(Datum{T: Numeric, S: "-2.5"}, Int4, "-3")
	f(Datum{T: Numeric, S: "NaN"}, Int4, "ERROR 0A000: cannot convert NaN to integer")
	f(NewInt(Int8, 70000), Int2, "ERROR 22003: smallint out of range")
	f(NewInt(Int4, 7), Float8, "7")
	f(NewInt(Int4, 7), Numeric, "7")
	f(NewFloat8(0.1), Numeric, "0.1")
	f(NewFloat8(1.0000000000000002), Numeric, "1")
	f(NewFloat8(1e20), Numeric, "100000000000000000000")
	f(Datum{T: Float4, F: float64(float32(0.1))}, Numeric, "0.1")
	f(Datum{T: Numeric, S: "1.25"}, Float8, "1.25")
	f(NewBool(true), Text, "true")
	f(NewBool(true), Int4, "1")
	f(NewInt(Int4, 0), Bool, "f")
	f(NewText("42"), Int8, "42")
	f(NewText("x"), Int8, `ERROR 22P02: invalid input syntax for type bigint: "x"`)
	f(Datum{T: Unknown, S: "2024-05-01T00:00:00Z"}, Timestamptz, "2024-05-01 00:00:00+00")
	f(NewTimestamptz(usPerDay+5), Date, "1970-01-02")
	f(NewTimestamptz(-1), Date, "1969-12-31")
	f(Datum{T: Date, I: 1}, Timestamptz, "1970-01-02 00:00:00+00")
	f(NewTimestamp(5), Timestamptz, "1970-01-01 00:00:00.000005+00")
	f(NewInterval(0, 1, 0), Text, "1 day")
	f(NewFloat8(1e20), Text, "1e+20")
	f(NullOf(Int4), Text, "")
	f(NewInterval(0, 1, 0), Int4, "ERROR 42846: cannot cast type interval to integer")
	if d, _ := Cast(NullOf(Int4), Text); !d.Null || d.T != Text {
		t.Errorf("NULL cast: %+v", d)
	}
}

func TestFloatFormatShortest(t *testing.T) {
	// Every float8 formatted and reparsed gives the same bits.
	for _, f := range []float64{0.1, 1.0 / 3, 2.0 / 3 * 1e300, 5e-324, math.MaxFloat64, 123456.789e-10, 1e15, 1e14, 999999999999999.9} {
		s := FormatText(nil, NewFloat8(f))
		d, err := ParseText(Float8, string(s))
		if err != nil || d.F != f {
			t.Errorf("%v -> %s -> %v %v", f, s, d.F, err)
		}
	}
}

func FuzzParseText(f *testing.F) {
	for _, s := range []string{"2016-01-01 02:17:08.646325 +0000", "1 day 02:00:00", "12.50", "1e20", "t", "P1Y2M", "-00:00:01",
		"0044-03-15 BC", "{a,\"b c\",NULL}", "{1,2}", "2016-01-01 00:00:00 America/New_York", "\\x00ff", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "1.5e-3"} {
		for _, t := range []OID{Timestamptz, Timestamp, Date, Interval, Numeric, Float8, Float4, Int4, Int2, Int8, Bool, Bytea, UUID, Text, JSON, Oid, TextArray, Int2Array} {
			f.Add(uint32(t), s)
		}
	}
	f.Fuzz(func(t *testing.T, typ uint32, s string) {
		d, err := ParseText(OID(typ), s)
		if err != nil {
			if pgerror.Code(err) == pgerror.CodeInternal {
				t.Fatalf("error without SQLSTATE: %v", err)
			}
			return
		}
		text := FormatText(nil, d)
		d2, err := ParseText(d.T, string(text))
		if err != nil {
			t.Fatalf("%s %q: reparse of %q failed: %v", TypeName(d.T), s, text, err)
		}
		if again := FormatText(nil, d2); !bytes.Equal(again, text) {
			t.Fatalf("%s %q: %q reformats as %q", TypeName(d.T), s, text, again)
		}
		bin := FormatBinary(nil, d)
		d3, err := ParseBinary(d.T, bin)
		if err != nil {
			t.Fatalf("%s %q: binary %x: %v", TypeName(d.T), s, bin, err)
		}
		if got := FormatText(nil, d3); !bytes.Equal(got, text) {
			t.Fatalf("%s %q: binary round trip %q != %q", TypeName(d.T), s, got, text)
		}
	})
}

func FuzzParseBinary(f *testing.F) {
	for _, t := range []OID{Timestamptz, Date, Interval, Numeric, Float8, Float4, Int4, Int2, Int8, Bool, UUID, Text, JSONB, TextArray, Int4Array} {
		f.Add(uint32(t), []byte{})
		f.Add(uint32(t), []byte{0, 1, 0, 0, 0, 0, 0, 2, 0, 3})
		f.Add(uint32(t), []byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3})
	}
	f.Fuzz(func(t *testing.T, typ uint32, b []byte) {
		d, err := ParseBinary(OID(typ), b)
		if err != nil {
			return
		}
		text := FormatText(nil, d)
		if d.T == Bytea || d.T == Unknown {
			return
		}
		d2, err := ParseText(d.T, string(text))
		if err != nil {
			t.Fatalf("%s %x: text %q does not reparse: %v", TypeName(d.T), b, text, err)
		}
		if Compare(d, d2) != 0 {
			t.Fatalf("%s %x: text %q reparses differently", TypeName(d.T), b, text)
		}
	})
}
