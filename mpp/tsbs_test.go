package mpp

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/sql/types"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// parse parses SQL already in pgdialect's rewritten form. DISTINCT ON is
// rewritten here the way pgdialect does it.
func parse(t testing.TB, sql string) ast.StmtNode {
	t.Helper()
	if i := strings.Index(sql, "DISTINCT ON ("); i >= 0 {
		j := strings.Index(sql[i:], ")")
		sql = sql[:i] + "DISTINCT __lb_distinct_on(" + sql[i+len("DISTINCT ON ("):i+j] + ")," + sql[i+j+1:]
	}
	p := parser.New()
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModePipesAsConcat | mysql.ModeNoBackslashEscapes)
	stmt, err := p.ParseOneStmt(sql, "", "")
	if err != nil {
		t.Fatalf("parse %q: %v", sql, err)
	}
	return stmt
}

type tsbsQuery struct{ kind, sql string }

func loadTSBS(t testing.TB) []tsbsQuery {
	f, err := os.Open("testdata/tsbs_queries.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tsbsQuery
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		k, q, ok := strings.Cut(sc.Text(), "\t")
		if ok {
			out = append(out, tsbsQuery{k, q})
		}
	}
	return out
}

func runSQL(t testing.TB, c *fakeCluster, sql string) (*planner.Plan, [][]types.Datum) {
	t.Helper()
	p, err := planner.Build(parse(t, sql), c, &planner.Env{Database: "benchmark", Params: []types.Datum{}})
	if err != nil {
		t.Fatalf("build %q: %v", sql, err)
	}
	var rows [][]types.Datum
	if err := Run(context.Background(), p, c, func(r []types.Datum) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatalf("run %q: %v", sql, err)
	}
	return p, rows
}

// refRow is one row of the cpu table for the reference evaluator.
type refRow struct {
	t      int64
	tags   []string
	fields map[string]float64
	nulls  map[string]bool
}

func allRows(c *fakeCluster) []refRow {
	if c.refRows != nil {
		return c.refRows
	}
	var out []refRow
	defer func() { c.refRows = out }()
	for _, info := range c.infos {
		fs := c.shards[info.ID]
		for _, se := range fs.series {
			for k, tm := range se.times {
				r := refRow{t: tm, tags: se.tags, fields: map[string]float64{}, nulls: map[string]bool{}}
				for i, name := range tsbsFields {
					cid := c.table.Columns[1+len(tsbsTags)+i].ID
					r.fields[name] = se.fields[cid][k]
					r.nulls[name] = se.nulls[cid][k]
				}
				out = append(out, r)
			}
		}
	}
	return out
}

var (
	reHosts  = regexp.MustCompile(`hostname IN \(([^)]*)\)`)
	reGE     = regexp.MustCompile(`time >= '([^']*)'`)
	reLT     = regexp.MustCompile(`time < '([^']*)'`)
	reBucket = regexp.MustCompile(`time_bucket\('(\d+) seconds'`)
	reAgg    = regexp.MustCompile(`(max|avg)\((usage_\w+)\)`)
)

