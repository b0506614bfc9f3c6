package raftsm

import (
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longboatdb/longboat/shard/store"
)

// slowStorage wraps a Storage so that, once slow is set, every Apply takes
// a while: a replay of many entries after a restart then lasts long enough
// to be seen.
type slowStorage struct {
	Storage
	slow atomic.Bool
}

func (s *slowStorage) OpenShard(id uint64) (ShardStorage, error) {
	sh, err := s.Storage.OpenShard(id)
	if err != nil {
		return nil, err
	}
	return &slowShard{ShardStorage: sh, s: s}, nil
}

type slowShard struct {
	ShardStorage
	s *slowStorage
}

func (sh *slowShard) Apply(index uint64, wb *store.WriteBatch) error {
	if sh.s.slow.Load() {
		time.Sleep(2 * time.Millisecond)
	}
	return sh.ShardStorage.Apply(index, wb)
}

// TestStartWaitsForReplay: after a crash that lost the store's unflushed
// buffer, Start must not return (and the node must not serve reads) before
// every local data replica has replayed its log up to what was acknowledged.
// The single-node read path reads the local replica without a ReadIndex, so
// a Start that returned at once served reads missing acknowledged writes
// (found by cmd/longboat's TestCrashKill9).
func TestStartWaitsForReplay(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	defer db.Close()
	cs := &crashable{Storage: NewStoreStorage(db)}
	ss := &slowStorage{Storage: cs}
	cfg := testConfig(t, dir, 1, ss)
	cfg.SnapshotEntries = 100000 // no snapshot: Sync (a no-op here) must not be relied on
	ctx := testCtx(t)
	h := mustStart(t, cfg)
	if err := h.CreateTable(ctx, 1, cpuTable(), false); err != nil {
		t.Fatal(err)
	}
	tbl, _ := h.Catalog().Table(1, "cpu")
	shards, err := h.EnsureShards(ctx, 1, []int64{0})
	if err != nil {
		t.Fatal(err)
	}
	id := shards[0].ID

	// Crash before any flush: every acknowledged write lives only in the
	// Raft log.
	cs.noFlush.Store(true)
	const writes = 150
	for i := range writes {
		if err := h.Write(ctx, id, oneRow(tbl.ID, int64(i), "a")); err != nil {
			t.Fatal(err)
		}
	}
	acked, err := h.AppliedIndex(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	cs.noFlush.Store(false)

	// The replay of 150 entries now takes at least 300 ms.
	ss.slow.Store(true)
	h = mustStart(t, cfg)
	defer h.Close()
	got, err := h.AppliedIndex(id)
	if err != nil {
		t.Fatalf("Start returned before the replica of shard %d was open: %v", id, err)
	}
	if got < acked {
		t.Fatalf("Start returned with shard %d applied up to %d, before the replay reached the acknowledged index %d", id, got, acked)
	}
	sh, err := h.LocalStorage(id)
	if err != nil {
		t.Fatal(err)
	}
	st, err := unwrapStoreShard(sh.(*slowShard).ShardStorage.(*crashableShard).ShardStorage)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = st.Scan(ctx, &store.ScanRequest{TableID: tbl.ID, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: []uint16{3}},
		func(b *store.SeriesBatch) error { n += len(b.Times); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n != writes {
		t.Fatalf("%d rows readable right after Start, want %d", n, writes)
	}
}
