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
			cfg := server.Config{
				DataDir:  v.GetString("data-dir"),
				PGAddr:   v.GetString("pg-addr"),
				HTTPAddr: v.GetString("http-addr"),
				RaftAddr: v.GetString("raft-addr"),
				Logger:   logger,
			}
			t0 := time.Now()
			n, err := server.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "longboat %s serving: postgres://%s/longboat (http %s, data %s) in %s\n",
				server.Version, n.PGAddr(), n.HTTPAddr(), cfg.DataDir, time.Since(t0).Round(time.Millisecond))
			<-cmd.Context().Done()
			fmt.Fprintln(cmd.ErrOrStderr(), "longboat: shutting down")
			n.Close()
			return nil
		},
	}
	f := cmd.Flags()
	f.String("config", "", "YAML config file (keys as the flag names)")
	f.String("data-dir", "./longboat-data", "data directory")
	f.String("pg-addr", "127.0.0.1:5433", "PostgreSQL wire protocol listen address")
	f.String("http-addr", "127.0.0.1:8080", "HTTP listen address (/health, /metrics)")
	f.String("raft-addr", "127.0.0.1:7100", "Raft address (frozen into the data directory on first start)")
	f.String("log-level", "info", "log level: debug, info, warn, error")
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
