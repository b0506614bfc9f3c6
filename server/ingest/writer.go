package ingest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// Committer is what the Writer needs from the Raft layer.
type Committer interface {
	// Partitions returns the partition table as currently known.
	Partitions() *shard.PartitionTable
	// EnsureShards creates the shards of the given partitions if missing.
	EnsureShards(ctx context.Context, dbID uint32, partitionStarts []int64) ([]shard.ShardInfo, error)
	// Write commits one batch to one shard (quorum commit, then applied).
	// wb is not retained after Write returns. Write is called concurrently
	// for different shards, never for the same shard by one Writer.
	Write(ctx context.Context, shardID uint64, wb *store.WriteBatch) error
}

// Options tune a Writer.
type Options struct {
	// BatchRows is the largest number of rows of one shard batch (default
	// 16384).
	BatchRows int
	// MinBatchRows is the size at which a shard's batch is committed as
	// soon as the shard has no batch of this Writer in flight (default
	// 4096). Smaller batches shorten the wait at Close; larger ones cost
	// less per row.
	MinBatchRows int
	// Inflight bounds the batches full but not yet committed, over all
	// shards (default 4). Add blocks while the bound is reached.
	Inflight int
	// Pool, if set, recycles the row buffers of committed batches.
	Pool *Pool
}

// Writer routes rows of one table to shards. It is not safe for concurrent
// use; one Writer serves one statement.
//
// Each shard has a lane: the batch being filled, and a queue of full
// batches that one goroutine commits in order. So batches of one shard
// commit one at a time and in the order of their rows (a later row for the
// same series and time wins, as in a single batch), while batches of
// different shards commit concurrently, and parsing goes on meanwhile.
type Writer struct {
	ctx   context.Context
	c     Committer
	db    *shard.Database
	tbl   *shard.Table
	opts  Options
	tags  []int // column indexes of tags
	field []int // column indexes of fields
	fids  []uint16

	pt    *shard.PartitionTable
	route map[routeKey]*lane
	lanes []*lane // in creation order
	last  struct {
		ok   bool
		key  routeKey
		lane *lane
	}
	lastDist struct {
		ok    bool
		value string
		group int
	}
	rows int64
	tagv []string

	slots  chan struct{} // one token per batch queued or committing
	wg     sync.WaitGroup
	failed atomic.Bool // err is set
	mu     sync.Mutex
	err    error // first commit error
}

type routeKey struct {
	part  int64
	group int
}

// lane is one shard's part of a Writer. cur belongs to the Writer's
// goroutine; the queue is shared with the lane's committer goroutine.
type lane struct {
	sid  uint64
	cur  *builder
	busy atomic.Bool // a batch is queued or committing

	mu      sync.Mutex
	queue   []*builder
	running bool // a committer goroutine owns the queue
}

// NewWriter returns a Writer for rows of tbl in db. ctx bounds every commit.
func NewWriter(ctx context.Context, c Committer, db *shard.Database, tbl *shard.Table, opts Options) *Writer {
	if opts.BatchRows <= 0 {
		opts.BatchRows = 16384
	}
	if opts.BatchRows > store.MaxWriteBatchRows {
		opts.BatchRows = store.MaxWriteBatchRows
	}
	if opts.MinBatchRows <= 0 {
		opts.MinBatchRows = 4096
	}
	opts.MinBatchRows = min(opts.MinBatchRows, opts.BatchRows)
	if opts.Inflight <= 0 {
		opts.Inflight = 4
	}
	w := &Writer{
		ctx: ctx, c: c, db: db, tbl: tbl, opts: opts,
		tags:  tbl.Tags,
		field: tbl.Fields(),
		route: make(map[routeKey]*lane),
		slots: make(chan struct{}, opts.Inflight),
	}
	for _, i := range w.field {
		w.fids = append(w.fids, tbl.Columns[i].ID)
	}
	w.tagv = make([]string, len(w.tags))
	return w
}

// Add routes one row (in table column order, values already of the column
// types). The row slice may be reused by the caller after Add returns. Add
// blocks while Options.Inflight batches wait for their commit.
func (w *Writer) Add(row []types.Datum) error {
	if err := w.firstErr(); err != nil {
		return err
	}
	if len(row) != len(w.tbl.Columns) {
		return pgerror.Newf(pgerror.CodeInternal, "ingest: row has %d values, table %s has %d columns", len(row), w.tbl.Name, len(w.tbl.Columns))
	}
	td := row[w.tbl.TimeCol]
	if td.Null {
		return pgerror.Newf(pgerror.CodeNotNullViolation, "null value in column %q of relation %q violates not-null constraint", w.tbl.Columns[w.tbl.TimeCol].Name, w.tbl.Name)
	}
	for i, ci := range w.tags {
		d := row[ci]
		if d.Null {
			w.tagv[i] = ""
		} else {
			w.tagv[i] = d.S
		}
	}
	rk := routeKey{part: shard.PartitionStart(td.I, w.db.PartitionInterval), group: w.group()}
	l := w.last.lane
	if !w.last.ok || w.last.key != rk {
		var err error
		if l, err = w.laneFor(rk); err != nil {
			return err
		}
		w.last.ok, w.last.key, w.last.lane = true, rk, l
	}
	if l.cur == nil {
		l.cur = w.opts.Pool.get(w.tbl, w.field, w.fids)
	}
	l.cur.add(w.tagv, td.I, row)
	w.rows++
	if n := l.cur.n; n >= w.opts.BatchRows || n >= w.opts.MinBatchRows && !l.busy.Load() {
		return w.ship(l)
	}
	return nil
}

