package store

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/cockroachdb/pebble/v2"
	"github.com/longboatdb/longboat/shard"
)

// capturedSeries is a series with the prefix of its buffer captured under
// the shard's read lock.
type capturedSeries struct {
	se    *series
	times []int64
	cols  []bufCol // copies of the column headers (same backing arrays)
}

// group is one flushed block group (a time block plus its field blocks,
// sharing minTime and seq) or the buffered points of the series (mem).
type group struct {
	minT, maxT int64
	seq        uint64
	count      int
	toff, tlen int // time block bytes in scanner.arena
	mem        bool
}

type mergeEntry struct {
	t    int64
	rank uint64
	g    int32
	row  int32
}

type scanner struct {
	s    *Shard
	ctx  context.Context
	req  *ScanRequest
	it   *pebble.Iterator
	fn   func(*SeriesBatch) error
	key  []byte
	pref []byte

	groups []group
	arena  []byte

	// Buffered points of the current series, sorted and deduplicated,
	// restricted to [memLo, memHi).
	memTimes     []int64
	memCols      []*colVec // aligned with req.Fields (nil: absent)
	memLo, memHi int
	memSort      flushScratch

	outTimes []int64
	outCols  []colVec
	outVecs  []Vector
	stats    BlockStats
	batch    SeriesBatch

	// Merge scratch: decoded groups of one cluster.
	gTimes  [][]int64
	gCols   [][]colVec
	entries []mergeEntry
	tmpTime []int64

	remaining int // points left under Limit (when Limit > 0)
}

// Scan calls fn with the points of req.TableID in the shard: every flushed
// block and every point applied so far, merged per series (the latest
// write of a timestamp wins). It may run concurrently with Apply and Flush.
// After Close it returns ErrClosed.
func (s *Shard) Scan(ctx context.Context, req *ScanRequest, fn func(*SeriesBatch) error) error {
	if err := s.db.acquire(); err != nil {
		return err
	}
	defer s.db.release()

	s.mu.RLock()
	if req.MinTime >= req.MaxTime && !s.mu.closed {
		s.mu.RUnlock()
		return nil
	}
	if s.mu.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	ts := s.mu.tables[req.TableID]
	if ts == nil {
		s.mu.RUnlock()
		return nil
	}
	list := ts.series
	caps := make([]capturedSeries, len(list))
	for i, se := range list {
		c := &caps[i]
		c.se = se
		if len(se.times) > 0 {
			c.times = se.times
			c.cols = make([]bufCol, len(se.cols))
			for j, bc := range se.cols {
				c.cols[j] = *bc
			}
		}
	}
	lo := blockTablePrefix(nil, s.id, req.TableID)
	it, err := s.db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	s.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("longboat/store: cannot scan shard %d: %w", s.id, err)
	}
	defer it.Close()

	sc := &scanner{s: s, ctx: ctx, req: req, it: it, fn: fn}
	sc.outCols = make([]colVec, len(req.Fields))
	sc.outVecs = make([]Vector, len(req.Fields))
	sc.memCols = make([]*colVec, len(req.Fields))
	for i := range caps {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := &caps[i]
		if req.SeriesFilter != nil && !req.SeriesFilter(c.se.tags) {
			continue
		}
		if err := sc.scanSeries(c); err != nil {
			return err
		}
	}
	return it.Error()
}

