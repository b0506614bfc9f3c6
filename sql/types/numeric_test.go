package types

import (
	"testing"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// TestNumericTypmod checks numeric(p,s) assignment against PostgreSQL 15's
// results (each case was run as SELECT 'v'::numeric(p,s) on PostgreSQL 15.18).
func TestNumericTypmod(t *testing.T) {
	f := func(in string, p, s int, want, wantErr string) {
		t.Helper()
		got, err := NumericTypmod(in, p, s)
		if wantErr != "" {
			if pgerror.Code(err) != pgerror.CodeNumericOutOfRange {
				t.Errorf("%s::numeric(%d,%d): err %v, want 22003", in, p, s, err)
				return
			}
			if d := pgerror.Flatten(err).Detail; d != wantErr {
				t.Errorf("%s::numeric(%d,%d): detail %q, want %q", in, p, s, d, wantErr)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("%s::numeric(%d,%d) = %q, %v; want %q", in, p, s, got, err, want)
		}
	}
	f("1.5", 8, 3, "1.500", "")
	f("2", 8, 3, "2.000", "")
	f("0.250", 8, 3, "0.250", "")
	f("12345.678", 8, 3, "12345.678", "")
	f("-1.2345", 5, 3, "-1.235", "")
	f("1.2344", 5, 3, "1.234", "")
	f("0.0005", 4, 3, "0.001", "")
	f("-0.0004", 4, 3, "0.000", "")
	f("12.5", 3, 0, "13", "")
	f("0.5", 2, 2, "0.50", "")
	f("99999.9994", 8, 3, "99999.999", "")
	f("NaN", 5, 2, "NaN", "")
	f("99999.9996", 8, 3, "", "A field with precision 8, scale 3 must round to an absolute value less than 10^5.")
	f("123456", 8, 3, "", "A field with precision 8, scale 3 must round to an absolute value less than 10^5.")
	f("1", 2, 2, "", "A field with precision 2, scale 2 must round to an absolute value less than 1.")
	f("0.995", 2, 2, "", "A field with precision 2, scale 2 must round to an absolute value less than 1.")
	f("Infinity", 5, 2, "", "A field with precision 5, scale 2 cannot hold an infinite value.")
	f("-Infinity", 5, 2, "", "A field with precision 5, scale 2 cannot hold an infinite value.")
}
