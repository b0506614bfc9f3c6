package server_test

import (
	"context"
	"testing"
)

// TestSystemTables reads longboat.nodes and longboat.shards on a single
// node: one HEALTHY node that leads every shard, one shard per partition
// written.
func TestSystemTables(t *testing.T) {
	tn := startNode(t, t.TempDir())
	c := tn.conn(t)
	ctx := context.Background()
	exec(t, c, "CREATE TABLE m (time timestamptz NOT NULL, host text, v double precision, PRIMARY KEY (host, time))")
	exec(t, c, "INSERT INTO m VALUES ('2024-01-01T00:00:00Z', 'a', 1), ('2024-03-01T00:00:00Z', 'b', 2)")

	var (
		id               int64
		state            string
		replicas         int64
		leaders          int64
		metaLeader, down bool
	)
	err := c.QueryRow(ctx, "SELECT node_id, state, replicas, leaders, is_meta_leader, unreachable FROM longboat.nodes").
		Scan(&id, &state, &replicas, &leaders, &metaLeader, &down)
	if err != nil {
		t.Fatal(err)
	}
	if id != 1 || state != "HEALTHY" || replicas != 2 || leaders != 2 || !metaLeader || down {
		t.Fatalf("longboat.nodes = (%d, %s, %d replicas, %d leaders, meta leader %v, unreachable %v), want (1, HEALTHY, 2, 2, true, false)",
			id, state, replicas, leaders, metaLeader, down)
	}

	rows, err := c.Query(ctx, "SELECT database, partition_start::text, replicas, leader FROM longboat.shards ORDER BY partition_start")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var db, start, reps string
		var leader int64
		if err := rows.Scan(&db, &start, &reps, &leader); err != nil {
			t.Fatal(err)
		}
		got = append(got, db+" "+start+" "+reps+" "+string(rune('0'+leader)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"longboat 2024-01-01 00:00:00+00 1 1", "longboat 2024-03-01 00:00:00+00 1 1"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("longboat.shards = %q, want %q", got, want)
	}
	if _, err := c.Exec(ctx, "SELECT * FROM longboat.nosuch"); pgCode(err) != "42P01" {
		t.Fatalf("longboat.nosuch: err %v, want 42P01", err)
	}
}
