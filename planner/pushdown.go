package planner

import (
	"math"
	"sort"
	"strings"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/types"
)

// pushFilter splits a WHERE clause over a scan into the time range (bounds
// on the time column with constant operands), the series filter (conjuncts
// that read only tags) and the residual per-point filter.
func (b *builder) pushFilter(s *Scan, where Expr) error {
	var tagC, rest []Expr
	for _, c := range conjuncts(where) {
		if s.timeBound(c) {
			continue
		}
		cols := map[int]bool{}
		colsUsed(c, cols)
		onlyTags := len(cols) > 0
		for i := range cols {
			if !s.Table.IsTag(i) {
				onlyTags = false
			}
		}
		if onlyTags {
			tagC = append(tagC, c)
		} else {
			rest = append(rest, c)
		}
	}
	s.TagFilter = andOf(tagC)
	s.Filter = andOf(rest)
	if len(s.Table.Tags) > 0 {
		s.SlotValues = distKeyValues(tagC, s.Table.Tags[0])
	}
	return nil
}

// timeBound narrows the scan's time range by c if c is "time op constant";
// it reports whether c was absorbed.
func (s *Scan) timeBound(c Expr) bool {
	bo, ok := c.(*BinOp)
	if !ok || !bo.Op.isCompare() || bo.Op == OpNE {
		return false
	}
	op := bo.Op
	col, val := bo.L, bo.R
	if _, isCol := col.(*ColRef); !isCol {
		col, val = val, col
		switch op {
		case OpLT:
			op = OpGT
		case OpLE:
			op = OpGE
		case OpGT:
			op = OpLT
		case OpGE:
			op = OpLE
		}
	}
	cr, ok := col.(*ColRef)
	if !ok || cr.Idx != s.Table.TimeCol || !isConstExpr(val) {
		return false
	}
	d, err := val.Eval(nil, nil)
	if err != nil || d.Null || !isTimeType(d.T) {
		return false
	}
	v := timeUs(d)
	switch op {
	case OpEQ:
		s.MinTime = max(s.MinTime, v)
		s.MaxTime = min(s.MaxTime, satAdd(v, 1))
	case OpGE:
		s.MinTime = max(s.MinTime, v)
	case OpGT:
		s.MinTime = max(s.MinTime, satAdd(v, 1))
	case OpLT:
		s.MaxTime = min(s.MaxTime, v)
	case OpLE:
		s.MaxTime = min(s.MaxTime, satAdd(v, 1))
	}
	return true
}

func satAdd(v, d int64) int64 {
	if v > math.MaxInt64-d {
		return math.MaxInt64
	}
	return v + d
}

// distKeyValues returns the constant values the distribution-key tag is
// restricted to by tag conjuncts (= or IN), or nil.
func distKeyValues(conj []Expr, tagCol int) []string {
	var out []string
	found := false
	for _, c := range conj {
		var vals []string
		ok := false
		switch x := c.(type) {
		case *BinOp:
			if x.Op == OpEQ {
				l, r := x.L, x.R
				if _, isCol := l.(*ColRef); !isCol {
					l, r = r, l
				}
				if cr, isCol := l.(*ColRef); isCol && cr.Idx == tagCol {
					if k, isConst := r.(*Const); isConst && !k.D.Null {
						vals, ok = []string{formatText(k.D)}, true
					}
				}
			}
		case *InList:
			if cr, isCol := x.E.(*ColRef); isCol && cr.Idx == tagCol && !x.Not && x.set != nil {
				ok = true
				for _, l := range x.List {
					vals = append(vals, formatText(l.(*Const).D))
				}
			}
		}
		if !ok {
			continue
		}
		if !found {
			out, found = vals, true
			continue
		}
		// Intersect with earlier restrictions.
		var keep []string
		for _, v := range out {
			for _, w := range vals {
				if v == w {
					keep = append(keep, v)
					break
				}
			}
		}
		out = keep
	}
	if found && out == nil {
		out = []string{}
	}
	return out
}

