package pgdialect

import (
	"fmt"
	"strings"
	"testing"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

func TestMapPos(t *testing.T) {
	f := func(sql, inRewritten string, wantOrig string) {
		t.Helper()
		res, err := Normalize(sql)
		if err != nil {
			t.Fatalf("%q: %v", sql, err)
		}
		off := strings.Index(res.Rewritten, inRewritten)
		if off < 0 {
			t.Fatalf("%q not in %q", inRewritten, res.Rewritten)
		}
		want := len([]rune(sql[:strings.Index(sql, wantOrig)])) + 1
		if got := res.MapPos(off); got != want {
			t.Fatalf("%q: MapPos(%d) = %d, want %d (%q)", sql, off, got, want, wantOrig)
		}
	}
	f("SELECT Foo::int FROM t WHERE x = $1", "t where", "t WHERE")
	f("SELECT Foo::int FROM t WHERE x = $1", "x =", "x =")
	f("SELECT Foo::int FROM t WHERE x = $1", "__lb_param", "$1")
	f("SELECT Foo::int FROM t WHERE x = $1", "__lb_cast", "Foo")
	f("SELECT 'é', E'\\n' AS Zé, bad FROM t", "bad", "bad")
	f("SELECT a FROM t -- c\n WHERE b ~ 'x'", "__lb_regex", "~")
	f("SELECT a FROM t -- c\n WHERE b ~ 'x'", "b,", "b ~")
	// End of text maps to length+1.
	res, err := Normalize("SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.MapPos(len(res.Rewritten)); got != 9 {
		t.Fatalf("end: %d", got)
	}
}

func TestLimitParamsOrder(t *testing.T) {
	res, err := Normalize("SELECT a FROM t WHERE b = $1 LIMIT $3 OFFSET $2")
	if err != nil {
		t.Fatal(err)
	}
	sel := res.Stmt.(*ast.SelectStmt)
	cnt := sel.Limit.Count.(*test_driver.ParamMarkerExpr)
	off := sel.Limit.Offset.(*test_driver.ParamMarkerExpr)
	if cnt.Order+1 != 3 || off.Order+1 != 2 || len(res.LimitParams) != 2 || res.LimitParams[0] != 3 || res.LimitParams[1] != 2 {
		t.Fatalf("LimitParams %v, orders %d %d", res.LimitParams, cnt.Order, off.Order)
	}
	if res.NumParams != 3 {
		t.Fatalf("NumParams %d", res.NumParams)
	}
}

func TestErrorCodes(t *testing.T) {
	f := func(sql, code string, pos int) {
		t.Helper()
		_, err := Normalize(sql)
		if err == nil {
			t.Fatalf("%q: no error", sql)
		}
		fe := pgerror.Flatten(err)
		if fe.Code != code || fe.Position != pos {
			t.Fatalf("%q: got %s pos %d (%s), want %s pos %d", sql, fe.Code, fe.Position, fe.Message, code, pos)
		}
	}
	f("SELEC 1", pgerror.CodeSyntaxError, 1)
	f("SELECT * FROM t WHERE", pgerror.CodeSyntaxError, 22)
	f("SELECT x FROM t WHERE a IN (1,", pgerror.CodeSyntaxError, 31)
	f("INSERT INTO t VALUES (1) RETURNING a", pgerror.CodeFeatureNotSupported, 26)
	f("COPY t TO STDOUT", pgerror.CodeFeatureNotSupported, 11)
}

func TestPGTypeOfColumnRoundTrip(t *testing.T) {
	for _, pg := range []string{"timestamptz", "timestamptz(3)", "timestamp", "timestamp(6)", "date", "time", "float8",
		"float4", "int8", "int4", "int2", "bool", "text", "varchar", "varchar(20)", "bpchar(3)", "numeric",
		"numeric(10)", "numeric(10,2)", "jsonb", "bytea", "uuid"} {
		res, err := Normalize("CREATE TABLE t (c " + pg + ")")
		if err != nil {
			t.Fatalf("%s: %v", pg, err)
		}
		got := PGTypeOfColumn(res.Stmt.(*ast.CreateTableStmt).Cols[0].Tp)
		if got != pg {
			t.Errorf("%s → %s → %s", pg, res.Rewritten, got)
		}
	}
}

func TestSplitCastType(t *testing.T) {
	b, m, a := SplitCastType("numeric(10,2)[]")
	if b != "numeric" || len(m) != 2 || m[0] != 10 || m[1] != 2 || a != 1 {
		t.Fatalf("%s %v %d", b, m, a)
	}
	b, m, a = SplitCastType("text")
	if b != "text" || m != nil || a != 0 {
		t.Fatalf("%s %v %d", b, m, a)
	}
}

func TestNormalizeConcurrent(t *testing.T) {
	stmts := seedStatements(t)
	want := make(map[string]string)
	for _, s := range stmts {
		if res, err := Normalize(s); err == nil && res.Kind == KindQuery {
			if r, err := restore(res.Stmt); err == nil {
				want[s] = r
			}
		}
	}
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for _, s := range stmts {
				w, ok := want[s]
				if !ok {
					continue
				}
				res, err := Normalize(s)
				if err != nil {
					done <- err
					return
				}
				if r, _ := restore(res.Stmt); r != w {
					done <- fmt.Errorf("concurrent result differs for %q", s)
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
