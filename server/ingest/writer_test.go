package ingest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

const day = int64(24 * time.Hour / time.Microsecond)

// testTable is (time, host, dc, seq float8, note text): seq numbers the rows
// in the order they were added.
func testTable() *shard.Table {
	return &shard.Table{
		ID: 7, Database: 1, Name: "m",
		Columns: []shard.Column{
			{ID: 1, Name: "time", Type: shard.TypeTimestamptz},
			{ID: 2, Name: "host", Type: shard.TypeText},
			{ID: 3, Name: "dc", Type: shard.TypeText},
			{ID: 4, Name: "seq", Type: shard.TypeFloat8},
			{ID: 5, Name: "note", Type: shard.TypeText},
		},
		TimeCol: 0,
		Tags:    []int{1, 2},
	}
}

func testRow(seq int, us int64, host string) []types.Datum {
	note := types.Datum{T: types.Text, S: fmt.Sprintf("n%d", seq%5)}
	if seq%11 == 0 {
		note = types.NullOf(types.Text)
	}
	return []types.Datum{
		{T: types.Timestamptz, I: us},
		{T: types.Text, S: host},
		{T: types.Text, S: "dc1"},
		{T: types.Float8, F: float64(seq)},
		note,
	}
}

// fakeCommitter creates shards on demand and records every batch after a
// round trip through the Raft entry codec. It fails the test if one shard
// ever sees two concurrent Writes.
type fakeCommitter struct {
	t      *testing.T
	groups int
	delay  func() time.Duration
	fail   func(shardID uint64, batch int) error

	mu      sync.Mutex
	pt      shard.PartitionTable
	nextID  uint64
	batches map[uint64][]store.TableRows
	active  map[uint64]*atomic.Int32
	writes  atomic.Int64
	ensured atomic.Int64
}

func newFake(t *testing.T, groups int) *fakeCommitter {
	return &fakeCommitter{t: t, groups: groups, nextID: 100,
		batches: make(map[uint64][]store.TableRows), active: make(map[uint64]*atomic.Int32)}
}

func (f *fakeCommitter) Partitions() *shard.PartitionTable {
	f.mu.Lock()
	defer f.mu.Unlock()
	pt := shard.PartitionTable{Version: f.pt.Version, Shards: append([]shard.ShardInfo(nil), f.pt.Shards...)}
	return &pt
}

