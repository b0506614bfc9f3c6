package planner

import (
	"strings"
	"testing"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// TestCorrelatedSubqueryUnsupported: a subquery that refers to a column of
// the outer query is refused with 0A000 naming the reference (as psql's \d
// and JDBC's metadata queries do); a column that exists nowhere is still
// 42703; an uncorrelated subquery plans.
func TestCorrelatedSubqueryUnsupported(t *testing.T) {
	cat := newTestCatalog()
	for _, tc := range []struct {
		sql, code, msg string
	}{
		{"SELECT hostname FROM cpu c WHERE usage_user > (SELECT max(usage_user) FROM m WHERE m.host = c.hostname)", pgerror.CodeFeatureNotSupported, "correlated subquery (the reference to c.hostname of the outer query) is not supported"},
		{"SELECT hostname, (SELECT count(*) FROM m WHERE host = hostname) FROM cpu", pgerror.CodeFeatureNotSupported, "reference to hostname"},
		{"SELECT hostname FROM cpu WHERE hostname IN (SELECT host FROM m WHERE i4 = usage_user)", pgerror.CodeFeatureNotSupported, "reference to usage_user"},
		{"SELECT hostname FROM cpu WHERE hostname IN (SELECT host FROM m WHERE nosuch = 1)", pgerror.CodeUndefinedColumn, "nosuch"},
		{"SELECT hostname FROM cpu WHERE hostname IN (SELECT host FROM m WHERE i4 = 1)", "", ""},
	} {
		_, err := Build(parseSQL(t, tc.sql), cat, &Env{Database: "benchmark"})
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.sql, err)
			}
			continue
		}
		if got := pgerror.Code(err); got != tc.code || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s:\n got %s %v\nwant %s containing %q", tc.sql, got, err, tc.code, tc.msg)
		}
	}
}
