package raftsm

import (
	"context"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
)

func openStore(t testing.TB, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "store"), store.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// crashable wraps the real store so that a test can make Flush a no-op:
// what a crash before the flush leaves on disk (Shard.Close drops the
// buffer).
type crashable struct {
	Storage
	noFlush atomic.Bool
}

func (c *crashable) OpenShard(id uint64) (ShardStorage, error) {
	s, err := c.Storage.OpenShard(id)
	if err != nil {
		return nil, err
	}
	return &crashableShard{ShardStorage: s, c: c}, nil
}

type crashableShard struct {
	ShardStorage
	c *crashable
}

func (s *crashableShard) Flush() error {
	if s.c.noFlush.Load() {
		return nil
	}
	return s.ShardStorage.Flush()
}

// countRows scans every point of table in the local replica of shardID.
func countRows(t testing.TB, h *Host, shardID uint64, table uint32) (n int, times []int64) {
	t.Helper()
	sh, err := h.LocalStorage(shardID)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := sh.(*crashableShard); ok {
		sh = c.ShardStorage
	}
	s, err := unwrapStoreShard(sh)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Scan(context.Background(), &store.ScanRequest{TableID: table, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: []uint16{3}},
		func(b *store.SeriesBatch) error {
			n += len(b.Times)
			times = append(times, b.Times...)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return n, times
}

func TestHostRealStoreRestart(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	cs := &crashable{Storage: NewStoreStorage(db)}
	cfg := testConfig(t, dir, 1, cs)
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
	for i := 0; i < 20; i++ {
		if err := h.Write(ctx, id, oneRow(tbl.ID, int64(i), "a")); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := countRows(t, h, id, tbl.ID); n != 20 {
		t.Fatalf("rows before restart: %d", n)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	// Restart on a reopened store: a clean close flushed everything.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openStore(t, dir)
	defer db.Close()
	cs = &crashable{Storage: NewStoreStorage(db)}
	cfg.Storage = cs
	h = mustStart(t, cfg)
	if err := h.ReadBarrier(ctx, id); err != nil {
		t.Fatal(err)
	}
	sh, _ := h.LocalShard(0)
	if sh != nil {
		t.Fatal("LocalShard of an unknown shard")
	}
	if n, _ := countRows(t, h, id, tbl.ID); n != 20 {
		t.Fatalf("rows after restart: %d", n)
	}
	st, _ := h.LocalStorage(id)
	flushed := st.AppliedIndex()
	if flushed == 0 {
		t.Fatalf("applied index not persisted")
	}

	// Crash before flushing: the acknowledged writes come back from the log.
	cs.noFlush.Store(true)
	for i := 20; i < 30; i++ {
		if err := h.Write(ctx, id, oneRow(tbl.ID, int64(i), "b")); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	cs.noFlush.Store(false)
	h = mustStart(t, cfg)
	defer h.Close()
	if err := h.ReadBarrier(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, _ = h.LocalStorage(id)
	if got := st.AppliedIndex(); got != flushed {
		t.Fatalf("durable index %d, want %d (nothing flushed since)", got, flushed)
	}
	n, times := countRows(t, h, id, tbl.ID)
	if n != 30 {
		t.Fatalf("rows after crash and replay: %d (%v)", n, times)
	}
}

// TestThreeReplicas runs three Hosts on Dragonboat's in-memory transport:
// a 3-replica shard is written on one node and read on the others; a node
// that was down while the log was compacted catches up by snapshot.
func TestThreeReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	ctx := testCtx(t)
	members := map[uint64]string{1: testAddr(t, 1), 2: testAddr(t, 2), 3: testAddr(t, 3)}
	dbs := make([]*store.DB, 4)
	cfgs := make([]Config, 4)
	hosts := make([]*Host, 4)
	for i := uint64(1); i <= 3; i++ {
		dir := t.TempDir()
		dbs[i] = openStore(t, dir)
		defer dbs[i].Close()
		cfgs[i] = testConfig(t, dir, i, nil)
		cfgs[i].Store = dbs[i]
		cfgs[i].MetaMembers = members
		cfgs[i].SnapshotEntries = 5
		cfgs[i].CompactionOverhead = 2
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			hosts[i], errs[i] = Start(ctx, cfgs[i])
		}(i)
	}
	wg.Wait()
	for i := 1; i <= 3; i++ {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
	}
	defer func() {
		for _, h := range hosts {
			if h != nil {
				_ = h.Close()
			}
		}
	}()
	h1 := hosts[1]
	if err := h1.CreateDatabase(ctx, shard.Database{Name: "m", Replicas: 3}, false); err != nil {
		t.Fatal(err)
	}
	d, _ := h1.Catalog().Database("m")
	if d.Replicas != 3 {
		t.Fatalf("replicas %d", d.Replicas)
	}
	if err := h1.CreateTable(ctx, d.ID, cpuTable(), false); err != nil {
		t.Fatal(err)
	}
	tbl, _ := h1.Catalog().Table(d.ID, "cpu")
	shards, err := h1.EnsureShards(ctx, d.ID, []int64{0})
	if err != nil {
		t.Fatal(err)
	}
	id := shards[0].ID
	if len(shards[0].Replicas) != 3 {
		t.Fatalf("replicas: %v", shards[0].Replicas)
	}
	for i := 0; i < 10; i++ {
		if err := h1.Write(ctx, id, oneRow(tbl.ID, int64(i), "a")); err != nil {
			t.Fatal(err)
		}
	}
	for i := 2; i <= 3; i++ {
		// The other nodes learn of the shard when their meta replica
		// applies it; their reconciler then starts their replica.
		for hosts[i].Catalog().Partitions.Version < h1.Catalog().Partitions.Version {
			if ctx.Err() != nil {
				t.Fatalf("node %d never saw the shard", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := hosts[i].ReadBarrier(ctx, id); err != nil {
			t.Fatalf("read barrier on node %d: %v", i, err)
		}
		if n, _ := countRows(t, hosts[i], id, tbl.ID); n != 10 {
			t.Fatalf("node %d has %d rows", i, n)
		}
	}

	// Node 3 goes down; the others write on (and compact the log past
	// what node 3 has); node 3 comes back and catches up by snapshot.
	if err := hosts[3].Close(); err != nil {
		t.Fatal(err)
	}
	hosts[3] = nil
	for i := 10; i < 40; i++ {
		if err := hosts[2].Write(ctx, id, oneRow(tbl.ID, int64(i), "b")); err != nil {
			t.Fatal(err)
		}
	}
	h3, err := Start(ctx, cfgs[3])
	if err != nil {
		t.Fatal(err)
	}
	hosts[3] = h3
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := h3.ReadBarrier(ctx, id); err != nil {
			t.Fatal(err)
		}
		n, _ := countRows(t, h3, id, tbl.ID)
		if n == 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 3 has %d rows", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	h3.mu.Lock()
	d3 := h3.mu.sms[id]
	h3.mu.Unlock()
	if d3 == nil || d3.recovers.Load() == 0 {
		t.Fatalf("node 3 caught up without a snapshot")
	}
}