func (sc *scanner) scanSeries(c *capturedSeries) error {
	req := sc.req
	sc.remaining = req.Limit
	sc.groups = sc.groups[:0]
	sc.arena = sc.arena[:0]
	se := c.se
	tid := req.TableID

	// Stored block groups overlapping [MinTime, MaxTime), from the headers
	// of the time column only.
	sc.pref = blockColPrefix(sc.pref[:0], sc.s.id, tid, se.id, colKindTime, 0)
	it := sc.it
	for ok := it.SeekGE(sc.pref); ok && bytes.HasPrefix(it.Key(), sc.pref); ok = it.Next() {
		minT, seq, ok2 := parseBlockKeySuffix(it.Key())
		if !ok2 {
			return sc.corrupt(se, nil)
		}
		if minT >= req.MaxTime {
			break
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		var h blockHeader
		if _, err := parseHeader(v, &h); err != nil || h.typ != blockTypeTime || h.minTime != minT {
			return sc.corrupt(se, err)
		}
		if h.maxTime < req.MinTime {
			continue
		}
		sc.groups = append(sc.groups, group{minT: minT, maxT: h.maxTime, seq: seq, count: h.count, toff: len(sc.arena), tlen: len(v)})
		sc.arena = append(sc.arena, v...)
	}
	if err := it.Error(); err != nil {
		return err
	}

	// Buffered points.
	sc.memLo, sc.memHi = 0, 0
	if len(c.times) > 0 {
		ptrs := make([]*bufCol, len(c.cols))
		for i := range c.cols {
			ptrs[i] = &c.cols[i]
		}
		times, views := sortedView(c.times, ptrs, len(c.times), &sc.memSort)
		sc.memTimes = times
		for fi, fid := range req.Fields {
			sc.memCols[fi] = nil
			for ci := range c.cols {
				if c.cols[ci].id == fid {
					sc.memCols[fi] = views[ci]
				}
			}
		}
		lo, _ := slices.BinarySearch(times, req.MinTime)
		hi, _ := slices.BinarySearch(times, req.MaxTime)
		if lo < hi {
			sc.memLo, sc.memHi = lo, hi
			g := group{minT: times[lo], maxT: times[hi-1], seq: math.MaxUint64, count: hi - lo, mem: true}
			// Insert by minT to keep groups ordered.
			at := sort.Search(len(sc.groups), func(i int) bool { return sc.groups[i].minT > g.minT })
			sc.groups = slices.Insert(sc.groups, at, g)
		}
	}
	if len(sc.groups) == 0 {
		return nil
	}

	// Clusters of overlapping groups: [start, end) ranges of sc.groups.
	type cluster struct{ start, end int }
	var clusters []cluster
	curMax := int64(math.MinInt64)
	for i, g := range sc.groups {
		if i > 0 && g.minT <= curMax {
			clusters[len(clusters)-1].end = i + 1
			curMax = max(curMax, g.maxT)
			continue
		}
		clusters = append(clusters, cluster{i, i + 1})
		curMax = g.maxT
	}
	for k := range clusters {
		ci := k
		if req.Reverse {
			ci = len(clusters) - 1 - k
		}
		cl := clusters[ci]
		if req.Limit > 0 && sc.remaining <= 0 {
			return nil
		}
		var err error
		if cl.end-cl.start == 1 {
			err = sc.emitSingle(se, &sc.groups[cl.start])
		} else {
			err = sc.emitMerged(se, sc.groups[cl.start:cl.end])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (sc *scanner) corrupt(se *series, err error) error {
	if err == nil {
		err = errCorrupt
	}
	return fmt.Errorf("longboat/store: shard %d table %d series %d: bad block: %w", sc.s.id, se.table, se.id, err)
}

// fieldBlock positions the iterator on the field block of group g, or
// returns nil if the series has no such block (all NULL).
func (sc *scanner) fieldBlock(se *series, fid uint16, g *group) ([]byte, error) {
	sc.key = blockKey(sc.key[:0], sc.s.id, se.table, se.id, colKindField, fid, g.minT, g.seq)
	if !sc.it.SeekGE(sc.key) || !bytes.Equal(sc.it.Key(), sc.key) {
		return nil, sc.it.Error()
	}
	return sc.it.ValueAndErr()
}

// decodeGroup decodes the times and requested fields of a stored group.
func (sc *scanner) decodeGroup(se *series, g *group, times *[]int64, cols []colVec) error {
	var err error
	*times, _, err = decodeTimeBlock(sc.arena[g.toff:g.toff+g.tlen], (*times)[:0])
	if err != nil {
		return sc.corrupt(se, err)
	}
	for fi, fid := range sc.req.Fields {
		c := &cols[fi]
		c.reset()
		v, err := sc.fieldBlock(se, fid, g)
		if err != nil {
			return err
		}
		if v == nil {
			c.appendNulls(g.count)
			continue
		}
		if _, err := decodeFieldBlock(v, c); err != nil {
			return sc.corrupt(se, err)
		}
		if c.len() != g.count {
			return sc.corrupt(se, nil)
		}
	}
	return nil
}

func (sc *scanner) emitSingle(se *series, g *group) error {
	req := sc.req
	if !g.mem && req.UseStats != nil && req.Limit <= 0 && g.minT >= req.MinTime && g.maxT < req.MaxTime && req.UseStats(g.minT, g.maxT) {
		ok, err := sc.emitStats(se, g)
		if ok || err != nil {
			return err
		}
	}
	if !g.mem && sc.remaining == 1 && req.Limit > 0 &&
		((req.Reverse && g.maxT < req.MaxTime) || (!req.Reverse && g.minT >= req.MinTime)) {
		ok, err := sc.emitEdge(se, g)
		if ok || err != nil {
			return err
		}
	}
	if g.mem {
		sc.outTimes = append(sc.outTimes[:0], sc.memTimes[sc.memLo:sc.memHi]...)
		for fi := range req.Fields {
			c := &sc.outCols[fi]
			c.reset()
			if m := sc.memCols[fi]; m != nil {
				c.typ = m.typ
				c.appendRange(m, sc.memLo, sc.memHi)
			} else {
				c.appendNulls(sc.memHi - sc.memLo)
			}
		}
		return sc.emitPoints(se)
	}
	if err := sc.decodeGroup(se, g, &sc.outTimes, sc.outCols); err != nil {
		return err
	}
	lo, hi := 0, len(sc.outTimes)
	if g.minT < req.MinTime {
		lo, _ = slices.BinarySearch(sc.outTimes, req.MinTime)
	}
	if g.maxT >= req.MaxTime {
		hi, _ = slices.BinarySearch(sc.outTimes, req.MaxTime)
	}
	if lo > 0 || hi < len(sc.outTimes) {
		sc.outTimes = sc.outTimes[:copy(sc.outTimes, sc.outTimes[lo:hi])]
		for fi := range sc.outCols {
			sc.outCols[fi].truncate(lo, hi)
		}
	}
	return sc.emitPoints(se)
}

// emitStats delivers g as BlockStats; ok is false when some requested
// numeric column lacks usable stats (the caller then decodes).
func (sc *scanner) emitStats(se *series, g *group) (ok bool, err error) {
	st := &sc.stats
	st.MinTime, st.MaxTime, st.Rows = g.minT, g.maxT, g.count
	st.Cols = slices.Grow(st.Cols[:0], len(sc.req.Fields))[:len(sc.req.Fields)]
	for fi, fid := range sc.req.Fields {
		v, err := sc.fieldBlock(se, fid, g)
		if err != nil {
			return false, err
		}
		st.Cols[fi] = ColumnStats{}
		if v == nil {
			continue
		}
		var h blockHeader
		if _, err := parseHeader(v, &h); err != nil || h.count != g.count || h.minTime != g.minT || h.maxTime != g.maxT {
			return false, sc.corrupt(se, err)
		}
		if p := physOf(shard.ColType(h.typ)); (p == physF64 || p == physI64) && h.nonNull > 0 && !h.hasStats() {
			return false, nil
		}
		st.Cols[fi] = h.colStats()
	}
	sc.batch = SeriesBatch{SeriesID: se.id, Tags: se.tags, Stats: st}
	return true, sc.fn(&sc.batch)
}

// emitEdge delivers the first (or, when Reverse, the last) point of g from
// the block headers alone: "last point per series" reads no payload. ok is
// false when a column needs decoding (NULLs, no stats, bool or text).
func (sc *scanner) emitEdge(se *series, g *group) (ok bool, err error) {
	t := g.minT
	if sc.req.Reverse {
		t = g.maxT
	}
	sc.outTimes = append(sc.outTimes[:0], t)
	for fi, fid := range sc.req.Fields {
		c := &sc.outCols[fi]
		c.reset()
		v, err := sc.fieldBlock(se, fid, g)
		if err != nil {
			return false, err
		}
		if v == nil {
			c.appendNulls(1)
			continue
		}
		var h blockHeader
		if _, err := parseHeader(v, &h); err != nil || h.count != g.count || h.minTime != g.minT || h.maxTime != g.maxT {
			return false, sc.corrupt(se, err)
		}
		if h.flags&blockFlagNulls != 0 || !h.hasStats() {
			return false, nil
		}
		c.typ = shard.ColType(h.typ)
		switch physOf(c.typ) {
		case physF64:
			c.f64 = append(c.f64, h.first)
			if sc.req.Reverse {
				c.f64[0] = h.last
			}
		case physI64:
			c.i64 = append(c.i64, h.ifirst)
			if sc.req.Reverse {
				c.i64[0] = h.ilast
			}
		default:
			return false, nil
		}
	}
	sc.remaining--
	for fi := range sc.outCols {
		sc.outVecs[fi] = sc.outCols[fi].vector()
	}
	sc.batch = SeriesBatch{SeriesID: se.id, Tags: se.tags, Times: sc.outTimes, Fields: sc.outVecs}
	return true, sc.fn(&sc.batch)
}

func (sc *scanner) emitMerged(se *series, gs []group) error {
	req := sc.req
	for len(sc.gTimes) < len(gs) {
		sc.gTimes = append(sc.gTimes, nil)
		sc.gCols = append(sc.gCols, make([]colVec, len(req.Fields)))
	}
	sc.entries = sc.entries[:0]
	for gi := range gs {
		g := &gs[gi]
		if g.mem {
			for r := sc.memLo; r < sc.memHi; r++ {
				sc.entries = append(sc.entries, mergeEntry{t: sc.memTimes[r], rank: g.seq, g: int32(gi), row: int32(r)})
			}
			continue
		}
		if err := sc.decodeGroup(se, g, &sc.gTimes[gi], sc.gCols[gi]); err != nil {
			return err
		}
		for r, t := range sc.gTimes[gi] {
			if t >= req.MinTime && t < req.MaxTime {
				sc.entries = append(sc.entries, mergeEntry{t: t, rank: g.seq, g: int32(gi), row: int32(r)})
			}
		}
	}
	slices.SortFunc(sc.entries, func(a, b mergeEntry) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.rank, b.rank)
	})
	// Output types: the first source with a type.
	for fi := range req.Fields {
		c := &sc.outCols[fi]
		c.reset()
		for gi := range gs {
			src := sc.srcCol(gs, gi, fi)
			if src != nil && src.typ != 0 {
				if err := c.setType(src.typ); err != nil {
					return fmt.Errorf("longboat/store: shard %d series %d field %d: %w", sc.s.id, se.id, req.Fields[fi], err)
				}
			}
		}
	}
	sc.outTimes = sc.outTimes[:0]
	for i, e := range sc.entries {
		if i+1 < len(sc.entries) && sc.entries[i+1].t == e.t {
			continue // a later write of the same time wins
		}
		sc.outTimes = append(sc.outTimes, e.t)
		for fi := range req.Fields {
			sc.outCols[fi].appendFrom(sc.srcCol(gs, int(e.g), fi), int(e.row))
		}
	}
	if len(sc.outTimes) == 0 {
		return nil
	}
	return sc.emitPoints(se)
}

func (sc *scanner) srcCol(gs []group, gi, fi int) *colVec {
	if gs[gi].mem {
		return sc.memCols[fi]
	}
	return &sc.gCols[gi][fi]
}

// emitPoints applies Reverse and Limit to the output vectors and calls fn.
func (sc *scanner) emitPoints(se *series) error {
	n := len(sc.outTimes)
	if n == 0 {
		return nil
	}
	if sc.req.Reverse {
		rev(sc.outTimes)
		for fi := range sc.outCols {
			sc.outCols[fi].reverse()
		}
	}
	if sc.req.Limit > 0 {
		if n > sc.remaining {
			n = sc.remaining
			sc.outTimes = sc.outTimes[:n]
			for fi := range sc.outCols {
				sc.outCols[fi].truncate(0, n)
			}
		}
		sc.remaining -= n
	}
	for fi := range sc.outCols {
		sc.outVecs[fi] = sc.outCols[fi].vector()
	}
	sc.batch = SeriesBatch{SeriesID: se.id, Tags: se.tags, Times: sc.outTimes, Fields: sc.outVecs}
	return sc.fn(&sc.batch)
}
