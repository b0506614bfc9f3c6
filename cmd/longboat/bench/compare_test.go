package bench

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// res builds a result from "name:oid" columns and comma-separated rows
// ("~" is NULL).
func res(cols string, rows ...string) *Result {
	r := &Result{}
	for _, c := range strings.Split(cols, ",") {
		name, oid, _ := strings.Cut(c, ":")
		var n uint32
		for _, d := range oid {
			n = n*10 + uint32(d-'0')
		}
		r.Columns = append(r.Columns, Column{Name: name, OID: n})
	}
	for _, row := range rows {
		var cells []Cell
		for _, v := range strings.Split(row, ",") {
			if v == "~" {
				cells = append(cells, Cell{Null: true})
			} else {
				cells = append(cells, Cell{Text: v})
			}
		}
		r.Rows = append(r.Rows, cells)
	}
	r.NRows = len(r.Rows)
	return r
}

func TestCompareResults(t *testing.T) {
	const (
		unordered = "SELECT * FROM cpu WHERE usage_user > 90.0"
		ordered   = "SELECT minute, v FROM x ORDER BY minute"
		desc      = "SELECT minute, v FROM x ORDER BY minute DESC LIMIT 5"
		byExpr    = "SELECT minute, v FROM x ORDER BY lower(v)"
	)
	f := func(name, sql string, a, b *Result, want ...string) {
		t.Helper()
		got := CompareResults(sql, a, b, 0)
		if len(got) != len(want) {
			t.Fatalf("%s: got %d mismatches %v, want %d %v", name, len(got), got, len(want), want)
		}
		for i := range want {
			if s := got[i].String(); !strings.Contains(s, want[i]) {
				t.Fatalf("%s: mismatch %d = %q, want it to contain %q", name, i, s, want[i])
			}
		}
	}
	cols := "minute:1184,v:701"
	f("equal ordered", ordered, res(cols, "1,a", "2,b"), res(cols, "1,a", "2,b"))
	f("multiset order free", unordered, res(cols, "1,a", "2,b", "2,b"), res(cols, "2,b", "1,a", "2,b"))
	f("multiset counts", unordered, res(cols, "1,a", "2,b", "2,b"), res(cols, "1,a", "1,a", "2,b"),
		`value row 1 column "minute": a="2" b="1"`)
	f("multiset missing", unordered, res(cols, "1,a", "2,b", "3,c"), res(cols, "1,a", "3,c"),
		"row count: a=3 b=2", `row only in a row 1: a=("2", "b")`)
	f("multiset extra", unordered, res(cols, "1,a"), res(cols, "1,a", "0,z"),
		"row count", `row only in b row 0: b=("0", "z")`)
	f("ordered swapped", ordered, res(cols, "1,a", "2,b"), res(cols, "2,b", "1,a"),
		`order/key row 0 column "minute": a="1" b="2"`)
	f("ordered value", ordered, res(cols, "1,a", "2,b"), res(cols, "1,a", "2,c"),
		`value row 1 column "v": a="b" b="c"`)
	f("ties are multisets", ordered, res(cols, "1,a", "1,b", "2,c"), res(cols, "1,b", "1,a", "2,c"))
	f("desc ties", desc, res(cols, "2,x", "2,y", "1,z"), res(cols, "2,y", "2,x", "1,z"))
	f("tie group differs", ordered, res(cols, "1,a", "1,b", "2,c"), res(cols, "1,b", "1,d", "2,c"),
		`value row 0 column "v": a="a" b="b"`, `value row 1 column "v": a="b" b="d"`)
	f("tie group size", ordered, res(cols, "1,a", "1,b", "2,c"), res(cols, "1,a", "2,c"),
		"row count", `row only in a row 1: a=("1", "b")`)
	f("strict when unresolvable", byExpr, res(cols, "1,a", "1,b"), res(cols, "1,b", "1,a"),
		`value row 0 column "v"`, `value row 1 column "v"`)
	f("null vs empty", unordered, res(cols, "1,~"), res(cols, "1,"),
		`value row 0 column "v": a=NULL b=""`)
	f("tail", ordered, res(cols, "1,a", "2,b"), res(cols, "1,a"),
		"row count", `extra row in a row 1: a=("2", "b")`)
	f("column name", ordered, res(cols, "1,a"), res("minute:1184,w:701", "1,a"),
		`column 2 name column "v": a="v" b="w"`)
	f("column oid", ordered, res(cols, "1,a"), res("minute:1114,v:701", "1,a"),
		`column 1 type OID column "minute": a=1184 b=1114`)
	f("column count", ordered, res(cols, "1,a"), res("minute:1184", "1"), "column count: a=2 b=1")

	errA := res(cols)
	errA.Err = &pgconn.PgError{Code: "42P01", Message: "relation does not exist"}
	errB := res(cols)
	errB.Err = &pgconn.PgError{Code: "42703", Message: "column does not exist"}
	f("only a failed", ordered, errA, res(cols, "1,a"), "only a failed: a=42P01")
	f("only b failed", ordered, res(cols, "1,a"), errB, "only b failed: b=42703")
	f("different errors", ordered, errA, errB, "different errors")
	f("same error", ordered, errA, errA)

	// The limit.
	if got := CompareResults(unordered, res(cols, "1,a", "2,b", "3,c"), res(cols, "1,x", "2,y", "3,z"), 2); len(got) != 2 {
		t.Fatalf("limit 2: got %d mismatches", len(got))
	}
}
