package mpp

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// Shards gives access to the replicas of shards. The session layer
// implements it (a local replica today, remote RPC later).
type Shards interface {
	// Scanner returns the scanner of one shard for the fragment ref names.
	// A local shard ignores ref; a remote one sends it so that the node
	// holding the shard can rebuild the fragment (see ServeFragment).
	Scanner(ctx context.Context, shardID uint64, ref FragmentRef) (Scanner, error)
}

// Scanner scans one shard (implemented by *store.Shard).
type Scanner interface {
	Scan(ctx context.Context, req *store.ScanRequest, fn func(*store.SeriesBatch) error) error
}

// Run executes p, calling emit once per result row (len(p.Columns())
// datums). emit owns the row it is given. Run returns a 57014 error when ctx
// is cancelled.
func Run(ctx context.Context, p *planner.Plan, src Shards, emit func(row []types.Datum) error) error {
	r := &runner{ctx: ctx, src: src, ec: newEvalContext(ctx), q: &query{}}
	for i, s := range ScanNodes(p) {
		if r.q.scanIdx == nil {
			r.q.scanIdx = make(map[*planner.Scan]int)
		}
		r.q.scanIdx[s] = i
	}
	err := r.run(p, emit)
	if err != nil && ctx.Err() != nil {
		return canceled(ctx)
	}
	return err
}

// newEvalContext returns the EvalContext of one run under ctx.
func newEvalContext(ctx context.Context) *planner.EvalContext {
	return &planner.EvalContext{Sleep: func(d time.Duration) error { return sleep(ctx, d) }}
}

// sleep waits for d or until ctx is done (then it returns the 57014 error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return canceled(ctx)
	}
}

func canceled(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return pgerror.Wrapf(ctx.Err(), pgerror.CodeQueryCanceled, "canceling statement due to statement timeout")
	}
	return pgerror.Wrapf(ctx.Err(), pgerror.CodeQueryCanceled, "canceling statement due to user request")
}

type runner struct {
	ctx context.Context
	src Shards
	ec  *planner.EvalContext
	q   *query
}

// query is what every fragment of one Run shares: the scans' ordinals and
// the subqueries' values (set before any scan of the root runs).
type query struct {
	scanIdx map[*planner.Scan]int
	subVals [][]types.Datum
}

func (r *runner) run(p *planner.Plan, emit func([]types.Datum) error) error {
	for _, sq := range p.Subqueries {
		var vals []types.Datum
		if err := r.exec(sq, func(row []types.Datum) error {
			if len(row) > 0 {
				vals = append(vals, row[0])
			}
			return nil
		}); err != nil {
			return err
		}
		r.ec.Subqueries = append(r.ec.Subqueries, planner.NewSubqueryResult(vals))
		r.q.subVals = append(r.q.subVals, vals)
	}
	return r.exec(p.Root, emit)
}

// stopError ends a producer early (LIMIT reached); each Limit has its own.
type stopError struct{}

func (*stopError) Error() string { return "mpp: limit reached" }

