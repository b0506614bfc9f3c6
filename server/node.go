package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/longboatdb/longboat/raftsm"
	"github.com/longboatdb/longboat/server/membership"
	"github.com/longboatdb/longboat/server/pgwire"
	"github.com/longboatdb/longboat/server/rpc"
	"github.com/longboatdb/longboat/server/session"
	"github.com/longboatdb/longboat/shard/store"
)

// Version is the product version.
const Version = "0.1.0"

// ServerVersion is what clients see as server_version: a PostgreSQL 15
// version string, so that drivers enable the features they probe for.
const ServerVersion = "15.0 (Longboat " + Version + ")"

// Config configures a node. Zero values take the documented defaults.
type Config struct {
	DataDir  string // default ./longboat-data
	PGAddr   string // default 127.0.0.1:5433
	HTTPAddr string // default 127.0.0.1:8080; "" after defaults = disabled is not allowed
	RaftAddr string // default 127.0.0.1:7100
	NodeID   uint64 // default 1
	Logger   *slog.Logger
	// RaftRTTMillisecond overrides the Raft tick (tests lower it).
	RaftRTTMillisecond uint64
	// Cluster makes the node a cluster member (see ClusterConfig). Nil: a
	// single-node database, unless DataDir holds cluster state (the node
	// was a member), in which case it restarts as one with the defaults.
	Cluster *ClusterConfig
}

func (c *Config) setDefaults() {
	if c.DataDir == "" {
		c.DataDir = "./longboat-data"
	}
	if c.PGAddr == "" {
		c.PGAddr = "127.0.0.1:5433"
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8080"
	}
	if c.RaftAddr == "" {
		c.RaftAddr = "127.0.0.1:7100"
	}
	if c.NodeID == 0 {
		c.NodeID = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// State is a node lifecycle state.
type State string

// Node states.
const (
	StateInitializing State = "INITIALIZING"
	StateHealthy      State = "HEALTHY"
	StateStopping     State = "STOPPING"
)

// Node is one running Longboat node.
type Node struct {
	cfg   Config
	log   *slog.Logger
	state atomic.Value // State

	db     *store.DB
	host   *raftsm.Host
	pg     *pgwire.Server
	pgLn   net.Listener
	httpLn net.Listener
	http   *http.Server

	// Cluster mode only.
	cl     *clusterNode
	rpcLn  net.Listener
	rpcSrv *grpc.Server
	done   chan error

	cancel context.CancelFunc
	wg     sync.WaitGroup
	start  time.Time
}

// Start opens storage, starts Raft and the listeners, and returns once the
// node serves SQL. Close stops it.
func Start(ctx context.Context, cfg Config) (_ *Node, err error) {
	cfg.setDefaults()
	n := &Node{cfg: cfg, log: cfg.Logger, start: time.Now()}
	n.state.Store(StateInitializing)
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create data directory %s: %w", cfg.DataDir, err)
	}
	// The HTTP endpoint comes up first so that /health reports progress.
	if n.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("cannot listen on http address %s: %w", cfg.HTTPAddr, err)
	}
	n.http = &http.Server{Handler: n.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.http.Serve(n.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("http server stopped", "err", err)
		}
	}()

	if n.db, err = store.Open(filepath.Join(cfg.DataDir, "data"), store.Options{Logger: n.log}); err != nil {
		return nil, fmt.Errorf("cannot open storage: %w", err)
	}
	if cfg.Cluster == nil && HasClusterState(cfg.DataDir) {
		cfg.Cluster = &ClusterConfig{}
		n.cfg.Cluster = cfg.Cluster
		n.log.Info("data directory belongs to a cluster member: starting in cluster mode")
	}
	rcfg := raftsm.Config{
		DataDir:        cfg.DataDir,
		RaftAddr:       cfg.RaftAddr,
		NodeID:         cfg.NodeID,
		Store:          n.db,
		Logger:         n.log,
		RTTMillisecond: cfg.RaftRTTMillisecond,
	}
	if cc := cfg.Cluster; cc != nil {
		cc.setDefaults()
		if n.rpcLn, err = net.Listen("tcp", cc.RPCAddr); err != nil {
			return nil, fmt.Errorf("cannot listen on rpc address %s: %w", cc.RPCAddr, err)
		}
	}
	// The PostgreSQL listener opens before Raft starts (sessions wait for
	// nothing: the handler is installed below) so that its real address,
	// with a port chosen by the system for ":0", is what the cluster records.
	if n.pgLn, err = net.Listen("tcp", cfg.PGAddr); err != nil {
		return nil, fmt.Errorf("cannot listen on postgres address %s: %w", cfg.PGAddr, err)
	}
	var self rpc.NodeInfo
	if cc := cfg.Cluster; cc != nil {
		if self, err = n.advertised(cc.AdvertiseHost); err != nil {
			return nil, err
		}
		rcfg.RaftAddr = self.RaftAddr
		if self.RaftAddr != cfg.RaftAddr {
			rcfg.RaftListenAddr = cfg.RaftAddr
		}
		rcfg.Cluster = &raftsm.ClusterConfig{
			RPCAddr: self.RPCAddr, PGAddr: self.PGAddr, ProductVersion: Version,
			ProtocolVersion: rpc.ProtocolVersion, DeadNodeTimeout: cc.DeadNodeTimeout,
		}
	}
	if n.host, err = raftsm.Start(ctx, rcfg); err != nil {
		return nil, fmt.Errorf("cannot start raft: %w", err)
	}
	handler := &session.Handler{Host: n.host, Logger: n.log, Version: Version}
	sctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	if cc := cfg.Cluster; cc != nil {
		if err := n.startCluster(ctx, sctx, *cc, self, handler); err != nil {
			return nil, err
		}
	}

	if n.pg, err = pgwire.New(pgwire.Config{
		Addr:          cfg.PGAddr,
		Handler:       handler,
		ServerVersion: ServerVersion,
		Logger:        n.log,
	}); err != nil {
		return nil, err
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.pg.Serve(sctx, n.pgLn); err != nil && sctx.Err() == nil {
			n.log.Error("postgres listener stopped", "err", err)
		}
	}()
	n.state.Store(StateHealthy)
	n.log.Info("node serving", "pg", n.pgLn.Addr().String(), "http", n.httpLn.Addr().String(),
		"raft", cfg.RaftAddr, "data_dir", cfg.DataDir, "startup", time.Since(n.start).Round(time.Millisecond))
	return n, nil
}

