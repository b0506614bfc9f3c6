package planner

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/longboatdb/longboat/sql/types"
)

// Explain returns the plan as indented text lines: operators top-down, and
// for each scan its fragments (shard IDs, time range, series filter,
// fetched fields, pushed-down aggregates, per-series limits).
func (p *Plan) Explain() []string {
	var lines []string
	for i, sq := range p.Subqueries {
		lines = append(lines, fmt.Sprintf("Subquery $subquery%d", i+1))
		explainNode(sq, 1, &lines)
	}
	explainNode(p.Root, 0, &lines)
	return lines
}

func fmtTime(us int64) string {
	switch us {
	case math.MinInt64:
		return "-inf"
	case math.MaxInt64:
		return "+inf"
	}
	return string(types.FormatText(nil, types.NewTimestamptz(us)))
}

func fmtWidth(us int64) string {
	return (time.Duration(us) * time.Microsecond).String()
}

func colNames(cols []Column, idx []int) string {
	parts := make([]string, len(idx))
	for i, j := range idx {
		parts[i] = cols[j].Name
	}
	return strings.Join(parts, ", ")
}

func explainNode(n Node, depth int, out *[]string) {
	ind := strings.Repeat("  ", depth)
	add := func(format string, args ...any) { *out = append(*out, ind+fmt.Sprintf(format, args...)) }
	detail := func(format string, args ...any) { *out = append(*out, ind+"  "+fmt.Sprintf(format, args...)) }
	switch x := n.(type) {
	case *Scan:
		explainScan(x, nil, depth, out)
	case *VirtualScan:
		name := x.Name
		if x.Schema != "" {
			name = x.Schema + "." + name
		}
		add("Virtual Scan %s", name)
	case *Values:
		add("Values (%d rows)", len(x.Rows))
	case *Filter:
		add("Filter %s", x.Cond)
		explainNode(x.Input, depth+1, out)
	case *Project:
		parts := make([]string, len(x.Exprs))
		for i, e := range x.Exprs {
			parts[i] = e.String()
			if x.Cols[i].Name != e.String() {
				parts[i] += " AS " + x.Cols[i].Name
			}
		}
		add("Project %s", strings.Join(parts, ", "))
		explainNode(x.Input, depth+1, out)
	case *Aggregate:
		parts := make([]string, len(x.GroupBy))
		for i, g := range x.GroupBy {
			parts[i] = g.String()
		}
		aggs := make([]string, len(x.Aggs))
		for i, a := range x.Aggs {
			aggs[i] = a.String()
		}
		if x.Pushed != nil {
			add("Merge Partial Aggregate group by [%s] aggregates [%s]", strings.Join(parts, ", "), strings.Join(aggs, ", "))
			if s, ok := x.Input.(*Scan); ok {
				explainScan(s, x.Pushed, depth+1, out)
				return
			}
		} else {
			add("Hash Aggregate group by [%s] aggregates [%s]", strings.Join(parts, ", "), strings.Join(aggs, ", "))
		}
		explainNode(x.Input, depth+1, out)
	case *Sort:
		cols := x.Input.Columns()
		parts := make([]string, len(x.Keys))
		for i, k := range x.Keys {
			parts[i] = cols[k.Idx].Name
			if k.Desc {
				parts[i] += " DESC"
			}
			if k.NullsFirst != k.Desc {
				if k.NullsFirst {
					parts[i] += " NULLS FIRST"
				} else {
					parts[i] += " NULLS LAST"
				}
			}
		}
		if x.TopN > 0 {
			add("Top-N Sort (%d) by %s", x.TopN, strings.Join(parts, ", "))
		} else {
			add("Sort by %s", strings.Join(parts, ", "))
		}
		explainNode(x.Input, depth+1, out)
	case *Limit:
		if x.Count >= 0 {
			add("Limit %d offset %d", x.Count, x.Offset)
		} else {
			add("Offset %d", x.Offset)
		}
		explainNode(x.Input, depth+1, out)
	case *Distinct:
		add("Distinct")
		explainNode(x.Input, depth+1, out)
	case *GenerateSeries:
		step := "1"
		if x.Step != nil {
			step = x.Step.String()
		}
		add("Generate Series %s from %s to %s step %s", x.Col.Name, x.Start, x.Stop, step)
	case *Window:
		in := x.Input.Columns()
		add("Window %s() partition by [%s] order by [%s]", x.Func, colNames(in, x.Partition), colNames(in, x.Order))
		explainNode(x.Input, depth+1, out)
	case *DistinctOn:
		add("Distinct On (%s)", colNames(x.Input.Columns(), x.Keys))
		explainNode(x.Input, depth+1, out)
	case *Join:
		kind := [...]string{"Inner", "Left", "Right", "Cross"}[x.Kind]
		algo := "Nested Loop"
		if len(x.LeftKeys) > 0 {
			algo = "Hash"
		}
		on := ""
		if x.On != nil {
			on = " on " + x.On.String()
		}
		add("%s %s Join%s", algo, kind, on)
		explainNode(x.Left, depth+1, out)
		explainNode(x.Right, depth+1, out)
	case *UnionAll:
		add("Union All")
		for _, in := range x.Inputs {
			explainNode(in, depth+1, out)
		}
	default:
		add("%T", n)
	}
	_ = detail
}

