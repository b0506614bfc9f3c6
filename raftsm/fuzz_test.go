package raftsm

import (
	"bytes"
	"sync/atomic"
	"testing"

	sm "github.com/lni/dragonboat/v4/statemachine"
)

// FuzzDataCommand feeds arbitrary entries to the data state machine over
// the real store: it must never return an error (that would stop the
// NodeHost) nor panic, must answer every entry, and must record every index.
func FuzzDataCommand(f *testing.F) {
	db := openStore(f, f.TempDir())
	f.Cleanup(func() { _ = db.Close() })
	st := NewStoreStorage(db)
	f.Add([]byte{cmdWriteBatch})
	f.Add(st.AppendWriteBatch([]byte{cmdWriteBatch}, oneRow(1, 5, "a")))
	f.Add(appendDeleteTable(nil, 7))
	f.Add([]byte{})
	f.Add([]byte{0xff, 1, 2})
	var next atomic.Uint64
	next.Store(FirstShardID)
	f.Fuzz(func(t *testing.T, cmd []byte) {
		d := &dataSM{shardID: next.Add(1), replicaID: 1, storage: st, log: testLogger(t)}
		if _, err := d.Open(make(chan struct{})); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = d.Close() }()
		out, err := d.Update([]sm.Entry{{Index: 1, Cmd: cmd}, {Index: 2, Cmd: cmd}})
		if err != nil {
			t.Fatalf("Update error: %v", err)
		}
		for _, e := range out {
			if e.Result.Value != resultOK && len(e.Result.Data) == 0 {
				t.Fatal("business error without message")
			}
		}
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
		if got := d.shard.AppliedIndex(); got != 2 {
			t.Fatalf("index %d", got)
		}
	})
}

// FuzzMetaCommand applies arbitrary commands to a populated meta state: no
// panic, no Update error, and the state still snapshots and recovers
// identically.
func FuzzMetaCommand(f *testing.F) {
	seeds := []string{
		`{"op":"create_database","database":{"name":"x","slot_groups":3}}`,
		`{"op":"ensure_shards","database_id":2,"partitions":[0,86400000000]}`,
		`{"op":"ensure_shards","database_id":1,"partitions":[-9223372036854775808]}`,
		`{"op":"create_table","database_id":1,"table":{"name":"t","columns":[{"name":"time","type":1},{"name":"a","type":99}],"time_col":0,"tags":[5]}}`,
		`{"op":"add_columns","database_id":1,"name":"cpu","columns":[{"name":"z","type":3,"id":65535}]}`,
		`{"op":"expire_shards","now":9223372036854775807}`,
		`{"op":"drop_database","name":"longboat"}`,
		`{"op":"init","nodes":[{"id":0,"raft_addr":""}]}`,
		`{"op":"join","node":{"id":7,"raft_addr":"g:1"},"cluster":{"product_version":"1.0","protocol_version":1}}`,
		`{"op":"set_state","node_id":2,"state":"DOWN"}`,
		`{"op":"begin_move","move":{"shard_id":16,"from":1,"to":2}}`,
		`{"op":"finish_move","move":{"shard_id":16,"from":1,"to":2}}`,
		`{"op":"remove_node","node_id":1,"lenient":true}`,
		`{"op":"leave","node_id":2}`,
		`[]`, `null`, `{"op":1}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, cmd []byte) {
		m := newMetaSM(nil)
		setup := []string{
			`{"op":"init","nodes":[{"id":1,"raft_addr":"a:1"},{"id":2,"raft_addr":"b:1"}]}`,
			`{"op":"create_table","database_id":1,"table":{"name":"cpu","columns":[{"name":"time","type":1},{"name":"h","type":9}],"time_col":0,"tags":[1]}}`,
			`{"op":"ensure_shards","database_id":1,"partitions":[0]}`,
		}
		for i, s := range setup {
			if _, err := m.Update(sm.Entry{Index: uint64(i + 1), Cmd: []byte(s)}); err != nil {
				t.Fatal(err)
			}
		}
		before := m.state.NextIDs
		if _, err := m.Update(sm.Entry{Index: 10, Cmd: cmd}); err != nil {
			t.Fatalf("Update error: %v", err)
		}
		after := m.state.NextIDs
		if after.Database < before.Database || after.Table < before.Table || after.Shard < before.Shard {
			t.Fatalf("ID counters went back: %+v -> %+v", before, after)
		}
		var buf bytes.Buffer
		if err := m.SaveSnapshot(&buf, nil, nil); err != nil {
			t.Fatal(err)
		}
		m2 := newMetaSM(nil)
		if err := m2.RecoverFromSnapshot(bytes.NewReader(buf.Bytes()), nil, nil); err != nil {
			t.Fatal(err)
		}
		var buf2 bytes.Buffer
		if err := m2.SaveSnapshot(&buf2, nil, nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
			t.Fatal("snapshot round trip changed the state")
		}
	})
}

// FuzzMetaSnapshot recovers arbitrary bytes: an error is fine, a panic is not.
func FuzzMetaSnapshot(f *testing.F) {
	f.Add([]byte(`{"format":1,"state":{"version":1,"databases":[{"id":1,"name":"x"}]}}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := newMetaSM(nil)
		_ = m.RecoverFromSnapshot(bytes.NewReader(data), nil, nil)
	})
}