// advertised returns the addresses other nodes reach this node by: the
// Raft address as configured and the listeners' real ones (":0" resolved),
// with host in place of their host when set. A wildcard listen address
// needs host; the HTTP address is informational and left empty then.
func (n *Node) advertised(host string) (rpc.NodeInfo, error) {
	self := rpc.NodeInfo{NodeID: n.cfg.NodeID}
	for _, a := range []struct {
		dst    *string
		listen string
	}{{&self.RaftAddr, n.cfg.RaftAddr}, {&self.RPCAddr, n.rpcLn.Addr().String()}, {&self.PGAddr, n.pgLn.Addr().String()}} {
		var err error
		if *a.dst, err = advertise(a.listen, host); err != nil {
			return self, err
		}
	}
	self.HTTPAddr, _ = advertise(n.httpLn.Addr().String(), host)
	return self, nil
}

// startCluster starts the cluster-mode services: the RPC server, the RPC
// client and the router (session.Remote), membership, and the cluster loops
// (run under runCtx, which Close cancels).
func (n *Node) startCluster(ctx, runCtx context.Context, cc ClusterConfig, self rpc.NodeInfo, handler *session.Handler) error {
	c := &clusterNode{cfg: cc, log: n.log, host: n.host, self: self, fatal: make(chan error, 1)}
	n.cl = c
	tag := func() string { return n.host.ClusterInfo().Tag }
	c.client = rpc.NewClient(rpc.ClientOptions{Logger: n.log, NodeID: self.NodeID, ClusterTag: tag})
	r := &router{host: n.host, client: c.client, handler: handler, log: n.log}
	handler.Remote = r
	n.rpcSrv = rpc.NewServer(rpc.Handlers{Write: served{r}, Scan: served{r}, Aggregate: served{r}, Admin: c}, rpc.ServerOptions{Logger: n.log, ClusterTag: tag})
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.rpcSrv.Serve(n.rpcLn); err != nil && runCtx.Err() == nil {
			n.log.Error("rpc server stopped", "err", err)
		}
	}()
	mcfg := membership.Config{
		BindAddr: cc.GossipAddr, Seeds: cc.Seeds, Resolver: cc.Resolver, Logger: n.log,
		ProbeInterval: cc.GossipProbeInterval,
	}
	mcfg.Meta = c.gossipMeta()
	var err error
	if c.ml, err = membership.Start(ctx, mcfg); err != nil {
		return fmt.Errorf("cannot start membership on %s: %w", cc.GossipAddr, err)
	}
	n.done = c.fatal
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		c.run(runCtx)
	}()
	n.log.Info("cluster mode", "state", n.host.State(), "raft", self.RaftAddr, "rpc", self.RPCAddr,
		"gossip", c.ml.Addr(), "seeds", strings.Join(cc.Seeds, ","))
	return nil
}

