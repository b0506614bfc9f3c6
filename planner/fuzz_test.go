package planner

import (
	"strings"
	"testing"

	"github.com/longboatdb/longboat/sql/types"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/mysql"
)

// FuzzParseDec checks the numeric parser never panics and round-trips.
func FuzzParseDec(f *testing.F) {
	for _, s := range []string{"0", "-12.50", "1e3", "1.5E-2", ".5", "5.", "+7", "abc", "", "-", "1e999999999999", "00012.3400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 200 {
			return
		}
		if i := strings.IndexAny(s, "eE"); i >= 0 && len(s)-i > 4 {
			return // huge exponents are slow, not wrong
		}
		d, err := parseDec(s)
		if err != nil {
			return
		}
		back, err := parseDec(d.String())
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", s, d.String(), err)
		}
		if decCmp(&d, &back) != 0 {
			t.Fatalf("%q -> %q -> %q", s, d.String(), back.String())
		}
	})
}

// FuzzBuild plans arbitrary statements: Build must return an error or a
// plan, never panic.
func FuzzBuild(f *testing.F) {
	for _, s := range []string{
		"SELECT time_bucket('60 seconds', time) AS minute, max(usage_user) FROM cpu WHERE hostname IN ('host_1') AND time >= '2016-01-01' GROUP BY minute ORDER BY minute",
		"SELECT DISTINCT __lb_distinct_on(hostname), * FROM cpu ORDER BY hostname, time DESC",
		"WITH x AS (SELECT 1 AS a) SELECT a FROM x UNION ALL SELECT 2",
		"SELECT __lb_cast(__lb_param(1), 'int4'), CASE WHEN 1 > 2 THEN 'a' END, coalesce(NULL, 1)",
		"SELECT count(*) FROM cpu GROUP BY 5",
		"SELECT * FROM m WHERE i4 / 0 > 1 LIMIT -1",
		"SELECT floor(__lb_extract('epoch', time)/0)*0 FROM cpu GROUP BY 1",
	} {
		f.Add(s)
	}
	cat := newTestCatalog()
	f.Fuzz(func(t *testing.T, sql string) {
		p := parser.New()
		p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModePipesAsConcat | mysql.ModeNoBackslashEscapes)
		stmt, err := p.ParseOneStmt(sql, "", "")
		if err != nil {
			return
		}
		for _, params := range [][]types.Datum{nil, {}, {{T: types.UnknownLit, S: "1"}}} {
			plan, err := Build(stmt, cat, &Env{Database: "benchmark", Params: params})
			if err == nil {
				_ = plan.Explain()
			}
		}
	})
}