func (f *fakeCommitter) EnsureShards(_ context.Context, dbID uint32, starts []int64) ([]shard.ShardInfo, error) {
	f.ensured.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []shard.ShardInfo
	for _, p := range starts {
		for g := range f.groups {
			s, ok := f.pt.Lookup(dbID, p, g)
			if !ok {
				s = shard.ShardInfo{ID: f.nextID, Database: dbID, PartitionStart: p, PartitionEnd: p + day, SlotGroup: g, SlotGroups: f.groups}
				f.nextID++
				f.pt.Shards = append(f.pt.Shards, s)
				f.pt.Sort()
				f.pt.Version++
				f.active[s.ID] = new(atomic.Int32)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeCommitter) Write(_ context.Context, shardID uint64, wb *store.WriteBatch) error {
	f.mu.Lock()
	act := f.active[shardID]
	n := len(f.batches[shardID])
	f.mu.Unlock()
	if act == nil {
		return fmt.Errorf("write to unknown shard %d", shardID)
	}
	if act.Add(1) != 1 {
		f.t.Errorf("shard %d: concurrent writes from one Writer", shardID)
	}
	defer act.Add(-1)
	f.writes.Add(1)
	if f.delay != nil {
		time.Sleep(f.delay())
	}
	if f.fail != nil {
		if err := f.fail(shardID, n); err != nil {
			return err
		}
	}
	// What the shard receives is the decoded Raft entry.
	var got store.WriteBatch
	if err := store.DecodeWriteBatch(store.AppendWriteBatch(nil, wb), &got); err != nil {
		f.t.Errorf("shard %d: batch does not round-trip: %v", shardID, err)
		return err
	}
	f.mu.Lock()
	f.batches[shardID] = append(f.batches[shardID], got.Tables...)
	f.mu.Unlock()
	return nil
}

// rowsOf flattens the batches of a shard into "seq host time note" lines.
func (f *fakeCommitter) rowsOf(shardID uint64) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, t := range f.batches[shardID] {
		for r := range t.Times {
			note := "NULL"
			if !t.Fields[1].IsNull(r) {
				note = t.Fields[1].Str[r]
			}
			tags := t.Series[t.SeriesIdx[r]]
			out = append(out, fmt.Sprintf("%g %s/%s %d %s", t.Fields[0].F64[r], tags[0], tags[1], t.Times[r], note))
		}
	}
	return out
}

func testDB(groups int) *shard.Database {
	return &shard.Database{ID: 1, Name: "db", PartitionInterval: 24 * time.Hour, SlotGroups: groups}
}

// TestWriterRoutesInOrder writes rows over three partitions and four slot
// groups through Writers with small batches and slow, jittery commits: every
// row must reach the shard its time and first tag route it to, once, in the
// order it was added; batches never exceed BatchRows.
func TestWriterRoutesInOrder(t *testing.T) {
	for _, opts := range []Options{
		{BatchRows: 100, MinBatchRows: 10, Inflight: 3},
		{BatchRows: 1000, Inflight: 1},
		{},
	} {
		t.Run(fmt.Sprintf("batch=%d/min=%d/inflight=%d", opts.BatchRows, opts.MinBatchRows, opts.Inflight), func(t *testing.T) {
			const groups = 4
			f := newFake(t, groups)
			rng := rand.New(rand.NewPCG(1, 2))
			f.delay = func() time.Duration {
				f.mu.Lock()
				defer f.mu.Unlock()
				return time.Duration(rng.IntN(300)) * time.Microsecond
			}
			tbl, db := testTable(), testDB(groups)
			opts.Pool = &Pool{}
			want := map[uint64][]string{}
			for stmt := range 3 {
				w := NewWriter(context.Background(), f, db, tbl, opts)
				for i := range 5000 {
					seq := stmt*5000 + i
					host := fmt.Sprintf("h%d", seq%37)
					us := int64(seq%3)*day + int64(seq)
					if err := w.Add(testRow(seq, us, host)); err != nil {
						t.Fatal(err)
					}
					s, ok := f.Partitions().Lookup(1, shard.PartitionStart(us, 24*time.Hour), shard.SlotGroup(shard.Slot(host), groups))
					if !ok {
						t.Fatalf("row %d: no shard after Add", seq)
					}
					note := "NULL"
					if seq%11 != 0 {
						note = fmt.Sprintf("n%d", seq%5)
					}
					want[s.ID] = append(want[s.ID], fmt.Sprintf("%d %s/dc1 %d %s", seq, host, us, note))
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if w.Rows() != 5000 {
					t.Fatalf("Rows() = %d", w.Rows())
				}
			}
			if len(want) != 3*groups {
				t.Fatalf("rows went to %d shards, want %d", len(want), 3*groups)
			}
			for sid, rows := range want {
				got := f.rowsOf(sid)
				if len(got) != len(rows) {
					t.Fatalf("shard %d: %d rows, want %d", sid, len(got), len(rows))
				}
				for i := range rows {
					if got[i] != rows[i] {
						t.Fatalf("shard %d row %d: got %q, want %q", sid, i, got[i], rows[i])
					}
				}
				f.mu.Lock()
				for _, b := range f.batches[sid] {
					if max := max(opts.BatchRows, 0); max > 0 && len(b.Times) > max {
						t.Errorf("shard %d: batch of %d rows > BatchRows %d", sid, len(b.Times), max)
					}
				}
				f.mu.Unlock()
			}
			// Shards were created once per partition, not once per row.
			if n := f.ensured.Load(); n != 3 {
				t.Errorf("EnsureShards called %d times, want 3", n)
			}
		})
	}
}

// TestWriterCommitsWhileParsing checks the group-commit heuristic: with an
// idle shard a batch ships at MinBatchRows, so rows are committed before
// Close.
func TestWriterCommitsWhileParsing(t *testing.T) {
	f := newFake(t, 1)
	w := NewWriter(context.Background(), f, testDB(1), testTable(), Options{BatchRows: 1000, MinBatchRows: 100})
	for i := range 150 {
		if err := w.Add(testRow(i, int64(i), "h")); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.writes.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no batch committed before Close")
		}
		time.Sleep(time.Millisecond)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(f.rowsOf(100)); n != 150 {
		t.Fatalf("%d rows committed, want 150", n)
	}
}

// TestWriterError: a failed commit stops the statement; Add or Close
// returns the error, and later batches of that shard are not written.
func TestWriterError(t *testing.T) {
	f := newFake(t, 1)
	boom := pgerror.New(pgerror.CodeDataException, "boom")
	f.fail = func(_ uint64, batch int) error {
		if batch == 1 {
			return boom
		}
		return nil
	}
	w := NewWriter(context.Background(), f, testDB(1), testTable(), Options{BatchRows: 10, Inflight: 1})
	var addErr error
	for i := 0; i < 1000 && addErr == nil; i++ {
		addErr = w.Add(testRow(i, int64(i), "h"))
	}
	closeErr := w.Close()
	if !errors.Is(closeErr, boom) {
		t.Fatalf("Close: %v, want %v", closeErr, boom)
	}
	if addErr != nil && !errors.Is(addErr, boom) {
		t.Fatalf("Add: %v, want %v", addErr, boom)
	}
	if n := len(f.rowsOf(100)); n != 10 {
		t.Fatalf("%d rows committed, want only the first batch's 10", n)
	}
}

// TestWriterCancel: a cancelled context unblocks an Add waiting for a
// commit slot with 57014.
func TestWriterCancel(t *testing.T) {
	f := newFake(t, 1)
	release := make(chan struct{})
	f.delay = func() time.Duration { <-release; return 0 }
	ctx, cancel := context.WithCancel(context.Background())
	w := NewWriter(ctx, f, testDB(1), testTable(), Options{BatchRows: 10, Inflight: 1})
	done := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < 100 && err == nil; i++ {
			err = w.Add(testRow(i, int64(i), "h"))
		}
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Add did not return after cancel")
	}
	if pgerror.Code(err) != pgerror.CodeQueryCanceled {
		t.Fatalf("Add: %v, want 57014", err)
	}
	close(release)
	if err := w.Close(); pgerror.Code(err) != pgerror.CodeQueryCanceled {
		t.Fatalf("Close: %v, want 57014", err)
	}
}

// TestPoolAcrossTables reuses pooled buffers for a table whose fields have
// other types: the vectors must take the new types (one value slice each).
func TestPoolAcrossTables(t *testing.T) {
	p := &Pool{}
	f := newFake(t, 1)
	w := NewWriter(context.Background(), f, testDB(1), testTable(), Options{Pool: p})
	for i := range 50 {
		if err := w.Add(testRow(i, int64(i), "h")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	other := &shard.Table{ID: 8, Database: 1, Name: "o", Columns: []shard.Column{
		{ID: 1, Name: "time", Type: shard.TypeTimestamptz},
		{ID: 2, Name: "k", Type: shard.TypeText},
		{ID: 3, Name: "on", Type: shard.TypeBool},
		{ID: 4, Name: "n", Type: shard.TypeInt8},
	}, Tags: []int{1}}
	w = NewWriter(context.Background(), f, testDB(1), other, Options{Pool: p})
	for i := range 20 {
		row := []types.Datum{{T: types.Timestamptz, I: int64(i)}, {T: types.Text, S: "k"}, types.NewBool(i%2 == 0), {T: types.Int8, I: int64(i)}}
		if err := w.Add(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	last := f.batches[100][len(f.batches[100])-1]
	if last.TableID != 8 || len(last.Fields) != 2 || len(last.Fields[0].B) != 20 || len(last.Fields[1].I64) != 20 || last.Fields[1].I64[19] != 19 {
		t.Fatalf("second table's batch: %+v", last)
	}
}

// BenchmarkWriterTSBS adds TSBS cpu rows (ten tags, ten float fields) to a
// Writer whose committer only encodes each batch as a Raft entry would;
// ns/op and allocs/op are per row.
func BenchmarkWriterTSBS(b *testing.B) {
	cols := []shard.Column{{ID: 1, Name: "time", Type: shard.TypeTimestamptz}}
	tags := []int{}
	for i := range 10 {
		cols = append(cols, shard.Column{ID: uint16(2 + i), Name: fmt.Sprintf("t%d", i), Type: shard.TypeText})
		tags = append(tags, 1+i)
	}
	for i := range 10 {
		cols = append(cols, shard.Column{ID: uint16(12 + i), Name: fmt.Sprintf("f%d", i), Type: shard.TypeFloat8})
	}
	tbl := &shard.Table{ID: 1, Database: 1, Name: "cpu", Columns: cols, Tags: tags}
	const hosts = 100
	rows := make([][]types.Datum, hosts)
	for h := range rows {
		r := []types.Datum{{T: types.Timestamptz}}
		for i := range 10 {
			r = append(r, types.Datum{T: types.Text, S: fmt.Sprintf("tag%d_%d", i, h%(i+3))})
		}
		for i := range 10 {
			r = append(r, types.Datum{T: types.Float8, F: float64(h * i)})
		}
		rows[h] = r
	}
	c := &encodingCommitter{fakeCommitter: newFake(nil, 1)}
	db := testDB(1)
	pool := &Pool{}
	b.ReportAllocs()
	c0 := cpuNanos()
	w := NewWriter(context.Background(), c, db, tbl, Options{Pool: pool})
	i := 0
	for b.Loop() {
		r := rows[i%hosts]
		r[0].I = int64(i/hosts) * 10_000_000
		if err := w.Add(r); err != nil {
			b.Fatal(err)
		}
		i++
		if i%10000 == 0 { // one COPY statement
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			w = NewWriter(context.Background(), c, db, tbl, Options{Pool: pool})
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if d := cpuNanos() - c0; d > 0 {
		b.ReportMetric(float64(d)/float64(b.N), "cpu-ns/op")
	}
}

// encodingCommitter encodes each batch and drops it.
type encodingCommitter struct {
	*fakeCommitter
	buf []byte
	mu  sync.Mutex
}

func (c *encodingCommitter) Write(_ context.Context, _ uint64, wb *store.WriteBatch) error {
	c.mu.Lock()
	c.buf = store.AppendWriteBatch(c.buf[:0], wb)
	c.mu.Unlock()
	return nil
}
