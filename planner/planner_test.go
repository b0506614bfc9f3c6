package planner

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// testCatalog is a cpu table in database "benchmark": 4 partitions of 6h on
// 2016-01-01, each cut into 4 slot groups (shard IDs 100..115).
type testCatalog struct {
	db     *shard.Database
	tables []*shard.Table
	shards []shard.ShardInfo
}

func newTestCatalog() *testCatalog {
	c := &testCatalog{db: &shard.Database{ID: 1, Name: "benchmark", PartitionInterval: 6 * time.Hour, SlotGroups: 4}}
	t := &shard.Table{ID: 7, Database: 1, Name: "cpu"}
	id := uint16(1)
	add := func(tb *shard.Table, name string, ct shard.ColType) {
		tb.Columns = append(tb.Columns, shard.Column{ID: id, Name: name, Type: ct})
		id++
	}
	add(t, "time", shard.TypeTimestamptz)
	for _, n := range []string{"hostname", "region", "datacenter", "rack", "os", "arch", "team", "service", "service_version", "service_environment"} {
		add(t, n, shard.TypeText)
		t.Tags = append(t.Tags, len(t.Columns)-1)
	}
	for _, n := range []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"} {
		add(t, n, shard.TypeFloat8)
	}
	m := &shard.Table{ID: 8, Database: 1, Name: "m"}
	id = 1
	add(m, "ts", shard.TypeTimestamptz)
	add(m, "host", shard.TypeText)
	m.Tags = []int{1}
	add(m, "i4", shard.TypeInt4)
	add(m, "i8", shard.TypeInt8)
	add(m, "f", shard.TypeFloat8)
	add(m, "n", shard.TypeNumeric)
	add(m, "s", shard.TypeText)
	add(m, "b", shard.TypeBool)
	c.tables = []*shard.Table{t, m}
	start := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	w := (6 * time.Hour).Microseconds()
	sid := uint64(100)
	for p := int64(0); p < 4; p++ {
		for g := 0; g < 4; g++ {
			c.shards = append(c.shards, shard.ShardInfo{ID: sid, Database: 1, PartitionStart: start + p*w, PartitionEnd: start + (p+1)*w, SlotGroup: g, SlotGroups: 4})
			sid++
		}
	}
	return c
}

func (c *testCatalog) Database(name string) (*shard.Database, bool) {
	if name == c.db.Name {
		return c.db, true
	}
	return nil, false
}
func (c *testCatalog) Table(dbID uint32, name string) (*shard.Table, bool) {
	for _, t := range c.tables {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}
func (c *testCatalog) Tables(dbID uint32) []shard.Table {
	var out []shard.Table
	for _, t := range c.tables {
		out = append(out, *t)
	}
	return out
}
func (c *testCatalog) Shards(dbID uint32, minTime, maxTime int64) []shard.ShardInfo {
	var out []shard.ShardInfo
	for _, s := range c.shards {
		if s.PartitionStart < maxTime && s.PartitionEnd > minTime {
			out = append(out, s)
		}
	}
	return out
}
func (c *testCatalog) VirtualTable(schema, name string) (VirtualTable, bool) { return nil, false }

func parseSQL(t testing.TB, sql string) ast.StmtNode {
	t.Helper()
	p := parser.New()
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModePipesAsConcat | mysql.ModeNoBackslashEscapes)
	stmt, err := p.ParseOneStmt(sql, "", "")
	if err != nil {
		t.Fatalf("parse %q: %v", sql, err)
	}
	return stmt
}

var testNow = time.Date(2016, 1, 1, 12, 0, 0, 0, time.UTC).UnixMicro()

// envFromArgs reads "params=a,b" (text values) and "describe".
func envFromArgs(d *datadriven.TestData) *Env {
	env := &Env{Database: "benchmark", Now: testNow, User: "alice", Params: []types.Datum{}}
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "describe":
			env.Params = nil
		case "params", "textparams":
			t := types.UnknownLit
			if a.Key == "textparams" {
				t = types.Varchar
			}
			for _, v := range a.Vals {
				env.Params = append(env.Params, types.Datum{T: t, S: v})
			}
		}
	}
	return env
}

func fmtCols(cols []Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf("%s:%s", c.Name, typeName(c.Type))
	}
	return strings.Join(parts, ", ")
}

