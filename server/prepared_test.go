package server_test

import (
	"context"
	"testing"
)

// TestPreparedStatementSeesNewShards executes a named statement without
// parameters before and after rows land in shards that did not exist when
// it was prepared: every execution plans again.
func TestPreparedStatementSeesNewShards(t *testing.T) {
	tn := startNode(t, t.TempDir())
	c := tn.conn(t)
	ctx := context.Background()
	exec(t, c, "CREATE TABLE m (time timestamptz NOT NULL, host text, v double precision, PRIMARY KEY (host, time))")
	if _, err := c.Prepare(ctx, "cnt", "SELECT count(*) FROM m"); err != nil {
		t.Fatal(err)
	}
	count := func() int64 {
		var n int64
		if err := c.QueryRow(ctx, "cnt").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("count = %d, want 0", n)
	}
	exec(t, c, "INSERT INTO m VALUES ('2024-01-01T00:00:00Z', 'a', 1), ('2024-03-01T00:00:00Z', 'b', 2)")
	if n := count(); n != 2 {
		t.Fatalf("count after insert = %d, want 2", n)
	}
	exec(t, c, "INSERT INTO m VALUES ('2025-06-01T00:00:00Z', 'c', 3)")
	if n := count(); n != 3 {
		t.Fatalf("count after second insert = %d, want 3", n)
	}
}
