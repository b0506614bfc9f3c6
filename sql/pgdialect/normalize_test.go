package pgdialect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
)

const restoreFlags = format.RestoreStringSingleQuotes | format.RestoreKeyWordUppercase |
	format.RestoreNameDoubleQuotes | format.RestoreStringWithoutCharset | format.RestoreSpacesAroundBinaryOperation

func restore(n ast.Node) (string, error) {
	var sb strings.Builder
	if err := n.Restore(format.NewRestoreCtx(restoreFlags, &sb)); err != nil {
		return "", err
	}
	return sb.String(), nil
}

// roundTrip checks parse → restore → parse → restore is stable.
func roundTrip(t *testing.T, res *Result) string {
	t.Helper()
	r1, err := restore(res.Stmt)
	if err != nil {
		t.Fatalf("restore %q: %v", res.Rewritten, err)
	}
	p := parser.New()
	p.SetSQLMode(sqlMode)
	st, err := p.ParseOneStmt(r1, "", "")
	if err != nil {
		t.Fatalf("reparse of restored %q: %v", r1, err)
	}
	r2, err := restore(st)
	if err != nil {
		t.Fatal(err)
	}
	if r1 != r2 {
		t.Fatalf("round trip differs:\n%s\n%s", r1, r2)
	}
	return r1
}

func formatErr(err error) string {
	var pe *pgerror.Error
	if !errors.As(err, &pe) {
		return "error: " + err.Error()
	}
	fe := pgerror.Flatten(err)
	return fmt.Sprintf("error %s pos=%d: %s", fe.Code, fe.Position, fe.Message)
}

func formatUtility(u any) string {
	switch v := u.(type) {
	case *CreateDatabase:
		keys := make([]string, 0, len(v.Options))
		for k := range v.Options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		fmt.Fprintf(&b, "CreateDatabase name=%q ifNotExists=%v", v.Name, v.IfNotExists)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%q", k, v.Options[k])
		}
		return b.String()
	}
	s := fmt.Sprintf("%T %+v", u, u)
	return strings.TrimPrefix(s, "*pgdialect.")
}

func TestNormalize(t *testing.T) {
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			continue // testdata/fuzz holds fuzz corpora
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				switch d.Cmd {
				case "split":
					var b strings.Builder
					for i, s := range Split(d.Input) {
						fmt.Fprintf(&b, "%d: %s\n", i, s)
					}
					if b.Len() == 0 {
						return "(none)\n"
					}
					return b.String()
				case "normalize":
					res, err := Normalize(d.Input)
					if err != nil {
						return formatErr(err) + "\n"
					}
					var b strings.Builder
					if res.Kind == KindUtility {
						fmt.Fprintf(&b, "utility: %s\n", formatUtility(res.Utility))
						return b.String()
					}
					fmt.Fprintf(&b, "rewritten: %s\n", res.Rewritten)
					if !d.HasArg("norestore") {
						fmt.Fprintf(&b, "restored: %s\n", roundTrip(t, res))
					}
					if res.NumParams > 0 {
						fmt.Fprintf(&b, "params: %d\n", res.NumParams)
					}
					if len(res.LimitParams) > 0 {
						fmt.Fprintf(&b, "limit params: %v\n", res.LimitParams)
					}
					if res.TableOptions != nil {
						keys := make([]string, 0, len(res.TableOptions))
						for k := range res.TableOptions {
							keys = append(keys, k)
						}
						sort.Strings(keys)
						for _, k := range keys {
							fmt.Fprintf(&b, "table option: %s=%q\n", k, res.TableOptions[k])
						}
					}
					if ct, ok := res.Stmt.(*ast.CreateTableStmt); ok {
						for _, c := range ct.Cols {
							fmt.Fprintf(&b, "column %s: %s\n", c.Name.Name.O, PGTypeOfColumn(c.Tp))
						}
					}
					return b.String()
				}
				t.Fatalf("unknown command %q", d.Cmd)
				return ""
			})
		})
	}
}
