package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/longboatdb/longboat/server"
	"github.com/longboatdb/longboat/server/rpc"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// newClusterCmd is `longboat cluster`: operator commands sent to a node's
// inter-node RPC address.
func newClusterCmd() *cobra.Command {
	c := &cobra.Command{Use: "cluster", Short: "Form and inspect a cluster"}
	c.AddCommand(newClusterInitCmd(), newClusterStatusCmd())
	return c
}

// hostFlags are an operator command's --host and --timeout.
type hostFlags struct {
	host    string
	timeout time.Duration
}

// addHostFlags adds --host and --timeout (default def) to cmd.
func addHostFlags(cmd *cobra.Command, def time.Duration) *hostFlags {
	f := &hostFlags{}
	cmd.Flags().StringVar(&f.host, "host", "127.0.0.1:7200", "RPC address of any node (its --rpc-addr)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", def, "give up after this long")
	return f
}

// dial checks --timeout and returns a context bounded by it and an RPC
// client whose calls it bounds too; done releases both.
func (f *hostFlags) dial(ctx context.Context) (_ context.Context, _ *rpc.Client, done func(), _ error) {
	if f.timeout <= 0 {
		return nil, nil, nil, fmt.Errorf("--timeout must be positive (got %v)", f.timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	client := rpc.NewClient(rpc.ClientOptions{CallTimeout: f.timeout})
	return ctx, client, func() { _ = client.Close(); cancel() }, nil
}

func newClusterInitCmd() *cobra.Command {
	var (
		metaNodes string
		hf        *hostFlags
	)
	cmd := &cobra.Command{
		Use:   "init --meta-nodes 1,2,3",
		Short: "Initialise a cluster: start the meta Raft group on the given nodes",
		Long: `init starts the meta Raft group on the named nodes (node IDs or RPC
addresses; 3 or 5 nodes tolerate 1 or 2 failures), has it elect a leader and
apply the init command (a generated cluster tag, the product version). It can
be sent to any node that gossips with the meta nodes. Sent again with the same
meta nodes it succeeds; with other ones it is refused. Every other node started
with --seeds joins the cluster by itself.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			nodes := splitList(metaNodes)
			if len(nodes) == 0 {
				return fmt.Errorf("--meta-nodes is required (node IDs or RPC addresses, e.g. 1,2,3)")
			}
			ctx, client, done, err := hf.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			fmt.Fprintf(cmd.ErrOrStderr(), "initializing a cluster with meta nodes %s via %s ...\n", strings.Join(nodes, ","), hf.host)
			t0 := time.Now()
			res, err := client.Init(ctx, hf.host, &rpc.InitRequest{MetaNodes: nodes, ProductVersion: server.Version, ProtocolVersion: rpc.ProtocolVersion})
			if err != nil {
				return describeRPCError(err)
			}
			out := cmd.OutOrStdout()
			if res.AlreadyInitialized {
				fmt.Fprintf(out, "cluster %s was already initialized with these meta nodes\n", res.ClusterTag)
			} else {
				fmt.Fprintf(out, "cluster %s initialized in %s\n", res.ClusterTag, time.Since(t0).Round(time.Millisecond))
			}
			for _, n := range res.MetaNodes {
				fmt.Fprintf(out, "  meta node %d  raft %s  rpc %s  postgres %s\n", n.NodeID, n.RaftAddr, n.RPCAddr, n.PGAddr)
			}
			return nil
		},
	}
	hf = addHostFlags(cmd, 2*time.Minute)
	cmd.Flags().StringVar(&metaNodes, "meta-nodes", "", "comma-separated meta nodes: node IDs or RPC addresses")
	return cmd
}

func newClusterStatusCmd() *cobra.Command {
	var (
		format string
		hf     *hostFlags
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster's nodes, their states, addresses, shards and leaders",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, client, done, err := hf.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			st, err := client.Status(ctx, hf.host)
			if err != nil {
				return describeRPCError(err)
			}
			switch format {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(statusJSON(st))
			case "table", "":
				printStatus(cmd.OutOrStdout(), st)
				return nil
			default:
				return fmt.Errorf("unknown --format %q (table or json)", format)
			}
		},
	}
	hf = addHostFlags(cmd, 10*time.Second)
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

// describeRPCError keeps the node's message and SQLSTATE.
func describeRPCError(err error) error {
	if code := pgerror.Code(err); code != pgerror.CodeInternal && code != "" {
		return fmt.Errorf("%w (SQLSTATE %s)", err, code)
	}
	return err
}

type nodeJSON struct {
	NodeID   uint64 `json:"node_id"`
	State    string `json:"state"`
	RPCAddr  string `json:"rpc_addr"`
	RaftAddr string `json:"raft_addr"`
	PGAddr   string `json:"pg_addr"`
	HTTPAddr string `json:"http_addr,omitempty"`
	Gossip   string `json:"gossip_addr,omitempty"`
	Shards   int    `json:"shards"`
	Leaders  int    `json:"leaders"`
	Version  string `json:"product_version,omitempty"`
}

type statusOut struct {
	ClusterTag       string     `json:"cluster_tag"`
	ProductVersion   string     `json:"product_version"`
	ProtocolVersion  uint32     `json:"protocol_version"`
	View             uint64     `json:"view"`
	PartitionVersion uint64     `json:"partition_version"`
	CatalogVersion   uint64     `json:"catalog_version"`
	Responder        uint64     `json:"responder_node_id"`
	Nodes            []nodeJSON `json:"nodes"`
}

func statusJSON(st *rpc.ClusterStatus) statusOut {
	out := statusOut{
		ClusterTag: st.ClusterTag, ProductVersion: st.ProductVersion, ProtocolVersion: st.ProtocolVersion,
		View: st.View, PartitionVersion: st.PartitionVersion, CatalogVersion: st.CatalogVersion, Responder: st.ResponderNodeID,
		Nodes: []nodeJSON{},
	}
	for _, n := range st.Nodes {
		out.Nodes = append(out.Nodes, nodeJSON{
			NodeID: n.Node.NodeID, State: n.State, RPCAddr: n.Node.RPCAddr, RaftAddr: n.Node.RaftAddr,
			PGAddr: n.Node.PGAddr, HTTPAddr: n.Node.HTTPAddr, Gossip: n.Node.GossipAddr,
			Shards: n.Shards, Leaders: n.Leaders, Version: n.ProductVersion,
		})
	}
	return out
}

func printStatus(w io.Writer, st *rpc.ClusterStatus) {
	tag := st.ClusterTag
	if tag == "" {
		tag = "(not initialized)"
	}
	fmt.Fprintf(w, "cluster %s  version %s  protocol %d  view %d  partition table v%d  catalog v%d  (as seen by node %d)\n",
		tag, st.ProductVersion, st.ProtocolVersion, st.View, st.PartitionVersion, st.CatalogVersion, st.ResponderNodeID)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATE\tSHARDS\tLEADERS\tPOSTGRES\tRPC\tRAFT\tVERSION")
	for _, n := range st.Nodes {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", n.Node.NodeID, n.State, n.Shards, n.Leaders,
			n.Node.PGAddr, n.Node.RPCAddr, n.Node.RaftAddr, n.ProductVersion)
	}
	_ = tw.Flush()
}

// newNodeHealthCmd is `longboat node health`: exit 0 iff the node's /health
// answers 200 (a container healthcheck: the image has no curl).
func newNodeHealthCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:    "health",
		Short:  "Exit 0 if the node at --http-addr serves (GET /health is 200)",
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if addr == "" {
				addr = os.Getenv("LONGBOAT_HTTP_ADDR")
			}
			if addr == "" {
				addr = "127.0.0.1:8080"
			}
			addr = strings.Replace(addr, "0.0.0.0:", "127.0.0.1:", 1)
			c := &http.Client{Timeout: 3 * time.Second}
			resp, err := c.Get("http://" + addr + "/health")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			fmt.Fprint(cmd.OutOrStdout(), string(body))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("node not serving: HTTP %d", resp.StatusCode)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "http-addr", "", "the node's HTTP address (default $LONGBOAT_HTTP_ADDR or 127.0.0.1:8080)")
	return cmd
}
