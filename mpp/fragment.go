package mpp

import (
	"context"
	"fmt"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// FragmentRef identifies the fragment a shard scan belongs to, so that a
// node that rebuilds the same plan from the same statement (same SQL text,
// parameters, statement timestamp and catalog) can run exactly the same scan
// with ServeFragment. This is how fragments run on remote replicas: a
// store.ScanRequest holds functions (series filter, statistics test) that
// cannot cross the wire, so the remote node re-plans and derives them itself.
type FragmentRef struct {
	// Scan is the ordinal of the Scan node in the plan, counted by ScanNodes.
	Scan int
	// Subqueries are the values of the plan's uncorrelated subqueries, by
	// index, as computed by the coordinator (a series filter may use them).
	Subqueries [][]types.Datum
}

// ScanNodes returns the plan's Scan nodes in a fixed order: the subqueries'
// (by index) first, then the root's, each tree in pre-order. A plan built
// from the same statement and catalog always yields the same order.
func ScanNodes(p *planner.Plan) []*planner.Scan {
	var out []*planner.Scan
	var walk func(n planner.Node)
	walk = func(n planner.Node) {
		switch x := n.(type) {
		case *planner.Scan:
			out = append(out, x)
		case *planner.Filter:
			walk(x.Input)
		case *planner.Project:
			walk(x.Input)
		case *planner.Aggregate:
			walk(x.Input)
		case *planner.Sort:
			walk(x.Input)
		case *planner.Limit:
			walk(x.Input)
		case *planner.Distinct:
			walk(x.Input)
		case *planner.DistinctOn:
			walk(x.Input)
		case *planner.Window:
			walk(x.Input)
		case *planner.Join:
			walk(x.Left)
			walk(x.Right)
		case *planner.UnionAll:
			for _, in := range x.Inputs {
				walk(in)
			}
		}
	}
	for _, sq := range p.Subqueries {
		walk(sq)
	}
	walk(p.Root)
	return out
}

// pushedOver returns the aggregate pushed down into scan s, if any.
func pushedOver(p *planner.Plan, s *planner.Scan) *planner.BucketAgg {
	var found *planner.BucketAgg
	var walk func(n planner.Node)
	walk = func(n planner.Node) {
		switch x := n.(type) {
		case *planner.Aggregate:
			if x.Pushed != nil && x.Input == planner.Node(s) {
				found = x.Pushed
				return
			}
			walk(x.Input)
		case *planner.Filter:
			walk(x.Input)
		case *planner.Project:
			walk(x.Input)
		case *planner.Sort:
			walk(x.Input)
		case *planner.Limit:
			walk(x.Input)
		case *planner.Distinct:
			walk(x.Input)
		case *planner.DistinctOn:
			walk(x.Input)
		case *planner.Window:
			walk(x.Input)
		case *planner.Join:
			walk(x.Left)
			walk(x.Right)
		case *planner.UnionAll:
			for _, in := range x.Inputs {
				walk(in)
			}
		}
	}
	for _, sq := range p.Subqueries {
		walk(sq)
	}
	walk(p.Root)
	return found
}

// ServeFragment runs, on the node that holds the shard, the scan that
// ref names in p over sc, passing every batch to fn. The coordinator's
// fragment turns the batches into rows and partial aggregates exactly as it
// does for a local shard.
func ServeFragment(ctx context.Context, p *planner.Plan, ref FragmentRef, sc Scanner, fn func(*store.SeriesBatch) error) error {
	s, ec, err := fragmentScan(ctx, p, ref)
	if err != nil {
		return err
	}
	f := newFragment(ec, s)
	if ba := pushedOver(p, s); ba != nil && ba.StatsOK {
		f.req.UseStats = newFragAgg(ba).useStats
	}
	return serveScan(ctx, ref, sc, f, fn)
}

// fragmentScan returns the Scan node ref names in p and the evaluation
// context holding the coordinator's subquery results.
func fragmentScan(ctx context.Context, p *planner.Plan, ref FragmentRef) (*planner.Scan, *planner.EvalContext, error) {
	scans := ScanNodes(p)
	if ref.Scan < 0 || ref.Scan >= len(scans) {
		return nil, nil, pgerror.Newf(pgerror.CodeInternal, "fragment %d: the plan has %d scans (catalog or version mismatch between nodes)", ref.Scan, len(scans))
	}
	if len(ref.Subqueries) > len(p.Subqueries) {
		return nil, nil, pgerror.Newf(pgerror.CodeInternal, "fragment %d: %d subquery results for %d subqueries", ref.Scan, len(ref.Subqueries), len(p.Subqueries))
	}
	ec := newEvalContext(ctx)
	for _, vals := range ref.Subqueries {
		ec.Subqueries = append(ec.Subqueries, planner.NewSubqueryResult(vals))
	}
	return scans[ref.Scan], ec, nil
}

// serveScan runs fragment f's scan on sc, passing every batch to fn.
func serveScan(ctx context.Context, ref FragmentRef, sc Scanner, f *fragment, fn func(*store.SeriesBatch) error) error {
	err := sc.Scan(ctx, &f.req, func(b *store.SeriesBatch) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(b)
	})
	if err == nil {
		err = f.err
	}
	if err != nil && ctx.Err() != nil {
		return canceled(ctx)
	}
	if err != nil {
		return fmt.Errorf("fragment %d: %w", ref.Scan, err)
	}
	return nil
}