func parseTS(t testing.TB, s string) int64 {
	tm, err := time.Parse("2006-01-02 15:04:05.999999 -0700", s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixMicro()
}

func tsbsBucket(t, w int64) int64 {
	const origin = 946857600 * 1_000_000
	q := (t - origin) / w
	if (t-origin)%w != 0 && t < origin {
		q--
	}
	return origin + q*w
}

// reference evaluates a TSBS query naively over every row: filter, group,
// aggregate, order. It returns the expected columns and rows; ordered
// reports whether the query defines the row order.
func reference(t testing.TB, c *fakeCluster, q tsbsQuery) (cols []planner.Column, rows [][]types.Datum, ordered bool) {
	var hosts map[string]bool
	if m := reHosts.FindStringSubmatch(q.sql); m != nil {
		hosts = map[string]bool{}
		for _, h := range strings.Split(m[1], ",") {
			hosts[strings.Trim(h, "' ")] = true
		}
	}
	lo, hi := int64(-1<<62), int64(1<<62)
	if m := reGE.FindStringSubmatch(q.sql); m != nil {
		lo = parseTS(t, m[1])
	}
	if m := reLT.FindStringSubmatch(q.sql); m != nil {
		hi = parseTS(t, m[1])
	}
	var sel []refRow
	for _, r := range allRows(c) {
		if hosts != nil && !hosts[r.tags[0]] {
			continue
		}
		if r.t < lo || r.t >= hi {
			continue
		}
		sel = append(sel, r)
	}
	fullRow := func(r refRow) []types.Datum {
		row := []types.Datum{types.NewTimestamptz(r.t)}
		for _, tg := range r.tags {
			if tg == "" {
				row = append(row, types.NullOf(types.Text))
			} else {
				row = append(row, types.NewText(tg))
			}
		}
		for _, f := range tsbsFields {
			if r.nulls[f] {
				row = append(row, types.NullOf(types.Float8))
			} else {
				row = append(row, types.NewFloat8(r.fields[f]))
			}
		}
		return row
	}
	allCols := func() []planner.Column {
		out := []planner.Column{{Name: "time", Type: types.Timestamptz}}
		for _, n := range tsbsTags {
			out = append(out, planner.Column{Name: n, Type: types.Text})
		}
		for _, n := range tsbsFields {
			out = append(out, planner.Column{Name: n, Type: types.Float8})
		}
		return out
	}
	switch {
	case strings.HasPrefix(q.kind, "high-cpu"):
		for _, r := range sel {
			if !r.nulls["usage_user"] && r.fields["usage_user"] > 90 {
				rows = append(rows, fullRow(r))
			}
		}
		return allCols(), rows, false
	case q.kind == "lastpoint":
		best := map[string]refRow{}
		for _, r := range sel {
			if b, ok := best[r.tags[0]]; !ok || r.t > b.t {
				best[r.tags[0]] = r
			}
		}
		var names []string
		for h := range best {
			names = append(names, h)
		}
		sort.Strings(names)
		for _, h := range names {
			rows = append(rows, fullRow(best[h]))
		}
		return allCols(), rows, true
	}
	// Aggregating shapes.
	bm := reBucket.FindStringSubmatch(q.sql)
	secs, _ := strconv.ParseInt(bm[1], 10, 64)
	w := secs * 1_000_000
	byHost := strings.Contains(q.sql, "GROUP BY 1, 2")
	aggs := reAgg.FindAllStringSubmatch(q.sql, -1)
	type acc struct {
		n   []int64
		v   []float64
		key []types.Datum
	}
	groups := map[string]*acc{}
	for _, r := range sel {
		b := tsbsBucket(r.t, w)
		k := strconv.FormatInt(b, 10)
		key := []types.Datum{types.NewTimestamptz(b)}
		if byHost {
			k += "/" + r.tags[0]
			key = append(key, types.NewText(r.tags[0]))
		}
		g := groups[k]
		if g == nil {
			g = &acc{n: make([]int64, len(aggs)), v: make([]float64, len(aggs)), key: key}
			groups[k] = g
		}
		for i, a := range aggs {
			if r.nulls[a[2]] {
				continue
			}
			x := r.fields[a[2]]
			switch a[1] {
			case "max":
				if g.n[i] == 0 || x > g.v[i] {
					g.v[i] = x
				}
			case "avg":
				g.v[i] += x
			}
			g.n[i]++
		}
	}
	for _, g := range groups {
		row := append([]types.Datum(nil), g.key...)
		for i, a := range aggs {
			switch {
			case g.n[i] == 0:
				row = append(row, types.NullOf(types.Float8))
			case a[1] == "avg":
				row = append(row, types.NewFloat8(g.v[i]/float64(g.n[i])))
			default:
				row = append(row, types.NewFloat8(g.v[i]))
			}
		}
		rows = append(rows, row)
	}
	desc := strings.Contains(q.sql, "DESC")
	sort.Slice(rows, func(i, j int) bool {
		if rows[i][0].I != rows[j][0].I {
			return (rows[i][0].I < rows[j][0].I) != desc
		}
		return byHost && rows[i][1].S < rows[j][1].S
	})
	if strings.Contains(q.sql, "LIMIT 5") && len(rows) > 5 {
		rows = rows[:5]
	}
	// Column names as PostgreSQL names them.
	m := regexp.MustCompile(`time_bucket\('\d+ seconds', time\) (?i:as) (\w+)`).FindStringSubmatch(q.sql)
	cols = append(cols, planner.Column{Name: m[1], Type: types.Timestamptz})
	if byHost {
		cols = append(cols, planner.Column{Name: "hostname", Type: types.Text})
	}
	aliases := regexp.MustCompile(`(?:max|avg)\(usage_\w+\)( (?i:as) (\w+))?`).FindAllStringSubmatch(q.sql, -1)
	for i, a := range aliases {
		name := a[2]
		if name == "" {
			name = aggs[i][1]
		}
		cols = append(cols, planner.Column{Name: name, Type: types.Float8})
	}
	return cols, rows, true
}

func fmtRow(r []types.Datum) string {
	parts := make([]string, len(r))
	for i, d := range r {
		if d.Null {
			parts[i] = "NULL"
		} else {
			parts[i] = string(types.FormatText(nil, d))
		}
	}
	return strings.Join(parts, "|")
}

func sortedStrings(rows [][]types.Datum) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmtRow(r)
	}
	sort.Strings(out)
	return out
}

