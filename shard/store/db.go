package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// ErrClosed is returned by operations on a closed shard or DB.
var ErrClosed = errors.New("longboat/store: shard closed")

// ErrStopped is returned by snapshot streaming when done is closed.
var ErrStopped = errors.New("longboat/store: snapshot stopped")

// Options configures a DB. The zero value is usable.
type Options struct {
	// FlushPoints is the number of buffered points per shard at which
	// NeedsFlush reports true (default 1<<17).
	FlushPoints int
	// MaxBlockPoints is the largest number of points in one stored block
	// (default 1024, at most 65536).
	MaxBlockPoints int
	// CacheSize is the Pebble block cache size (default 64 MiB).
	CacheSize int64
	// Logger receives Pebble's and the store's logs (default slog.Default()).
	Logger *slog.Logger
	// Compression of Pebble's sstable blocks, on top of the column codecs:
	// "snappy" (default; fastest profile), "zstd" or "none".
	Compression string
	// MemTableSize is Pebble's memtable size (default 4 MiB). It also
	// sets the disk cost of the WAL: Pebble preallocates each WAL segment
	// in steps of 110% of it and keeps up to three obsolete segments for
	// recycling, so 32 MiB memtables cost ~150 MiB of WAL on disk. The store
	// writes compressed blocks (about a byte per value), so 4 MiB holds
	// millions of values.
	MemTableSize uint64
	// FS overrides the filesystem (tests use vfs.NewMem()); default disk.
	FS vfs.FS
}

func (o *Options) withDefaults() Options {
	r := *o
	if r.FlushPoints <= 0 {
		r.FlushPoints = 1 << 17
	}
	if r.MaxBlockPoints <= 0 {
		r.MaxBlockPoints = 1024
	}
	r.MaxBlockPoints = min(r.MaxBlockPoints, maxBlockRows)
	if r.CacheSize <= 0 {
		r.CacheSize = 64 << 20
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	if r.MemTableSize == 0 {
		r.MemTableSize = 4 << 20
	}
	return r
}

// DB is one Pebble instance holding every shard of a node.
type DB struct {
	pdb  *pebble.DB
	opts Options
	log  *slog.Logger

	mu struct {
		sync.Mutex
		closed    bool
		shards    map[uint64]*Shard
		snapshots map[*Snapshot]struct{}
		// packed maps a shard to its block sequence counter at the end of
		// its last complete block compaction: while the counter has not
		// moved, no block was written and compacting again would find
		// nothing. Kept in memory only (one pass per shard after a
		// restart re-establishes it).
		packed map[uint64]uint64
	}
	// inflight counts scans and snapshot streams using pdb; Add is called
	// under mu while !closed, so Close can Wait for them.
	inflight sync.WaitGroup
}

// Open opens (or creates) the store in dir.
func Open(dir string, opts Options) (*DB, error) {
	o := opts.withDefaults()
	cache := pebble.NewCache(o.CacheSize)
	defer cache.Unref()
	po := &pebble.Options{
		Cache:        cache,
		FS:           o.FS,
		Logger:       pebbleLogger{o.Logger},
		MemTableSize: o.MemTableSize,
		// Two cores: one background compaction at a time, a second one
		// only when L0 backs up.
		CompactionConcurrencyRange: func() (int, int) { return 1, 2 },
		L0CompactionThreshold:      4,
		L0StopWritesThreshold:      24,
		LBaseMaxBytes:              64 << 20,
		FormatMajorVersion:         pebble.FormatNewest,
	}
	for i := range po.Levels {
		po.Levels[i].BlockSize = 32 << 10
	}
	switch o.Compression {
	case "", "snappy":
		po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionFastest })
	case "zstd":
		po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionGood })
	case "none":
		po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	default:
		return nil, fmt.Errorf("longboat/store: unknown compression %q", o.Compression)
	}
	pdb, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("longboat/store: cannot open pebble in %s: %w", dir, err)
	}
	db := &DB{pdb: pdb, opts: o, log: o.Logger}
	db.mu.shards = make(map[uint64]*Shard)
	db.mu.snapshots = make(map[*Snapshot]struct{})
	db.mu.packed = make(map[uint64]uint64)
	if err := db.checkFormat(); err != nil {
		_ = pdb.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) checkFormat() error {
	key := []byte{ksDBMeta, dbMetaFormat}
	v, closer, err := db.pdb.Get(key)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		return db.pdb.Set(key, binary.BigEndian.AppendUint64(nil, FormatVersion), pebble.Sync)
	case err != nil:
		return fmt.Errorf("longboat/store: cannot read format version: %w", err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return fmt.Errorf("longboat/store: corrupt format version key")
	}
	if ver := binary.BigEndian.Uint64(v); ver > FormatVersion {
		return fmt.Errorf("longboat/store: store format %d is newer than this binary's %d", ver, FormatVersion)
	}
	return nil
}

