package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// Block compaction packs the flushed block groups of a series into as few
// groups of MaxBlockPoints rows as possible and merges overlapping ones (out
// of order writes, overwrites). See doc.go, "Compaction".
//
// A series is compacted window by window. Its groups, in key order (minTime,
// then seq), are cut into clusters of overlapping time ranges, and runs of
// whole clusters into windows of at least compactWindowBlocks*MaxBlockPoints
// rows: a window is the unit that is read, merged and replaced, so memory is
// bounded by one window (or by one overlap cluster, which the scan path
// already has to hold). A window is rewritten when it has overlapping groups
// or more than one group beyond the ceil(rows/MaxBlockPoints) it needs. The
// one group of slack makes the layout a fixed point: re-cutting windows over
// already packed groups can put two partial groups in one window, and that
// must not trigger a rewrite on every pass.
//
// Reading and encoding run without any lock, on a Pebble iterator opened
// together with reading the shard's block sequence counter. Only the commit
// of a window takes applyMu: it re-checks that the series is still live and
// that no group was added to it since (a Flush or another compaction), then
// writes, in one batch, range deletions of the window's blocks (one per
// column, over the window's minTime range) followed by the new blocks with
// fresh seqs. A window's rewrite is atomic: a crash leaves either the old
// groups or the new ones.

// compactWindowBlocks is the target size of a compaction window, in blocks
// of MaxBlockPoints rows (64 × 1024 rows × 10 float fields ≈ 6 MiB).
const compactWindowBlocks = 64

// errSeriesChanged aborts the compaction of a series that a writer changed
// while it was being merged; the next pass picks it up again.
var errSeriesChanged = errors.New("longboat/store: series changed during compaction")

// CompactStats reports what a compaction did.
type CompactStats struct {
	// Series is the number of series examined.
	Series int
	// Rewritten is the number of series with at least one window rewritten.
	Rewritten int
	// GroupsBefore and GroupsAfter count the block groups of the rewritten
	// windows before and after.
	GroupsBefore, GroupsAfter int
	// Skipped counts series left for a later pass: changed concurrently, or
	// unreadable (logged).
	Skipped int
	// Clean is true when the shard had nothing to do: no block was flushed
	// or rewritten since its last complete compaction by this DB.
	Clean bool
}

// CompactBlocks rewrites the flushed blocks of every series whose groups
// overlap or could be packed into fewer groups (see the comment at the top
// of compact.go). Buffered points are untouched and keep winning over
// blocks. Scans may run concurrently; writers wait only for the commit of
// one window. DB.Compact calls it for every open shard.
func (s *Shard) CompactBlocks(ctx context.Context) error {
	_, _, _, err := s.compactBlocks(ctx)
	return err
}

// Compact packs the shard's blocks like CompactBlocks, then has Pebble
// compact the key range of the rewritten series so that the replaced blocks
// and the range deletions leave the disk now rather than whenever Pebble's
// own compactions reach them. A shard with nothing flushed since its last
// complete compaction (by this DB) returns at once with Clean set. It may
// run concurrently with Apply, Flush and Scan; ctx cancels it between
// windows and during the Pebble compaction.
func (s *Shard) Compact(ctx context.Context) (CompactStats, error) {
	st, lo, hi, err := s.compactBlocks(ctx)
	if err != nil || st.Rewritten == 0 {
		return st, err
	}
	if err := s.db.acquire(); err != nil {
		return st, err
	}
	defer s.db.release()
	if err := s.db.pdb.Compact(ctx, lo, hi, false); err != nil {
		return st, fmt.Errorf("longboat/store: cannot compact key range of shard %d: %w", s.id, err)
	}
	return st, nil
}