// bucketPattern recognises an expression that maps the time column to the
// start of a fixed-width bucket: time itself, time_bucket, date_bin,
// date_trunc with a fixed unit, and Grafana's floor(extract(epoch from
// time)/N)*N.
func bucketPattern(e Expr, timeIdx int) (w, origin int64, ok bool) {
	isTime := func(x Expr) bool {
		c, ok := x.(*ColRef)
		return ok && c.Idx == timeIdx
	}
	constOf := func(x Expr) (types.Datum, bool) {
		c, ok := x.(*Const)
		if !ok || c.D.Null {
			return types.Datum{}, false
		}
		return c.D, true
	}
	switch x := e.(type) {
	case *ColRef:
		if isTime(x) {
			return 1, 0, true
		}
	case *Func:
		switch x.Name {
		case "time_bucket", "date_bin":
			if len(x.Args) < 2 || !isTime(x.Args[1]) {
				return 0, 0, false
			}
			iv, ok := constOf(x.Args[0])
			if !ok || iv.T != types.Interval {
				return 0, 0, false
			}
			w, ok := intervalWidth(iv)
			if !ok || w <= 0 {
				return 0, 0, false
			}
			origin := int64(timescaleOrigin)
			if x.Name == "date_bin" && len(x.Args) < 3 {
				return 0, 0, false
			}
			if len(x.Args) > 2 {
				o, ok := constOf(x.Args[2])
				switch {
				case !ok:
					return 0, 0, false
				case o.T == types.Interval && x.Name == "time_bucket":
					off, ok := intervalWidth(o)
					if !ok {
						return 0, 0, false
					}
					origin += off
				case isTimeType(o.T):
					origin = timeUs(o)
				default:
					return 0, 0, false
				}
			}
			return w, origin, true
		case "date_trunc":
			if len(x.Args) != 2 || !isTime(x.Args[1]) {
				return 0, 0, false
			}
			u, ok := constOf(x.Args[0])
			if !ok {
				return 0, 0, false
			}
			return truncUnitWidth(formatText(u))
		}
	case *BinOp:
		// floor(extract(epoch from time) / N) * N
		if x.Op != OpMul {
			return 0, 0, false
		}
		n1, ok := constOf(x.R)
		if !ok || !isNumberType(n1.T) {
			return 0, 0, false
		}
		fl, ok := x.L.(*Func)
		if !ok || fl.Name != "floor" || len(fl.Args) != 1 {
			return 0, 0, false
		}
		div, ok := fl.Args[0].(*BinOp)
		if !ok || div.Op != OpDiv {
			return 0, 0, false
		}
		n2, ok := constOf(div.R)
		if !ok || !isNumberType(n2.T) || Compare(n1, n2) != 0 {
			return 0, 0, false
		}
		ex, ok := div.L.(*Func)
		if !ok || (ex.Name != "__lb_extract" && ex.Name != "date_part") || len(ex.Args) != 2 || !isTime(ex.Args[1]) {
			return 0, 0, false
		}
		f, ok := constOf(ex.Args[0])
		if !ok || !strings.EqualFold(formatText(f), "epoch") {
			return 0, 0, false
		}
		secs := floatOf(n1)
		us := secs * 1e6
		if us <= 0 || us != math.Trunc(us) || us > 1e17 {
			return 0, 0, false
		}
		return int64(us), 0, true
	}
	return 0, 0, false
}

// timeKey reports whether e depends on the time column only through
// bucketing sub-expressions of one common (width, origin).
func timeKey(e Expr, timeIdx int) (w, origin int64, ok bool) {
	found, good := false, true
	var visit func(x Expr)
	visit = func(x Expr) {
		if !good {
			return
		}
		if bw, bo, m := bucketPattern(x, timeIdx); m {
			if found && (bw != w || bo != origin) {
				good = false
			}
			w, origin, found = bw, bo, true
			return
		}
		switch y := x.(type) {
		case *ColRef, *InSubquery, *ScalarSubquery, *AggCall, *ParamRef:
			good = false
			return
		case *Func:
			if y.fn.volatile {
				good = false
				return
			}
		}
		for _, c := range exprChildren(x) {
			visit(c)
		}
	}
	visit(e)
	return w, origin, good && found
}

