package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/longboatdb/longboat/shard"
)

// series is one (table, tag tuple) of a shard with its in-memory buffer.
//
// The buffer (times, cols) is append-only between flushes and is written
// only under Shard.mu (write lock); scans copy the slice headers under the
// read lock and read the captured prefix without any lock. Flush replaces
// the slices instead of truncating them, so captured prefixes stay valid.
type series struct {
	id    uint64
	table uint32
	tags  []string
	times []int64
	cols  []*bufCol // in order of first appearance
	hint  int       // rows at the last flush: initial buffer capacity
	// applyGen is Shard.applyGen when the series was last seen in a batch
	// being applied (guarded by applyMu).
	applyGen uint64
}

type bufCol struct {
	id uint16
	colVec
}

func (s *series) col(id uint16) *bufCol {
	for _, c := range s.cols {
		if c.id == id {
			return c
		}
	}
	return nil
}

type tableState struct {
	series []*series // by ascending ID; append-only except DeleteTable
}

// Shard is the storage of one shard: a key prefix in the node's Pebble plus
// an in-memory columnar buffer. Apply, Flush, DeleteTable and
// RecoverFromSnapshot are the writers (Dragonboat calls them from one
// goroutine; applyMu serialises them anyway); Scan may run concurrently
// with all of them and after Close.
type Shard struct {
	db     *DB
	id     uint64
	prefix []byte

	applyMu sync.Mutex
	// Guarded by applyMu.
	nextSeries uint64
	nextSeq    uint64
	newSeries  []*series // created since the last Flush (not yet persisted)
	applyGen   uint64    // marks the series of the batch being applied
	rowStarts  []int32   // scratch of groupRowsLocked
	rowOrder   []int32
	rowNext    []int32
	enc        blockEncoder
	flushBuf   flushScratch
	keyBuf     []byte
	valBuf     []byte
	batchSer   []*series
	batchCols  []*bufCol

	buffered atomic.Int64 // points in the buffer

	mu struct {
		sync.RWMutex
		closed  bool
		tables  map[uint32]*tableState
		byKey   map[string]*series
		applied uint64 // durable applied index
		pending uint64 // last applied index (maybe not durable)
	}
}

func newShard(db *DB, id uint64) *Shard {
	s := &Shard{db: db, id: id, prefix: shardPrefix(nil, id)}
	s.mu.tables = make(map[uint32]*tableState)
	s.mu.byKey = make(map[string]*series)
	return s
}

// load reads the shard's meta keys and series index from Pebble. Caller
// holds applyMu or has exclusive access.
func (s *Shard) load() error {
	get := func(id byte) (uint64, error) {
		v, closer, err := s.db.pdb.Get(metaKey(nil, s.id, id))
		if errors.Is(err, pebble.ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		defer closer.Close()
		if len(v) != 8 {
			return 0, fmt.Errorf("meta key %d: %w", id, errCorrupt)
		}
		return binary.BigEndian.Uint64(v), nil
	}
	applied, err := get(metaApplied)
	if err != nil {
		return err
	}
	if s.nextSeries, err = get(metaNextSeries); err != nil {
		return err
	}
	if s.nextSeq, err = get(metaNextSeq); err != nil {
		return err
	}
	tables := make(map[uint32]*tableState)
	byKey := make(map[string]*series)
	lo := append(slices.Clone(s.prefix), subSeries)
	it, err := s.db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return err
	}
	defer it.Close()
	var kb []byte
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != seriesKeyLen {
			return fmt.Errorf("series key %x: %w", k, errCorrupt)
		}
		table := binary.BigEndian.Uint32(k[shardPrefixLen+1:])
		id := binary.BigEndian.Uint64(k[shardPrefixLen+5:])
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		tags, rest, err := decodeTags(v, nil)
		if err != nil || len(rest) != 0 {
			return fmt.Errorf("series %d: %w", id, errCorrupt)
		}
		se := &series{id: id, table: table, tags: tags}
		ts := tables[table]
		if ts == nil {
			ts = &tableState{}
			tables[table] = ts
		}
		ts.series = append(ts.series, se)
		kb = seriesMapKey(kb[:0], table, tags)
		byKey[string(kb)] = se
		if id >= s.nextSeries {
			s.nextSeries = id + 1
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	s.mu.Lock()
	s.mu.tables, s.mu.byKey = tables, byKey
	s.mu.applied, s.mu.pending = applied, applied
	s.mu.Unlock()
	s.newSeries = nil
	s.buffered.Store(0)
	return nil
}

// ID returns the shard ID.
func (s *Shard) ID() uint64 { return s.id }

// AppliedIndex returns the durable applied Raft index: the index recorded
// by the last Flush (0 for a new shard).
func (s *Shard) AppliedIndex() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.applied
}

