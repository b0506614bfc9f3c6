package session

import (
	"testing"
	"time"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// TestParseTimeoutSetting checks statement_timeout values as PostgreSQL 15
// reads them (default unit ms; SET statement_timeout = <v>; SHOW shows the
// same duration).
func TestParseTimeoutSetting(t *testing.T) {
	f := func(in string, want time.Duration, wantErr bool) {
		t.Helper()
		got, err := parseTimeoutSetting(in)
		if wantErr {
			if pgerror.Code(err) != pgerror.CodeInvalidParameterValue {
				t.Errorf("%q: err %v, want 22023", in, err)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("%q = %v, %v; want %v", in, got, err, want)
		}
	}
	f("0", 0, false)
	f("250", 250*time.Millisecond, false)
	f("'100ms'", 100*time.Millisecond, false)
	f("1.5s", 1500*time.Millisecond, false)
	f("2min", 2*time.Minute, false)
	f("1h", time.Hour, false)
	f("1d", 24*time.Hour, false)
	f("500us", 500*time.Microsecond, false)
	f("5 s", 5*time.Second, false)
	f("1e400", 0, true)
	f("abc", 0, true)
	f("-1", 0, true)
	f("10 parsecs", 0, true)
	f("", 0, true)
}
