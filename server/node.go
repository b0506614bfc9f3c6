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
	"sync"
	"sync/atomic"
	"time"

	"github.com/longboatdb/longboat/raftsm"
	"github.com/longboatdb/longboat/server/pgwire"
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
	if n.host, err = raftsm.Start(ctx, raftsm.Config{
		DataDir:        cfg.DataDir,
		RaftAddr:       cfg.RaftAddr,
		NodeID:         cfg.NodeID,
		Store:          n.db,
		Logger:         n.log,
		RTTMillisecond: cfg.RaftRTTMillisecond,
	}); err != nil {
		return nil, fmt.Errorf("cannot start raft: %w", err)
	}

	if n.pgLn, err = net.Listen("tcp", cfg.PGAddr); err != nil {
		return nil, fmt.Errorf("cannot listen on postgres address %s: %w", cfg.PGAddr, err)
	}
	if n.pg, err = pgwire.New(pgwire.Config{
		Addr:          cfg.PGAddr,
		Handler:       &session.Handler{Host: n.host, Logger: n.log, Version: Version},
		ServerVersion: ServerVersion,
		Logger:        n.log,
	}); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
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
		st := n.state.Load().(State)
		w.Header().Set("Content-Type", "application/json")
		if st != StateHealthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"state":   st,
			"node_id": n.cfg.NodeID,
			"version": Version,
			"uptime":  time.Since(n.start).Round(time.Second).String(),
		})
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