// group returns the slot group of the row whose tags are in w.tagv.
func (w *Writer) group() int {
	if w.db.SlotGroups <= 1 || len(w.tagv) == 0 {
		return 0
	}
	if v := w.tagv[0]; !w.lastDist.ok || w.lastDist.value != v {
		w.lastDist.ok, w.lastDist.value = true, v
		w.lastDist.group = shard.SlotGroup(shard.Slot(v), w.db.SlotGroups)
	}
	return w.lastDist.group
}

// Rows returns the number of rows added so far.
func (w *Writer) Rows() int64 { return w.rows }

// Close commits every pending batch and waits for all commits. It returns
// the first error; on error some batches may have been committed (each
// batch is atomic, a statement is not).
func (w *Writer) Close() error {
	for _, l := range w.lanes {
		if l.cur == nil {
			continue
		}
		if w.firstErr() != nil {
			w.opts.Pool.put(l.cur)
			l.cur = nil
			continue
		}
		_ = w.ship(l) // an error is recorded in w.err
	}
	w.wg.Wait()
	return w.firstErr()
}

func (w *Writer) firstErr() error {
	if !w.failed.Load() {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
		w.failed.Store(true)
	}
	w.mu.Unlock()
}

// laneFor returns the lane of the shard rk routes to, creating the shards
// of an unknown partition first.
func (w *Writer) laneFor(rk routeKey) (*lane, error) {
	if l := w.route[rk]; l != nil {
		return l, nil
	}
	sid, err := w.resolve(rk)
	if err != nil {
		return nil, err
	}
	// Two routes can share a shard only if the partition table maps them
	// so; keep one lane per shard regardless.
	for _, l := range w.lanes {
		if l.sid == sid {
			w.route[rk] = l
			return l, nil
		}
	}
	l := &lane{sid: sid}
	w.lanes = append(w.lanes, l)
	w.route[rk] = l
	return l, nil
}

func (w *Writer) resolve(rk routeKey) (uint64, error) {
	if w.pt == nil {
		w.pt = w.c.Partitions()
	}
	if s, ok := w.pt.Lookup(w.db.ID, rk.part, rk.group); ok {
		return s.ID, nil
	}
	infos, err := w.c.EnsureShards(w.ctx, w.db.ID, []int64{rk.part})
	if err != nil {
		return 0, fmt.Errorf("cannot create shards for partition %d of database %s: %w", rk.part, w.db.Name, err)
	}
	w.pt = w.c.Partitions()
	for _, s := range infos {
		if s.PartitionStart == rk.part && s.SlotGroup == rk.group {
			return s.ID, nil
		}
	}
	if s, ok := w.pt.Lookup(w.db.ID, rk.part, rk.group); ok {
		return s.ID, nil
	}
	return 0, pgerror.Newf(pgerror.CodeInternal, "ingest: no shard for database %s partition %d group %d after creating it", w.db.Name, rk.part, rk.group)
}

// ship queues l's current batch for commit, waiting for a slot first.
func (w *Writer) ship(l *lane) error {
	b := l.cur
	l.cur = nil
	select {
	case w.slots <- struct{}{}:
	case <-w.ctx.Done():
		w.opts.Pool.put(b)
		err := pgerror.Wrap(w.ctx.Err(), pgerror.CodeQueryCanceled)
		w.setErr(err)
		return err
	}
	l.mu.Lock()
	l.busy.Store(true)
	l.queue = append(l.queue, b)
	start := !l.running
	l.running = true
	l.mu.Unlock()
	if start {
		w.wg.Add(1)
		go w.commitLane(l)
	}
	return nil
}

// commitLane commits l's queued batches in order until the queue is
// empty. After the first error of the Writer it drops the rest.
func (w *Writer) commitLane(l *lane) {
	defer w.wg.Done()
	wb := &store.WriteBatch{Tables: make([]store.TableRows, 1)}
	for {
		l.mu.Lock()
		if len(l.queue) == 0 {
			l.running = false
			l.busy.Store(false)
			l.mu.Unlock()
			return
		}
		b := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.mu.Unlock()
		if w.firstErr() == nil {
			wb.Tables[0] = b.rows
			if err := w.c.Write(w.ctx, l.sid, wb); err != nil {
				w.setErr(err)
			}
			wb.Tables[0] = store.TableRows{}
		}
		w.opts.Pool.put(b)
		<-w.slots
	}
}
