package raftsm

import (
	"testing"
	"time"
)

// TestIdleCompaction writes to a shard with a real store, lets it go idle,
// and checks that the compactor dropped its Raft log up to the last write
// (the log reader's first index moves past it), that the data is intact,
// and that a restart from the compacted log recovers it all.
func TestIdleCompaction(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	t.Cleanup(func() { _ = db.Close() })
	cfg := testConfig(t, dir, 1, nil)
	cfg.Store = db
	cfg.IdleCompactAfter = 50 * time.Millisecond
	ctx := testCtx(t)
	h := mustStart(t, cfg)
	t.Cleanup(func() { _ = h.Close() })
	if err := h.CreateTable(ctx, 1, cpuTable(), false); err != nil {
		t.Fatal(err)
	}
	tbl, _ := h.Catalog().Table(1, "cpu")
	shards, err := h.EnsureShards(ctx, 1, []int64{0})
	if err != nil {
		t.Fatal(err)
	}
	id := shards[0].ID
	const rows = 40
	for i := range rows {
		if err := h.Write(ctx, id, oneRow(tbl.ID, int64(i), "a")); err != nil {
			t.Fatal(err)
		}
		if i%5 == 4 {
			// Flushed every 5 writes: eight small block groups to pack.
			sh, err := h.LocalShard(id)
			if err != nil {
				t.Fatal(err)
			}
			if err := sh.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	last, err := h.AppliedIndex(id)
	if err != nil {
		t.Fatal(err)
	}
	lr, err := h.NodeHost().GetLogReader(id)
	if err != nil {
		t.Fatal(err)
	}
	// NB: Dragonboat itself would keep all of them (SnapshotEntries is 200);
	// TestIdleCompactionDisabled checks that.
	deadline := time.Now().Add(20 * time.Second)
	for {
		first, _ := lr.GetRange()
		if first > last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log not compacted: first index %d, last write %d", first, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, _ := countRows(t, h, id, tbl.ID); n != rows {
		t.Fatalf("rows after compaction: %d", n)
	}
	// The blocks were packed too: one pass more finds the shard clean.
	sh, _ := h.LocalShard(id)
	if st, err := sh.Compact(ctx); err != nil || !st.Clean {
		t.Fatalf("blocks not packed: %+v %v", st, err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h2 := mustStart(t, cfg)
	t.Cleanup(func() { _ = h2.Close() })
	if err := h2.ReadBarrier(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n, _ := countRows(t, h2, id, tbl.ID); n != rows {
		t.Fatalf("rows after restart: %d", n)
	}
}

// TestIdleCompactionDisabled: a negative IdleCompactAfter leaves the log
// alone.
func TestIdleCompactionDisabled(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	t.Cleanup(func() { _ = db.Close() })
	cfg := testConfig(t, dir, 1, nil)
	cfg.Store = db
	cfg.IdleCompactAfter = -1
	ctx := testCtx(t)
	h := mustStart(t, cfg)
	t.Cleanup(func() { _ = h.Close() })
	if err := h.CreateTable(ctx, 1, cpuTable(), false); err != nil {
		t.Fatal(err)
	}
	tbl, _ := h.Catalog().Table(1, "cpu")
	shards, err := h.EnsureShards(ctx, 1, []int64{0})
	if err != nil {
		t.Fatal(err)
	}
	id := shards[0].ID
	for i := range 5 {
		if err := h.Write(ctx, id, oneRow(tbl.ID, int64(i), "a")); err != nil {
			t.Fatal(err)
		}
	}
	last, _ := h.AppliedIndex(id)
	// Long enough for several compactor ticks had it been enabled.
	time.Sleep(200 * time.Millisecond)
	lr, err := h.NodeHost().GetLogReader(id)
	if err != nil {
		t.Fatal(err)
	}
	if first, _ := lr.GetRange(); first > last {
		t.Fatalf("log compacted to %d although disabled", first-1)
	}
}
