package mpp

import (
	"context"
	"runtime"
	"sync"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// fragment is the per-shard part of a scan: the ScanRequest plus the
// state needed to turn SeriesBatches into rows. A fragment is used by one
// goroutine.
type fragment struct {
	ec      *planner.EvalContext
	s       *planner.Scan
	req     store.ScanRequest
	timeT   types.OID
	colType []types.OID // per table column
	// template is a row with every column NULL of its type.
	template []types.Datum
	tagRow   []types.Datum // scratch row for the series filter
	tagDatum []types.Datum // tag values of the current batch as datums
	vecPreds []vecPred
	rest     planner.Expr // residual filter not covered by vecPreds
	scratch  []types.Datum
	err      error
}

func newFragment(ec *planner.EvalContext, s *planner.Scan) *fragment {
	t := s.Table
	f := &fragment{ec: ec, s: s}
	f.colType = make([]types.OID, len(t.Columns))
	f.template = make([]types.Datum, len(t.Columns))
	for i, c := range t.Columns {
		f.colType[i] = types.OfColType(c.Type)
		f.template[i] = types.NullOf(f.colType[i])
	}
	f.timeT = f.colType[t.TimeCol]
	f.req = store.ScanRequest{TableID: t.ID, MinTime: s.MinTime, MaxTime: s.MaxTime, Reverse: s.Reverse, Limit: s.Limit}
	f.req.Fields = make([]uint16, len(s.FieldCols))
	for i, c := range s.FieldCols {
		f.req.Fields[i] = t.Columns[c].ID
	}
	if s.TagFilter != nil {
		f.tagRow = append([]types.Datum(nil), f.template...)
		f.req.SeriesFilter = func(tags []string) bool {
			for i, c := range t.Tags {
				if i < len(tags) {
					f.tagRow[c] = tagDatum(tags[i], f.colType[c])
				}
			}
			d, err := s.TagFilter.Eval(ec, f.tagRow)
			if err != nil {
				if f.err == nil {
					f.err = err
				}
				return false
			}
			return planner.IsTrue(d)
		}
	}
	f.vecPreds, f.rest = compileVecPreds(s)
	f.scratch = append([]types.Datum(nil), f.template...)
	return f
}

// tagDatum converts a stored tag value; the store keeps NULL tags as "".
func tagDatum(v string, t types.OID) types.Datum {
	if v == "" {
		return types.NullOf(t)
	}
	return types.Datum{T: t, S: v}
}

func (f *fragment) setBatchTags(b *store.SeriesBatch) {
	t := f.s.Table
	if cap(f.tagDatum) < len(t.Tags) {
		f.tagDatum = make([]types.Datum, len(t.Tags))
	}
	f.tagDatum = f.tagDatum[:len(t.Tags)]
	for i, c := range t.Tags {
		v := ""
		if i < len(b.Tags) {
			v = b.Tags[i]
		}
		f.tagDatum[i] = tagDatum(v, f.colType[c])
	}
}

// fillRow writes point i of batch b into row (a copy of the template).
func (f *fragment) fillRow(row []types.Datum, b *store.SeriesBatch, i int) {
	t := f.s.Table
	row[t.TimeCol] = types.Datum{T: f.timeT, I: b.Times[i]}
	for j, c := range t.Tags {
		row[c] = f.tagDatum[j]
	}
	for j, c := range f.s.FieldCols {
		if j < len(b.Fields) {
			row[c] = vectorDatum(&b.Fields[j], i, f.colType[c])
		}
	}
}

func vectorDatum(v *store.Vector, i int, t types.OID) types.Datum {
	if v.IsNull(i) {
		return types.NullOf(t)
	}
	switch {
	case v.F64 != nil:
		return types.Datum{T: t, F: v.F64[i]}
	case v.I64 != nil:
		return types.Datum{T: t, I: v.I64[i]}
	case v.B != nil:
		return types.NewBool(v.B[i])
	case v.Str != nil:
		return types.Datum{T: t, S: v.Str[i]}
	}
	return types.NullOf(t)
}

// accept reports whether point i passes the residual filter.
func (f *fragment) accept(b *store.SeriesBatch, i int) (bool, error) {
	for _, p := range f.vecPreds {
		if !p.match(b, i) {
			return false, nil
		}
	}
	if f.rest == nil {
		return true, nil
	}
	copy(f.scratch, f.template)
	f.fillRow(f.scratch, b, i)
	d, err := f.rest.Eval(f.ec, f.scratch)
	if err != nil {
		return false, err
	}
	return planner.IsTrue(d), nil
}

// vecPred is "float field op constant", checked on the vector directly.
type vecPred struct {
	field int // position in Fields
	op    planner.Op
	c     float64
}

func (p *vecPred) match(b *store.SeriesBatch, i int) bool {
	v := &b.Fields[p.field]
	if v.IsNull(i) || v.F64 == nil {
		return false
	}
	x := v.F64[i]
	switch p.op {
	case planner.OpEQ:
		return x == p.c
	case planner.OpNE:
		return x != p.c
	case planner.OpLT:
		return x < p.c
	case planner.OpLE:
		return x <= p.c
	case planner.OpGT:
		return x > p.c
	}
	return x >= p.c
}

// compileVecPreds splits the scan's residual filter into vector predicates
// and the rest.
func compileVecPreds(s *planner.Scan) ([]vecPred, planner.Expr) {
	if s.Filter == nil {
		return nil, nil
	}
	var preds []vecPred
	var rest []planner.Expr
	for _, c := range planner.Conjuncts(s.Filter) {
		if p, ok := vecPredOf(s, c); ok {
			preds = append(preds, p)
			continue
		}
		rest = append(rest, c)
	}
	return preds, planner.AndOf(rest)
}

func vecPredOf(s *planner.Scan, c planner.Expr) (vecPred, bool) {
	bo, ok := c.(*planner.BinOp)
	if !ok || bo.Op < planner.OpEQ {
		return vecPred{}, false
	}
	op := bo.Op
	l, r := bo.L, bo.R
	if _, isCol := l.(*planner.ColRef); !isCol {
		l, r = r, l
		switch op {
		case planner.OpLT:
			op = planner.OpGT
		case planner.OpLE:
			op = planner.OpGE
		case planner.OpGT:
			op = planner.OpLT
		case planner.OpGE:
			op = planner.OpLE
		}
	}
	col, ok := l.(*planner.ColRef)
	if !ok {
		return vecPred{}, false
	}
	k, ok := r.(*planner.Const)
	if !ok || k.D.Null || !isNumber(k.D.T) {
		return vecPred{}, false
	}
	ct := s.Table.Columns[col.Idx].Type
	if ct != shard.TypeFloat8 && ct != shard.TypeFloat4 {
		return vecPred{}, false
	}
	pos := -1
	for j, fc := range s.FieldCols {
		if fc == col.Idx {
			pos = j
		}
	}
	if pos < 0 {
		return vecPred{}, false
	}
	f, ok := planner.Float(k.D)
	if !ok {
		return vecPred{}, false
	}
	// A float4 column compares against the constant in float8, as PostgreSQL
	// does for float4 > numeric (both sides promoted to float8).
	return vecPred{field: pos, op: op, c: f}, true
}

func isNumber(t types.OID) bool {
	switch t {
	case types.Int2, types.Int4, types.Int8, types.Float4, types.Float8, types.Numeric:
		return true
	}
	return false
}

// parallelism bounds the number of fragments running at once.
func parallelism(n int) int {
	p := max(runtime.GOMAXPROCS(0), 2) * 2
	return min(p, n)
}

// forEachShard runs fn for every shard of s, at most parallelism() at once,
// and returns the first error (cancelling the others).
func (r *runner) forEachShard(s *planner.Scan, fn func(ctx context.Context, idx int, sh shard.ShardInfo) error) error {
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	n := len(s.Shards)
	if n == 1 {
		return fn(ctx, 0, s.Shards[0])
	}
	sem := make(chan struct{}, parallelism(n))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i, sh := range s.Shards {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int, sh shard.ShardInfo) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i, sh); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				cancel()
			}
		}(i, sh)
	}
	wg.Wait()
	if first != nil {
		return first
	}
	if r.ctx.Err() != nil {
		return canceled(r.ctx)
	}
	return nil
}

