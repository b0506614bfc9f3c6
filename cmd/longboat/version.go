package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/longboatdb/longboat/server"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "longboat %s (PostgreSQL wire compatible: %s)\n", server.Version, server.ServerVersion)
		},
	}
}
