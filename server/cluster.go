package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/longboatdb/longboat/raftsm"
	"github.com/longboatdb/longboat/server/membership"
	"github.com/longboatdb/longboat/server/rpc"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// ClusterConfig turns a node into a cluster member (Config.Cluster). Zero
// values take the documented defaults.
type ClusterConfig struct {
	// Seeds are gossip addresses ("host:port", or a DNS name that resolves
	// to several nodes) of other nodes. None: the node waits to be found.
	Seeds []string
	// RPCAddr is the inter-node gRPC listen address (default
	// 127.0.0.1:7200) and GossipAddr the memberlist one (default
	// 127.0.0.1:7300; its host must be an IP literal).
	RPCAddr    string
	GossipAddr string
	// AdvertiseHost is the host name or IP other nodes reach this node on,
	// for Raft, RPC and PostgreSQL. Default: the host of each listen
	// address, which must then not be a wildcard (0.0.0.0).
	AdvertiseHost string
	// ClusterTag, when set, is the tag of the cluster this node may join:
	// a join into a cluster with another tag is refused.
	ClusterTag string
	// DeadNodeTimeout: how long a node must be unreachable before its
	// replicas are re-created elsewhere (default 5 minutes).
	DeadNodeTimeout time.Duration
	// Resolver resolves seed host names (tests); default the system's.
	Resolver membership.Resolver
	// GossipProbeInterval overrides memberlist's probe period (tests).
	GossipProbeInterval time.Duration
}

func (c *ClusterConfig) setDefaults() {
	if c.RPCAddr == "" {
		c.RPCAddr = "127.0.0.1:7200"
	}
	if c.GossipAddr == "" {
		c.GossipAddr = "127.0.0.1:7300"
	}
}

// HasClusterState reports whether dataDir belongs to a cluster member (it
// holds raftsm's cluster.json): such a node restarts in cluster mode even
// without seeds.
func HasClusterState(dataDir string) bool {
	_, err := os.Stat(filepath.Join(dataDir, "cluster.json"))
	return err == nil
}

// advertise returns the address other nodes reach listen on.
func advertise(listen, host string) (string, error) {
	h, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("invalid address %q: %w", listen, err)
	}
	if host != "" {
		return net.JoinHostPort(host, port), nil
	}
	if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
		return "", fmt.Errorf("address %s listens on all interfaces: set --advertise-host to the name other nodes reach this node by", listen)
	}
	return listen, nil
}

// clusterNode is the cluster-mode part of a Node: membership (the physical
// topology), the inter-node RPC server's admin calls, the join loop, and
// what feeds the failure detector.
type clusterNode struct {
	cfg    ClusterConfig
	log    *slog.Logger
	host   *raftsm.Host
	client *rpc.Client
	ml     *membership.Membership
	self   rpc.NodeInfo // advertised addresses

	// fatal receives the error that must stop the node (a refused join).
	fatal chan error
	once  sync.Once
}

func (c *clusterNode) fail(err error) {
	c.once.Do(func() { c.fatal <- err })
}

// gossipMeta is what this node gossips now.
func (c *clusterNode) gossipMeta() membership.Meta {
	return membership.Meta{
		NodeID: c.self.NodeID, RaftAddr: c.self.RaftAddr, RPCAddr: c.self.RPCAddr,
		PGAddr: c.self.PGAddr, HTTPAddr: c.self.HTTPAddr,
		ClusterTag: c.host.ClusterInfo().Tag, ProductVersion: Version,
		ProtocolVersion: rpc.ProtocolVersion, State: string(c.host.State()),
	}
}

// run runs the node's cluster loops until ctx ends.
func (c *clusterNode) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.metaLoop(ctx) }()
	go func() { defer wg.Done(); c.eventLoop(ctx) }()
	c.joinLoop(ctx)
	wg.Wait()
}

// metaLoop keeps the gossiped meta (cluster tag, state) current, and
// tells the failure detector which members gossip sees alive (clearing a
// stale Raft transport failure, see raftsm.Host.MarkNodeUp).
func (c *clusterNode) metaLoop(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		for _, m := range c.ml.Members() {
			if m.Status == membership.StatusAlive && m.Meta.NodeID != 0 && m.Meta.NodeID != c.self.NodeID {
				c.host.MarkNodeUp(m.Meta.NodeID)
			}
		}
		if m := c.gossipMeta(); m != c.ml.LocalMeta() {
			uctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := c.ml.UpdateMeta(uctx, m); err != nil && ctx.Err() == nil {
				c.log.Warn("cannot gossip node meta", "err", err)
			}
			cancel()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// eventLoop feeds membership's failure detection to raftsm's: a member
// declared dead (or gone) is marked down, one alive again up.
func (c *clusterNode) eventLoop(ctx context.Context) {
	ch, cancel := c.ml.Subscribe()
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			c.onEvent(ev)
		}
	}
}