// pushAggregate marks agg as computed by partial aggregation in the scan
// fragments when its input is a plain scan and every group key and
// aggregate is pushable.
func (b *builder) pushAggregate(agg *Aggregate) {
	s, ok := agg.Input.(*Scan)
	if !ok || s.Reverse || s.Limit > 0 {
		return
	}
	t := s.Table
	ba := &BucketAgg{StatsOK: s.Filter == nil}
	haveTime := false
	for _, g := range agg.GroupBy {
		if c, ok := g.(*ColRef); ok && t.IsTag(c.Idx) {
			for ti, tc := range t.Tags {
				if tc == c.Idx {
					ba.Groups = append(ba.Groups, BucketGroup{Kind: GroupTag, Tag: ti})
				}
			}
			continue
		}
		w, o, ok := timeKey(g, t.TimeCol)
		if !ok || (haveTime && (w != ba.Width || o != ba.Origin)) {
			return
		}
		haveTime = true
		ba.Width, ba.Origin = w, o
		ba.Groups = append(ba.Groups, BucketGroup{Kind: GroupTimeBucket, Expr: g})
	}
	isFloatField := func(e Expr) (int, bool) {
		c, ok := e.(*ColRef)
		if !ok || c.Idx == t.TimeCol || t.IsTag(c.Idx) {
			return 0, false
		}
		ct := t.Columns[c.Idx].Type
		return c.Idx, ct == shard.TypeFloat8 || ct == shard.TypeFloat4
	}
	for _, a := range agg.Aggs {
		if a.Distinct {
			return
		}
		pa := PushedAgg{Col: -1, Field: -1, T: a.T}
		switch a.Name {
		case "count":
			if len(a.Args) == 0 {
				pa.Kind = AggCountStar
				break
			}
			c, ok := a.Args[0].(*ColRef)
			if !ok {
				return
			}
			switch {
			case c.Idx == t.TimeCol:
				pa.Kind = AggCountStar
			case t.IsTag(c.Idx):
				return
			default:
				pa.Kind, pa.Col = AggCount, c.Idx
			}
		case "sum", "avg", "min", "max", "first", "last":
			if len(a.Args) == 0 {
				return
			}
			col, ok := isFloatField(a.Args[0])
			if !ok {
				return
			}
			if a.Name == "sum" && t.Columns[col].Type != shard.TypeFloat8 {
				return
			}
			if len(a.Args) > 1 {
				c, ok := a.Args[1].(*ColRef)
				if !ok || c.Idx != t.TimeCol || len(a.Args) > 2 {
					return
				}
			}
			pa.Col = col
			pa.Kind = map[string]AggKind{"sum": AggSum, "avg": AggAvg, "min": AggMin, "max": AggMax, "first": AggFirst, "last": AggLast}[a.Name]
			if pa.Kind == AggFirst || pa.Kind == AggLast {
				ba.StatsOK = false
			}
		default:
			return
		}
		ba.Aggs = append(ba.Aggs, pa)
	}
	if !haveTime {
		ba.Width = 0
	}
	agg.Pushed = ba
	if u := b.useOf(s); u != nil {
		u.aggs = append(u.aggs, ba)
	}
}

// pushLastPoint turns DISTINCT ON (tags) ... ORDER BY tags, time DESC over
// a plain scan into a per-series newest-point scan (Reverse, Limit 1).
func (b *builder) pushLastPoint(proj *Project, keys []SortKey, donKeys []int) {
	s, ok := proj.Input.(*Scan)
	if !ok || s.Filter != nil || len(keys) <= len(donKeys) {
		return
	}
	for _, k := range donKeys {
		c, ok := proj.Exprs[k].(*ColRef)
		if !ok || !s.Table.IsTag(c.Idx) {
			return
		}
	}
	tk := keys[len(donKeys)]
	c, ok := proj.Exprs[tk.Idx].(*ColRef)
	if !ok || c.Idx != s.Table.TimeCol {
		return
	}
	s.Reverse = tk.Desc
	s.Limit = 1
}

// finishScans fixes every scan's fetched fields and prunes its shards.
func (b *builder) finishScans() {
	for _, u := range b.scans {
		s := u.scan
		var fields []int
		for i := range s.Table.Columns {
			if u.used[i] && i != s.Table.TimeCol && !s.Table.IsTag(i) {
				fields = append(fields, i)
			}
		}
		for _, ba := range u.aggs {
			for _, pa := range ba.Aggs {
				if pa.Col >= 0 && !u.used[pa.Col] {
					fields = append(fields, pa.Col)
					u.used[pa.Col] = true
				}
			}
		}
		sort.Ints(fields)
		s.FieldCols = fields
		for _, ba := range u.aggs {
			for i := range ba.Aggs {
				ba.Aggs[i].Field = -1
				for j, f := range fields {
					if f == ba.Aggs[i].Col {
						ba.Aggs[i].Field = j
					}
				}
			}
		}
		s.Shards = b.pruneShards(s)
	}
}

func (b *builder) pruneShards(s *Scan) []shard.ShardInfo {
	if s.MinTime >= s.MaxTime || (s.SlotValues != nil && len(s.SlotValues) == 0) {
		return nil
	}
	all := b.cat.Shards(s.Database.ID, s.MinTime, s.MaxTime)
	if s.SlotValues == nil {
		return all
	}
	slots := make([]int, len(s.SlotValues))
	for i, v := range s.SlotValues {
		slots[i] = shard.Slot(v)
	}
	var out []shard.ShardInfo
	for _, sh := range all {
		for _, sl := range slots {
			if shard.SlotGroup(sl, sh.SlotGroups) == sh.SlotGroup {
				out = append(out, sh)
				break
			}
		}
	}
	return out
}
