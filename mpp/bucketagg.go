package mpp

import (
	"context"
	"math"
	"strings"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// aggState is the partial state of one pushed aggregate in one group.
type aggState struct {
	n          int64
	sum        float64
	min, max   float64
	firstT     int64
	lastT      int64
	first      float64
	last       float64
	firstNull  bool
	lastNull   bool
	haveBounds bool // firstT/lastT set
}

func (s *aggState) merge(o *aggState) {
	if o.n > 0 || o.haveBounds {
		if s.n == 0 || o.min < s.min {
			s.min = o.min
		}
		if s.n == 0 || o.max > s.max {
			s.max = o.max
		}
	}
	s.n += o.n
	s.sum += o.sum
	if o.haveBounds {
		if !s.haveBounds || o.firstT < s.firstT {
			s.firstT, s.first, s.firstNull = o.firstT, o.first, o.firstNull
		}
		if !s.haveBounds || o.lastT > s.lastT {
			s.lastT, s.last, s.lastNull = o.lastT, o.last, o.lastNull
		}
		s.haveBounds = true
	}
}

// groupKey identifies a partial group inside one fragment.
type groupKey struct {
	tags   int32 // index into fragAgg.tagVals
	bucket int64
}

// fragAgg aggregates the batches of one fragment.
type fragAgg struct {
	ba       *planner.BucketAgg
	naggs    int
	tagIndex map[string]int32
	tagVals  [][]string
	series   map[uint64]int32
	groups   map[groupKey]int32
	keys     []groupKey
	states   []aggState // len(keys) * naggs
	filter   *fragment  // for residual filters; nil without one
	keyBuf   strings.Builder
	lastKey  groupKey
	lastIdx  int32
	haveLast bool
}

func newFragAgg(ba *planner.BucketAgg) *fragAgg {
	return &fragAgg{ba: ba, naggs: len(ba.Aggs), tagIndex: map[string]int32{}, series: map[uint64]int32{}, groups: map[groupKey]int32{}}
}

func (a *fragAgg) tagGroup(b *store.SeriesBatch) int32 {
	if g, ok := a.series[b.SeriesID]; ok {
		return g
	}
	a.keyBuf.Reset()
	vals := make([]string, 0, len(a.ba.Groups))
	for _, g := range a.ba.Groups {
		if g.Kind != planner.GroupTag {
			continue
		}
		v := ""
		if g.Tag < len(b.Tags) {
			v = b.Tags[g.Tag]
		}
		vals = append(vals, v)
		a.keyBuf.WriteString(v)
		a.keyBuf.WriteByte(0)
	}
	k := a.keyBuf.String()
	g, ok := a.tagIndex[k]
	if !ok {
		g = int32(len(a.tagVals))
		a.tagIndex[k] = g
		a.tagVals = append(a.tagVals, vals)
	}
	a.series[b.SeriesID] = g
	return g
}

func (a *fragAgg) group(tags int32, bucket int64) []aggState {
	k := groupKey{tags, bucket}
	if a.haveLast && a.lastKey == k {
		i := int(a.lastIdx) * a.naggs
		return a.states[i : i+a.naggs]
	}
	idx, ok := a.groups[k]
	if !ok {
		idx = int32(len(a.keys))
		a.groups[k] = idx
		a.keys = append(a.keys, k)
		for range a.naggs {
			a.states = append(a.states, aggState{})
		}
	}
	a.lastKey, a.lastIdx, a.haveLast = k, idx, true
	i := int(idx) * a.naggs
	return a.states[i : i+a.naggs]
}

func (a *fragAgg) bucketOf(t int64) int64 {
	w := a.ba.Width
	if w <= 0 {
		return 0
	}
	q := (t - a.ba.Origin) / w
	if (t-a.ba.Origin)%w != 0 && t < a.ba.Origin {
		q--
	}
	return a.ba.Origin + q*w
}

// useStats is ScanRequest.UseStats: a block is taken as statistics when
// all its points fall into one bucket.
func (a *fragAgg) useStats(minT, maxT int64) bool {
	return a.ba.Width <= 0 || a.bucketOf(minT) == a.bucketOf(maxT)
}

func (a *fragAgg) addStats(tg int32, st *store.BlockStats) {
	states := a.group(tg, a.bucketOf(st.MinTime))
	for i := range a.ba.Aggs {
		pa := &a.ba.Aggs[i]
		s := &states[i]
		switch pa.Kind {
		case planner.AggCountStar:
			s.n += int64(st.Rows)
			continue
		}
		if pa.Field < 0 || pa.Field >= len(st.Cols) {
			continue
		}
		cs := &st.Cols[pa.Field]
		if cs.Count == 0 {
			continue
		}
		switch pa.Kind {
		case planner.AggCount:
			s.n += int64(cs.Count)
		case planner.AggSum, planner.AggAvg:
			s.n += int64(cs.Count)
			s.sum += cs.Sum
		case planner.AggMin, planner.AggMax:
			if s.n == 0 || cs.Min < s.min {
				s.min = cs.Min
			}
			if s.n == 0 || cs.Max > s.max {
				s.max = cs.Max
			}
			s.n += int64(cs.Count)
		}
	}
}

// addBatch folds a run of points into the groups, one bucket run at a time,
// with tight loops over the column vectors.
func (a *fragAgg) addBatch(tg int32, b *store.SeriesBatch) error {
	times := b.Times
	n := len(times)
	var mask []bool
	if a.filter != nil {
		mask = make([]bool, n)
		any := false
		for i := range n {
			ok, err := a.filter.accept(b, i)
			if err != nil {
				return err
			}
			mask[i] = ok
			any = any || ok
		}
		if !any {
			return nil
		}
	}
	w := a.ba.Width
	for i := 0; i < n; {
		bucket := a.bucketOf(times[i])
		j := n
		if w > 0 {
			end := bucket + w
			j = i + 1
			if b.Stats == nil && len(times) > 1 && times[n-1] < times[0] {
				// Reverse order: the run ends when time drops below bucket.
				for j < n && times[j] >= bucket {
					j++
				}
			} else {
				for j < n && times[j] < end {
					j++
				}
			}
		}
		if mask != nil && !anyTrue(mask[i:j]) {
			i = j
			continue
		}
		states := a.group(tg, bucket)
		for k := range a.ba.Aggs {
			a.addRun(&a.ba.Aggs[k], &states[k], b, i, j, mask)
		}
		i = j
	}
	return nil
}

func (a *fragAgg) addRun(pa *planner.PushedAgg, s *aggState, b *store.SeriesBatch, i, j int, mask []bool) {
	if pa.Kind == planner.AggCountStar {
		if mask == nil {
			s.n += int64(j - i)
			return
		}
		for k := i; k < j; k++ {
			if mask[k] {
				s.n++
			}
		}
		return
	}
	if pa.Field < 0 || pa.Field >= len(b.Fields) {
		return
	}
	v := &b.Fields[pa.Field]
	if pa.Kind == planner.AggCount && v.F64 == nil {
		// count(field) of a text, numeric, integer or bool field: only the
		// NULL bitmap matters. A column the series never had has no values.
		if v.Len() == 0 {
			return
		}
		for k := i; k < j; k++ {
			if (mask == nil || mask[k]) && !v.IsNull(k) {
				s.n++
			}
		}
		return
	}
	vals := v.F64
	if vals == nil {
		// Column absent in this series: all NULL.
		if pa.Kind == planner.AggFirst || pa.Kind == planner.AggLast {
			for k := i; k < j; k++ {
				if mask == nil || mask[k] {
					s.bookend(b.Times[k], 0, true)
				}
			}
		}
		return
	}
	vals = vals[i:j]
	if mask == nil && v.Null == nil {
		switch pa.Kind {
		case planner.AggCount:
			s.n += int64(len(vals))
		case planner.AggSum, planner.AggAvg:
			sum := 0.0
			for _, x := range vals {
				sum += x
			}
			s.sum += sum
			s.n += int64(len(vals))
		case planner.AggMax:
			m := vals[0]
			if s.n > 0 && s.max > m {
				m = s.max
			}
			for _, x := range vals {
				if x > m || math.IsNaN(x) {
					m = x
				}
			}
			s.max = m
			if s.n == 0 {
				s.min = m
			}
			s.n += int64(len(vals))
		case planner.AggMin:
			m := vals[0]
			if s.n > 0 && s.min < m {
				m = s.min
			}
			for _, x := range vals {
				if x < m {
					m = x
				}
			}
			s.min = m
			if s.n == 0 {
				s.max = m
			}
			s.n += int64(len(vals))
		case planner.AggFirst, planner.AggLast:
			ts := b.Times[i:j]
			for k, x := range vals {
				s.bookend(ts[k], x, false)
			}
		}
		return
	}
	for k := i; k < j; k++ {
		if mask != nil && !mask[k] {
			continue
		}
		null := v.Null != nil && v.Null[k]
		x := v.F64[k]
		switch pa.Kind {
		case planner.AggFirst, planner.AggLast:
			s.bookend(b.Times[k], x, null)
			continue
		}
		if null {
			continue
		}
		switch pa.Kind {
		case planner.AggSum, planner.AggAvg:
			s.sum += x
		case planner.AggMax:
			if s.n == 0 || x > s.max || math.IsNaN(x) {
				s.max = x
			}
		case planner.AggMin:
			if s.n == 0 || x < s.min {
				s.min = x
			}
		}
		s.n++
	}
}

func (s *aggState) bookend(t int64, x float64, null bool) {
	if !s.haveBounds || t < s.firstT {
		s.firstT, s.first, s.firstNull = t, x, null
	}
	if !s.haveBounds || t > s.lastT {
		s.lastT, s.last, s.lastNull = t, x, null
	}
	s.haveBounds = true
	s.n++
}

func finalize(pa *planner.PushedAgg, s *aggState) types.Datum {
	switch pa.Kind {
	case planner.AggCountStar, planner.AggCount:
		return types.NewInt(types.Int8, s.n)
	}
	if s.n == 0 {
		return types.NullOf(pa.T)
	}
	switch pa.Kind {
	case planner.AggSum:
		return types.Datum{T: pa.T, F: s.sum}
	case planner.AggAvg:
		return types.NewFloat8(s.sum / float64(s.n))
	case planner.AggMin:
		return types.Datum{T: pa.T, F: s.min}
	case planner.AggMax:
		return types.Datum{T: pa.T, F: s.max}
	case planner.AggFirst:
		if s.firstNull {
			return types.NullOf(pa.T)
		}
		return types.Datum{T: pa.T, F: s.first}
	case planner.AggLast:
		if s.lastNull {
			return types.NullOf(pa.T)
		}
		return types.Datum{T: pa.T, F: s.last}
	}
	return types.NullOf(pa.T)
}

// pushedAgg runs the partial aggregation in every fragment, then merges the
// partial groups by their final GROUP BY values and finalises.
func (r *runner) pushedAgg(x *planner.Aggregate, s *planner.Scan, emit func([]types.Datum) error) error {
	ba := x.Pushed
	parts := make([]*fragAgg, len(s.Shards))
	err := r.forEachShard(s, func(ctx context.Context, idx int, sh shard.ShardInfo) error {
		f, fa := newFragmentAgg(r.ec, s, ba)
		parts[idx] = fa
		sc, err := r.scanner(ctx, f, sh)
		if err != nil {
			return err
		}
		if pa, ok := sc.(PartialAggregator); ok {
			// The shard is on another node: aggregate there.
			data, err := pa.PartialAggregate(ctx)
			if err != nil {
				return err
			}
			if err := fa.decodePartial(data); err != nil {
				return pgerror.Wrapf(err, pgerror.CodeInternal, "partial aggregate of shard %d", sh.ID)
			}
			return nil
		}
		return r.scanWith(ctx, f, sc, fa.consume(f))
	})
	if err != nil {
		return err
	}
	return r.mergeAgg(x, s, parts, emit)
}

type finalGroup struct {
	vals   []types.Datum
	states []aggState
}

func (r *runner) mergeAgg(x *planner.Aggregate, s *planner.Scan, parts []*fragAgg, emit func([]types.Datum) error) error {
	ba := x.Pushed
	t := s.Table
	ng := len(ba.Groups)
	timeT := types.OfColType(t.Columns[t.TimeCol].Type)
	row := make([]types.Datum, len(t.Columns))
	groups := map[string]*finalGroup{}
	var order []*finalGroup
	var sb strings.Builder
	vals := make([]types.Datum, ng)
	for _, fa := range parts {
		if fa == nil {
			continue
		}
		for gi, k := range fa.keys {
			if gi%4096 == 0 && r.ctx.Err() != nil {
				return canceled(r.ctx)
			}
			row[t.TimeCol] = types.Datum{T: timeT, I: k.bucket}
			ti := 0
			sb.Reset()
			for i, g := range ba.Groups {
				if g.Kind == planner.GroupTag {
					c := t.Tags[g.Tag]
					vals[i] = tagDatum(fa.tagVals[k.tags][ti], types.OfColType(t.Columns[c].Type))
					ti++
				} else {
					d, err := g.Expr.Eval(r.ec, row)
					if err != nil {
						return err
					}
					vals[i] = d
				}
				sb.WriteString(planner.HashKey(vals[i]))
				sb.WriteByte(0)
			}
			fg, ok := groups[sb.String()]
			if !ok {
				fg = &finalGroup{vals: append([]types.Datum(nil), vals...), states: make([]aggState, len(ba.Aggs))}
				groups[sb.String()] = fg
				order = append(order, fg)
			}
			st := fa.states[gi*fa.naggs : (gi+1)*fa.naggs]
			for i := range st {
				fg.states[i].merge(&st[i])
			}
		}
	}
	if ng == 0 && len(order) == 0 {
		order = append(order, &finalGroup{states: make([]aggState, len(ba.Aggs))})
	}
	for _, fg := range order {
		out := make([]types.Datum, 0, ng+len(ba.Aggs))
		out = append(out, fg.vals...)
		for i := range ba.Aggs {
			out = append(out, finalize(&ba.Aggs[i], &fg.states[i]))
		}
		if err := emit(out); err != nil {
			return err
		}
	}
	return nil
}

func anyTrue(m []bool) bool {
	for _, b := range m {
		if b {
			return true
		}
	}
	return false
}
