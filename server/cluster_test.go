package server

// In-process clusters of real Nodes on loopback: real gRPC between nodes,
// real memberlist gossip, real Dragonboat TCP transport. Raft and gossip
// ports are fixed: Dragonboat records the Raft address in the data
// directory, and memberlist refuses a node name that comes back on another
// address while its old one is dead (a restart on a new gossip port is not
// seen alive). HTTP and RPC listen on port 0; PostgreSQL on a port picked
// free beforehand, because the node advertises the configured PG address
// (port 0 would be recorded as such in the catalog).
//
// Logs: nodes log at Warn to the test log; LONGBOAT_CT_LOG=info (or debug)
// raises the level.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/longboatdb/longboat/raftsm"
	"github.com/longboatdb/longboat/server/rpc"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// Port bases, one block of 10 per test (the range 24000-24999 is this
// file's): node id has Raft on base+id and gossip on base+5+id (id ≤ 4).
const (
	ctPortsInitJoinRoute = 24000
	ctPortsJoinRefused   = 24010
	ctPortsLeaderLoss    = 24020
)

// ctLogWriter sends node logs to t.Log until the test ends (nodes' own
// goroutines may outlive a failed test's cleanup order).
type ctLogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *ctLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func ctLogger(t *testing.T) *slog.Logger {
	level := slog.LevelWarn
	switch strings.ToLower(os.Getenv("LONGBOAT_CT_LOG")) {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	}
	w := &ctLogWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// ctNode is one cluster member: its config (kept for a restart) and the
// running Node (nil while stopped).
type ctNode struct {
	t   *testing.T
	id  uint64
	cfg Config
	n   *Node
}

// ctFreeAddr returns a loopback address whose port was free a moment ago.
func ctFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// ctNewNode configures node id (ports: see ctPortsInitJoinRoute) with the given seeds
// and cluster tag, starts it and closes it at the end of the test.
func ctNewNode(t *testing.T, log *slog.Logger, base int, id uint64, tag string, seeds ...string) *ctNode {
	t.Helper()
	cfg := ctNewNodeConfig(t, log, base, id, seeds...)
	cfg.Cluster.ClusterTag = tag
	cn := &ctNode{t: t, id: id, cfg: cfg}
	cn.start()
	t.Cleanup(cn.stop)
	return cn
}

// ctNewNodeConfig is the configuration ctNewNode starts node id with.
func ctNewNodeConfig(t *testing.T, log *slog.Logger, base int, id uint64, seeds ...string) Config {
	t.Helper()
	return Config{
		DataDir:            t.TempDir(),
		PGAddr:             ctFreeAddr(t),
		HTTPAddr:           "127.0.0.1:0",
		RaftAddr:           fmt.Sprintf("127.0.0.1:%d", base+int(id)),
		NodeID:             id,
		Logger:             log.With("node", id),
		RaftRTTMillisecond: 20,
		Cluster: &ClusterConfig{
			Seeds:               seeds,
			RPCAddr:             "127.0.0.1:0",
			GossipAddr:          fmt.Sprintf("127.0.0.1:%d", base+5+int(id)),
			GossipProbeInterval: 200 * time.Millisecond,
		},
	}
}

func (cn *ctNode) start() {
	cn.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := Start(ctx, cn.cfg)
	if err != nil {
		cn.t.Fatalf("start node %d: %v", cn.id, err)
	}
	cn.n = n
}

func (cn *ctNode) stop() {
	if cn.n != nil {
		cn.n.Close()
		cn.n = nil
	}
}

// ctHealth is the /health body.
type ctHealth struct {
	Code       int
	State      string `json:"state"`
	Mode       string `json:"mode"`
	ClusterTag string `json:"cluster_tag"`
}

func (cn *ctNode) health() (ctHealth, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + cn.n.HTTPAddr() + "/health")
	if err != nil {
		return ctHealth{}, err
	}
	defer resp.Body.Close()
	var h ctHealth
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return ctHealth{}, fmt.Errorf("health body: %w", err)
	}
	h.Code = resp.StatusCode
	return h, nil
}