// compactBlocks compacts every series of the shard and returns the key
// range [lo, hi) covering the rewritten series.
func (s *Shard) compactBlocks(ctx context.Context) (st CompactStats, lo, hi []byte, err error) {
	s.applyMu.Lock()
	start := s.nextSeq
	s.applyMu.Unlock()
	if s.db.isPacked(s.id, start) {
		st.Clean = true
		return st, nil, nil, nil
	}
	s.mu.RLock()
	if s.mu.closed {
		s.mu.RUnlock()
		return st, nil, nil, ErrClosed
	}
	var all []*series
	for _, ts := range s.mu.tables {
		all = append(all, ts.series...)
	}
	s.mu.RUnlock()
	// Key order, so that lo/hi bound the rewritten series.
	slices.SortFunc(all, func(a, b *series) int {
		if c := cmp.Compare(a.table, b.table); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	c := compaction{s: s, maxPts: s.db.opts.MaxBlockPoints}
	for _, se := range all {
		if err := ctx.Err(); err != nil {
			return st, lo, hi, err
		}
		st.Series++
		before, after := st.GroupsBefore, st.GroupsAfter
		err := c.series(ctx, se, &st)
		switch {
		case err == nil:
		case errors.Is(err, ErrClosed), ctx.Err() != nil:
			return st, lo, hi, err
		case errors.Is(err, errSeriesChanged):
			st.Skipped++
		default:
			// A series that cannot be read (corrupt block, type conflict)
			// must not stop the others; scans report it too.
			s.db.log.Error("cannot compact series", "shard", s.id, "table", se.table, "series", se.id, "err", err)
			st.Skipped++
		}
		if st.GroupsBefore != before || st.GroupsAfter != after {
			st.Rewritten++
			slo, shi := seriesBlockBounds(s.id, se.table, se.id)
			if lo == nil {
				lo = slo
			}
			hi = shi
		}
	}
	if st.Skipped == 0 {
		// Packed unless a writer added blocks meanwhile.
		s.applyMu.Lock()
		if s.nextSeq == start+c.used {
			s.db.setPacked(s.id, s.nextSeq)
		}
		s.applyMu.Unlock()
	}
	return st, lo, hi, nil
}

// seriesBlockBounds returns [lo, hi) of every block key of a series.
func seriesBlockBounds(shardID uint64, table uint32, series uint64) (lo, hi []byte) {
	lo = blockTablePrefix(nil, shardID, table)
	lo = binary.BigEndian.AppendUint64(lo, series)
	return lo, prefixEnd(lo)
}

// compaction is the state of one CompactBlocks pass (not shared).
type compaction struct {
	s      *Shard
	maxPts int
	used   uint64 // block seqs this pass consumed
	enc    blockEncoder

	groups []blockGroup
	fields []uint16
	times  []int64
	cols   []bufCol
	out    []encodedGroup
	arena  []byte
	key    []byte
}

// blockGroup is one stored group of a series, from its time block header.
type blockGroup struct {
	minT, maxT int64
	count      int
	seq        uint64
}

// compactWindow is a run of whole overlap clusters: groups [first, last).
type compactWindow struct {
	first, last int
	minT, maxT  int64
	rows        int
	overlap     bool
}

// encodedGroup is one rewritten group: its time block and field blocks as
// offsets into compaction.arena.
type encodedGroup struct {
	minT   int64
	time   [2]int
	fields []encodedField
}

type encodedField struct {
	col uint16
	val [2]int
}

// planWindows cuts groups (in key order) into windows and marks the ones
// to rewrite.
func planWindows(groups []blockGroup, maxPts int) []compactWindow {
	target := compactWindowBlocks * maxPts
	var out []compactWindow
	var w compactWindow
	open := false
	curMax := int64(math.MinInt64)
	for i, g := range groups {
		if open && g.minT <= curMax { // same cluster
			w.overlap = true
		} else if open && w.rows >= target { // cluster boundary, window full
			w.last = i
			out = append(out, w)
			open = false
		}
		if !open {
			w = compactWindow{first: i, minT: g.minT, maxT: g.maxT}
			curMax = g.maxT
			open = true
		}
		curMax = max(curMax, g.maxT)
		w.maxT = curMax
		w.rows += g.count
	}
	if open {
		w.last = len(groups)
		out = append(out, w)
	}
	return out
}

// rewrite reports whether w should be rewritten.
func (w *compactWindow) rewrite(maxPts int) bool {
	n := w.last - w.first
	if n <= 1 || w.maxT == math.MaxInt64 { // MaxTime is exclusive: unreadable as a range
		return false
	}
	return w.overlap || n > (w.rows+maxPts-1)/maxPts+1
}

// series compacts one series.
func (c *compaction) series(ctx context.Context, se *series, st *CompactStats) error {
	s := c.s
	if err := s.db.acquire(); err != nil {
		return err
	}
	defer s.db.release()
	lo, hi := seriesBlockBounds(s.id, se.table, se.id)
	// The iterator's view holds exactly the groups with seq < planSeq.
	s.applyMu.Lock()
	if !s.liveLocked(se) {
		s.applyMu.Unlock()
		return nil
	}
	planSeq := s.nextSeq
	it, err := s.db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	s.applyMu.Unlock()
	if err != nil {
		return err
	}
	defer it.Close()
	if err := c.readGroups(it, se); err != nil {
		return err
	}
	for _, w := range planWindows(c.groups, c.maxPts) {
		if !w.rewrite(c.maxPts) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.merge(it, se, &w); err != nil {
			return err
		}
		if len(c.out) == 0 {
			continue
		}
		if err := c.commit(se, &w, &planSeq); err != nil {
			return err
		}
		st.GroupsBefore += w.last - w.first
		st.GroupsAfter += len(c.out)
	}
	return nil
}

// liveLocked reports whether se is still a series of the open shard (not
// deleted with its table, not replaced by a snapshot recovery). Caller
// holds applyMu.
func (s *Shard) liveLocked(se *series) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.mu.closed {
		return false
	}
	s.keyBuf = seriesMapKey(s.keyBuf[:0], se.table, se.tags)
	return s.mu.byKey[string(s.keyBuf)] == se
}

// readGroups reads the series' groups (time block headers) and field
// column IDs.
func (c *compaction) readGroups(it *pebble.Iterator, se *series) error {
	s := c.s
	c.groups = c.groups[:0]
	c.fields = c.fields[:0]
	pref := blockColPrefix(nil, s.id, se.table, se.id, colKindTime, 0)
	for ok := it.SeekGE(pref); ok && bytes.HasPrefix(it.Key(), pref); ok = it.Next() {
		minT, seq, ok := parseBlockKeySuffix(it.Key())
		if !ok {
			return errCorrupt
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		var h blockHeader
		if _, err := parseHeader(v, &h); err != nil {
			return err
		}
		if h.typ != blockTypeTime || h.minTime != minT {
			return errCorrupt
		}
		c.groups = append(c.groups, blockGroup{minT: minT, maxT: h.maxTime, count: h.count, seq: seq})
	}
	if err := it.Error(); err != nil {
		return err
	}
	// Field columns: skip from column to column with seeks.
	fp := blockColPrefix(nil, s.id, se.table, se.id, colKindField, 0)
	sp := fp[:len(fp)-3] // table|series prefix
	for ok := it.SeekGE(fp); ok && bytes.HasPrefix(it.Key(), sp); {
		k := it.Key()
		if len(k) != blockKeyLen || k[len(sp)] != colKindField {
			return errCorrupt
		}
		col := binary.BigEndian.Uint16(k[len(sp)+1:])
		c.fields = append(c.fields, col)
		if col == math.MaxUint16 {
			break
		}
		ok = it.SeekGE(blockColPrefix(nil, s.id, se.table, se.id, colKindField, col+1))
	}
	return it.Error()
}

// merge reads window w of the series through the scan path (merged, the
// latest write of a timestamp winning) and encodes it into c.out.
func (c *compaction) merge(it *pebble.Iterator, se *series, w *compactWindow) error {
	s := c.s
	req := &ScanRequest{TableID: se.table, MinTime: w.minT, MaxTime: w.maxT + 1, Fields: c.fields}
	c.times = c.times[:0]
	for len(c.cols) < len(c.fields) {
		c.cols = append(c.cols, bufCol{})
	}
	cols := c.cols[:len(c.fields)]
	for i, id := range c.fields {
		cols[i].id = id
		cols[i].reset()
	}
	sc := &scanner{s: s, ctx: context.Background(), req: req, it: it}
	sc.outCols = make([]colVec, len(c.fields))
	sc.outVecs = make([]Vector, len(c.fields))
	sc.memCols = make([]*colVec, len(c.fields))
	sc.fn = func(b *SeriesBatch) error {
		c.times = append(c.times, b.Times...)
		for i := range cols {
			src := &sc.outCols[i]
			if src.typ != 0 {
				if err := cols[i].setType(src.typ); err != nil {
					return err
				}
			}
			cols[i].appendRange(src, 0, src.len())
		}
		return nil
	}
	// No buffered points: blocks only.
	if err := sc.scanSeries(&capturedSeries{se: se}); err != nil {
		return err
	}
	c.out = c.out[:0]
	c.arena = c.arena[:0]
	for start := 0; start < len(c.times); start += c.maxPts {
		end := min(start+c.maxPts, len(c.times))
		g := encodedGroup{minT: c.times[start]}
		off := len(c.arena)
		c.arena = c.enc.appendTimeBlock(c.arena, c.times[start:end])
		g.time = [2]int{off, len(c.arena)}
		for i := range cols {
			cv := &cols[i].colVec
			if cv.typ == 0 || allNull(cv, start, end) {
				continue // absent block = all NULL
			}
			off := len(c.arena)
			c.arena = c.enc.appendFieldBlock(c.arena, cv, c.times, start, end)
			g.fields = append(g.fields, encodedField{col: cols[i].id, val: [2]int{off, len(c.arena)}})
		}
		c.out = append(c.out, g)
	}
	return nil
}

// commit replaces the groups of window w with c.out in one batch, unless
// the series changed since the plan. planSeq is advanced past the seqs it
// uses.
func (c *compaction) commit(se *series, w *compactWindow, planSeq *uint64) error {
	s := c.s
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if !s.liveLocked(se) {
		return errSeriesChanged
	}
	if s.nextSeq != *planSeq {
		changed, err := s.hasGroupsSinceLocked(se, *planSeq)
		if err != nil {
			return err
		}
		if changed {
			return errSeriesChanged
		}
	}
	b := s.db.pdb.NewBatch()
	defer b.Close()
	// Every block of the window has minTime in [w.minT, w.maxT]; no block of
	// another window does (windows are cut between non-overlapping clusters).
	key := func(kind byte, col uint16, t int64) []byte {
		return blockKey(nil, s.id, se.table, se.id, kind, col, t, 0)
	}
	if err := b.DeleteRange(key(colKindTime, 0, w.minT), key(colKindTime, 0, w.maxT+1), nil); err != nil {
		return err
	}
	for _, col := range c.fields {
		if err := b.DeleteRange(key(colKindField, col, w.minT), key(colKindField, col, w.maxT+1), nil); err != nil {
			return err
		}
	}
	next := s.nextSeq
	for _, g := range c.out {
		seq := next
		next++
		c.key = blockKey(c.key[:0], s.id, se.table, se.id, colKindTime, 0, g.minT, seq)
		if err := b.Set(c.key, c.arena[g.time[0]:g.time[1]], nil); err != nil {
			return err
		}
		for _, f := range g.fields {
			c.key = blockKey(c.key[:0], s.id, se.table, se.id, colKindField, f.col, g.minT, seq)
			if err := b.Set(c.key, c.arena[f.val[0]:f.val[1]], nil); err != nil {
				return err
			}
		}
	}
	c.key = metaKey(c.key[:0], s.id, metaNextSeq)
	if err := b.Set(c.key, binary.BigEndian.AppendUint64(nil, next), nil); err != nil {
		return err
	}
	// NB: not synced: the rewrite changes no logical content, and the next
	// synced Flush makes it durable (the WAL is ordered). A crash before
	// that leaves the old groups, which are just as correct.
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("longboat/store: cannot commit compaction of series %d: %w", se.id, err)
	}
	c.used += next - s.nextSeq
	s.nextSeq = next
	*planSeq = next
	return nil
}

// hasGroupsSinceLocked reports whether the series has a group with seq >=
// seq. Caller holds applyMu.
func (s *Shard) hasGroupsSinceLocked(se *series, seq uint64) (bool, error) {
	pref := blockColPrefix(nil, s.id, se.table, se.id, colKindTime, 0)
	it, err := s.db.pdb.NewIter(&pebble.IterOptions{LowerBound: pref, UpperBound: prefixEnd(pref)})
	if err != nil {
		return false, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		_, sq, ok := parseBlockKeySuffix(it.Key())
		if !ok {
			return false, errCorrupt
		}
		if sq >= seq {
			return true, nil
		}
	}
	return false, it.Error()
}
