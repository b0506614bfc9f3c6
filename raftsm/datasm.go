package raftsm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/longboatdb/longboat/shard/store"
)

// Snapshot stream of a data shard:
//
//	+-----------+-------------+------------------------------------+
//	| "LBSS"    | version u32 | store snapshot (SnapshotStream)    |
//	+-----------+-------------+------------------------------------+
//
// The header lets a newer binary refuse (rather than misread) a snapshot
// written by a format it does not know.
var dataSnapshotMagic = [4]byte{'L', 'B', 'S', 'S'}

const dataSnapshotVersion uint32 = 1

// QueryAppliedIndex is a Lookup query answered by the data state machine
// with the index (uint64) of the last entry passed to Update (or recovered
// from a snapshot). It is safe at any time, even after Close.
type QueryAppliedIndex struct{}

// dataSM is the on-disk state machine of one data shard replica. Dragonboat
// guarantees mutual exclusion between Open, Update, Sync, PrepareSnapshot,
// RecoverFromSnapshot and Close; Lookup and SaveSnapshot run concurrently with
// them, so they touch only atomics and the prepared snapshot.
type dataSM struct {
	shardID   uint64
	replicaID uint64
	storage   Storage
	log       *slog.Logger
	// hooks are called (from Dragonboat's goroutines) when the shard handle
	// opens and closes, so that Host.LocalShard can find it.
	onOpen  func(shardID uint64, s ShardStorage)
	onClose func(shardID uint64, s ShardStorage)

	shard    ShardStorage     // set by Open; used only under Dragonboat's exclusion
	wb       store.WriteBatch // decode buffer reused across entries
	empty    store.WriteBatch // applied for entries that carry no data, to record their index
	applied  atomic.Uint64    // last index passed to Update or recovered
	applies  atomic.Uint64    // entries applied since Open (tests: replay counting)
	recovers atomic.Uint64    // snapshots recovered since Open
	closed   atomic.Bool
}

var _ sm.IOnDiskStateMachine = (*dataSM)(nil)

// Open opens the shard's storage and returns its durable applied index:
// Dragonboat replays exactly the entries after it.
func (d *dataSM) Open(stopc <-chan struct{}) (uint64, error) {
	select {
	case <-stopc:
		return 0, sm.ErrOpenStopped
	default:
	}
	s, err := d.storage.OpenShard(d.shardID)
	if err != nil {
		return 0, fmt.Errorf("longboat/raftsm: cannot open storage of shard %d: %w", d.shardID, err)
	}
	d.shard = s
	idx := s.AppliedIndex()
	d.applied.Store(idx)
	if d.onOpen != nil {
		d.onOpen(d.shardID, s)
	}
	return idx, nil
}

// Update applies a run of committed entries. Every entry gets a Result;
// errors are returned only for I/O failures (they stop the NodeHost).
func (d *dataSM) Update(entries []sm.Entry) ([]sm.Entry, error) {
	for i := range entries {
		e := &entries[i]
		if err := d.applyEntry(e); err != nil {
			return nil, err
		}
		d.applies.Add(1)
	}
	if d.shard.NeedsFlush() {
		if err := d.shard.Flush(); err != nil {
			return nil, fmt.Errorf("longboat/raftsm: cannot flush shard %d: %w", d.shardID, err)
		}
	}
	if n := len(entries); n > 0 {
		d.applied.Store(entries[n-1].Index)
	}
	return entries, nil
}

func (d *dataSM) applyEntry(e *sm.Entry) error {
	typ, payload, tableID, err := decodeDataCommand(e.Cmd)
	if err != nil {
		e.Result = businessError(resultBadCommand, err)
		return d.recordIndex(e.Index)
	}
	switch typ {
	case cmdWriteBatch:
		if err := d.storage.DecodeWriteBatch(payload, &d.wb); err != nil {
			e.Result = businessError(resultBadCommand, err)
			return d.recordIndex(e.Index)
		}
		if err := d.shard.Apply(e.Index, &d.wb); err != nil {
			if errors.Is(err, store.ErrClosed) {
				return fmt.Errorf("longboat/raftsm: cannot apply entry %d to shard %d: %w", e.Index, d.shardID, err)
			}
			// NB: Apply only buffers (I/O happens in Flush), so any other
			// failure is the batch being refused, deterministically on every
			// replica; the store has still recorded the index.
			d.log.Warn("write batch rejected", "shard", d.shardID, "index", e.Index, "err", err)
			e.Result = businessError(resultRejected, err)
			return nil
		}
	case cmdDeleteTable:
		if err := d.shard.DeleteTable(tableID); err != nil {
			return fmt.Errorf("longboat/raftsm: cannot delete table %d from shard %d: %w", tableID, d.shardID, err)
		}
		if err := d.recordIndex(e.Index); err != nil {
			return err
		}
	}
	e.Result = sm.Result{Value: resultOK}
	return nil
}