// conn connects pgx to the node's PostgreSQL listener.
func (cn *ctNode) conn() *pgx.Conn {
	cn.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://longboat@%s/longboat?sslmode=disable", cn.n.PGAddr()))
	if err != nil {
		cn.t.Fatalf("connect to node %d: %v", cn.id, err)
	}
	cn.t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// ctWait polls cond until it returns nil, failing the test with the last
// error after timeout. The timeout only bounds a hang; it asserts nothing
// about speed.
func ctWait(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after %s: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ctClient(t *testing.T) *rpc.Client {
	c := rpc.NewClient(rpc.ClientOptions{CallTimeout: time.Minute})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctInitReq(meta ...string) *rpc.InitRequest {
	return &rpc.InitRequest{MetaNodes: meta, ProductVersion: Version, ProtocolVersion: rpc.ProtocolVersion}
}

// ctInit initialises a cluster through via and waits until every node in
// nodes reports the cluster's tag and a serving state on /health.
func ctInit(t *testing.T, client *rpc.Client, via *ctNode, nodes []*ctNode, meta ...string) *rpc.InitResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := client.Init(ctx, via.n.RPCAddr(), ctInitReq(meta...))
	if err != nil {
		t.Fatalf("cluster init %v: %v", meta, err)
	}
	if res.ClusterTag == "" || res.AlreadyInitialized || len(res.MetaNodes) != len(meta) {
		t.Fatalf("cluster init %v: %+v", meta, res)
	}
	for _, cn := range nodes {
		ctWaitServing(t, cn, res.ClusterTag)
	}
	return res
}

// ctWaitServing waits until cn's /health answers 200 with the given tag.
func ctWaitServing(t *testing.T, cn *ctNode, tag string) ctHealth {
	t.Helper()
	var h ctHealth
	ctWait(t, 30*time.Second, fmt.Sprintf("node %d serving in cluster %s", cn.id, tag), func() error {
		var err error
		if h, err = cn.health(); err != nil {
			return err
		}
		if h.Code != http.StatusOK || h.ClusterTag != tag || h.Mode != "cluster" {
			return fmt.Errorf("health %+v", h)
		}
		return nil
	})
	return h
}

func ctStatus(t *testing.T, client *rpc.Client, cn *ctNode) *rpc.ClusterStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := client.Status(ctx, cn.n.RPCAddr())
	if err != nil {
		t.Fatalf("status from node %d: %v", cn.id, err)
	}
	return st
}

func ctNodeStatus(st *rpc.ClusterStatus, id uint64) (rpc.NodeStatus, bool) {
	for _, n := range st.Nodes {
		if n.Node.NodeID == id {
			return n, true
		}
	}
	return rpc.NodeStatus{}, false
}

const ctDDL = `CREATE TABLE cpu (time timestamptz NOT NULL, hostname text, region text,
  usage_user double precision, PRIMARY KEY (hostname, time))`

// ctDay0 is the first day of the test data; the default database has daily
// partitions, so rows on n days land in n shards.
var ctDay0 = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

// ctSummary is count, sum and a digest of every row, as one string.
func ctSummary(ctx context.Context, c *pgx.Conn) (string, error) {
	var n int64
	var s float64
	if err := c.QueryRow(ctx, `SELECT count(*), sum(usage_user) FROM cpu`).Scan(&n, &s); err != nil {
		return "", fmt.Errorf("count: %w", err)
	}
	rows, err := c.Query(ctx, `SELECT hostname, time, usage_user FROM cpu ORDER BY hostname, time`)
	if err != nil {
		return "", fmt.Errorf("select: %w", err)
	}
	var b strings.Builder
	for rows.Next() {
		var h string
		var ts time.Time
		var u float64
		if err := rows.Scan(&h, &ts, &u); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s@%d=%g;", h, ts.Unix(), u)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return fmt.Sprintf("count=%d sum=%g rows=%s", n, s, b.String()), nil
}

func ctShardCount(t *testing.T, c *pgx.Conn) int {
	t.Helper()
	var n int
	if err := c.QueryRow(context.Background(), `SELECT count(*) FROM longboat.shards WHERE database = 'longboat'`).Scan(&n); err != nil {
		t.Fatalf("longboat.shards: %v", err)
	}
	return n
}

func TestClusterInitJoinRoute(t *testing.T) {
	log := ctLogger(t)
	client := ctClient(t)
	const base = ctPortsInitJoinRoute
	n1 := ctNewNode(t, log, base, 1, "")
	n2 := ctNewNode(t, log, base, 2, "", n1.n.GossipAddr())
	n3 := ctNewNode(t, log, base, 3, "", n1.n.GossipAddr(), n2.n.GossipAddr())
	meta := []*ctNode{n1, n2, n3}

	// Before init: not serving, INITIALIZING, no tag.
	for _, cn := range meta {
		h, err := cn.health()
		if err != nil {
			t.Fatal(err)
		}
		if h.Code != http.StatusServiceUnavailable || h.State != string(raftsm.NodeInitializing) || h.Mode != "cluster" || h.ClusterTag != "" {
			t.Fatalf("node %d before init: %+v", cn.id, h)
		}
	}

	res := ctInit(t, client, n1, meta, "1", "2", "3")
	tag := res.ClusterTag
	for i, m := range res.MetaNodes {
		if m.NodeID != uint64(i+1) || m.RaftAddr != meta[i].cfg.RaftAddr || m.RPCAddr != meta[i].n.RPCAddr() {
			t.Errorf("meta node %d: %+v", i, m)
		}
	}

	ctx := context.Background()
	// The same init again, through another node: success, same tag.
	again, err := client.Init(ctx, n2.n.RPCAddr(), ctInitReq("1", "2", "3"))
	if err != nil {
		t.Fatalf("init again: %v", err)
	}
	if !again.AlreadyInitialized || again.ClusterTag != tag {
		t.Fatalf("init again: %+v, want AlreadyInitialized with tag %s", again, tag)
	}
	// Another meta node set: refused.
	_, err = client.Init(ctx, n1.n.RPCAddr(), ctInitReq("1", "2"))
	if err == nil || pgerror.Code(err) != raftsm.CodeClusterRefused {
		t.Fatalf("init with other meta nodes: %v (code %q), want SQLSTATE %s", err, pgerror.Code(err), raftsm.CodeClusterRefused)
	}
	t.Logf("init with other meta nodes refused: %v", err)

	// A fourth node joins by itself.
	n4 := ctNewNode(t, log, base, 4, "", n1.n.GossipAddr())
	all := []*ctNode{n1, n2, n3, n4}
	ctWait(t, 40*time.Second, "node 4 admitted", func() error {
		st := ctStatus(t, client, n1)
		ns, ok := ctNodeStatus(st, 4)
		if !ok || (ns.State != string(raftsm.NodeIdle) && ns.State != string(raftsm.NodeHealthy)) {
			return fmt.Errorf("node 4 in status: %+v", ns)
		}
		return nil
	})
	ctWaitServing(t, n4, tag)

	// Writes through node 4, reads through every node. Four nodes, three
	// replicas per shard: a node lacks a replica of some shards, and
	// leaders are spread, so batches go to leaders and fragments to
	// replicas over RPC (the status logged below shows the placement).
	c4 := n4.conn()
	if _, err := c4.Exec(ctx, ctDDL); err != nil {
		t.Fatalf("create table via node 4: %v", err)
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO cpu VALUES `)
	for d := range 3 {
		for h := range 5 {
			for s := range 2 {
				if b.Len() > len(`INSERT INTO cpu VALUES `) {
					b.WriteString(", ")
				}
				ts := ctDay0.Add(time.Duration(d)*24*time.Hour + time.Duration(s)*time.Minute)
				fmt.Fprintf(&b, "('%s', 'host_%d', 'eu', %d)", ts.Format(time.RFC3339), h, d*100+h*10+s)
			}
		}
	}
	if _, err := c4.Exec(ctx, b.String()); err != nil {
		t.Fatalf("insert via node 4: %v", err)
	}
	want, err := ctSummary(ctx, c4)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(want, "count=30 ") {
		t.Fatalf("via node 4: %s", want)
	}
	for _, cn := range all {
		c := cn.conn()
		got, err := ctSummary(ctx, c)
		if err != nil {
			t.Fatalf("read via node %d: %v", cn.id, err)
		}
		if got != want {
			t.Errorf("read via node %d:\n got %s\nwant %s", cn.id, got, want)
		}
		if _, err := c.Exec(ctx, `SET read_consistency = 'follower'`); err != nil {
			t.Fatal(err)
		}
		got, err = ctSummary(ctx, c)
		if err != nil {
			t.Fatalf("follower read via node %d: %v", cn.id, err)
		}
		if got != want {
			t.Errorf("follower read via node %d:\n got %s\nwant %s", cn.id, got, want)
		}
	}

	// Status: the view that admitted node 4, four nodes, every replica of
	// the three daily shards placed, leaders known.
	shards := ctShardCount(t, c4)
	if shards != 3 {
		t.Errorf("shards of database longboat: %d, want 3 (one per day)", shards)
	}
	ctWait(t, 20*time.Second, "status shows every replica and a leader per shard", func() error {
		st := ctStatus(t, client, n1)
		if st.ClusterTag != tag || st.View < 2 || len(st.Nodes) != 4 || st.ResponderNodeID != 1 {
			return fmt.Errorf("status: %+v", st)
		}
		var reps, leaders int
		for _, ns := range st.Nodes {
			if ns.State != string(raftsm.NodeIdle) && ns.State != string(raftsm.NodeHealthy) {
				return fmt.Errorf("node %d state %s", ns.Node.NodeID, ns.State)
			}
			if cn := all[ns.Node.NodeID-1]; ns.Node.RPCAddr != cn.n.RPCAddr() || ns.Node.RaftAddr != cn.cfg.RaftAddr || ns.Node.PGAddr != cn.n.PGAddr() || ns.Node.HTTPAddr != cn.n.HTTPAddr() {
				return fmt.Errorf("node %d addresses %+v", ns.Node.NodeID, ns.Node)
			}
			reps += ns.Shards
			leaders += ns.Leaders
		}
		// Database longboat: 3 replicas per shard (min(3, nodes at init)).
		if reps != 3*shards || leaders < 1 || leaders > shards {
			return fmt.Errorf("replicas %d (want %d), leaders known to node 1 %d (of %d shards): %+v", reps, 3*shards, leaders, shards, st.Nodes)
		}
		return nil
	})
	st := ctStatus(t, client, n1)
	for _, ns := range st.Nodes {
		t.Logf("node %d %s shards=%d leaders=%d rpc=%s pg=%s", ns.Node.NodeID, ns.State, ns.Shards, ns.Leaders, ns.Node.RPCAddr, ns.Node.PGAddr)
	}
}

func TestClusterJoinRefused(t *testing.T) {
	log := ctLogger(t)
	client := ctClient(t)
	const base = ctPortsJoinRefused
	n1 := ctNewNode(t, log, base, 1, "")
	res := ctInit(t, client, n1, []*ctNode{n1}, "1")

	// A node configured for another cluster is refused and told so.
	wrong := ctNewNode(t, log, base, 2, "wrong", n1.n.GossipAddr())
	select {
	case err := <-wrong.n.Done():
		if err == nil || !strings.Contains(err.Error(), "cluster tag") || pgerror.Code(err) != raftsm.CodeClusterRefused {
			t.Fatalf("wrong cluster tag: Done() yielded %v (code %q)", err, pgerror.Code(err))
		}
		t.Logf("wrong cluster tag refused: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("a node with the wrong cluster tag was not refused")
	}
	if h, err := wrong.health(); err != nil || h.Code != http.StatusServiceUnavailable || h.State != string(raftsm.NodeInitializing) {
		t.Fatalf("refused node health: %+v %v", h, err)
	}
	if st := ctStatus(t, client, n1); len(st.Nodes) != 1 {
		t.Fatalf("the refused node is in the cluster: %+v", st.Nodes)
	}

	// A node speaking another protocol version: its JoinRequest (what the
	// join loop of such a node sends) is refused naming the versions.
	// Sent directly: the node's own version is a constant, and the refusal
	// path after it (isRefusal → Done) is the one the tag case covers.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := client.Join(ctx, n1.n.RPCAddr(), &rpc.JoinRequest{
		Node:       rpc.NodeInfo{NodeID: 3, RaftAddr: fmt.Sprintf("127.0.0.1:%d", base+3), RPCAddr: "127.0.0.1:1", PGAddr: "127.0.0.1:1"},
		ClusterTag: res.ClusterTag, ProductVersion: Version, ProtocolVersion: rpc.ProtocolVersion + 1,
	})
	if err == nil || !strings.Contains(err.Error(), "protocol version") || pgerror.Code(err) != raftsm.CodeClusterRefused {
		t.Fatalf("join with protocol version %d: %v (code %q)", rpc.ProtocolVersion+1, err, pgerror.Code(err))
	}
	if !isRefusal(err) {
		t.Fatalf("join loop would not stop on %v", err)
	}
	t.Logf("protocol version refused: %v", err)
}

// ctWriter inserts rows through one connection until stopped, one row per
// day partition per statement, and records what was acknowledged.
type ctWriter struct {
	id int
	mu struct {
		sync.Mutex
		acked    map[string]bool // hostname@unix
		failed   map[string]bool // rows of statements that returned an error
		errs     []error
		ackTimes []time.Time
	}
}

func (w *ctWriter) run(ctx context.Context, c *pgx.Conn, days int) {
	host := fmt.Sprintf("w%d", w.id)
	for i := 0; ctx.Err() == nil; i++ {
		var b strings.Builder
		var keys []string
		b.WriteString(`INSERT INTO cpu VALUES `)
		for d := range days {
			if d > 0 {
				b.WriteString(", ")
			}
			ts := ctDay0.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*time.Second)
			fmt.Fprintf(&b, "('%s', '%s', 'eu', %d)", ts.Format(time.RFC3339), host, i)
			keys = append(keys, fmt.Sprintf("%s@%d", host, ts.Unix()))
		}
		// Not ctx: a statement cancelled by the end of the run would count
		// as failed although it may have committed. The router bounds it.
		sctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		_, err := c.Exec(sctx, b.String())
		cancel()
		w.mu.Lock()
		m := w.mu.acked
		if err != nil {
			w.mu.errs = append(w.mu.errs, err)
			m = w.mu.failed
		} else {
			w.mu.ackTimes = append(w.mu.ackTimes, time.Now())
		}
		for _, k := range keys {
			m[k] = true
		}
		w.mu.Unlock()
	}
}

// acksSince counts the statements acknowledged after t.
func (w *ctWriter) acksSince(t time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, at := range w.mu.ackTimes {
		if at.After(t) {
			n++
		}
	}
	return n
}

// longestPause is the longest time between two acknowledgements.
func (w *ctWriter) longestPause() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var longest time.Duration
	prev := time.Time{}
	for _, at := range w.mu.ackTimes {
		if !prev.IsZero() {
			longest = max(longest, at.Sub(prev))
		}
		prev = at
	}
	return longest
}

// ctKeys reads every row's key through c, reporting duplicates.
func ctKeys(ctx context.Context, c *pgx.Conn) (map[string]bool, []string, error) {
	rows, err := c.Query(ctx, `SELECT hostname, time FROM cpu`)
	if err != nil {
		return nil, nil, err
	}
	keys := map[string]bool{}
	var dups []string
	for rows.Next() {
		var h string
		var ts time.Time
		if err := rows.Scan(&h, &ts); err != nil {
			return nil, nil, err
		}
		k := fmt.Sprintf("%s@%d", h, ts.Unix())
		if keys[k] {
			dups = append(dups, k)
		}
		keys[k] = true
	}
	return keys, dups, rows.Err()
}

// TestClusterLeaderLoss stops the node that leads most shards while writers
// insert through another node, checks that writes resume and that every
// acknowledged row is readable once through the survivors, then restarts
// the node on its data directory. The node is stopped with Close
// (graceful: memberlist leave, Raft host closed): a crash cannot be
// simulated in process.
func TestClusterLeaderLoss(t *testing.T) {
	log := ctLogger(t)
	client := ctClient(t)
	const base = ctPortsLeaderLoss
	n1 := ctNewNode(t, log, base, 1, "")
	n2 := ctNewNode(t, log, base, 2, "", n1.n.GossipAddr())
	n3 := ctNewNode(t, log, base, 3, "", n1.n.GossipAddr(), n2.n.GossipAddr())
	nodes := []*ctNode{n1, n2, n3}
	res := ctInit(t, client, n1, nodes, "1", "2", "3")
	ctx := context.Background()

	const days = 4 // four daily partitions: four shards, a replica on each node
	c1 := n1.conn()
	if _, err := c1.Exec(ctx, ctDDL); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO cpu VALUES `)
	for d := range days {
		if d > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "('%s', 'seed', 'eu', %d)", ctDay0.Add(time.Duration(d)*24*time.Hour).Format(time.RFC3339), d)
	}
	if _, err := c1.Exec(ctx, b.String()); err != nil {
		t.Fatal(err)
	}
	if got := ctShardCount(t, c1); got != days {
		t.Fatalf("shards: %d, want %d", got, days)
	}

	// The victim: the node leading most shards, once every shard has a
	// leader (node 1 holds a replica of every shard, so it knows them all).
	var victim *ctNode
	var victimLeads int
	ctWait(t, 20*time.Second, "a leader for every shard", func() error {
		st := ctStatus(t, client, n1)
		total := 0
		victim, victimLeads = nil, -1
		for _, ns := range st.Nodes {
			total += ns.Leaders
			if ns.Leaders > victimLeads {
				victim, victimLeads = nodes[ns.Node.NodeID-1], ns.Leaders
			}
		}
		if total != days {
			return fmt.Errorf("%d of %d shards with a known leader: %+v", total, days, st.Nodes)
		}
		return nil
	})
	var survivors []*ctNode
	for _, cn := range nodes {
		if cn != victim {
			survivors = append(survivors, cn)
		}
	}
	coord := survivors[0] // the writers' node
	t.Logf("victim: node %d, leading %d of %d shards; writers through node %d", victim.id, victimLeads, days, coord.id)

	const nWriters = 2
	writers := make([]*ctWriter, nWriters)
	wctx, stopWriters := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopWriters(); wg.Wait() }()
	for i := range writers {
		w := &ctWriter{id: i}
		w.mu.acked, w.mu.failed = map[string]bool{}, map[string]bool{}
		writers[i] = w
		c := coord.conn()
		wg.Add(1)
		go func() { defer wg.Done(); w.run(wctx, c, days) }()
	}
	waitAcks := func(what string, since time.Time, n int) {
		t.Helper()
		ctWait(t, 30*time.Second, what, func() error {
			for _, w := range writers {
				if got := w.acksSince(since); got < n {
					return fmt.Errorf("writer %d: %d acknowledged statements since %s", w.id, got, since.Format(time.StampMilli))
				}
			}
			return nil
		})
	}
	waitAcks("writers running", time.Time{}, 10)

	t0 := time.Now()
	victim.stop()
	closed := time.Since(t0)
	waitAcks("writes resumed after losing the leader", t0.Add(closed), 10)
	stopWriters()
	wg.Wait()
	var pause time.Duration
	acked, failed := map[string]bool{}, map[string]bool{}
	for _, w := range writers {
		pause = max(pause, w.longestPause())
		w.mu.Lock()
		for k := range w.mu.acked {
			acked[k] = true
		}
		for k := range w.mu.failed {
			failed[k] = true
		}
		for _, err := range w.mu.errs {
			t.Logf("writer %d: statement failed: %v", w.id, err)
		}
		w.mu.Unlock()
	}
	for d := range days {
		acked[fmt.Sprintf("seed@%d", ctDay0.Add(time.Duration(d)*24*time.Hour).Unix())] = true
	}
	t.Logf("node %d closed in %s; longest pause between acknowledged writes %s; %d rows acknowledged, %d in failed statements",
		victim.id, closed.Round(time.Millisecond), pause.Round(time.Millisecond), len(acked), len(failed))

	check := func(cn *ctNode, c *pgx.Conn) {
		t.Helper()
		for _, cons := range []string{"strong", "follower"} {
			if _, err := c.Exec(ctx, `SET read_consistency = '`+cons+`'`); err != nil {
				t.Fatal(err)
			}
			keys, dups, err := ctKeys(ctx, c)
			if err != nil {
				t.Fatalf("read via node %d (%s): %v", cn.id, cons, err)
			}
			if len(dups) > 0 {
				t.Errorf("read via node %d (%s): %d duplicated rows, e.g. %s", cn.id, cons, len(dups), dups[0])
			}
			missing, extra := 0, 0
			for k := range acked {
				if !keys[k] {
					missing++
				}
			}
			for k := range keys {
				if !acked[k] && !failed[k] {
					extra++
				}
			}
			if missing > 0 || extra > 0 {
				t.Errorf("read via node %d (%s): %d acknowledged rows missing, %d rows never written", cn.id, cons, missing, extra)
			}
		}
	}
	for _, cn := range survivors {
		check(cn, cn.conn())
	}
	want, err := ctSummary(ctx, coord.conn())
	if err != nil {
		t.Fatal(err)
	}

	// Restart the victim on its data directory: it rejoins as HEALTHY (it
	// holds replicas) and serves the same rows.
	victim.cfg.Cluster.Seeds = []string{survivors[0].n.GossipAddr(), survivors[1].n.GossipAddr()}
	victim.start()
	h := ctWaitServing(t, victim, res.ClusterTag)
	ctWait(t, 30*time.Second, fmt.Sprintf("node %d HEALTHY again", victim.id), func() error {
		if h, err = victim.health(); err != nil {
			return err
		}
		ns, _ := ctNodeStatus(ctStatus(t, client, survivors[0]), victim.id)
		if h.State != string(raftsm.NodeHealthy) || ns.State != string(raftsm.NodeHealthy) || ns.Node.RPCAddr != victim.n.RPCAddr() {
			return fmt.Errorf("health %+v, in status %+v (rpc now %s)", h, ns, victim.n.RPCAddr())
		}
		return nil
	})
	cv := victim.conn()
	check(victim, cv)
	got, err := ctSummary(ctx, cv)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("via the restarted node %d:\n got %.200s\nwant %.200s", victim.id, got, want)
	}
}
