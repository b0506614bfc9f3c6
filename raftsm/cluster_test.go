package raftsm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// testCluster is a set of in-process cluster-mode Hosts on Dragonboat's
// in-memory transport, each with its own data directory and store.
type testCluster struct {
	t     *testing.T
	ctx   context.Context
	cfgs  map[uint64]Config
	hosts map[uint64]*Host
	dbs   map[uint64]*store.DB
}

const testProduct, testProtocol = "0.3.1", uint32(1)

func newTestCluster(t *testing.T, ids ...uint64) *testCluster {
	tc := &testCluster{t: t, ctx: testCtx(t), cfgs: map[uint64]Config{}, hosts: map[uint64]*Host{}, dbs: map[uint64]*store.DB{}}
	for _, id := range ids {
		tc.add(id)
	}
	t.Cleanup(func() {
		for _, h := range tc.hosts {
			_ = h.Close()
		}
		for _, db := range tc.dbs {
			_ = db.Close()
		}
	})
	return tc
}

// add configures node id (not started).
func (tc *testCluster) add(id uint64) {
	dir := tc.t.TempDir()
	db := openStore(tc.t, dir)
	tc.dbs[id] = db
	cfg := testConfig(tc.t, dir, id, nil)
	cfg.RaftAddr = normalizeAddr(cfg.RaftAddr)
	cfg.Store = db
	cfg.SnapshotEntries = 10
	cfg.CompactionOverhead = 2
	cfg.Cluster = &ClusterConfig{
		RPCAddr:               fmt.Sprintf("rpc-n%d:7200", id),
		PGAddr:                fmt.Sprintf("pg-n%d:5432", id),
		ProductVersion:        testProduct,
		ProtocolVersion:       testProtocol,
		DeadNodeTimeout:       3 * time.Second, // restarts in the tests take well under this
		CheckInterval:         50 * time.Millisecond,
		LeaderBalanceInterval: 100 * time.Millisecond,
	}
	tc.cfgs[id] = cfg
}

func (tc *testCluster) start(ids ...uint64) {
	tc.t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	hosts := make([]*Host, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hosts[i], errs[i] = Start(tc.ctx, tc.cfgs[id])
		}()
	}
	wg.Wait()
	for i, id := range ids {
		if errs[i] != nil {
			tc.t.Fatalf("start node %d: %v", id, errs[i])
		}
		tc.hosts[id] = hosts[i]
	}
}

func (tc *testCluster) stop(id uint64) {
	tc.t.Helper()
	if err := tc.hosts[id].Close(); err != nil {
		tc.t.Fatalf("close node %d: %v", id, err)
	}
	delete(tc.hosts, id)
}

func (tc *testCluster) members(ids ...uint64) map[uint64]string {
	m := map[uint64]string{}
	for _, id := range ids {
		m[id] = tc.cfgs[id].RaftAddr
	}
	return m
}

// initCluster bootstraps ids and inits the cluster from the first.
func (tc *testCluster) initCluster(tag string, ids ...uint64) InitResult {
	tc.t.Helper()
	members := tc.members(ids...)
	for _, id := range ids[1:] {
		if err := tc.hosts[id].Bootstrap(tc.ctx, members); err != nil {
			tc.t.Fatalf("bootstrap node %d: %v", id, err)
		}
	}
	res, err := tc.hosts[ids[0]].InitCluster(tc.ctx, InitSpec{Members: members, ClusterTag: tag, ProductVersion: testProduct, ProtocolVersion: testProtocol})
	if err != nil {
		tc.t.Fatalf("init: %v", err)
	}
	return res
}

// join admits node id through the meta leader and starts its meta replica.
func (tc *testCluster) join(id uint64, tag string) (JoinResponse, error) {
	tc.t.Helper()
	cfg := tc.cfgs[id]
	req := JoinRequest{NodeID: id, RaftAddr: cfg.RaftAddr, RPCAddr: cfg.Cluster.RPCAddr, PGAddr: cfg.Cluster.PGAddr,
		ClusterTag: tag, ProductVersion: testProduct, ProtocolVersion: testProtocol}
	resp, err := tc.admit(req)
	if err != nil {
		return resp, err
	}
	return resp, tc.hosts[id].JoinMeta(tc.ctx, resp)
}

