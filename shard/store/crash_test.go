package store

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestCrashKeepsOnlyFlushed simulates losing every unsynced write: what
// Flush made durable (blocks + applied index together) survives, nothing
// else does, and the applied index matches the data exactly.
func TestCrashKeepsOnlyFlushed(t *testing.T) {
	fs := vfs.NewCrashableMem()
	db := openTestDB(t, "db", Options{FS: fs})
	s, _ := db.OpenShard(9)
	mustApply(t, s, 1, makeBatch(1, []uint16{1, 2}, []point{pt("a", 1, 1, 1)}))
	mustApply(t, s, 2, makeBatch(1, []uint16{1, 2}, []point{pt("b", 2, 2, 2)}))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, 3, makeBatch(1, []uint16{1, 2}, []point{pt("c", 3, 3, 3)}))
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	_ = db.Close()

	db2 := openTestDB(t, "db", Options{FS: crashed})
	defer db2.Close()
	s2, _ := db2.OpenShard(9)
	if s2.AppliedIndex() != 2 {
		t.Fatalf("applied %d after crash", s2.AppliedIndex())
	}
	rows, _ := scanAll(t, s2, allTime)
	if got := rowsString(rows); got != "[a]@1: 1 1\n[b]@2: 2 2\n" {
		t.Fatalf("after crash:\n%s", got)
	}
	// Raft replays entry 3; series c gets the ID it had before the crash.
	mustApply(t, s2, 3, makeBatch(1, []uint16{1, 2}, []point{pt("c", 3, 3, 3)}))
	rows, _ = scanAll(t, s2, allTime)
	if len(rows) != 3 || s2.SeriesCount(1) != 3 {
		t.Fatalf("replay: %v", rows)
	}
}