func checkRows(t *testing.T, label string, got, want [][]types.Datum, ordered bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", label, len(got), len(want))
	}
	if !ordered {
		g, w := sortedStrings(got), sortedStrings(want)
		for i := range g {
			if g[i] != w[i] {
				t.Fatalf("%s: row %d\n got %s\nwant %s", label, i, g[i], w[i])
			}
		}
		return
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s: row %d has %d columns, want %d", label, i, len(got[i]), len(want[i]))
		}
		for j := range got[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("%s: row %d col %d\n got %s (%+v)\nwant %s (%+v)", label, i, j, fmtRow(got[i]), got[i][j], fmtRow(want[i]), want[i][j])
			}
		}
	}
}

func smallCluster(nullFrac float64) *fakeCluster {
	return genCluster(genOptions{hosts: 100, start: tsbsStart(), points: 24 * 12, step: 5 * 60 * 1_000_000,
		partition: 6 * time.Hour, groups: 4, nullFrac: nullFrac, blockSize: 16, seed: 1})
}

// TestTSBSQueries checks every TSBS query type against the reference
// evaluator: same columns (names, types), same rows, same order.
func TestTSBSQueries(t *testing.T) {
	for _, nf := range []float64{0, 0.1} {
		c := smallCluster(nf)
		for _, q := range loadTSBS(t) {
			t.Run(fmt.Sprintf("%s/nulls=%v", q.kind, nf), func(t *testing.T) {
				p, got := runSQL(t, c, q.sql)
				cols, want, ordered := reference(t, c, q)
				pc := p.Columns()
				if len(pc) != len(cols) {
					t.Fatalf("columns %v, want %v", pc, cols)
				}
				for i := range cols {
					if pc[i].Name != cols[i].Name || pc[i].Type != cols[i].Type {
						t.Fatalf("column %d = %s/%d, want %s/%d", i, pc[i].Name, pc[i].Type, cols[i].Name, cols[i].Type)
					}
				}
				if len(want) == 0 && q.kind != "high-cpu-1" {
					t.Fatalf("reference has no rows; test data does not cover %s", q.sql)
				}
				checkRows(t, q.kind, got, want, ordered)
			})
		}
	}
}