// Close closes every shard and snapshot, waits for in-flight scans and
// snapshot streams, and closes Pebble.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		return nil
	}
	db.mu.closed = true
	shards := make([]*Shard, 0, len(db.mu.shards))
	for _, s := range db.mu.shards {
		shards = append(shards, s)
	}
	db.mu.Unlock()
	for _, s := range shards {
		_ = s.Close()
	}
	db.inflight.Wait()
	db.mu.Lock()
	for sn := range db.mu.snapshots {
		_ = sn.snap.Close()
		delete(db.mu.snapshots, sn)
	}
	db.mu.Unlock()
	return db.pdb.Close()
}

// acquire registers a user of pdb that Close must wait for.
func (db *DB) acquire() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return ErrClosed
	}
	db.inflight.Add(1)
	return nil
}

func (db *DB) release() { db.inflight.Done() }

// OpenShard opens the shard, loading its series index. It is idempotent:
// while the shard is open the same *Shard is returned.
func (db *DB) OpenShard(id uint64) (*Shard, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return nil, ErrClosed
	}
	if s := db.mu.shards[id]; s != nil {
		return s, nil
	}
	s := newShard(db, id)
	if err := s.load(); err != nil {
		return nil, fmt.Errorf("longboat/store: cannot open shard %d: %w", id, err)
	}
	db.mu.shards[id] = s
	return s, nil
}

// DropShard closes the shard (if open) and deletes all its keys.
func (db *DB) DropShard(id uint64) error {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	s := db.mu.shards[id]
	delete(db.mu.shards, id)
	delete(db.mu.packed, id)
	db.mu.Unlock()
	if s != nil {
		_ = s.Close()
	}
	start, end := shardBounds(id)
	if err := db.pdb.DeleteRange(start, end, pebble.Sync); err != nil {
		return fmt.Errorf("longboat/store: cannot drop shard %d: %w", id, err)
	}
	return nil
}

// DiskUsage returns the bytes on disk of the Pebble directory that hold
// data: live and pinned sstables and blob files, the live WAL, the
// manifest and options. It excludes files Pebble has already made
// obsolete and is deleting in the background, and the WAL segments it
// keeps for recycling (at most MemTableStopWritesThreshold+1 logs, a fixed
// cost independent of the amount of data). DiskUsageTotal counts those too.
func (db *DB) DiskUsage() uint64 {
	if db.acquire() != nil {
		return 0
	}
	defer db.release()
	m := db.pdb.Metrics()
	return m.DiskSpaceUsage() - m.WAL.ObsoletePhysicalSize - m.Table.Local.ObsoleteSize - m.BlobFiles.Local.ObsoleteSize
}

// DiskUsageTotal returns every byte Pebble accounts for on disk, obsolete
// and recyclable files included.
func (db *DB) DiskUsageTotal() uint64 {
	if db.acquire() != nil {
		return 0
	}
	defer db.release()
	return db.pdb.Metrics().DiskSpaceUsage()
}

// Compact packs the flushed blocks of every open shard (CompactBlocks),
// then flushes the memtable and compacts the whole keyspace.
func (db *DB) Compact(ctx context.Context) error {
	db.mu.Lock()
	shards := make([]*Shard, 0, len(db.mu.shards))
	for _, s := range db.mu.shards {
		shards = append(shards, s)
	}
	db.mu.Unlock()
	for _, s := range shards {
		if err := s.CompactBlocks(ctx); err != nil && !errors.Is(err, ErrClosed) {
			return err
		}
	}
	if err := db.acquire(); err != nil {
		return err
	}
	defer db.release()
	if err := db.pdb.Flush(); err != nil {
		return fmt.Errorf("longboat/store: cannot flush memtable: %w", err)
	}
	if err := db.pdb.Compact(ctx, []byte{ksDBMeta}, []byte{ksShard + 1}, true); err != nil {
		return fmt.Errorf("longboat/store: cannot compact: %w", err)
	}
	// Obsolete sstables are deleted in the background; give that a moment
	// so that a size measured right after Compact is meaningful.
	for range 100 {
		if db.pdb.Metrics().Table.Local.ObsoleteSize == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// isPacked reports whether shard id's blocks were completely compacted
// when its block sequence counter was nextSeq.
func (db *DB) isPacked(id, nextSeq uint64) bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	seq, ok := db.mu.packed[id]
	return ok && seq == nextSeq
}

func (db *DB) setPacked(id, nextSeq uint64) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.mu.packed[id] = nextSeq
}

// clearPacked forgets that shard id was compacted (its blocks were
// replaced wholesale).
func (db *DB) clearPacked(id uint64) {
	db.mu.Lock()
	defer db.mu.Unlock()
	delete(db.mu.packed, id)
}

// pebbleLogger bridges Pebble's logger to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Info(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf is called by Pebble on unrecoverable internal corruption; like
// Pebble's default logger it does not return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble", "fatal", true)
	panic("longboat/store: pebble fatal: " + msg)
}