func (c *clusterNode) onEvent(ev membership.Event) {
	if ev.Type == membership.EventResync {
		for _, m := range c.ml.Members() {
			c.onEvent(membership.Event{Type: membership.EventUpdate, Member: m})
		}
		return
	}
	id := ev.Member.Meta.NodeID
	if id == 0 || id == c.self.NodeID {
		return
	}
	switch ev.Member.Status {
	case membership.StatusAlive:
		c.host.MarkNodeUp(id)
	default:
		c.log.Info("member gone", "node", id, "status", ev.Member.Status.String())
		c.host.MarkNodeDown(id)
	}
}

// joinLoop asks the cluster to admit this node while it is INITIALIZING and
// some member gossips a cluster tag (the cluster has been initialised). A
// tag must have been visible for a moment first, so that a meta node that
// cluster init is about to bootstrap is not joined instead. A refusal stops
// the node (fail).
func (c *clusterNode) joinLoop(ctx context.Context) {
	const (
		settle = 2 * time.Second
		poll   = 500 * time.Millisecond
	)
	var seen time.Time
	backoff := time.Second // after a join that was not accepted
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(poll):
		}
		if c.host.State() != raftsm.NodeInitializing {
			seen = time.Time{}
			continue
		}
		peers := c.taggedPeers()
		if len(peers) == 0 {
			seen = time.Time{}
			continue
		}
		if seen.IsZero() {
			seen = time.Now()
		}
		if time.Since(seen) < settle {
			continue
		}
		err := c.join(ctx, peers)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if isRefusal(err) {
			c.log.Error("join refused", "err", err)
			c.fail(err)
			return
		}
		c.log.Info("join not accepted yet; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// isRefusal reports whether err is a definitive refusal (wrong cluster
// tag, incompatible versions, a conflicting node ID), as opposed to a
// cluster that is not ready.
func isRefusal(err error) bool {
	if errors.Is(err, rpc.ErrIncompatible) {
		return true
	}
	return pgerror.Code(err) == raftsm.CodeClusterRefused
}

// taggedPeers returns the alive members that belong to a cluster, meta
// nodes of it first.
func (c *clusterNode) taggedPeers() []membership.Member {
	var out []membership.Member
	for _, m := range c.ml.Members() {
		if m.Status == membership.StatusAlive && m.Meta.ClusterTag != "" && m.Meta.NodeID != c.self.NodeID && m.Meta.RPCAddr != "" {
			out = append(out, m)
		}
	}
	return out
}

func (c *clusterNode) join(ctx context.Context, peers []membership.Member) error {
	req := &rpc.JoinRequest{Node: c.self, ClusterTag: c.cfg.ClusterTag, ProductVersion: Version, ProtocolVersion: rpc.ProtocolVersion}
	var errs []error
	for _, p := range peers {
		jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		res, err := c.client.Join(jctx, p.Meta.RPCAddr, req)
		cancel()
		if err != nil {
			if isRefusal(err) {
				return err
			}
			errs = append(errs, fmt.Errorf("via node %d (%s): %w", p.Meta.NodeID, p.Meta.RPCAddr, err))
			continue
		}
		c.log.Info("admitted to the cluster", "tag", res.ClusterTag, "view", res.View, "via", p.Meta.RPCAddr)
		resp := raftsm.JoinResponse{Cluster: raftsm.ClusterInfo{Tag: res.ClusterTag}, View: res.View, MetaMembers: map[uint64]string{}}
		for _, m := range res.MetaNodes {
			resp.MetaMembers[m.NodeID] = m.RaftAddr
		}
		jctx, cancel = context.WithTimeout(ctx, 60*time.Second)
		err = c.host.JoinMeta(jctx, resp)
		cancel()
		if err != nil {
			return fmt.Errorf("joining the meta group: %w", err)
		}
		return nil
	}
	return errors.Join(errs...)
}

// Join implements rpc.AdminHandler: on the meta leader it admits the node,
// elsewhere it forwards to the meta leader.
func (c *clusterNode) Join(ctx context.Context, req *rpc.JoinRequest) (*rpc.JoinResult, error) {
	if req.ProtocolVersion != rpc.ProtocolVersion {
		return nil, pgerror.Newf(raftsm.CodeClusterRefused, "join refused: node %d speaks protocol version %d, this cluster %d",
			req.Node.NodeID, req.ProtocolVersion, rpc.ProtocolVersion)
	}
	if cat := c.host.Catalog(); cat.Initialized {
		if n, ok := cat.Node(req.Node.NodeID); ok && n.JoinedView == 1 && n.RaftAddr == strings.ToLower(req.Node.RaftAddr) {
			// A meta node of the init that has not been bootstrapped yet:
			// cluster init is about to reach it.
			return nil, pgerror.Newf(pgerror.CodeUnavailable, "node %d is a meta node of this cluster: cluster init bootstraps it", req.Node.NodeID)
		}
	}
	resp, err := c.host.AdmitNode(ctx, raftsm.JoinRequest{
		NodeID: req.Node.NodeID, RaftAddr: req.Node.RaftAddr, RPCAddr: req.Node.RPCAddr, PGAddr: req.Node.PGAddr,
		ClusterTag: req.ClusterTag, ProductVersion: req.ProductVersion, ProtocolVersion: req.ProtocolVersion,
	})
	var nl *raftsm.NotLeaderError
	if errors.As(err, &nl) {
		leader, ok := c.host.Catalog().Node(nl.LeaderNodeID)
		if !ok || leader.RPCAddr == "" || nl.LeaderNodeID == c.self.NodeID {
			return nil, pgerror.Newf(pgerror.CodeUnavailable, "no meta leader known yet")
		}
		return c.client.Join(ctx, leader.RPCAddr, req)
	}
	if err != nil {
		return nil, err
	}
	out := &rpc.JoinResult{ClusterTag: resp.Cluster.Tag, View: resp.View, PartitionVersion: c.host.Catalog().Partitions.Version}
	for _, id := range slices.Sorted(maps.Keys(resp.MetaMembers)) {
		out.MetaNodes = append(out.MetaNodes, rpc.NodeInfo{NodeID: id, RaftAddr: resp.MetaMembers[id]})
	}
	return out, nil
}

// Init implements rpc.AdminHandler. Sent by the operator (req.Members
// empty), it resolves the meta nodes among the gossip members, generates
// the cluster tag and sends the init to every meta node, this one included
// if it is one; each bootstraps its meta replica and proposes the init (the
// first applied wins, the others find it AlreadyInitialized). Sent by such
// a coordinator (req.Members set), it runs that init locally.
func (c *clusterNode) Init(ctx context.Context, req *rpc.InitRequest) (*rpc.InitResult, error) {
	if req.ProtocolVersion != 0 && req.ProtocolVersion != rpc.ProtocolVersion {
		return nil, pgerror.Newf(raftsm.CodeClusterRefused, "init refused: protocol version %d, this node speaks %d", req.ProtocolVersion, rpc.ProtocolVersion)
	}
	if len(req.Members) > 0 {
		return c.initLocal(ctx, req.Members, req.ClusterTag)
	}
	members, err := c.resolveMetaNodes(ctx, req.MetaNodes)
	if err != nil {
		return nil, err
	}
	tag := c.host.ClusterInfo().Tag
	if tag == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		tag = hex.EncodeToString(b[:])
	}
	c.log.Info("cluster init", "meta_nodes", formatNodes(members))
	type answer struct {
		node rpc.NodeInfo
		res  *rpc.InitResult
		err  error
	}
	answers := make(chan answer, len(members))
	for _, m := range members {
		go func() {
			var a answer
			a.node = m
			if m.NodeID == c.self.NodeID {
				a.res, a.err = c.initLocal(ctx, members, tag)
			} else {
				a.res, a.err = c.client.Init(ctx, m.RPCAddr, &rpc.InitRequest{
					MetaNodes: req.MetaNodes, ProductVersion: Version, ProtocolVersion: rpc.ProtocolVersion,
					Members: members, ClusterTag: tag,
				})
			}
			answers <- a
		}()
	}
	var (
		res  *rpc.InitResult
		errs []error
	)
	for range members {
		a := <-answers
		if a.err != nil {
			errs = append(errs, fmt.Errorf("node %d (%s): %w", a.node.NodeID, a.node.RPCAddr, a.err))
			continue
		}
		if res == nil || !a.res.AlreadyInitialized {
			res = a.res
		}
	}
	if len(errs) > 0 {
		return nil, pgerror.Wrapf(errors.Join(errs...), pgerror.Code(errs[0]), "cluster init failed on %d of %d meta nodes", len(errs), len(members))
	}
	return res, nil
}

