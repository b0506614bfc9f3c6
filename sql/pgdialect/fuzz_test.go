package pgdialect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser"
)

// seedStatements returns the statements of the datadriven files, as fuzz seeds.
func seedStatements(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for _, block := range strings.Split(string(b), "\n\n") {
			lines := strings.Split(block, "\n")
			for i, l := range lines {
				if l == "normalize" || l == "split" {
					var q []string
					for _, m := range lines[i+1:] {
						if m == "----" {
							break
						}
						q = append(q, m)
					}
					out = append(out, strings.Join(q, "\n"))
				}
			}
		}
	}
	return out
}

func FuzzSplit(f *testing.F) {
	for _, s := range seedStatements(f) {
		f.Add(s)
	}
	f.Add("select 'a;b'; select $x$;$x$; /* /* ; */ */ select 1")
	f.Fuzz(func(t *testing.T, sql string) {
		stmts := Split(sql)
		for _, s := range stmts {
			if strings.TrimSpace(s) == "" {
				t.Fatalf("empty statement from %q", sql)
			}
			if !strings.Contains(sql, s) {
				t.Fatalf("statement %q is not a substring of %q", s, sql)
			}
		}
		// Splitting a statement again yields it unchanged, unless it failed
		// to lex (then it is returned whole anyway).
		for _, s := range stmts {
			if again := Split(s); len(again) != 1 || again[0] != s {
				if _, err := tokenize(s); err == nil {
					t.Fatalf("re-split of %q gave %q", s, again)
				}
			}
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range seedStatements(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		res, err := Normalize(sql)
		if err != nil || res.Kind != KindQuery {
			return
		}
		p := parser.New()
		p.SetSQLMode(sqlMode)
		if _, _, err := p.Parse(res.Rewritten, "", ""); err != nil {
			t.Fatalf("rewritten %q does not reparse: %v", res.Rewritten, err)
		}
		if utf8.ValidString(sql) {
			for off := 0; off <= len(res.Rewritten); off++ {
				if p := res.MapPos(off); p < 1 || p > utf8.RuneCountInString(sql)+1 {
					t.Fatalf("MapPos(%d) = %d out of range for %q", off, p, sql)
				}
			}
		}
	})
}
