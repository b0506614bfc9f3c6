package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// CompactBlocks rewrites, series by series, the flushed blocks of every
// series whose groups overlap or could be packed into fewer groups of
// MaxBlockPoints rows: it merges them (the latest write of a timestamp
// wins, as on read) and replaces them atomically in one Pebble batch.
// Buffered points are untouched. Scans may run concurrently (they read
// from their own iterator); writers wait for one series at a time.
// DB.Compact calls it for every open shard.
func (s *Shard) CompactBlocks(ctx context.Context) error {
	s.mu.RLock()
	if s.mu.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	var all []*series
	for _, ts := range s.mu.tables {
		all = append(all, ts.series...)
	}
	s.mu.RUnlock()
	slices.SortFunc(all, func(a, b *series) int { return cmp.Compare(a.id, b.id) })
	for _, se := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.compactSeries(se); err != nil {
			return fmt.Errorf("longboat/store: cannot compact series %d of shard %d: %w", se.id, s.id, err)
		}
	}
	return nil
}

// seriesPlan is what compactSeries learns from the keys of a series.
type seriesPlan struct {
	groups, rows int
	overlap      bool
	minT, maxT   int64
	fields       []uint16
}

func (s *Shard) planSeries(it *pebble.Iterator, se *series) (seriesPlan, error) {
	p := seriesPlan{minT: math.MaxInt64, maxT: math.MinInt64}
	pref := blockColPrefix(nil, s.id, se.table, se.id, colKindTime, 0)
	prevMax := int64(math.MinInt64)
	for ok := it.SeekGE(pref); ok && bytes.HasPrefix(it.Key(), pref); ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return p, err
		}
		var h blockHeader
		if _, err := parseHeader(v, &h); err != nil {
			return p, err
		}
		if p.groups > 0 && h.minTime <= prevMax {
			p.overlap = true
		}
		prevMax = max(prevMax, h.maxTime)
		p.groups++
		p.rows += h.count
		p.minT = min(p.minT, h.minTime)
		p.maxT = max(p.maxT, h.maxTime)
	}
	// Field columns: skip from column to column with seeks.
	fp := blockColPrefix(nil, s.id, se.table, se.id, colKindField, 0)
	sp := fp[:len(fp)-3] // table|series prefix
	for ok := it.SeekGE(fp); ok && bytes.HasPrefix(it.Key(), sp); {
		k := it.Key()
		if len(k) != blockKeyLen || k[len(sp)] != colKindField {
			return p, errCorrupt
		}
		col := binary.BigEndian.Uint16(k[len(sp)+1:])
		p.fields = append(p.fields, col)
		if col == math.MaxUint16 {
			break
		}
		ok = it.SeekGE(blockColPrefix(nil, s.id, se.table, se.id, colKindField, col+1))
	}
	return p, it.Error()
}

func (s *Shard) compactSeries(se *series) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	closed := s.mu.closed
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if err := s.db.acquire(); err != nil {
		return err
	}
	defer s.db.release()
	lo := blockColPrefix(nil, s.id, se.table, se.id, colKindTime, 0)
	lo = lo[:len(lo)-3]
	hi := prefixEnd(lo)
	it, err := s.db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	p, err := s.planSeries(it, se)
	if err != nil {
		return err
	}
	maxPts := s.db.opts.MaxBlockPoints
	if p.groups <= 1 || (!p.overlap && p.groups <= (p.rows+maxPts-1)/maxPts) {
		return nil
	}
	if p.maxT == math.MaxInt64 {
		return nil // MaxTime is exclusive: such a series cannot be read whole
	}
	// Read the whole series merged, through the scan path.
	req := &ScanRequest{TableID: se.table, MinTime: p.minT, MaxTime: p.maxT + 1, Fields: p.fields}
	times := make([]int64, 0, p.rows)
	cols := make([]bufCol, len(p.fields))
	for i, id := range p.fields {
		cols[i].id = id
	}
	sc := &scanner{s: s, ctx: context.Background(), req: req, it: it}
	sc.outCols = make([]colVec, len(p.fields))
	sc.outVecs = make([]Vector, len(p.fields))
	sc.memCols = make([]*colVec, len(p.fields))
	sc.fn = func(b *SeriesBatch) error {
		times = append(times, b.Times...)
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
	if err := sc.scanSeries(&capturedSeries{se: se}); err != nil {
		return err
	}
	b := s.db.pdb.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(lo, hi, nil); err != nil {
		return err
	}
	nextSeq := s.nextSeq
	var key, val []byte
	for start := 0; start < len(times); start += maxPts {
		end := min(start+maxPts, len(times))
		seq := nextSeq
		nextSeq++
		key = blockKey(key[:0], s.id, se.table, se.id, colKindTime, 0, times[start], seq)
		val = s.enc.appendTimeBlock(val[:0], times[start:end])
		if err := b.Set(key, val, nil); err != nil {
			return err
		}
		for i := range cols {
			c := &cols[i].colVec
			if c.typ == 0 || allNull(c, start, end) {
				continue
			}
			key = blockKey(key[:0], s.id, se.table, se.id, colKindField, cols[i].id, times[start], seq)
			val = s.enc.appendFieldBlock(val[:0], c, times, start, end)
			if err := b.Set(key, val, nil); err != nil {
				return err
			}
		}
	}
	key = metaKey(key[:0], s.id, metaNextSeq)
	if err := b.Set(key, binary.BigEndian.AppendUint64(val[:0], nextSeq), nil); err != nil {
		return err
	}
	// NB: not synced: the rewrite changes no logical content, and a later
	// synced Flush makes it durable (the WAL is ordered).
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	s.nextSeq = nextSeq
	return nil
}
