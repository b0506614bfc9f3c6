package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ctPortsDeadNode is the port base of TestClusterDeadNodeReplaced.
const ctPortsDeadNode = 24030

// TestClusterDeadNodeReplaced: with 4 nodes and 3 replicas, a node that
// stays down longer than DeadNodeTimeout is marked DOWN (REMOVED if it was a meta voter, which is replaced) and every replica it
// held is re-created on the other nodes; the data stays readable and
// writable throughout.
func TestClusterDeadNodeReplaced(t *testing.T) {
	log := ctLogger(t)
	client := ctClient(t)
	const base = ctPortsDeadNode
	start := func(id uint64, seeds ...string) *ctNode {
		cn := &ctNode{t: t, id: id}
		tmp := ctNewNodeConfig(t, log, base, id, seeds...)
		tmp.Cluster.DeadNodeTimeout = 3 * time.Second
		cn.cfg = tmp
		cn.start()
		t.Cleanup(cn.stop)
		return cn
	}
	n1 := start(1)
	n2 := start(2, n1.n.GossipAddr())
	n3 := start(3, n1.n.GossipAddr())
	n4 := start(4, n1.n.GossipAddr())
	nodes := []*ctNode{n1, n2, n3, n4}
	res := ctInit(t, client, n1, nodes[:3], "1", "2", "3")
	ctWaitServing(t, n4, res.ClusterTag)
	ctx := context.Background()

	const days = 4
	c1 := n1.conn()
	if _, err := c1.Exec(ctx, ctDDL); err != nil {
		t.Fatal(err)
	}
	rows := 0
	for d := range days {
		for h := range 5 {
			q := fmt.Sprintf("INSERT INTO cpu VALUES ('%s', 'h%d', 'eu', %d)", ctDay0.Add(time.Duration(d)*24*time.Hour+time.Duration(h)*time.Minute).Format(time.RFC3339), h, d*10+h)
			if _, err := c1.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
			rows++
		}
	}
	placement := func() map[uint64][]uint64 {
		out := map[uint64][]uint64{}
		rs, err := c1.Query(ctx, "SELECT shard_id, replicas FROM longboat.shards")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var id int64
			var reps string
			if err := rs.Scan(&id, &reps); err != nil {
				t.Fatal(err)
			}
			for _, r := range strings.Split(reps, ",") {
				n, _ := strconv.ParseUint(r, 10, 64)
				out[uint64(id)] = append(out[uint64(id)], n)
			}
		}
		return out
	}
	before := placement()
	if len(before) != days {
		t.Fatalf("%d shards, want %d: %v", len(before), days, before)
	}
	// The victim: the node other than node 1 (the coordinator here) that
	// holds the most replicas.
	held := map[uint64]int{}
	for _, reps := range before {
		for _, r := range reps {
			held[r]++
		}
	}
	var victim *ctNode
	for _, cn := range nodes[1:] {
		if victim == nil || held[cn.id] > held[victim.id] {
			victim = cn
		}
	}
	if held[victim.id] == 0 {
		t.Fatalf("no node but node 1 holds a replica: %v", before)
	}
	t.Logf("stopping node %d, which holds %d of %d replicas", victim.id, held[victim.id], 3*days)
	t0 := time.Now()
	victim.stop()

	ctWait(t, 90*time.Second, fmt.Sprintf("node %d DOWN and its replicas re-created", victim.id), func() error {
		st := ctStatus(t, client, n1)
		ns, ok := ctNodeStatus(st, victim.id)
		// A meta voter down past the timeout is also replaced in the meta
		// group and ends REMOVED; another node ends DOWN.
		if !ok || !(strings.HasPrefix(ns.State, "DOWN") || strings.HasPrefix(ns.State, "REMOVED")) || ns.Shards != 0 {
			return fmt.Errorf("node %d: %+v", victim.id, ns)
		}
		for id, reps := range placement() {
			if len(reps) != 3 || slices.Contains(reps, victim.id) {
				return fmt.Errorf("shard %d on %v", id, reps)
			}
		}
		return nil
	})
	t.Logf("replicas of node %d re-created %v after it stopped", victim.id, time.Since(t0).Round(100*time.Millisecond))

	for _, cn := range nodes {
		if cn == victim {
			continue
		}
		c := cn.conn()
		for _, cons := range []string{"strong", "follower"} {
			if _, err := c.Exec(ctx, "SET read_consistency = '"+cons+"'"); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := c.QueryRow(ctx, "SELECT count(*) FROM cpu").Scan(&n); err != nil {
				t.Fatalf("node %d %s: %v", cn.id, cons, err)
			}
			if n != rows {
				t.Fatalf("node %d %s: %d rows, want %d", cn.id, cons, n, rows)
			}
		}
	}
	if _, err := c1.Exec(ctx, fmt.Sprintf("INSERT INTO cpu VALUES ('%s', 'after', 'eu', 1)", ctDay0.Format(time.RFC3339))); err != nil {
		t.Fatalf("write after the move: %v", err)
	}
}