// recordIndex applies an empty batch so that the store's applied index
// tracks every entry Dragonboat hands us (it checks it against snapshots).
func (d *dataSM) recordIndex(index uint64) error {
	if err := d.shard.Apply(index, &d.empty); err != nil {
		return fmt.Errorf("longboat/raftsm: cannot record index %d of shard %d: %w", index, d.shardID, err)
	}
	return nil
}

func businessError(code uint64, err error) sm.Result {
	return sm.Result{Value: code, Data: []byte(err.Error())}
}

// Lookup answers QueryAppliedIndex. It never touches the store, so it is safe
// concurrently with Update and after Close.
func (d *dataSM) Lookup(q interface{}) (interface{}, error) {
	switch q.(type) {
	case QueryAppliedIndex, *QueryAppliedIndex:
		return d.applied.Load(), nil
	default:
		return nil, fmt.Errorf("longboat/raftsm: unknown query %T", q)
	}
}

// Sync makes every applied entry durable.
func (d *dataSM) Sync() error {
	if err := d.shard.Flush(); err != nil {
		return fmt.Errorf("longboat/raftsm: cannot sync shard %d: %w", d.shardID, err)
	}
	return nil
}

// PrepareSnapshot takes a point-in-time view of the store (a Pebble
// snapshot): several SaveSnapshot streams may run at once, concurrently with
// Update.
func (d *dataSM) PrepareSnapshot() (interface{}, error) {
	s, err := d.shard.PrepareSnapshot()
	if err != nil {
		return nil, fmt.Errorf("longboat/raftsm: cannot prepare snapshot of shard %d: %w", d.shardID, err)
	}
	return s, nil
}

// SaveSnapshot streams the prepared snapshot and releases it.
func (d *dataSM) SaveSnapshot(ctx interface{}, w io.Writer, done <-chan struct{}) error {
	s, ok := ctx.(SnapshotStream)
	if !ok {
		return fmt.Errorf("longboat/raftsm: snapshot context of type %T", ctx)
	}
	defer func() { _ = s.Close() }()
	var hdr [8]byte
	copy(hdr[:4], dataSnapshotMagic[:])
	hdr[4] = byte(dataSnapshotVersion)
	if _, err := w.Write(hdr[:]); err != nil {
		return snapshotError(err, done)
	}
	if err := s.WriteTo(w, done); err != nil {
		return snapshotError(err, done)
	}
	return nil
}

// snapshotError maps a streaming failure to the sentinels Dragonboat expects
// (anything else stops the NodeHost).
func snapshotError(err error, done <-chan struct{}) error {
	select {
	case <-done:
		return sm.ErrSnapshotStopped
	default:
	}
	if errors.Is(err, sm.ErrSnapshotStreaming) || errors.Is(err, sm.ErrSnapshotStopped) || errors.Is(err, sm.ErrSnapshotAborted) {
		return err
	}
	return fmt.Errorf("longboat/raftsm: cannot save snapshot: %w", err)
}

// RecoverFromSnapshot replaces the shard's content with a snapshot.
func (d *dataSM) RecoverFromSnapshot(r io.Reader, done <-chan struct{}) error {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return snapshotError(fmt.Errorf("longboat/raftsm: cannot read snapshot header of shard %d: %w", d.shardID, err), done)
	}
	if !bytes.Equal(hdr[:4], dataSnapshotMagic[:]) || hdr[4] != byte(dataSnapshotVersion) || hdr[5]|hdr[6]|hdr[7] != 0 {
		return fmt.Errorf("longboat/raftsm: shard %d: unknown snapshot header %x", d.shardID, hdr)
	}
	if err := d.shard.RecoverFromSnapshot(r, done); err != nil {
		return snapshotError(fmt.Errorf("longboat/raftsm: cannot recover shard %d from snapshot: %w", d.shardID, err), done)
	}
	d.applied.Store(d.shard.AppliedIndex())
	d.recovers.Add(1)
	return nil
}

// Close closes the shard handle (never the DB).
func (d *dataSM) Close() error {
	if d.closed.Swap(true) || d.shard == nil {
		return nil
	}
	if d.onClose != nil {
		d.onClose(d.shardID, d.shard)
	}
	// NB: flushing on Close only shortens the replay after a restart; a
	// crash without it loses nothing (the Raft log still has the entries).
	if err := d.shard.Flush(); err != nil {
		d.log.Warn("cannot flush shard on close", "shard", d.shardID, "err", err)
	}
	if err := d.shard.Close(); err != nil {
		return fmt.Errorf("longboat/raftsm: cannot close shard %d: %w", d.shardID, err)
	}
	return nil
}