// scanShard runs one fragment's scan on one shard.
func (r *runner) scanShard(ctx context.Context, f *fragment, sh shard.ShardInfo, fn func(*store.SeriesBatch) error) error {
	sc, err := r.scanner(ctx, f, sh)
	if err != nil {
		return err
	}
	return r.scanWith(ctx, f, sc, fn)
}

// scanner returns the scanner of fragment f's shard sh.
func (r *runner) scanner(ctx context.Context, f *fragment, sh shard.ShardInfo) (Scanner, error) {
	idx, ok := r.q.scanIdx[f.s]
	if !ok {
		return nil, pgerror.New(pgerror.CodeInternal, "scan node not found in its plan")
	}
	// While a subquery runs only the values of the subqueries before it
	// (the ones it may use) are known.
	return r.src.Scanner(ctx, sh.ID, FragmentRef{Scan: idx, Subqueries: r.q.subVals})
}

// scanWith runs fragment f's scan on sc.
func (r *runner) scanWith(ctx context.Context, f *fragment, sc Scanner, fn func(*store.SeriesBatch) error) error {
	err := sc.Scan(ctx, &f.req, func(b *store.SeriesBatch) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(b)
	})
	if err == nil {
		err = f.err
	}
	return err
}

const rowChunk = 256

// scan streams the rows of a scan: fragments run in parallel and send
// chunks of rows to the coordinator, which calls emit (single goroutine).
func (r *runner) scan(s *planner.Scan, emit func([]types.Datum) error) error {
	if len(s.Shards) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	ch := make(chan [][]types.Datum, 8)
	done := make(chan error, 1)
	sub := &runner{ctx: ctx, src: r.src, ec: r.ec, q: r.q}
	go func() {
		done <- sub.forEachShard(s, func(ctx context.Context, _ int, sh shard.ShardInfo) error {
			f := newFragment(r.ec, s)
			ncol := len(f.template)
			var chunk [][]types.Datum
			var slab []types.Datum
			flush := func() error {
				if len(chunk) == 0 {
					return nil
				}
				select {
				case ch <- chunk:
				case <-ctx.Done():
					return ctx.Err()
				}
				chunk, slab = nil, nil
				return nil
			}
			err := r.scanShard(ctx, f, sh, func(b *store.SeriesBatch) error {
				if b.Stats != nil {
					return nil // never requested
				}
				f.setBatchTags(b)
				for i := range b.Times {
					ok, err := f.accept(b, i)
					if err != nil {
						return err
					}
					if !ok {
						continue
					}
					if len(slab) < ncol {
						slab = make([]types.Datum, ncol*rowChunk)
					}
					row := slab[:ncol:ncol]
					slab = slab[ncol:]
					copy(row, f.template)
					f.fillRow(row, b, i)
					chunk = append(chunk, row)
					if len(chunk) == rowChunk {
						if err := flush(); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			return flush()
		})
	}()
	var emitErr error
	for {
		select {
		case chunk := <-ch:
			if emitErr != nil {
				continue
			}
			for _, row := range chunk {
				if err := emit(row); err != nil {
					emitErr = err
					cancel()
					break
				}
			}
		case err := <-done:
			// Drain what is left: every producer has finished.
			for drained := false; !drained; {
				select {
				case chunk := <-ch:
					if emitErr != nil {
						continue
					}
					for _, row := range chunk {
						if err := emit(row); err != nil {
							emitErr = err
							break
						}
					}
				default:
					drained = true
				}
			}
			if emitErr != nil {
				return emitErr
			}
			if err != nil && r.ctx.Err() != nil {
				return canceled(r.ctx)
			}
			return err
		}
	}
}
