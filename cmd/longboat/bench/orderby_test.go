package bench

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestParseOrderBy runs testdata/orderby: "orderby" prints the outermost
// ORDER BY keys of the SQL in the input.
func TestParseOrderBy(t *testing.T) {
	datadriven.RunTest(t, "testdata/orderby", func(t *testing.T, d *datadriven.TestData) string {
		switch d.Cmd {
		case "orderby":
			keys, has, ok := ParseOrderBy(d.Input)
			if !has {
				return "no ORDER BY"
			}
			var sb strings.Builder
			for _, k := range keys {
				dir := "asc"
				if k.Desc {
					dir = "desc"
				}
				if k.Ordinal > 0 {
					fmt.Fprintf(&sb, "#%d %s\n", k.Ordinal, dir)
				} else {
					fmt.Fprintf(&sb, "%q %s\n", k.Name, dir)
				}
			}
			if !ok {
				sb.WriteString("unresolvable: strict order\n")
			}
			return sb.String()
		}
		return "unknown command " + d.Cmd
	})
}

func FuzzParseOrderBy(f *testing.F) {
	for _, s := range []string{
		"SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC",
		"WITH x AS (SELECT a FROM t ORDER BY a) SELECT a FROM x ORDER BY 1 LIMIT 5",
		"SELECT 'ORDER BY x' FROM t",
		"SELECT a FROM t ORDER BY \"A\"\"b\" NULLS FIRST",
		"SELECT a FROM t ORDER BY lower(a)",
		"ORDER BY",
		"(((",
		"'unterminated",
		"/* ORDER BY x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		keys, has, ok := ParseOrderBy(sql)
		if !has && len(keys) != 0 {
			t.Fatalf("keys without ORDER BY: %v", keys)
		}
		if ok {
			for _, k := range keys {
				if (k.Name == "") == (k.Ordinal == 0) {
					t.Fatalf("resolvable key with neither or both name and ordinal: %+v", k)
				}
			}
		}
	})
}