// NeedsFlush reports whether the buffer holds at least Options.FlushPoints
// points.
func (s *Shard) NeedsFlush() bool {
	return s.buffered.Load() >= int64(s.db.opts.FlushPoints)
}

// SeriesCount returns the number of series of the table in the shard,
// buffered ones included.
func (s *Shard) SeriesCount(tableID uint32) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if t := s.mu.tables[tableID]; t != nil {
		return len(t.series)
	}
	return 0
}

// Close closes the shard: later calls return ErrClosed. Buffered data is
// dropped (Raft replays it from AppliedIndex on reopen).
func (s *Shard) Close() error {
	s.mu.Lock()
	s.mu.closed = true
	s.mu.Unlock()
	s.db.mu.Lock()
	if s.db.mu.shards[s.id] == s {
		delete(s.db.mu.shards, s.id)
	}
	s.db.mu.Unlock()
	return nil
}

// Apply applies wb at Raft index into the buffer. It is deterministic: the
// series IDs it assigns depend only on the sequence of applied batches. An
// invalid batch changes nothing but still records index as applied.
func (s *Shard) Apply(index uint64, wb *WriteBatch) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if err := validateWriteBatch(wb); err != nil {
		s.setPending(index)
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return ErrClosed
	}
	if err := s.checkTypesLocked(wb); err != nil {
		s.mu.pending = index
		return err
	}
	for ti := range wb.Tables {
		s.applyTableLocked(&wb.Tables[ti])
	}
	s.mu.pending = index
	return nil
}

func (s *Shard) setPending(index uint64) {
	s.mu.Lock()
	s.mu.pending = index
	s.mu.Unlock()
}

// checkTypesLocked rejects a batch whose field types conflict with the
// buffered columns of an existing series.
func (s *Shard) checkTypesLocked(wb *WriteBatch) error {
	for ti := range wb.Tables {
		t := &wb.Tables[ti]
		for _, tags := range t.Series {
			s.keyBuf = seriesMapKey(s.keyBuf[:0], t.TableID, tags)
			se := s.mu.byKey[string(s.keyBuf)]
			if se == nil {
				continue
			}
			for fi, id := range t.FieldIDs {
				if c := se.col(id); c != nil && c.typ != shard.TypeInvalid && physOf(c.typ) != physOf(t.Fields[fi].Type) {
					return fmt.Errorf("longboat/store: table %d field %d: type %d conflicts with buffered type %d",
						t.TableID, id, t.Fields[fi].Type, c.typ)
				}
			}
		}
		// Two series entries in one batch are fine; the same field with two
		// types is impossible (FieldIDs are unique).
	}
	return nil
}

func (s *Shard) applyTableLocked(t *TableRows) {
	ts := s.mu.tables[t.TableID]
	if ts == nil {
		ts = &tableState{}
		s.mu.tables[t.TableID] = ts
	}
	nf := len(t.FieldIDs)
	s.batchSer = s.batchSer[:0]
	s.batchCols = s.batchCols[:0]
	for _, tags := range t.Series {
		s.keyBuf = seriesMapKey(s.keyBuf[:0], t.TableID, tags)
		se := s.mu.byKey[string(s.keyBuf)]
		if se == nil {
			se = &series{id: s.nextSeries, table: t.TableID, tags: slices.Clone(tags)}
			s.nextSeries++
			s.mu.byKey[string(s.keyBuf)] = se
			ts.series = append(ts.series, se)
			s.newSeries = append(s.newSeries, se)
		}
		s.batchSer = append(s.batchSer, se)
		if se.times == nil && se.hint > 0 {
			se.times = make([]int64, 0, se.hint)
		}
		for fi, id := range t.FieldIDs {
			c := se.col(id)
			if c == nil {
				c = &bufCol{id: id}
				c.typ = t.Fields[fi].Type
				if se.hint > 0 {
					switch physOf(c.typ) {
					case physF64:
						c.f64 = make([]float64, 0, se.hint)
					case physI64:
						c.i64 = make([]int64, 0, se.hint)
					}
				}
				c.appendNulls(len(se.times))
				se.cols = append(se.cols, c)
			}
			s.batchCols = append(s.batchCols, c)
		}
	}
	sers, cols := s.batchSer, s.batchCols
	if order, starts, ok := s.groupRowsLocked(t, sers); ok {
		// Series-major: each buffer is appended to in one run (the
		// row-major loop below appends to nf*len(sers) buffers in turn).
		for si, se := range sers {
			rows := order[starts[si]:starts[si+1]]
			if len(rows) == 0 {
				continue
			}
			se.times = slices.Grow(se.times, len(rows))
			for _, r := range rows {
				se.times = append(se.times, t.Times[r])
			}
			for fi := range t.Fields {
				appendRows(cols[si*nf+fi], &t.Fields[fi], rows)
			}
		}
	} else {
		s.applyRowMajorLocked(t, sers, cols)
	}
	// Columns of the batch's series that this batch did not carry get NULLs.
	for _, se := range sers {
		n := len(se.times)
		for _, c := range se.cols {
			if l := c.len(); l < n {
				c.appendNulls(n - l)
			}
		}
	}
	s.buffered.Add(int64(len(t.Times)))
}