// initLocal bootstraps this node's meta replica with members and proposes
// the init.
func (c *clusterNode) initLocal(ctx context.Context, members []rpc.NodeInfo, tag string) (*rpc.InitResult, error) {
	spec := raftsm.InitSpec{Members: map[uint64]string{}, ClusterTag: tag, ProductVersion: Version, ProtocolVersion: rpc.ProtocolVersion}
	for _, m := range members {
		spec.Members[m.NodeID] = m.RaftAddr
	}
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := c.host.InitCluster(ictx, spec)
	if err != nil {
		return nil, err
	}
	return &rpc.InitResult{
		ClusterTag: res.Cluster.Tag, ProductVersion: res.Cluster.ProductVersion, ProtocolVersion: res.Cluster.ProtocolVersion,
		AlreadyInitialized: res.AlreadyInitialized, MetaNodes: members,
	}, nil
}

// resolveMetaNodes finds the named meta nodes (node IDs, RPC addresses or
// gossip names) among the alive gossip members, waiting up to 30 s for
// nodes that are still starting.
func (c *clusterNode) resolveMetaNodes(ctx context.Context, names []string) ([]rpc.NodeInfo, error) {
	if len(names) == 0 {
		return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "cluster init needs --meta-nodes (node IDs or RPC addresses)")
	}
	if len(names)%2 == 0 {
		c.log.Warn("an even number of meta nodes tolerates no more failures than one fewer", "meta_nodes", len(names))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, missing := c.matchMembers(names)
		if len(missing) == 0 {
			return out, nil
		}
		if time.Now().After(deadline) {
			return nil, pgerror.Newf(pgerror.CodeUnavailable, "cluster init: no alive node found for meta node(s) %s (are they started, with --seeds reaching each other? this node sees %s)",
				strings.Join(missing, ", "), c.describeMembers())
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (c *clusterNode) matchMembers(names []string) (out []rpc.NodeInfo, missing []string) {
	members := c.ml.Members()
	seen := map[uint64]bool{}
	for _, name := range names {
		name = strings.TrimSpace(name)
		id, idErr := strconv.ParseUint(name, 10, 64)
		found := false
		for _, m := range members {
			if m.Status != membership.StatusAlive {
				continue
			}
			if (idErr == nil && m.Meta.NodeID == id) || strings.EqualFold(m.Meta.RPCAddr, name) || m.Name == name {
				if !seen[m.Meta.NodeID] {
					seen[m.Meta.NodeID] = true
					out = append(out, rpc.NodeInfo{NodeID: m.Meta.NodeID, RPCAddr: m.Meta.RPCAddr, RaftAddr: m.Meta.RaftAddr,
						PGAddr: m.Meta.PGAddr, HTTPAddr: m.Meta.HTTPAddr, GossipAddr: m.Addr})
				}
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, name)
		}
	}
	slices.SortFunc(out, func(a, b rpc.NodeInfo) int { return int(a.NodeID) - int(b.NodeID) })
	return out, missing
}

func (c *clusterNode) describeMembers() string {
	var parts []string
	for _, m := range c.ml.Members() {
		parts = append(parts, fmt.Sprintf("node %d at %s (%s)", m.Meta.NodeID, m.Meta.RPCAddr, m.Status))
	}
	if len(parts) == 0 {
		return "no members"
	}
	return strings.Join(parts, ", ")
}

func formatNodes(ns []rpc.NodeInfo) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, fmt.Sprintf("%d=%s", n.NodeID, n.RaftAddr))
	}
	return strings.Join(parts, ",")
}

