package raftsm

import (
	"fmt"
	"io"

	"github.com/longboatdb/longboat/shard/store"
)

// Storage is what raftsm needs from the node's storage engine (one per
// node, shared by every data shard replica). The production implementation
// wraps *store.DB (see storeAdapter); tests may plug in a fake.
//
// The engine also owns the encoding of a WriteBatch inside a Raft entry, so
// the codec is part of this interface.
type Storage interface {
	// OpenShard opens (creating if needed) the storage of one shard.
	OpenShard(id uint64) (ShardStorage, error)
	// DropShard removes everything stored for shard id. The shard must not be
	// open.
	DropShard(id uint64) error
	// AppendWriteBatch appends the encoding of wb to dst.
	AppendWriteBatch(dst []byte, wb *store.WriteBatch) []byte
	// DecodeWriteBatch decodes src into wb (reusing its capacity). It must not
	// panic on corrupt input.
	DecodeWriteBatch(src []byte, wb *store.WriteBatch) error
}

// ShardStorage is the storage of one shard as seen by the data state machine.
// Dragonboat serialises Apply, Flush, PrepareSnapshot, RecoverFromSnapshot,
// DeleteTable and Close; SnapshotStream.WriteTo may run concurrently with them.
type ShardStorage interface {
	// AppliedIndex is the Raft index persisted together with the data.
	AppliedIndex() uint64
	// Apply applies wb as Raft entry index (buffered; durable after Flush).
	// A batch it refuses (an error other than store.ErrClosed) changes
	// nothing but is still recorded as applied at index; store.ErrClosed
	// is an I/O-class failure that stops the NodeHost.
	Apply(index uint64, wb *store.WriteBatch) error
	// NeedsFlush reports whether the buffer should be flushed now.
	NeedsFlush() bool
	// Flush makes every applied entry durable, with its index.
	Flush() error
	// PrepareSnapshot captures a point-in-time view for SnapshotStream.
	PrepareSnapshot() (SnapshotStream, error)
	// RecoverFromSnapshot replaces the shard's content with a snapshot
	// written by SnapshotStream.WriteTo.
	RecoverFromSnapshot(r io.Reader, done <-chan struct{}) error
	// DeleteTable removes every point of table tableID.
	DeleteTable(tableID uint32) error
	// Close closes the shard handle (not the DB).
	Close() error
}

// SnapshotStream is a prepared point-in-time snapshot of one shard.
type SnapshotStream interface {
	WriteTo(w io.Writer, done <-chan struct{}) error
	Close() error
}

// NewStoreStorage adapts the node's *store.DB to Storage.
func NewStoreStorage(db *store.DB) Storage { return storeStorage{db: db} }

type storeStorage struct{ db *store.DB }

var _ Storage = storeStorage{}

func (s storeStorage) OpenShard(id uint64) (ShardStorage, error) {
	sh, err := s.db.OpenShard(id)
	if err != nil {
		return nil, err
	}
	return storeShard{sh}, nil
}

func (s storeStorage) DropShard(id uint64) error { return s.db.DropShard(id) }

func (storeStorage) AppendWriteBatch(dst []byte, wb *store.WriteBatch) []byte {
	return store.AppendWriteBatch(dst, wb)
}

func (storeStorage) DecodeWriteBatch(src []byte, wb *store.WriteBatch) error {
	return store.DecodeWriteBatch(src, wb)
}

// storeShard adapts *store.Shard to ShardStorage.
type storeShard struct{ *store.Shard }

var _ ShardStorage = storeShard{}

func (s storeShard) PrepareSnapshot() (SnapshotStream, error) {
	sn, err := s.Shard.PrepareSnapshot()
	if err != nil {
		return nil, err
	}
	return sn, nil
}

// unwrapStoreShard returns the *store.Shard behind a ShardStorage.
func unwrapStoreShard(s ShardStorage) (*store.Shard, error) {
	if ss, ok := s.(storeShard); ok {
		return ss.Shard, nil
	}
	return nil, fmt.Errorf("longboat/raftsm: shard storage %T is not a *store.Shard", s)
}
