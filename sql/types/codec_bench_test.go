package types

import "testing"

var sinkBytes []byte

func BenchmarkFormat(b *testing.B) {
	for _, c := range []struct {
		name string
		d    Datum
	}{
		{"timestamptz", NewTimestamptz(1_700_000_000_123_456)},
		{"float8", NewFloat8(123.456)},
		{"int8", NewInt(Int8, 1234567890)},
		{"interval", NewInterval(14, 3, 3_723_500_000)},
		{"numeric", Datum{T: Numeric, S: "12345.6789"}},
	} {
		b.Run("text/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 64)
			for i := 0; i < b.N; i++ {
				buf = FormatText(buf[:0], c.d)
			}
			sinkBytes = buf
		})
		b.Run("binary/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 64)
			for i := 0; i < b.N; i++ {
				buf = FormatBinary(buf[:0], c.d)
			}
			sinkBytes = buf
		})
	}
}

var sinkDatum Datum

func BenchmarkParseText(b *testing.B) {
	for _, c := range []struct {
		name string
		t    OID
		s    string
	}{
		{"timestamptz", Timestamptz, "2016-01-01 02:17:08.646325 +0000"},
		{"float8", Float8, "123.456"},
		{"int8", Int8, "1234567890"},
		{"interval", Interval, "1 day 02:03:04.5"},
		{"numeric", Numeric, "12345.6789"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.s)))
			for i := 0; i < b.N; i++ {
				d, err := ParseText(c.t, c.s)
				if err != nil {
					b.Fatal(err)
				}
				sinkDatum = d
			}
		})
	}
}
