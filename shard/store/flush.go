package store

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"

	"github.com/cockroachdb/pebble/v2"
)

// flushScratch is reused across flushes (guarded by applyMu).
type flushScratch struct {
	perm  []int32
	times []int64
	cols  []colVec
}

// sortedView returns the series buffer sorted by time with duplicates
// resolved to the last write. When the buffer is already strictly
// increasing it is returned as is; otherwise the rows are gathered into sc.
func sortedView(times []int64, cols []*bufCol, n int, sc *flushScratch) ([]int64, []*colVec) {
	times = times[:n]
	views := make([]*colVec, len(cols))
	sorted := true
	for i := 1; i < n; i++ {
		if times[i] <= times[i-1] {
			sorted = false
			break
		}
	}
	if sorted {
		for i, c := range cols {
			views[i] = &c.colVec
		}
		return times, views
	}
	sc.perm = sc.perm[:0]
	for i := range n {
		sc.perm = append(sc.perm, int32(i))
	}
	perm := sc.perm
	sort.SliceStable(perm, func(a, b int) bool { return times[perm[a]] < times[perm[b]] })
	// Keep the last of each run of equal times (the stable sort keeps
	// apply order within a run).
	k := 0
	for i := range perm {
		if i+1 < len(perm) && times[perm[i+1]] == times[perm[i]] {
			continue
		}
		perm[k] = perm[i]
		k++
	}
	perm = perm[:k]
	sc.times = sc.times[:0]
	for _, p := range perm {
		sc.times = append(sc.times, times[p])
	}
	for len(sc.cols) < len(cols) {
		sc.cols = append(sc.cols, colVec{})
	}
	for i, c := range cols {
		dst := &sc.cols[i]
		dst.reset()
		dst.typ = c.typ
		if c.typ == 0 {
			dst.appendNulls(len(perm))
		} else {
			for _, p := range perm {
				dst.appendFrom(&c.colVec, int(p))
			}
		}
		views[i] = dst
	}
	return sc.times, views
}

// Flush writes the whole buffer as blocks, the new series index entries and
// the applied index in one synced Pebble batch, then drops the buffer.
func (s *Shard) Flush() error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	return s.flushLocked()
}

func (s *Shard) flushLocked() error {
	s.mu.RLock()
	closed, pending, applied := s.mu.closed, s.mu.pending, s.mu.applied
	var tableIDs []uint32
	for id := range s.mu.tables {
		tableIDs = append(tableIDs, id)
	}
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if s.buffered.Load() == 0 && pending == applied && len(s.newSeries) == 0 {
		return nil
	}
	slices.Sort(tableIDs)
	b := s.db.pdb.NewBatch()
	defer b.Close()
	maxPts := s.db.opts.MaxBlockPoints
	nextSeq := s.nextSeq
	// Only applyMu holders mutate the buffers, so reading them here
	// without s.mu is safe.
	for _, tid := range tableIDs {
		s.mu.RLock()
		ts := s.mu.tables[tid]
		list := ts.series
		s.mu.RUnlock()
		for _, se := range list {
			n := len(se.times)
			if n == 0 {
				continue
			}
			times, cols := sortedView(se.times, se.cols, n, &s.flushBuf)
			for lo := 0; lo < len(times); lo += maxPts {
				hi := min(lo+maxPts, len(times))
				seq := nextSeq
				nextSeq++
				s.keyBuf = blockKey(s.keyBuf[:0], s.id, tid, se.id, colKindTime, 0, times[lo], seq)
				s.valBuf = s.enc.appendTimeBlock(s.valBuf[:0], times[lo:hi])
				if err := b.Set(s.keyBuf, s.valBuf, nil); err != nil {
					return fmt.Errorf("longboat/store: cannot flush shard %d: %w", s.id, err)
				}
				for ci, c := range cols {
					if c.typ == 0 || allNull(c, lo, hi) {
						continue // absent block = all NULL
					}
					s.keyBuf = blockKey(s.keyBuf[:0], s.id, tid, se.id, colKindField, se.cols[ci].id, times[lo], seq)
					s.valBuf = s.enc.appendFieldBlock(s.valBuf[:0], c, times, lo, hi)
					if err := b.Set(s.keyBuf, s.valBuf, nil); err != nil {
						return fmt.Errorf("longboat/store: cannot flush shard %d: %w", s.id, err)
					}
				}
			}
		}
	}
	for _, se := range s.newSeries {
		s.keyBuf = seriesKey(s.keyBuf[:0], s.id, se.table, se.id)
		s.valBuf = appendTags(s.valBuf[:0], se.tags)
		if err := b.Set(s.keyBuf, s.valBuf, nil); err != nil {
			return fmt.Errorf("longboat/store: cannot flush shard %d: %w", s.id, err)
		}
	}
	setMeta := func(id byte, v uint64) error {
		s.keyBuf = metaKey(s.keyBuf[:0], s.id, id)
		return b.Set(s.keyBuf, binary.BigEndian.AppendUint64(s.valBuf[:0], v), nil)
	}
	if err := setMeta(metaApplied, pending); err != nil {
		return err
	}
	if err := setMeta(metaNextSeries, s.nextSeries); err != nil {
		return err
	}
	if err := setMeta(metaNextSeq, nextSeq); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("longboat/store: cannot commit flush of shard %d: %w", s.id, err)
	}
	s.nextSeq = nextSeq
	s.newSeries = s.newSeries[:0]
	// Drop the buffer. Fresh slices (not [:0]) keep captured scan views valid.
	s.mu.Lock()
	for _, ts := range s.mu.tables {
		for _, se := range ts.series {
			if n := len(se.times); n > 0 {
				se.hint = n + n/8
			}
			se.times = nil
			se.cols = nil
		}
	}
	s.mu.applied = pending
	s.mu.Unlock()
	s.buffered.Store(0)
	return nil
}

func allNull(c *colVec, lo, hi int) bool {
	if !c.hasNulls {
		return false
	}
	for _, n := range c.nulls[lo:hi] {
		if !n {
			return false
		}
	}
	return true
}