func explainScan(s *Scan, agg *BucketAgg, depth int, out *[]string) {
	ind := strings.Repeat("  ", depth)
	add := func(format string, args ...any) { *out = append(*out, ind+fmt.Sprintf(format, args...)) }
	ids := make([]string, len(s.Shards))
	for i, sh := range s.Shards {
		ids[i] = strconv.FormatUint(sh.ID, 10)
	}
	add("Scan %s: %d fragments, shards [%s]", s.Table.Name, len(s.Shards), strings.Join(ids, " "))
	add("  time range: [%s, %s)", fmtTime(s.MinTime), fmtTime(s.MaxTime))
	if s.SlotValues != nil {
		add("  slot groups pruned by %s IN (%s)", s.Table.Columns[s.Table.Tags[0]].Name, strings.Join(s.SlotValues, ", "))
	}
	if s.TagFilter != nil {
		add("  series filter: %s", s.TagFilter)
	}
	if s.Filter != nil {
		add("  point filter: %s", s.Filter)
	}
	add("  fields: [%s]", colNames(s.Cols, s.FieldCols))
	if s.Limit > 0 {
		dir := "oldest"
		if s.Reverse {
			dir = "newest"
		}
		add("  per series: %s %d point(s)", dir, s.Limit)
	}
	if agg != nil {
		var g []string
		for _, bg := range agg.Groups {
			if bg.Kind == GroupTag {
				g = append(g, s.Table.Columns[s.Table.Tags[bg.Tag]].Name)
			} else {
				g = append(g, "bucket")
			}
		}
		var a []string
		for _, pa := range agg.Aggs {
			if pa.Col < 0 {
				a = append(a, "count(*)")
			} else {
				a = append(a, pa.Kind.String()+"("+s.Table.Columns[pa.Col].Name+")")
			}
		}
		bucket := "none"
		if agg.Width > 0 {
			bucket = fmt.Sprintf("width %s origin %s", fmtWidth(agg.Width), fmtTime(agg.Origin))
		}
		add("  partial aggregate: bucket %s, group by [%s], aggregates [%s], block stats %v", bucket, strings.Join(g, ", "), strings.Join(a, ", "), agg.StatsOK)
	}
	for _, sh := range s.Shards {
		line := fmt.Sprintf("  shard %d: partition [%s, %s) slot group %d/%d", sh.ID, fmtTime(sh.PartitionStart), fmtTime(sh.PartitionEnd), sh.SlotGroup, sh.SlotGroups)
		if len(sh.Replicas) > 1 {
			// A cluster: where the fragment may run.
			reps := make([]string, len(sh.Replicas))
			for i, r := range sh.Replicas {
				reps[i] = fmt.Sprint(r)
			}
			line += " replicas on nodes " + strings.Join(reps, ",")
		}
		add("%s", line)
	}
}
