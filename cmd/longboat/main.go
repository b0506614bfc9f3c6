// Command longboat is the one Longboat binary: it runs a node, and carries
// the operator and workload tools.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/longboatdb/longboat/cmd/longboat/bench"
	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "longboat",
		Short:         "Longboat: a distributed time-series database that speaks PostgreSQL",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	node := &cobra.Command{Use: "node", Short: "Run and manage a node"}
	node.AddCommand(newNodeStartCmd(), newNodeHealthCmd())
	root.AddCommand(node, newClusterCmd(), newVersionCmd(), bench.NewCommand())
	return root
}