// groupRowsLocked orders the rows of t by series, keeping row order within
// a series (a counting sort): rows order[starts[i]:starts[i+1]] belong to
// series i. It returns ok == false when two tag tuples of t resolve to the
// same series (their rows must then interleave as in t).
func (s *Shard) groupRowsLocked(t *TableRows, sers []*series) (order, starts []int32, ok bool) {
	s.applyGen++
	for _, se := range sers {
		if se.applyGen == s.applyGen {
			return nil, nil, false
		}
		se.applyGen = s.applyGen
	}
	starts = slices.Grow(s.rowStarts[:0], len(sers)+1)[:len(sers)+1]
	clear(starts)
	for _, si := range t.SeriesIdx {
		starts[si+1]++
	}
	for i := 1; i < len(starts); i++ {
		starts[i] += starts[i-1]
	}
	order = slices.Grow(s.rowOrder[:0], len(t.SeriesIdx))[:len(t.SeriesIdx)]
	next := slices.Grow(s.rowNext[:0], len(sers))[:len(sers)]
	copy(next, starts)
	for r, si := range t.SeriesIdx {
		order[next[si]] = int32(r)
		next[si]++
	}
	if cap(order) <= maxKeptRowScratch {
		// NB: a shard keeps at most this much scratch between batches.
		s.rowStarts, s.rowOrder, s.rowNext = starts, order, next
	}
	return order, starts, true
}

// maxKeptRowScratch bounds the row-grouping scratch a shard keeps (int32s).
const maxKeptRowScratch = 1 << 15

// appendRows appends rows of v to c.
func appendRows(c *bufCol, v *Vector, rows []int32) {
	if v.Null == nil && !c.hasNulls {
		switch physOf(v.Type) {
		case physF64:
			c.f64 = slices.Grow(c.f64, len(rows))
			for _, r := range rows {
				c.f64 = append(c.f64, v.F64[r])
			}
			return
		case physI64:
			c.i64 = slices.Grow(c.i64, len(rows))
			for _, r := range rows {
				c.i64 = append(c.i64, v.I64[r])
			}
			return
		}
	}
	for _, r := range rows {
		appendRow(c, v, int(r))
	}
}

// appendRow appends row r of v to c.
func appendRow(c *bufCol, v *Vector, r int) {
	if v.Null != nil && v.Null[r] {
		c.appendNulls(1)
		return
	}
	switch physOf(v.Type) {
	case physF64:
		c.f64 = append(c.f64, v.F64[r])
	case physI64:
		c.i64 = append(c.i64, v.I64[r])
	case physBool:
		c.b = append(c.b, v.B[r])
	case physStr:
		c.str = append(c.str, v.Str[r])
	}
	if c.hasNulls {
		c.nulls = append(c.nulls, false)
	}
}

// applyRowMajorLocked appends t's rows to the series buffers in row order.
func (s *Shard) applyRowMajorLocked(t *TableRows, sers []*series, cols []*bufCol) {
	nf := len(t.FieldIDs)
	for r, si := range t.SeriesIdx {
		se := sers[si]
		se.times = append(se.times, t.Times[r])
	}
	for fi := range t.Fields {
		v := &t.Fields[fi]
		for r, si := range t.SeriesIdx {
			appendRow(cols[int(si)*nf+fi], v, r)
		}
	}
}

// Series calls fn with the ID and tag values of every series of the table
// in the shard (buffered ones included), in ID order, until fn returns
// false. tags must not be modified or retained.
func (s *Shard) Series(tableID uint32, fn func(id uint64, tags []string) bool) error {
	s.mu.RLock()
	if s.mu.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	var list []*series
	if t := s.mu.tables[tableID]; t != nil {
		list = t.series
	}
	s.mu.RUnlock()
	for _, se := range list {
		if !fn(se.id, se.tags) {
			break
		}
	}
	return nil
}