func TestDataDriven(t *testing.T) {
	for _, name := range []string{"explain", "norm", "columns", "eval", "insert"} {
		path := "testdata/" + name
		cat := newTestCatalog()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			env := envFromArgs(d)
			switch d.Cmd {
			case "explain":
				p, err := Build(parseSQL(t, d.Input), cat, env)
				if err != nil {
					return errString(err)
				}
				return strings.Join(p.Explain(), "\n") + "\n"
			case "columns":
				p, err := Build(parseSQL(t, d.Input), cat, env)
				if err != nil {
					return errString(err)
				}
				out := fmtCols(p.Columns()) + "\n"
				if pt := p.ParamTypes(); len(pt) > 0 {
					s := make([]string, len(pt))
					for i, o := range pt {
						s[i] = fmt.Sprint(o)
					}
					out += "params: " + strings.Join(s, ", ") + "\n"
				}
				return out
			case "norm":
				// Predicate extraction: time range, series filter, residual
				// filter, slot-group values and the shards kept.
				p, err := Build(parseSQL(t, d.Input), cat, env)
				if err != nil {
					return errString(err)
				}
				s := findScan(p.Root)
				if s == nil {
					return "no scan\n"
				}
				var sb strings.Builder
				fmt.Fprintf(&sb, "time: [%s, %s)\n", fmtTime(s.MinTime), fmtTime(s.MaxTime))
				fmt.Fprintf(&sb, "series filter: %v\n", exprOrNone(s.TagFilter))
				fmt.Fprintf(&sb, "point filter: %v\n", exprOrNone(s.Filter))
				if s.SlotValues != nil {
					vals := append([]string(nil), s.SlotValues...)
					sort.Strings(vals)
					fmt.Fprintf(&sb, "slot values: %s\n", strings.Join(vals, ", "))
				}
				ids := make([]string, len(s.Shards))
				for i, sh := range s.Shards {
					ids[i] = fmt.Sprint(sh.ID)
				}
				fmt.Fprintf(&sb, "shards: [%s]\n", strings.Join(ids, " "))
				return sb.String()
			case "eval":
				// Constant expressions: SELECT without FROM, evaluated here.
				p, err := Build(parseSQL(t, d.Input), cat, env)
				if err != nil {
					return errString(err)
				}
				v, ok := p.Root.(*Project)
				if !ok {
					return fmt.Sprintf("root is %T\n", p.Root)
				}
				var sb strings.Builder
				sb.WriteString(fmtCols(p.Columns()) + "\n")
				for i, e := range v.Exprs {
					r, err := e.Eval(&EvalContext{}, nil)
					if err != nil {
						sb.WriteString(errString(err))
						continue
					}
					_ = i
					if r.Null {
						sb.WriteString("NULL\n")
					} else {
						sb.WriteString(string(types.FormatText(nil, r)) + "\n")
					}
				}
				return sb.String()
			case "insert":
				ins, err := BuildInsert(parseSQL(t, d.Input).(*ast.InsertStmt), cat, env)
				if err != nil {
					return errString(err)
				}
				var sb strings.Builder
				for _, r := range ins.Rows {
					parts := make([]string, len(r))
					for i, x := range r {
						if x.Null {
							parts[i] = "NULL"
						} else {
							parts[i] = string(types.FormatText(nil, x))
						}
					}
					sb.WriteString(strings.Join(parts, "|") + "\n")
				}
				if len(ins.ParamTypes) > 0 {
					fmt.Fprintf(&sb, "params: %v\n", ins.ParamTypes)
				}
				return sb.String()
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	}
}

func errString(err error) string {
	return fmt.Sprintf("error %s: %s\n", pgerror.Code(err), err.Error())
}

func exprOrNone(e Expr) string {
	if e == nil {
		return "none"
	}
	return e.String()
}

func findScan(n Node) *Scan {
	switch x := n.(type) {
	case *Scan:
		return x
	case *Filter:
		return findScan(x.Input)
	case *Project:
		return findScan(x.Input)
	case *Aggregate:
		return findScan(x.Input)
	case *Sort:
		return findScan(x.Input)
	case *Limit:
		return findScan(x.Input)
	case *Distinct:
		return findScan(x.Input)
	case *DistinctOn:
		return findScan(x.Input)
	}
	return nil
}

var _ = math.MaxInt64