func (r *runner) exec(n planner.Node, emit func([]types.Datum) error) error {
	if err := r.ctx.Err(); err != nil {
		return canceled(r.ctx)
	}
	switch x := n.(type) {
	case *planner.Scan:
		return r.scan(x, emit)
	case *planner.VirtualScan:
		rows, err := x.Table.Rows(r.ctx)
		if err != nil {
			return err
		}
		for i, row := range rows {
			if i%1024 == 0 && r.ctx.Err() != nil {
				return canceled(r.ctx)
			}
			if err := emit(append([]types.Datum(nil), row...)); err != nil {
				return err
			}
		}
		return nil
	case *planner.Values:
		for _, exprs := range x.Rows {
			row := make([]types.Datum, len(exprs))
			for i, e := range exprs {
				d, err := e.Eval(r.ec, nil)
				if err != nil {
					return err
				}
				row[i] = d
			}
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	case *planner.Filter:
		return r.exec(x.Input, func(row []types.Datum) error {
			d, err := x.Cond.Eval(r.ec, row)
			if err != nil {
				return err
			}
			if planner.IsTrue(d) {
				return emit(row)
			}
			return nil
		})
	case *planner.Project:
		if isIdentity(x) {
			return r.exec(x.Input, emit)
		}
		return r.exec(x.Input, func(row []types.Datum) error {
			out := make([]types.Datum, len(x.Exprs))
			for i, e := range x.Exprs {
				d, err := e.Eval(r.ec, row)
				if err != nil {
					return err
				}
				out[i] = d
			}
			return emit(out)
		})
	case *planner.Aggregate:
		if x.Pushed != nil {
			if s, ok := x.Input.(*planner.Scan); ok {
				return r.pushedAgg(x, s, emit)
			}
		}
		return r.hashAgg(x, emit)
	case *planner.Sort:
		var rows [][]types.Datum
		if err := r.exec(x.Input, func(row []types.Datum) error {
			rows = append(rows, row)
			return nil
		}); err != nil {
			return err
		}
		sortRows(rows, x.Keys)
		if x.TopN > 0 && int64(len(rows)) > x.TopN {
			rows = rows[:x.TopN]
		}
		for _, row := range rows {
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	case *planner.Limit:
		if x.Count == 0 {
			return nil
		}
		stop := &stopError{}
		skipped, passed := int64(0), int64(0)
		err := r.exec(x.Input, func(row []types.Datum) error {
			if skipped < x.Offset {
				skipped++
				return nil
			}
			if err := emit(row); err != nil {
				return err
			}
			passed++
			if x.Count >= 0 && passed >= x.Count {
				return stop
			}
			return nil
		})
		if errors.Is(err, stop) {
			return nil
		}
		return err
	case *planner.Distinct:
		seen := map[string]struct{}{}
		var sb strings.Builder
		return r.exec(x.Input, func(row []types.Datum) error {
			sb.Reset()
			for _, d := range row[:x.NumCols] {
				sb.WriteString(planner.HashKey(d))
				sb.WriteByte(0)
			}
			k := sb.String()
			if _, ok := seen[k]; ok {
				return nil
			}
			seen[k] = struct{}{}
			return emit(row)
		})
	case *planner.Window:
		return r.window(x, emit)
	case *planner.GenerateSeries:
		return r.generateSeries(x, emit)
	case *planner.DistinctOn:
		var prev []types.Datum
		return r.exec(x.Input, func(row []types.Datum) error {
			if prev != nil && sameKeys(prev, row, x.Keys) {
				return nil
			}
			prev = row
			return emit(row)
		})
	case *planner.Join:
		return r.join(x, emit)
	case *planner.UnionAll:
		for _, in := range x.Inputs {
			if err := r.exec(in, emit); err != nil {
				return err
			}
		}
		return nil
	}
	return pgerror.Newf(pgerror.CodeInternal, "mpp: unknown plan node %T", n)
}

func sameKeys(a, b []types.Datum, keys []int) bool {
	for _, k := range keys {
		x, y := a[k], b[k]
		if x.Null != y.Null {
			return false
		}
		if !x.Null && planner.Compare(x, y) != 0 {
			return false
		}
	}
	return true
}

// compareRows orders two rows by keys (PostgreSQL NULL ordering: NULLs
// are larger than any value unless NullsFirst).
func compareRows(a, b []types.Datum, keys []planner.SortKey) int {
	for _, k := range keys {
		x, y := a[k.Idx], b[k.Idx]
		switch {
		case x.Null && y.Null:
			continue
		case x.Null:
			if k.NullsFirst {
				return -1
			}
			return 1
		case y.Null:
			if k.NullsFirst {
				return 1
			}
			return -1
		}
		c := planner.Compare(x, y)
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func sortRows(rows [][]types.Datum, keys []planner.SortKey) {
	sort.SliceStable(rows, func(i, j int) bool { return compareRows(rows[i], rows[j], keys) < 0 })
}

// hashAgg is the generic aggregation: group rows by the GROUP BY values,
// feed accumulators, emit one row per group in order of first appearance.
func (r *runner) hashAgg(x *planner.Aggregate, emit func([]types.Datum) error) error {
	type group struct {
		vals []types.Datum
		accs []planner.Accumulator
	}
	groups := map[string]*group{}
	var order []*group
	var sb strings.Builder
	ng := len(x.GroupBy)
	var args []types.Datum
	newGroup := func(vals []types.Datum) *group {
		g := &group{vals: vals, accs: make([]planner.Accumulator, len(x.Aggs))}
		for i, a := range x.Aggs {
			g.accs[i] = planner.NewAccumulator(a)
		}
		order = append(order, g)
		return g
	}
	err := r.exec(x.Input, func(row []types.Datum) error {
		vals := make([]types.Datum, ng)
		sb.Reset()
		for i, e := range x.GroupBy {
			d, err := e.Eval(r.ec, row)
			if err != nil {
				return err
			}
			vals[i] = d
			sb.WriteString(planner.HashKey(d))
			sb.WriteByte(0)
		}
		g, ok := groups[sb.String()]
		if !ok {
			g = newGroup(vals)
			groups[sb.String()] = g
		}
		for i, a := range x.Aggs {
			args = args[:0]
			for _, e := range a.Args {
				d, err := e.Eval(r.ec, row)
				if err != nil {
					return err
				}
				args = append(args, d)
			}
			if err := g.accs[i].Add(args); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ng == 0 && len(order) == 0 {
		newGroup(nil)
	}
	for _, g := range order {
		out := make([]types.Datum, 0, ng+len(x.Aggs))
		out = append(out, g.vals...)
		for _, a := range g.accs {
			d, err := a.Result()
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		if err := emit(out); err != nil {
			return err
		}
	}
	return nil
}

// join runs a hash join (equality keys) or a nested-loop join; the right
// input is materialised, so it should be the small side.
func (r *runner) join(x *planner.Join, emit func([]types.Datum) error) error {
	var right [][]types.Datum
	if err := r.exec(x.Right, func(row []types.Datum) error {
		right = append(right, row)
		return nil
	}); err != nil {
		return err
	}
	nl := len(x.Left.Columns())
	nr := len(x.Right.Columns())
	var index map[string][]int
	keyOf := func(row []types.Datum, keys []int) (string, bool) {
		var sb strings.Builder
		for _, k := range keys {
			if row[k].Null {
				return "", false
			}
			sb.WriteString(planner.HashKey(row[k]))
			sb.WriteByte(0)
		}
		return sb.String(), true
	}
	if len(x.LeftKeys) > 0 {
		index = map[string][]int{}
		for i, row := range right {
			if k, ok := keyOf(row, x.RightKeys); ok {
				index[k] = append(index[k], i)
			}
		}
	}
	matchedRight := make([]bool, len(right))
	all := make([]int, len(right))
	for i := range all {
		all[i] = i
	}
	err := r.exec(x.Left, func(lrow []types.Datum) error {
		cands := all
		if index != nil {
			k, ok := keyOf(lrow, x.LeftKeys)
			if !ok {
				cands = nil
			} else {
				cands = index[k]
			}
		}
		matched := false
		for _, ri := range cands {
			row := make([]types.Datum, 0, nl+nr)
			row = append(append(row, lrow...), right[ri]...)
			if x.On != nil {
				d, err := x.On.Eval(r.ec, row)
				if err != nil {
					return err
				}
				if !planner.IsTrue(d) {
					continue
				}
			}
			matched = true
			matchedRight[ri] = true
			if err := emit(row); err != nil {
				return err
			}
		}
		if !matched && x.Kind == planner.JoinLeft {
			row := make([]types.Datum, 0, nl+nr)
			row = append(row, lrow...)
			for _, c := range x.Right.Columns() {
				row = append(row, types.NullOf(c.Type))
			}
			return emit(row)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if x.Kind == planner.JoinRight {
		for i, m := range matchedRight {
			if m {
				continue
			}
			row := make([]types.Datum, 0, nl+nr)
			for _, c := range x.Left.Columns() {
				row = append(row, types.NullOf(c.Type))
			}
			row = append(row, right[i]...)
			if err := emit(row); err != nil {
				return err
			}
		}
	}
	return nil
}

// isIdentity reports whether a projection passes its input rows unchanged.
func isIdentity(p *planner.Project) bool {
	if len(p.Exprs) != len(p.Input.Columns()) {
		return false
	}
	for i, e := range p.Exprs {
		c, ok := e.(*planner.ColRef)
		if !ok || c.Idx != i {
			return false
		}
	}
	return true
}
