package raftsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	chantransport "github.com/lni/dragonboat/v4/plugin/chan"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// chanFactory is Dragonboat's in-memory transport with an address validator
// (the stock one panics when asked).
type chanFactory struct {
	chantransport.ChanTransportFactory
}

func (*chanFactory) Validate(string) bool { return true }

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(ioDiscard{}, nil))
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }

func testAddr(t testing.TB, id uint64) string {
	return fmt.Sprintf("%s-n%d:7100", strings.ReplaceAll(t.Name(), "/", "_"), id)
}

func testConfig(t testing.TB, dir string, id uint64, st Storage) Config {
	return Config{
		DataDir:           dir,
		RaftAddr:          testAddr(t, id),
		NodeID:            id,
		Storage:           st,
		Logger:            testLogger(t),
		RTTMillisecond:    5,
		ReconcileInterval: 50 * time.Millisecond,
		TransportFactory:  &chanFactory{},
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustStart(t testing.TB, cfg Config) *Host {
	t.Helper()
	h, err := Start(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return h
}

func cpuTable() shard.Table {
	return shard.Table{
		Name: "cpu",
		Columns: []shard.Column{
			{Name: "time", Type: shard.TypeTimestamptz, NotNull: true},
			{Name: "host", Type: shard.TypeText},
			{Name: "usage", Type: shard.TypeFloat8},
		},
		TimeCol: 0,
		Tags:    []int{1},
	}
}

func oneRow(tableID uint32, ts int64, host string) *store.WriteBatch {
	return &store.WriteBatch{Tables: []store.TableRows{{
		TableID:   tableID,
		FieldIDs:  []uint16{3},
		Series:    [][]string{{host}},
		SeriesIdx: []uint32{0},
		Times:     []int64{ts},
		Fields:    []store.Vector{{Type: shard.TypeFloat8, F64: []float64{1.5}}},
	}}}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got nil", code)
	}
	if got := pgerror.Code(err); got != code {
		t.Fatalf("want SQLSTATE %s, got %s (%v)", code, got, err)
	}
}

const day = int64(24 * time.Hour / time.Microsecond)

func TestHostSingleNodeLifecycle(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeStorage()
	cfg := testConfig(t, dir, 1, fs)
	ctx := testCtx(t)

	h := mustStart(t, cfg)
	c := h.Catalog()
	db, ok := c.Database(DefaultDatabase)
	if !ok || db.ID != 1 || db.Replicas != 1 || db.SlotGroups != 1 || db.PartitionInterval != 24*time.Hour || db.TTL != 0 {
		t.Fatalf("default database: %+v %v", db, ok)
	}
	if err := h.CreateDatabase(ctx, shard.Database{Name: "metrics", Replicas: 3, SlotGroups: 2}, false); err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.CreateDatabase(ctx, shard.Database{Name: "metrics"}, false), pgerror.CodeDuplicateDatabase)
	if err := h.CreateDatabase(ctx, shard.Database{Name: "metrics"}, true); err != nil {
		t.Fatal(err)
	}
	mdb, _ := h.Catalog().Database("metrics")
	if mdb.ID != 2 || mdb.Replicas != 1 || mdb.SlotGroups != 2 {
		t.Fatalf("metrics: %+v", mdb)
	}
	if err := h.CreateTable(ctx, mdb.ID, cpuTable(), false); err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.CreateTable(ctx, mdb.ID, cpuTable(), false), pgerror.CodeDuplicateTable)
	tbl, ok := h.Catalog().Table(mdb.ID, "cpu")
	if !ok || tbl.ID != 1 || tbl.Columns[2].ID != 3 {
		t.Fatalf("table: %+v", tbl)
	}

	shards, err := h.EnsureShards(ctx, mdb.ID, []int64{day, 0, day})
	if err != nil {
		t.Fatal(err)
	}
	if len(shards) != 4 || shards[0].ID != 16 || shards[3].ID != 19 || shards[0].PartitionStart != 0 || shards[2].PartitionStart != day {
		t.Fatalf("shards: %+v", shards)
	}
	again, err := h.EnsureShards(ctx, mdb.ID, []int64{0})
	if err != nil || len(again) != 2 || again[0].ID != 16 || again[1].ID != 17 {
		t.Fatalf("EnsureShards again: %+v %v", again, err)
	}
	for i := 0; i < 10; i++ {
		if err := h.Write(ctx, 16, oneRow(tbl.ID, int64(i), "a")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.LocalStorage(16); err != nil {
		t.Fatal(err)
	}
	idx, err := h.AppliedIndex(16)
	if err != nil || idx == 0 {
		t.Fatalf("applied index %d %v", idx, err)
	}
	before := h.Catalog()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(fs.rows(16)); got != 10 {
		t.Fatalf("rows after close: %d", got)
	}
	if n := fs.applyCount(16); n != 10 {
		t.Fatalf("applies before restart: %d", n)
	}

	// Restart: same catalog, same data, no replay (Close flushed).
	h = mustStart(t, cfg)
	after := h.Catalog()
	if after.Version != before.Version || len(after.TableList) != 1 || len(after.Partitions.Shards) != 4 || after.NextIDs != before.NextIDs {
		t.Fatalf("catalog after restart: %+v\nbefore: %+v", after, before)
	}
	if err := h.waitLeaders(ctx, []uint64{16, 17, 18, 19}); err != nil {
		t.Fatal(err)
	}
	if err := h.ReadBarrier(ctx, 16); err != nil {
		t.Fatal(err)
	}
	if idx2, _ := h.AppliedIndex(16); idx2 < idx {
		t.Fatalf("applied index went back: %d < %d", idx2, idx)
	}
	if n := fs.applyCount(16); n != 10 {
		t.Fatalf("restart after a clean close replayed %d entries", n-10)
	}

	// Crash: 5 writes never flushed are replayed from the Raft log.
	fs.mu.Lock()
	fs.loseBuffers = true
	fs.mu.Unlock()
	for i := 10; i < 15; i++ {
		if err := h.Write(ctx, 16, oneRow(tbl.ID, int64(i), "a")); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	fs.mu.Lock()
	fs.loseBuffers = false
	fs.mu.Unlock()
	if got := len(fs.rows(16)); got != 10 {
		t.Fatalf("durable rows after crash: %d", got)
	}
	h = mustStart(t, cfg)
	if err := h.ReadBarrier(ctx, 16); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	rows := fs.rows(16)
	if len(rows) != 15 {
		t.Fatalf("rows after replay: %d", len(rows))
	}
	for i, r := range rows {
		if r.Time != int64(i) {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
	if n := fs.applyCount(16); n != 20 {
		t.Fatalf("applies: %d, want 10 + 5 + 5 replayed", n)
	}

	// The identity is frozen into the data dir.
	bad := cfg
	bad.RaftAddr = testAddr(t, 9)
	bad.MetaMembers = nil
	if _, err := Start(ctx, bad); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("start with another address: %v", err)
	}
}

func TestHostDropAndExpire(t *testing.T) {
	fs := newFakeStorage()
	cfg := testConfig(t, t.TempDir(), 1, fs)
	now := time.Unix(0, 0).Add(10 * 24 * time.Hour)
	var nowMu sync.Mutex
	cfg.Now = func() time.Time { nowMu.Lock(); defer nowMu.Unlock(); return now }
	ctx := testCtx(t)
	h := mustStart(t, cfg)
	defer h.Close()

	if err := h.CreateDatabase(ctx, shard.Database{Name: "m", TTL: 48 * time.Hour}, false); err != nil {
		t.Fatal(err)
	}
	d, _ := h.Catalog().Database("m")
	if err := h.CreateTable(ctx, d.ID, cpuTable(), false); err != nil {
		t.Fatal(err)
	}
	other := cpuTable()
	other.Name = "mem"
	if err := h.CreateTable(ctx, d.ID, other, false); err != nil {
		t.Fatal(err)
	}
	cat := h.Catalog()
	cpu, _ := cat.Table(d.ID, "cpu")
	mem, _ := cat.Table(d.ID, "mem")
	// Days 0..9: with a 2-day TTL at day 10, partitions ending before day 8
	// (days 0..6) are expired.
	var starts []int64
	for i := int64(0); i < 10; i++ {
		starts = append(starts, i*day)
	}
	shards, err := h.EnsureShards(ctx, d.ID, starts)
	if err != nil {
		t.Fatal(err)
	}
	last := shards[9].ID
	if err := h.Write(ctx, last, oneRow(cpu.ID, 9*day, "a")); err != nil {
		t.Fatal(err)
	}
	if err := h.Write(ctx, last, oneRow(mem.ID, 9*day, "a")); err != nil {
		t.Fatal(err)
	}
	if err := h.DropTable(ctx, d.ID, "cpu", false); err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.DropTable(ctx, d.ID, "cpu", false), pgerror.CodeUndefinedTable)
	if err := h.DropTable(ctx, d.ID, "cpu", true); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	st := h.mu.open[last]
	h.mu.Unlock()
	if err := st.Flush(); err != nil { // test-only: flush to inspect durable rows
		t.Fatal(err)
	}
	if rows := fs.rows(last); len(rows) != 1 || rows[0].Table != mem.ID {
		t.Fatalf("rows after drop table: %+v", rows)
	}

	if err := h.ExpireShards(ctx); err != nil {
		t.Fatal(err)
	}
	left := h.Catalog().Partitions.Overlapping(d.ID, -1<<62, 1<<62)
	if len(left) != 3 || left[0].PartitionStart != 7*day {
		t.Fatalf("shards after expiry: %+v", left)
	}
	fs.mu.Lock()
	dropped := append([]uint64(nil), fs.dropped...)
	fs.mu.Unlock()
	if len(dropped) != 7 || dropped[0] != shards[0].ID {
		t.Fatalf("dropped storage: %v", dropped)
	}
	if _, _, _, err := h.nh.GetLeaderID(shards[0].ID); err == nil {
		t.Fatalf("expired shard still running")
	}

	wantCode(t, h.DropDatabase(ctx, "nope", false), pgerror.CodeInvalidCatalogName)
	if err := h.DropDatabase(ctx, "m", false); err != nil {
		t.Fatal(err)
	}
	if n := len(h.Catalog().Partitions.Shards); n != 0 {
		t.Fatalf("%d shards left", n)
	}
	if _, err := h.LocalStorage(last); err == nil {
		t.Fatalf("dropped shard still open")
	}
	err = h.Write(ctx, last, oneRow(mem.ID, 0, "a"))
	if !errors.Is(err, ErrNoReplica) {
		t.Fatalf("write to dropped shard: %v", err)
	}
}

func TestHostConcurrentEnsureShards(t *testing.T) {
	h := mustStart(t, testConfig(t, t.TempDir(), 1, newFakeStorage()))
	defer h.Close()
	ctx := testCtx(t)
	const n = 8
	got := make([][]shard.ShardInfo, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got[i], errs[i] = h.EnsureShards(ctx, 1, []int64{0, day})
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if len(got[i]) != 2 || got[i][0].ID != 16 || got[i][1].ID != 17 {
			t.Fatalf("caller %d: %+v", i, got[i])
		}
	}
	if c := h.Catalog(); c.NextIDs.Shard != 18 {
		t.Fatalf("next shard ID %d", c.NextIDs.Shard)
	}
	wantCode(t, func() error { _, err := h.EnsureShards(ctx, 1, []int64{5}); return err }(), pgerror.CodeInvalidParameterValue)
	wantCode(t, func() error { _, err := h.EnsureShards(ctx, 99, []int64{0}); return err }(), pgerror.CodeInvalidCatalogName)
}

func TestHostPrecreateShards(t *testing.T) {
	var mu sync.Mutex
	now := time.UnixMicro(5*day + 10*int64(time.Hour/time.Microsecond))
	cfg := testConfig(t, t.TempDir(), 1, newFakeStorage())
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := mustStart(t, cfg)
	defer h.Close()
	ctx := testCtx(t)
	if err := h.PrecreateShards(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(h.Catalog().Partitions.Shards); n != 0 {
		t.Fatalf("shards created for a database without writes: %d", n)
	}
	if _, err := h.EnsureShards(ctx, 1, []int64{5 * day}); err != nil {
		t.Fatal(err)
	}
	if err := h.PrecreateShards(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Catalog().Partitions.Lookup(1, 6*day, 0); ok {
		t.Fatal("next partition created too early")
	}
	mu.Lock()
	now = now.Add(12 * time.Hour) // day 5 + 22h: not yet
	mu.Unlock()
	if err := h.PrecreateShards(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Catalog().Partitions.Lookup(1, 6*day, 0); ok {
		t.Fatal("next partition created too early")
	}
	mu.Lock()
	now = now.Add(90 * time.Minute) // day 5 + 23h30: in the last hour
	mu.Unlock()
	if err := h.PrecreateShards(ctx); err != nil {
		t.Fatal(err)
	}
	s, ok := h.Catalog().Partitions.Lookup(1, 6*day, 0)
	if !ok {
		t.Fatal("next partition not created")
	}
	if leader, _, ok, err := h.nh.GetLeaderID(s.ID); err != nil || !ok || leader != 1 {
		t.Fatalf("pre-created shard has no leader: %d %v %v", leader, ok, err)
	}
}

func TestDragonboatLoggerLevels(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	old := dbLoggerSink.Load()
	defer dbLoggerSink.Store(old)
	installDragonboatLogger(log, slog.LevelWarn)
	(&dbLogger{pkg: "raft"}).Warningf("became candidate %d", 1)
	(&dbLogger{pkg: "transport"}).Infof("chatter")
	(&dbLogger{pkg: "transport"}).Warningf("unreachable %s", "x")
	(&dbLogger{pkg: "logdb"}).Errorf("disk %s", "full")
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Panicf did not panic")
			}
		}()
		(&dbLogger{pkg: "rsm"}).Panicf("bad %d", 2)
	}()
	mu.Lock()
	got := buf.String()
	mu.Unlock()
	for _, want := range []string{"unreachable x", "disk full", "bad 2"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %s", want, got)
		}
	}
	for _, unwanted := range []string{"chatter", "became candidate"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("%q logged at the default level: %s", unwanted, got)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestHostWriteErrors(t *testing.T) {
	h := mustStart(t, testConfig(t, t.TempDir(), 1, newFakeStorage()))
	defer h.Close()
	ctx := testCtx(t)
	shards, err := h.EnsureShards(ctx, 1, []int64{0})
	if err != nil {
		t.Fatal(err)
	}
	id := shards[0].ID
	past, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	wantCode(t, h.Write(past, id, oneRow(1, 1, "a")), pgerror.CodeQueryCanceled)
	// A deadline less than one tick away: Dragonboat refuses to propose
	// (ErrTimeoutTooSmall) while the context has not expired yet. That is a
	// 57014 returned once the deadline has passed — never a success. (It
	// once read as one: Write acknowledged batches it never proposed.)
	fs := h.cfg.Storage.(*fakeStorage)
	before := len(fs.rows(id))
	tick := time.Duration(h.cfg.RTTMillisecond) * time.Millisecond
	for i := range 20 {
		near, cancel := context.WithTimeout(ctx, tick*4/5)
		err := h.Write(near, id, oneRow(1, int64(100+i), "near"))
		expired := near.Err() != nil
		cancel()
		wantCode(t, err, pgerror.CodeQueryCanceled)
		if !expired {
			t.Fatalf("Write returned %v before its deadline", err)
		}
	}
	if n := len(fs.rows(id)); n != before {
		t.Fatalf("writes refused for their deadline added %d rows", n-before)
	}
	err = h.Write(ctx, 12345, oneRow(1, 1, "a"))
	if !errors.Is(err, ErrNoReplica) {
		t.Fatalf("write to an unknown shard: %v", err)
	}
	wantCode(t, err, pgerror.CodeUnavailable)
	// A command the shard cannot decode is an XX000 in the Result, not a
	// NodeHost failure.
	res, err := h.propose(ctx, id, []byte{0x42}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, dataResultError(id, res), pgerror.CodeInternal)
	if err := h.Write(ctx, id, oneRow(1, 1, "a")); err != nil {
		t.Fatalf("shard unusable after a bad command: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
}

// TestCtxErrorNeverNil: ctxError on a context that has not expired (a
// request refused for a deadline under one tick) is still an error.
func TestCtxErrorNeverNil(t *testing.T) {
	live, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	wantCode(t, ctxError(live, "write"), pgerror.CodeQueryCanceled)
	if err := ctxError(live, "write"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctxError(live) = %v, want a deadline error", err)
	}
	cancel()
	if err := ctxError(live, "write"); !errors.Is(err, context.Canceled) {
		t.Fatalf("ctxError(cancelled) = %v", err)
	}
}