// admit sends req to the meta leader, following NotLeader hints.
func (tc *testCluster) admit(req JoinRequest) (JoinResponse, error) {
	tc.t.Helper()
	var target uint64
	for id := range tc.hosts {
		if id != req.NodeID && tc.hosts[id].cl.metaStarted.Load() {
			target = id
			break
		}
	}
	for {
		resp, err := tc.hosts[target].AdmitNode(tc.ctx, req)
		var nl *NotLeaderError
		if errors.As(err, &nl) {
			if nl.LeaderNodeID != 0 && tc.hosts[nl.LeaderNodeID] != nil {
				target = nl.LeaderNodeID
			}
			if tc.ctx.Err() != nil {
				tc.t.Fatal("no meta leader")
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		return resp, err
	}
}

// eventually polls cond until it returns "" (or the test context ends).
func (tc *testCluster) eventually(what string, cond func() string) {
	tc.t.Helper()
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if tc.ctx.Err() != nil {
			tc.t.Fatalf("%s: %s", what, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (tc *testCluster) waitStates(want NodeState, ids ...uint64) {
	tc.t.Helper()
	tc.eventually("node states", func() string {
		for _, id := range ids {
			for hid, h := range tc.hosts {
				if !h.cl.metaStarted.Load() {
					continue // not in the cluster
				}
				n, ok := h.Catalog().Node(id)
				if !ok || n.State != want {
					return fmt.Sprintf("node %d seen by node %d: %+v, want %s", id, hid, n, want)
				}
			}
		}
		return ""
	})
}

// write writes one row to shardID through its leader, following NotLeader
// hints and retrying while no leader is known.
func (tc *testCluster) write(shardID uint64, tableID uint32, ts int64, host string) uint64 {
	tc.t.Helper()
	var last error
	for tc.ctx.Err() == nil {
		for id, h := range tc.hosts {
			wctx, cancel := context.WithTimeout(tc.ctx, 2*time.Second)
			err := h.Write(wctx, shardID, oneRow(tableID, ts, host))
			cancel()
			if err == nil {
				return id
			}
			last = err
			var nl *NotLeaderError
			if errors.As(err, &nl) && nl.LeaderNodeID != 0 && tc.hosts[nl.LeaderNodeID] != nil {
				if err = tc.hosts[nl.LeaderNodeID].Write(tc.ctx, shardID, oneRow(tableID, ts, host)); err == nil {
					return nl.LeaderNodeID
				}
				last = err
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	tc.t.Fatalf("write to shard %d: %v", shardID, last)
	return 0
}

func TestClusterInit(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	tc := newTestCluster(t, 1, 2, 3, 4)
	tc.start(1, 2, 3, 4)
	for id, h := range tc.hosts {
		if s := h.State(); s != NodeInitializing {
			t.Fatalf("node %d: state %s before init", id, s)
		}
	}
	wantCode(t, tc.hosts[1].CreateDatabase(tc.ctx, shard.Database{Name: "x"}, false), pgerror.CodeUnavailable)

	// An init whose other members never bootstrap fails, says why and
	// cleans up: a later init with other members works.
	short, cancel := context.WithTimeout(tc.ctx, 300*time.Millisecond)
	_, err := tc.hosts[4].InitCluster(short, InitSpec{Members: tc.members(1, 4), ClusterTag: "bad", ProductVersion: testProduct, ProtocolVersion: testProtocol})
	cancel()
	if err == nil || !strings.Contains(err.Error(), "elected no leader") {
		t.Fatalf("init without the other members: %v", err)
	}
	if s := tc.hosts[4].State(); s != NodeInitializing {
		t.Fatalf("node 4 after a failed init: %s", s)
	}

	res := tc.initCluster("tag-1", 1, 2, 3)
	if res.AlreadyInitialized || res.Cluster != (ClusterInfo{Tag: "tag-1", ProductVersion: testProduct, ProtocolVersion: testProtocol}) {
		t.Fatalf("init: %+v", res)
	}
	// The same init again (from another member, with a freshly generated
	// tag) answers the existing identity; other members are refused.
	again, err := tc.hosts[2].InitCluster(tc.ctx, InitSpec{Members: tc.members(1, 2, 3), ClusterTag: "tag-2", ProductVersion: testProduct, ProtocolVersion: testProtocol})
	if err != nil || !again.AlreadyInitialized || again.Cluster.Tag != "tag-1" {
		t.Fatalf("re-init: %+v %v", again, err)
	}
	_, err = tc.hosts[2].InitCluster(tc.ctx, InitSpec{Members: tc.members(1, 2), ClusterTag: "tag-2", ProductVersion: testProduct, ProtocolVersion: testProtocol})
	wantCode(t, err, CodeClusterRefused)
	wantCode(t, tc.hosts[3].Bootstrap(tc.ctx, tc.members(1, 3)), CodeClusterRefused)
	wantCode(t, tc.hosts[1].ResetBootstrap(tc.ctx), CodeClusterRefused)

	tc.waitStates(NodeIdle, 1, 2, 3)
	tc.eventually("nodes report their addresses", func() string {
		for _, seer := range []uint64{1, 2, 3} {
			for _, id := range []uint64{1, 2, 3} {
				if n, _ := tc.hosts[seer].Catalog().Node(id); n.RPCAddr == "" {
					return fmt.Sprintf("node %d seen by %d: %+v", id, seer, n)
				}
			}
		}
		return ""
	})
	for _, id := range []uint64{1, 2, 3} {
		c := tc.hosts[id].Catalog()
		n, _ := c.Node(id)
		if c.View != 1 || n.JoinedView != 1 || n.RPCAddr != tc.cfgs[id].Cluster.RPCAddr || n.PGAddr != tc.cfgs[id].Cluster.PGAddr || n.ProductVersion != testProduct {
			t.Fatalf("node %d registry: view %d %+v", id, c.View, n)
		}
		if d, ok := c.Database(DefaultDatabase); !ok || d.Replicas != 3 {
			t.Fatalf("database longboat: %+v", d)
		}
		if tc.hosts[id].ClusterInfo().Tag != "tag-1" {
			t.Fatalf("node %d: cluster %+v", id, tc.hosts[id].ClusterInfo())
		}
	}
	if s := tc.hosts[4].State(); s != NodeInitializing {
		t.Fatalf("node 4: %s", s)
	}
	// The failed init left node 4 clean: it can join.
	if _, err := tc.join(4, ""); err != nil {
		t.Fatalf("join after a failed init: %v", err)
	}
	tc.waitStates(NodeIdle, 4)

	// Shards of "longboat" get three replicas with leaders spread over the
	// nodes; the nodes become HEALTHY once their replicas run.
	c := tc.hosts[1].Catalog()
	d, _ := c.Database(DefaultDatabase)
	if err := tc.hosts[1].CreateTable(tc.ctx, d.ID, cpuTable(), false); err != nil {
		t.Fatal(err)
	}
	if err := tc.hosts[2].CreateDatabase(tc.ctx, shard.Database{Name: "m", SlotGroups: 6}, false); err != nil {
		t.Fatal(err)
	}
	md, _ := tc.hosts[2].Catalog().Database("m")
	if md.Replicas != 3 {
		t.Fatalf("m: replicas %d", md.Replicas)
	}
	shards, err := tc.hosts[3].EnsureShards(tc.ctx, md.ID, []int64{0})
	if err != nil {
		t.Fatal(err)
	}
	tc.waitStates(NodeHealthy, 1, 2, 3, 4)
	tc.eventually("leaders spread", func() string {
		led := map[uint64]int{}
		for _, s := range shards {
			l, ok := tc.hosts[s.Replicas[0]].ShardLeader(s.ID)
			if !ok {
				return fmt.Sprintf("shard %d has no leader", s.ID)
			}
			led[l]++
		}
		// 6 shards over 4 nodes: at most 2 each, and every node leads.
		for _, id := range []uint64{1, 2, 3, 4} {
			if led[id] < 1 || led[id] > 2 {
				return fmt.Sprintf("leaders per node: %v", led)
			}
		}
		return ""
	})
	st := tc.hosts[1].ClusterStatus()
	total := 0
	for _, n := range st.Nodes {
		total += n.Replicas
	}
	if st.View != 2 || len(st.Nodes) != 4 || st.Cluster.Tag != "tag-1" || total != 18 || st.State != NodeHealthy || st.MetaLeader == 0 {
		t.Fatalf("status: %+v", st)
	}
}

func TestClusterJoin(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	tc := newTestCluster(t, 1, 2, 3, 4, 5)
	tc.start(1, 2, 3, 4, 5)
	tc.initCluster("tag-1", 1, 2, 3)
	tc.waitStates(NodeIdle, 1, 2, 3)

	// Mismatches are refused with the reason, and nothing changes.
	cfg4 := tc.cfgs[4]
	base := JoinRequest{NodeID: 4, RaftAddr: cfg4.RaftAddr, RPCAddr: cfg4.Cluster.RPCAddr, PGAddr: cfg4.Cluster.PGAddr,
		ClusterTag: "tag-1", ProductVersion: testProduct, ProtocolVersion: testProtocol}
	f := func(mutate func(*JoinRequest), reason string) {
		t.Helper()
		req := base
		mutate(&req)
		_, err := tc.admit(req)
		wantCode(t, err, CodeClusterRefused)
		if !strings.Contains(err.Error(), reason) {
			t.Fatalf("refusal %q does not name %q", err, reason)
		}
	}
	f(func(r *JoinRequest) { r.ClusterTag = "other" }, "cluster tag mismatch")
	f(func(r *JoinRequest) { r.ProtocolVersion = 2 }, "protocol version mismatch")
	f(func(r *JoinRequest) { r.ProductVersion = "0.4.0" }, "product version")
	f(func(r *JoinRequest) { r.RaftAddr = tc.cfgs[1].RaftAddr }, "belongs to node 1")
	if v := tc.hosts[1].Catalog().View; v != 1 {
		t.Fatalf("view after refused joins: %d", v)
	}
	// AdmitNode on a follower names the leader.
	leader, _ := tc.hosts[1].metaLeader()
	follower := uint64(1)
	if leader == 1 {
		follower = 2
	}
	_, err := tc.hosts[follower].AdmitNode(tc.ctx, base)
	var nl *NotLeaderError
	if !errors.As(err, &nl) || nl.LeaderNodeID != leader || !errors.Is(err, ErrNotLeader) || pgerror.Code(err) != pgerror.CodeUnavailable {
		t.Fatalf("admit on follower: %v", err)
	}

	// Node 4 joins (a fresh node: no tag), node 5 with the tag: views 2
	// and 3. Joining again is idempotent.
	resp, err := tc.join(4, "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.View != 2 || resp.Cluster.Tag != "tag-1" || len(resp.MetaMembers) != 4 || resp.MetaMembers[4] != cfg4.RaftAddr {
		t.Fatalf("join response: %+v", resp)
	}
	if resp, err := tc.join(5, "tag-1"); err != nil || resp.View != 3 {
		t.Fatalf("join 5: %+v %v", resp, err)
	}
	if again, err := tc.join(4, "tag-1"); err != nil || again.View != 2 {
		t.Fatalf("join again: %+v %v", again, err)
	}
	tc.waitStates(NodeIdle, 4, 5)
	for id, h := range tc.hosts {
		c := h.Catalog()
		n4, _ := c.Node(4)
		n5, _ := c.Node(5)
		if c.View != 3 || n4.JoinedView != 2 || n5.JoinedView != 3 || c.Cluster.Tag != "tag-1" {
			t.Fatalf("node %d: view %d, node 4 %+v, node 5 %+v", id, c.View, n4, n5)
		}
	}
	// The joined node follows the catalog locally and can run DDL.
	if err := tc.hosts[4].CreateDatabase(tc.ctx, shard.Database{Name: "from4"}, false); err != nil {
		t.Fatal(err)
	}
	tc.eventually("catalog on node 5", func() string {
		if _, ok := tc.hosts[5].Catalog().Database("from4"); !ok {
			return "database from4 missing"
		}
		return ""
	})
	// A joined node cannot bootstrap, and a bootstrapped one cannot join.
	wantCode(t, tc.hosts[4].Bootstrap(tc.ctx, tc.members(4)), CodeClusterRefused)
	wantCode(t, tc.hosts[1].JoinMeta(tc.ctx, resp), CodeClusterRefused)

	// Node 4 restarts: it comes back as a non-voting meta member and
	// catches up with what it missed.
	tc.stop(4)
	if err := tc.hosts[1].CreateDatabase(tc.ctx, shard.Database{Name: "while4down"}, false); err != nil {
		t.Fatal(err)
	}
	tc.start(4)
	tc.eventually("node 4 catches up", func() string {
		if _, ok := tc.hosts[4].Catalog().Database("while4down"); !ok {
			return "database while4down missing on node 4"
		}
		return ""
	})
	if s := tc.hosts[4].State(); s != NodeIdle {
		t.Fatalf("node 4 after restart: %s", s)
	}
}

// setupTable creates database m (replicas 3, one slot group) with table cpu
// and the shard of partition 0, and returns them.
func (tc *testCluster) setupTable(via uint64) (shard.ShardInfo, uint32) {
	tc.t.Helper()
	shards, table := tc.setupTableGroups(via, 1)
	return shards[0], table
}

// setupTableGroups is setupTable with `groups` slot groups.
func (tc *testCluster) setupTableGroups(via uint64, groups int) ([]shard.ShardInfo, uint32) {
	tc.t.Helper()
	h := tc.hosts[via]
	if err := h.CreateDatabase(tc.ctx, shard.Database{Name: "m", Replicas: 3, SlotGroups: groups}, false); err != nil {
		tc.t.Fatal(err)
	}
	d, _ := h.Catalog().Database("m")
	if err := h.CreateTable(tc.ctx, d.ID, cpuTable(), false); err != nil {
		tc.t.Fatal(err)
	}
	tbl, _ := h.Catalog().Table(d.ID, "cpu")
	shards, err := h.EnsureShards(tc.ctx, d.ID, []int64{0})
	if err != nil {
		tc.t.Fatal(err)
	}
	if len(shards) != groups {
		tc.t.Fatalf("shards: %+v", shards)
	}
	for _, s := range shards {
		if len(s.Replicas) != 3 {
			tc.t.Fatalf("shards: %+v", shards)
		}
	}
	return shards, tbl.ID
}

// waitRows waits until node id's replica of shardID holds n rows of table.
func (tc *testCluster) waitRows(id, shardID uint64, table uint32, n int) {
	tc.t.Helper()
	tc.eventually(fmt.Sprintf("rows on node %d", id), func() string {
		h := tc.hosts[id]
		if _, err := h.LocalStorage(shardID); err != nil {
			return err.Error()
		}
		rctx, cancel := context.WithTimeout(tc.ctx, time.Second)
		err := h.ReadBarrier(rctx, shardID)
		cancel()
		if err != nil {
			return err.Error()
		}
		if got, _ := countRows(tc.t, h, shardID, table); got != n {
			return fmt.Sprintf("%d rows, want %d", got, n)
		}
		return ""
	})
}

// TestClusterFailover: with three nodes and three replicas, closing the
// node that leads the meta group (and, in this test, is made to lead the
// shard) leaves the cluster writable and readable; the node restarts and
// catches up.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	tc := newTestCluster(t, 1, 2, 3)
	tc.start(1, 2, 3)
	tc.initCluster("tag-1", 1, 2, 3)
	s, table := tc.setupTable(1)
	for i := 0; i < 10; i++ {
		tc.write(s.ID, table, int64(i), "a")
	}
	// Writes go to the leader; a follower refuses with the leader's ID
	// (or none, if it knows none).
	leader := tc.write(s.ID, table, 10, "a")
	for id, h := range tc.hosts {
		if id == leader {
			continue
		}
		// The same point again: if it succeeds, it adds no row.
		err := h.Write(tc.ctx, s.ID, oneRow(table, 10, "a"))
		var nl *NotLeaderError
		if err == nil {
			continue // leadership moved here meanwhile (balancing)
		}
		if !errors.As(err, &nl) || nl.LeaderNodeID == id || !errors.Is(err, ErrNotLeader) {
			t.Fatalf("write on follower %d: %v", id, err)
		}
	}
	metaLeader, _ := tc.hosts[1].metaLeader()
	// Make the meta leader lead the shard too, so that both fail at once.
	tc.eventually("shard leadership on the meta leader", func() string {
		if l, ok := tc.hosts[metaLeader].ShardLeader(s.ID); ok && l == metaLeader {
			return ""
		}
		_ = tc.hosts[metaLeader].NodeHost().RequestLeaderTransfer(s.ID, metaLeader)
		time.Sleep(50 * time.Millisecond)
		return "not yet"
	})
	tc.stop(metaLeader)
	t0 := time.Now()
	for i := 11; i < 21; i++ {
		tc.write(s.ID, table, int64(i), "b")
	}
	t.Logf("writes resumed %v after the meta and shard leader stopped", time.Since(t0).Round(time.Millisecond))
	var survivor uint64
	for id := range tc.hosts {
		survivor = id
	}
	if err := tc.hosts[survivor].CreateDatabase(tc.ctx, shard.Database{Name: "after"}, false); err != nil {
		t.Fatalf("meta group after losing its leader: %v", err)
	}
	for id := range tc.hosts {
		tc.waitRows(id, s.ID, table, 21)
	}
	tc.start(metaLeader)
	tc.waitRows(metaLeader, s.ID, table, 21)
	tc.eventually("restarted node's catalog", func() string {
		if _, ok := tc.hosts[metaLeader].Catalog().Database("after"); !ok {
			return "database after missing"
		}
		if s := tc.hosts[metaLeader].State(); s != NodeHealthy {
			return fmt.Sprintf("state %s", s)
		}
		return ""
	})
}

// TestClusterDeadNodeReplacement: a node down past DeadNodeTimeout is
// marked DOWN and its replica is re-created on the spare node (non-voting,
// caught up, promoted; the dead one removed); writes go on throughout. When
// the dead node comes back it drops its stale replicas and takes new ones.
// The dead node here is a non-voting meta member (it joined).
func TestClusterDeadNodeReplacement(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	tc := newTestCluster(t, 1, 2, 3, 4)
	tc.start(1, 2, 3, 4)
	tc.initCluster("tag-1", 1, 2, 3)
	if _, err := tc.join(4, "tag-1"); err != nil {
		t.Fatal(err)
	}
	tc.waitStates(NodeIdle, 4)
	const victim = 4
	shards, table := tc.setupTableGroups(1, 4)
	var s shard.ShardInfo
	for _, sh := range shards {
		if hasReplica(sh, victim) {
			s = sh
			break
		}
	}
	var spare uint64
	for id := uint64(1); id <= 4; id++ {
		if !hasReplica(s, id) {
			spare = id
		}
	}
	// The spare holds no replica: WrongNode (which is ErrNoReplica).
	err := tc.hosts[spare].Write(tc.ctx, s.ID, oneRow(table, 0, "a"))
	var wn *WrongNodeError
	if !errors.As(err, &wn) || !errors.Is(err, ErrNoReplica) || wn.PartitionVersion == 0 || pgerror.Code(err) != pgerror.CodeUnavailable {
		t.Fatalf("write on a node without a replica: %v", err)
	}
	for i := 0; i < 10; i++ {
		tc.write(s.ID, table, int64(i), "a")
	}
	tc.stop(victim)
	t0 := time.Now()
	for i := 10; i < 20; i++ {
		tc.write(s.ID, table, int64(i), "b")
	}
	tc.eventually("replicas re-created elsewhere", func() string {
		for id, h := range tc.hosts {
			c := h.Catalog()
			if len(c.Moves) != 0 {
				return fmt.Sprintf("node %d: moves %+v", id, c.Moves)
			}
			for _, sh := range shards {
				got, _ := c.Shard(sh.ID)
				if hasReplica(got, victim) || len(got.Replicas) != 3 {
					return fmt.Sprintf("node %d: shard %+v", id, got)
				}
				if hasReplica(sh, victim) && !c.retired(sh.ID, victim) {
					return fmt.Sprintf("node %d: victim not retired from shard %d", id, sh.ID)
				}
			}
			if n, _ := c.Node(victim); n.State != NodeDown {
				return fmt.Sprintf("node %d sees the victim %s", id, n.State)
			}
		}
		return ""
	})
	t.Logf("replicas re-created %v after the node stopped (DeadNodeTimeout %v)", time.Since(t0).Round(time.Millisecond), tc.cfgs[1].Cluster.DeadNodeTimeout)
	tc.write(s.ID, table, 20, "c")
	tc.waitRows(spare, s.ID, table, 21)
	tc.eventually("group membership", func() string {
		mctx, cancel := context.WithTimeout(tc.ctx, time.Second)
		defer cancel()
		m, err := tc.hosts[spare].NodeHost().SyncGetShardMembership(mctx, s.ID)
		if err != nil {
			return err.Error()
		}
		if _, ok := m.Nodes[spare]; !ok || len(m.Nodes) != 3 || len(m.NonVotings) != 0 {
			return fmt.Sprintf("membership %+v", m)
		}
		if _, ok := m.Removed[victim]; !ok {
			return fmt.Sprintf("victim not removed: %+v", m)
		}
		return ""
	})
	tc.waitStates(NodeHealthy, 1, 2, 3)

	// The victim comes back: it drops its stale replicas, is IDLE (it
	// holds nothing now), and takes replicas of new shards again.
	tc.start(victim)
	tc.eventually("victim back", func() string {
		h := tc.hosts[victim]
		for _, sh := range shards {
			if h.NodeHost().HasNodeInfo(sh.ID, victim) {
				return fmt.Sprintf("stale replica of shard %d still on disk", sh.ID)
			}
		}
		if st := h.State(); st != NodeIdle {
			return fmt.Sprintf("state %s", st)
		}
		return ""
	})
	d, _ := tc.hosts[1].Catalog().Database("m")
	day1, err := tc.hosts[1].EnsureShards(tc.ctx, d.ID, []int64{day})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, sh := range day1 {
		found = found || hasReplica(sh, victim)
	}
	if !found {
		t.Fatalf("the returned node got no replica of new shards: %+v", day1)
	}
	tc.waitStates(NodeHealthy, victim)

	// The spare's replica joined as non-voting and was promoted: it
	// restarts as such (cluster.json) and catches up.
	tc.stop(spare)
	tc.write(s.ID, table, 21, "c")
	tc.start(spare)
	tc.waitRows(spare, s.ID, table, 22)
	tc.waitStates(NodeHealthy, spare)
}

// TestClusterDeadMetaVoter: when a meta voter is down past DeadNodeTimeout,
// a non-voting meta member is promoted and the dead voter is removed from
// the meta group and the registry (REMOVED: Dragonboat never re-admits a
// removed replica ID); its data replicas move to the spare.
func TestClusterDeadMetaVoter(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	tc := newTestCluster(t, 1, 2, 3, 4)
	tc.start(1, 2, 3, 4)
	tc.initCluster("tag-1", 1, 2, 3)
	if _, err := tc.join(4, "tag-1"); err != nil {
		t.Fatal(err)
	}
	tc.waitStates(NodeIdle, 4)
	s, table := tc.setupTable(1)
	metaLeader, _ := tc.hosts[1].metaLeader()
	var victim uint64
	for _, id := range []uint64{1, 2, 3} {
		if id != metaLeader && hasReplica(s, id) {
			victim = id
			break
		}
	}
	tc.write(s.ID, table, 1, "a")
	tc.stop(victim)
	tc.eventually("meta voter replaced", func() string {
		for id, h := range tc.hosts {
			if n, _ := h.Catalog().Node(victim); n.State != NodeRemoved {
				return fmt.Sprintf("node %d sees the victim %s", id, n.State)
			}
		}
		var any uint64
		for id := range tc.hosts {
			any = id
		}
		mctx, cancel := context.WithTimeout(tc.ctx, time.Second)
		defer cancel()
		m, err := tc.hosts[any].NodeHost().SyncGetShardMembership(mctx, MetaShardID)
		if err != nil {
			return err.Error()
		}
		if _, ok := m.Nodes[4]; !ok || len(m.Nodes) != 3 {
			return fmt.Sprintf("meta membership %+v", m)
		}
		if _, ok := m.Removed[victim]; !ok {
			return fmt.Sprintf("victim still in the meta group: %+v", m)
		}
		got, _ := tc.hosts[any].Catalog().Shard(s.ID)
		if hasReplica(got, victim) || len(got.Replicas) != 3 {
			return fmt.Sprintf("shard %+v", got)
		}
		return ""
	})
	tc.write(s.ID, table, 2, "b")
	if err := tc.hosts[4].CreateDatabase(tc.ctx, shard.Database{Name: "after"}, false); err != nil {
		t.Fatal(err)
	}
	for id := range tc.hosts {
		tc.waitRows(id, s.ID, table, 2)
	}
}

// TestClusterConcurrentJoinAndDecommission: two nodes join at once (their
// meta membership changes are serialised by retries); then one is
// decommissioned: its replicas move away, it is REMOVED and leaves the
// meta group.
func TestClusterConcurrentJoinAndDecommission(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	tc := newTestCluster(t, 1, 2, 3, 4, 5)
	tc.start(1, 2, 3, 4, 5)
	tc.initCluster("tag-1", 1, 2, 3)
	var wg sync.WaitGroup
	views := make([]uint64, 2)
	errs := make([]error, 2)
	for i, id := range []uint64{4, 5} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var resp JoinResponse
			resp, errs[i] = tc.join(id, "tag-1")
			views[i] = resp.View
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || views[0] == views[1] || min(views[0], views[1]) != 2 || max(views[0], views[1]) != 3 {
		t.Fatalf("concurrent joins: views %v errors %v", views, errs)
	}
	tc.waitStates(NodeIdle, 4, 5)
	shards, table := tc.setupTableGroups(1, 5)
	for _, s := range shards {
		tc.write(s.ID, table, 1, "a")
	}
	const leaving = 4
	held := 0
	for _, s := range shards {
		if hasReplica(s, leaving) {
			held++
		}
	}
	if held == 0 {
		t.Fatalf("node %d holds no replica: %+v", leaving, shards)
	}
	if err := tc.hosts[1].DecommissionNode(tc.ctx, leaving); err != nil {
		t.Fatal(err)
	}
	tc.eventually("node drained and removed", func() string {
		c := tc.hosts[1].Catalog()
		if n, _ := c.Node(leaving); n.State != NodeRemoved {
			return fmt.Sprintf("node %d is %s; moves %+v", leaving, n.State, c.Moves)
		}
		if n := replicasOn(c, leaving); n != 0 {
			return fmt.Sprintf("%d replicas left", n)
		}
		mctx, cancel := context.WithTimeout(tc.ctx, time.Second)
		defer cancel()
		m, err := tc.hosts[1].NodeHost().SyncGetShardMembership(mctx, MetaShardID)
		if err != nil {
			return err.Error()
		}
		if _, ok := m.Removed[leaving]; !ok {
			return fmt.Sprintf("still in the meta group: %+v", m)
		}
		return ""
	})
	if c := tc.hosts[1].Catalog(); c.View != 5 {
		t.Fatalf("view %d after leave and removal, want 5", c.View)
	}
	for _, s := range shards {
		tc.write(s.ID, table, 2, "a")
		got, _ := tc.hosts[1].Catalog().Shard(s.ID)
		for _, r := range got.Replicas {
			tc.waitRows(r, s.ID, table, 2)
		}
	}
	tc.eventually("drained node dropped its replicas", func() string {
		if st := tc.hosts[leaving].State(); st != NodeRemoved {
			return fmt.Sprintf("state %s", st)
		}
		for _, s := range shards {
			if tc.hosts[leaving].NodeHost().HasNodeInfo(s.ID, leaving) {
				return fmt.Sprintf("replica of shard %d still on disk", s.ID)
			}
		}
		return ""
	})
}
