package raftsm

import (
	"bytes"
	"errors"
	"testing"

	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
)

func newTestDataSM(t testing.TB, fs *fakeStorage, id uint64) *dataSM {
	t.Helper()
	d := &dataSM{shardID: id, replicaID: 1, storage: fs, log: testLogger(t)}
	if _, err := d.Open(make(chan struct{})); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDataSMUpdate(t *testing.T) {
	fs := newFakeStorage()
	d := newTestDataSM(t, fs, 16)
	wb := append([]byte{cmdWriteBatch}, fs.AppendWriteBatch(nil, oneRow(1, 5, "a"))...)
	entries := []sm.Entry{
		{Index: 1, Cmd: wb},
		{Index: 2, Cmd: nil},
		{Index: 3, Cmd: []byte{0x7f}},
		{Index: 4, Cmd: []byte{cmdWriteBatch, '{'}},
		{Index: 5, Cmd: appendDeleteTable(nil, 2)},
		{Index: 6, Cmd: []byte{cmdDeleteTable, 1}},
	}
	out, err := d.Update(entries)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{resultOK, resultBadCommand, resultBadCommand, resultBadCommand, resultOK, resultBadCommand}
	for i, e := range out {
		if e.Result.Value != want[i] {
			t.Errorf("entry %d: result %d (%s), want %d", e.Index, e.Result.Value, e.Result.Data, want[i])
		}
		if e.Result.Value != resultOK && len(e.Result.Data) == 0 {
			t.Errorf("entry %d: business error without a message", e.Index)
		}
	}
	// Every entry, even a refused one, advances the store's index: it must
	// agree with what Dragonboat records in snapshots.
	if got := d.shard.AppliedIndex(); got != 6 {
		t.Fatalf("store applied index %d", got)
	}
	if v, err := d.Lookup(QueryAppliedIndex{}); err != nil || v.(uint64) != 6 {
		t.Fatalf("lookup: %v %v", v, err)
	}
	if _, err := d.Lookup("bogus"); err == nil {
		t.Fatal("unknown query accepted")
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if rows := fs.rows(16); len(rows) != 1 || rows[0].Time != 5 {
		t.Fatalf("rows: %+v", rows)
	}

	// Snapshot round trip into another replica.
	ctx, err := d.PrepareSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.SaveSnapshot(ctx, &buf, make(chan struct{})); err != nil {
		t.Fatal(err)
	}
	d2 := newTestDataSM(t, fs, 17)
	if err := d2.RecoverFromSnapshot(bytes.NewReader(buf.Bytes()), make(chan struct{})); err != nil {
		t.Fatal(err)
	}
	if v, _ := d2.Lookup(QueryAppliedIndex{}); v.(uint64) != 6 {
		t.Fatalf("recovered index %v", v)
	}
	if rows := fs.rows(17); len(rows) != 1 {
		t.Fatalf("recovered rows: %+v", rows)
	}
	bad := append([]byte("XXXX"), buf.Bytes()[4:]...)
	if err := d2.RecoverFromSnapshot(bytes.NewReader(bad), make(chan struct{})); err == nil {
		t.Fatal("snapshot with a bad header accepted")
	}

	// Lookup is safe after Close.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err := d.Lookup(&QueryAppliedIndex{}); err != nil || v.(uint64) != 6 {
		t.Fatalf("lookup after close: %v %v", v, err)
	}
}

func TestDataSMSnapshotStopped(t *testing.T) {
	fs := newFakeStorage()
	d := newTestDataSM(t, fs, 16)
	ctx, err := d.PrepareSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	close(done)
	err = d.SaveSnapshot(ctx, failWriter{}, done)
	if !errors.Is(err, sm.ErrSnapshotStopped) {
		t.Fatalf("want ErrSnapshotStopped, got %v", err)
	}
	stopped := make(chan struct{})
	close(stopped)
	if _, err := (&dataSM{shardID: 1, storage: fs}).Open(stopped); !errors.Is(err, sm.ErrOpenStopped) {
		t.Fatalf("open after stop: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestDataSMRealStoreReject checks that a batch the real store refuses is a
// business error in the Result, and that the index still advances.
func TestDataSMRealStoreReject(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	st := NewStoreStorage(db)
	d := &dataSM{shardID: 16, replicaID: 1, storage: st, log: testLogger(t)}
	if _, err := d.Open(make(chan struct{})); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	good := oneRow(1, 5, "a")
	// Same series and field, another type: the store refuses it on Apply.
	conflict := oneRow(1, 6, "a")
	conflict.Tables[0].Fields[0] = store.Vector{Type: shard.TypeInt8, I64: []int64{7}}
	cmd := func(wb *store.WriteBatch) []byte {
		return st.AppendWriteBatch([]byte{cmdWriteBatch}, wb)
	}
	out, err := d.Update([]sm.Entry{{Index: 1, Cmd: cmd(good)}, {Index: 2, Cmd: cmd(conflict)}, {Index: 3, Cmd: cmd(good)}})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Result.Value != resultOK || out[1].Result.Value != resultRejected || out[2].Result.Value != resultOK {
		t.Fatalf("results: %+v / %+v / %+v", out[0].Result, out[1].Result, out[2].Result)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := d.shard.AppliedIndex(); got != 3 {
		t.Fatalf("index %d", got)
	}
	if err := dataResultError(16, out[1].Result); pgerror.Code(err) != pgerror.CodeDataException {
		t.Fatalf("rejected write maps to %v", err)
	}
}