// Status implements rpc.AdminHandler.
func (c *clusterNode) Status(context.Context) (*rpc.ClusterStatus, error) {
	st := c.host.ClusterStatus()
	out := &rpc.ClusterStatus{
		ClusterTag: st.Cluster.Tag, ProductVersion: st.Cluster.ProductVersion, ProtocolVersion: st.Cluster.ProtocolVersion,
		View: st.View, PartitionVersion: st.PartitionVersion, CatalogVersion: st.CatalogVersion, ResponderNodeID: st.Self,
	}
	gossip := map[uint64]membership.Member{}
	for _, m := range c.ml.Members() {
		gossip[m.Meta.NodeID] = m
	}
	for _, n := range st.Nodes {
		state := string(n.State)
		if n.Unreachable && n.State != raftsm.NodeDown {
			state += " (unreachable)"
		}
		g := gossip[n.ID]
		out.Nodes = append(out.Nodes, rpc.NodeStatus{
			Node: rpc.NodeInfo{NodeID: n.ID, RPCAddr: n.RPCAddr, RaftAddr: n.RaftAddr, PGAddr: n.PGAddr,
				HTTPAddr: g.Meta.HTTPAddr, GossipAddr: g.Addr},
			State: state, Shards: n.Replicas, Leaders: n.Leaders, ProductVersion: n.ProductVersion,
		})
	}
	if len(out.Nodes) == 0 {
		// Not initialised yet: report this node alone.
		out.Nodes = append(out.Nodes, rpc.NodeStatus{Node: c.self, State: string(st.State), ProductVersion: Version})
	}
	return out, nil
}
