package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/longboatdb/longboat/server"
)

// newNodeStartCmd is `longboat node start`. Settings come from, in order of
// precedence: flags, LONGBOAT_* environment variables (LONGBOAT_DATA_DIR,
// LONGBOAT_PG_ADDR, ...), the YAML file given by --config, defaults.
func newNodeStartCmd() *cobra.Command {
	v := viper.New()
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start a node (alone and unconfigured, a complete single-node database)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f := v.GetString("config"); f != "" {
				v.SetConfigFile(f)
				v.SetConfigType("yaml")
				if err := v.ReadInConfig(); err != nil {
					return fmt.Errorf("cannot read config file %s: %w", f, err)
				}
			}
			logger, err := newLogger(v.GetString("log-level"))
			if err != nil {
				return err
			}
			nodeID := v.GetUint64("node-id")
			if nodeID == 0 {
				return fmt.Errorf("invalid --node-id %q: must be an integer >= 1", v.GetString("node-id"))
			}
			cfg := server.Config{
				DataDir:  v.GetString("data-dir"),
				PGAddr:   v.GetString("pg-addr"),
				HTTPAddr: v.GetString("http-addr"),
				RaftAddr: v.GetString("raft-addr"),
				NodeID:   nodeID,
				Logger:   logger,
			}
			seeds := splitList(v.GetString("seeds"))
			if len(seeds) > 0 || server.HasClusterState(cfg.DataDir) {
				timeout, err := time.ParseDuration(v.GetString("dead-node-timeout"))
				if err != nil {
					return fmt.Errorf("invalid --dead-node-timeout: %w", err)
				}
				cfg.Cluster = &server.ClusterConfig{
					Seeds:           seeds,
					RPCAddr:         v.GetString("rpc-addr"),
					GossipAddr:      v.GetString("gossip-addr"),
					AdvertiseHost:   v.GetString("advertise-host"),
					ClusterTag:      v.GetString("cluster-tag"),
					DeadNodeTimeout: timeout,
				}
			}
			t0 := time.Now()
			n, err := server.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			who, where := "serving", fmt.Sprintf("http %s", n.HTTPAddr())
			if cfg.Cluster != nil {
				who = fmt.Sprintf("node %d", nodeID)
				where += fmt.Sprintf(", rpc %s, gossip %s", n.RPCAddr(), n.GossipAddr())
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "longboat %s %s: postgres://%s/longboat (%s, data %s) in %s\n",
				server.Version, who, n.PGAddr(), where, cfg.DataDir, time.Since(t0).Round(time.Millisecond))
			defer n.Close()
			select {
			case <-cmd.Context().Done():
				fmt.Fprintln(cmd.ErrOrStderr(), "longboat: shutting down")
				return nil
			case err := <-n.Done():
				fmt.Fprintln(cmd.ErrOrStderr(), "longboat: stopping:", err)
				return err
			}
		},
	}
	f := cmd.Flags()
	f.String("config", "", "YAML config file (keys as the flag names)")
	f.String("data-dir", "./longboat-data", "data directory")
	f.String("pg-addr", "127.0.0.1:5433", "PostgreSQL wire protocol listen address")
	f.String("http-addr", "127.0.0.1:8080", "HTTP listen address (/health, /metrics)")
	f.String("raft-addr", "127.0.0.1:7100", "Raft address (frozen into the data directory on first start)")
	f.String("log-level", "info", "log level: debug, info, warn, error")
	f.String("node-id", "1", "this node's ID, unique in the cluster (frozen into the data directory)")
	f.String("seeds", "", "comma-separated gossip addresses (host:port, or a DNS name) of other nodes: run as a cluster member")
	f.String("rpc-addr", "127.0.0.1:7200", "inter-node RPC listen address (cluster mode)")
	f.String("gossip-addr", "127.0.0.1:7300", "membership (gossip) listen address, IP:port (cluster mode)")
	f.String("advertise-host", "", "host name or IP other nodes reach this node by (default: the listen addresses' host)")
	f.String("cluster-tag", "", "join only the cluster with this tag (cluster mode)")
	f.String("dead-node-timeout", "5m", "how long a node may be unreachable before its replicas are re-created elsewhere")
	_ = v.BindPFlags(f)
	v.SetEnvPrefix("LONGBOAT")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	return cmd
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid log level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