// Done returns a channel that yields an error when the node must stop on
// its own: a cluster refused to admit it (wrong cluster tag, incompatible
// version). Nil for a single node.
func (n *Node) Done() <-chan error { return n.done }

// RPCAddr returns the inter-node RPC listener's address ("" on a single
// node).
func (n *Node) RPCAddr() string {
	if n.rpcLn == nil {
		return ""
	}
	return n.rpcLn.Addr().String()
}

// GossipAddr returns the membership address ("" on a single node).
func (n *Node) GossipAddr() string {
	if n.cl == nil || n.cl.ml == nil {
		return ""
	}
	return n.cl.ml.Addr()
}

// healthState is what /health reports: the lifecycle state, and in cluster
// mode once started the node's state in the cluster.
func (n *Node) healthState() string {
	st := n.state.Load().(State)
	if st != StateHealthy || n.cl == nil {
		return string(st)
	}
	return string(n.host.State())
}

// serving reports whether a /health state means the node serves SQL: a
// single node once started; a cluster member once it is IDLE (a member
// holding no replica yet) or HEALTHY (every replica placed on it runs).
func serving(state string) bool {
	switch state {
	case string(StateHealthy), string(raftsm.NodeIdle):
		return true
	}
	return false
}

// PGAddr returns the address of the PostgreSQL listener.
func (n *Node) PGAddr() string { return n.pgLn.Addr().String() }

// HTTPAddr returns the address of the HTTP listener.
func (n *Node) HTTPAddr() string { return n.httpLn.Addr().String() }

// Host returns the node's Raft host.
func (n *Node) Host() *raftsm.Host { return n.host }

// Close stops serving and flushes and closes everything. Acknowledged
// writes are durable before Close (they are in the Raft log); Close also
// flushes each shard's buffer so a restart replays little.
func (n *Node) Close() {
	n.state.Store(StateStopping)
	if n.cancel != nil {
		n.cancel()
	}
	if n.pg != nil {
		_ = n.pg.Close()
	} else if n.pgLn != nil {
		_ = n.pgLn.Close()
	}
	if n.cl != nil && n.cl.ml != nil {
		// Tell the others this node leaves on purpose (not a failure):
		// the leave reaches them before the Raft connections drop.
		lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := n.cl.ml.Leave(lctx); err != nil {
			n.log.Warn("membership leave", "err", err)
		}
		cancel()
		if err := n.cl.ml.Close(); err != nil {
			n.log.Warn("membership close", "err", err)
		}
	}
	if n.rpcSrv != nil {
		stopped := make(chan struct{})
		go func() { n.rpcSrv.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(2 * time.Second):
			n.rpcSrv.Stop()
		}
	} else if n.rpcLn != nil {
		_ = n.rpcLn.Close()
	}
	if n.cl != nil && n.cl.client != nil {
		_ = n.cl.client.Close()
	}
	if n.host != nil {
		if err := n.host.Close(); err != nil {
			n.log.Error("raft host close", "err", err)
		}
	}
	if n.db != nil {
		if err := n.db.Close(); err != nil {
			n.log.Error("storage close", "err", err)
		}
	}
	if n.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = n.http.Shutdown(ctx)
		cancel()
	} else if n.httpLn != nil {
		_ = n.httpLn.Close()
	}
	n.wg.Wait()
}

func (n *Node) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		st := n.healthState()
		w.Header().Set("Content-Type", "application/json")
		if !serving(st) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		body := map[string]any{
			"state":   st,
			"node_id": n.cfg.NodeID,
			"version": Version,
			"uptime":  time.Since(n.start).Round(time.Second).String(),
		}
		if n.cl != nil && n.host != nil {
			info := n.host.ClusterInfo()
			body["cluster_tag"] = info.Tag
			body["mode"] = "cluster"
		} else {
			body["mode"] = "single-node"
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	// Profiling (go tool pprof http://<http-addr>/debug/pprof/profile).
	// The HTTP address is loopback by default.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}
