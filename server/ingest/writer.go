package ingest

import (
	"context"
	"fmt"
	"sync"

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
	Write(ctx context.Context, shardID uint64, wb *store.WriteBatch) error
}

// Options tune a Writer.
type Options struct {
	// BatchRows is the number of rows per shard batch that triggers a commit
	// (default 16384).
	BatchRows int
	// Inflight is the number of batches committed concurrently (default 2).
	Inflight int
}

// Writer routes rows of one table to shards. It is not safe for concurrent
// use; one Writer serves one statement.
type Writer struct {
	ctx   context.Context
	c     Committer
	db    *shard.Database
	tbl   *shard.Table
	opts  Options
	tags  []int // column indexes of tags
	field []int // column indexes of fields
	fids  []uint16

	pt      *shard.PartitionTable
	route   map[routeKey]uint64 // (partition, group) → shard ID
	pending map[uint64]*builder
	rows    int64

	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error // first commit error
	tagv []string
}

type routeKey struct {
	part  int64
	group int
}

// NewWriter returns a Writer for rows of tbl in db. ctx bounds every commit.
func NewWriter(ctx context.Context, c Committer, db *shard.Database, tbl *shard.Table, opts Options) *Writer {
	if opts.BatchRows <= 0 {
		opts.BatchRows = 16384
	}
	if opts.Inflight <= 0 {
		opts.Inflight = 2
	}
	w := &Writer{
		ctx: ctx, c: c, db: db, tbl: tbl, opts: opts,
		tags:    tbl.Tags,
		field:   tbl.Fields(),
		route:   make(map[routeKey]uint64),
		pending: make(map[uint64]*builder),
		sem:     make(chan struct{}, opts.Inflight),
	}
	for _, i := range w.field {
		w.fids = append(w.fids, tbl.Columns[i].ID)
	}
	w.tagv = make([]string, len(w.tags))
	return w
}

// Add routes one row (in table column order, values already of the column
// types). The row slice may be reused by the caller after Add returns.
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
	group := 0
	if w.db.SlotGroups > 1 && len(w.tagv) > 0 {
		group = shard.SlotGroup(shard.Slot(w.tagv[0]), w.db.SlotGroups)
	}
	rk := routeKey{part: shard.PartitionStart(td.I, w.db.PartitionInterval), group: group}
	sid, ok := w.route[rk]
	if !ok {
		var err error
		if sid, err = w.resolve(rk); err != nil {
			return err
		}
		w.route[rk] = sid
	}
	b := w.pending[sid]
	if b == nil {
		b = newBuilder(w.tbl, w.field, w.fids)
		w.pending[sid] = b
	}
	if err := b.add(w.tagv, td.I, row); err != nil {
		return err
	}
	w.rows++
	if b.n >= w.opts.BatchRows {
		delete(w.pending, sid)
		w.commit(sid, b)
	}
	return nil
}

// Rows returns the number of rows added so far.
func (w *Writer) Rows() int64 { return w.rows }

// Close commits every pending batch and waits for all commits. It returns
// the first error; on error some batches may have been committed (each
// batch is atomic, a statement is not).
func (w *Writer) Close() error {
	if w.firstErr() == nil {
		for sid, b := range w.pending {
			w.commit(sid, b)
		}
	}
	w.pending = nil
	w.wg.Wait()
	return w.firstErr()
}

func (w *Writer) firstErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
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

func (w *Writer) commit(sid uint64, b *builder) {
	select {
	case w.sem <- struct{}{}:
	case <-w.ctx.Done():
		w.setErr(pgerror.Wrap(w.ctx.Err(), pgerror.CodeQueryCanceled))
		return
	}
	w.wg.Add(1)
	go func() {
		defer func() { <-w.sem; w.wg.Done() }()
		wb := &store.WriteBatch{Tables: []store.TableRows{b.rows}}
		if err := w.c.Write(w.ctx, sid, wb); err != nil {
			w.setErr(err)
		}
	}()
}
