package raftsm

import (
	"fmt"
	"sort"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// Meta commands of the logical topology (DESIGN §7). Like every meta
// command they are applied deterministically; refusals are business errors
// in the Result.
//
//	{"op":"join","node":{"id":4,"raft_addr":…,"rpc_addr":…,"pg_addr":…},
//	 "cluster":{"tag":…,"product_version":"0.3.1","protocol_version":1}}
//	{"op":"leave","node_id":4}
//	{"op":"remove_node","node_id":4,"lenient":true}
//	{"op":"set_state","node_id":4,"state":"HEALTHY","node":{…addresses…}}
//	{"op":"begin_move","move":{"shard_id":16,"from":3,"to":4}}
//	{"op":"move_caught_up","move":{"shard_id":16,"to":4}}
//	{"op":"finish_move","move":{"shard_id":16,"from":3,"to":4}}
//	{"op":"abort_move","move":{"shard_id":16,"to":4}}
//
// Join, leave and removal each bump Catalog.View: the numbered views of
// the logical topology. The Raft log is the queue that orders them.

// SQLSTATEs of cluster refusals.
const (
	// CodeClusterRefused: a join or init refused (wrong cluster tag,
	// incompatible versions, a node ID or address conflict, a different
	// init). Class 08: the node cannot establish itself in the cluster.
	CodeClusterRefused = "08004"
	// CodeObjectInUse: removing a node that still holds replicas.
	CodeObjectInUse = "55006"
)

func initMembers(st *Catalog) []Node {
	var out []Node
	for _, n := range st.Nodes {
		if n.JoinedView == 1 {
			out = append(out, n)
		}
	}
	return out
}

func sameInitMembers(st *Catalog, nodes []Node) bool {
	have := initMembers(st)
	if len(have) != len(nodes) {
		return false
	}
	for i := range have {
		if have[i].ID != nodes[i].ID || have[i].RaftAddr != nodes[i].RaftAddr {
			return false
		}
	}
	return true
}

func formatMembers(nodes []Node) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = fmt.Sprintf("%d=%s", n.ID, n.RaftAddr)
	}
	return strings.Join(parts, ",")
}

// majorMinor returns the "major.minor" of a product version such as
// "v0.3.1-dev" ("0.3"), or the whole string if it has no dot.
func majorMinor(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	minor := parts[1]
	for i, r := range minor {
		if r < '0' || r > '9' {
			minor = minor[:i]
			break
		}
	}
	return parts[0] + "." + minor
}

// compatibleVersions reports whether a node of product version node may
// join a cluster of version cluster: same major.minor.
func compatibleVersions(node, cluster string) bool {
	return majorMinor(node) == majorMinor(cluster)
}

func refusef(format string, args ...any) *metaError {
	return metaErrorf(CodeClusterRefused, "join refused: "+format, args...)
}

func nodeIndex(st *Catalog, id uint64) int {
	i := sort.Search(len(st.Nodes), func(i int) bool { return st.Nodes[i].ID >= id })
	if i < len(st.Nodes) && st.Nodes[i].ID == id {
		return i
	}
	return -1
}

// applyJoin admits a node into the logical topology (state JOINING, in a new
// view) after checking its cluster tag (an empty tag is a fresh node and
// matches any cluster), protocol version (equal) and product version (same
// major.minor). A join of a registered node at the same Raft address is
// idempotent (its addresses are refreshed); another address for the ID, or
// the address of another ID, is refused, as is a removed ID.
func applyJoin(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	if c.Node == nil || c.Cluster == nil {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "join without node or cluster identity"), false
	}
	n := *c.Node
	if n.ID == 0 || n.RaftAddr == "" {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "invalid node %d at %q", n.ID, n.RaftAddr), false
	}
	if !st.Initialized || st.Cluster.Tag == "" {
		return metaResult{}, metaErrorf(pgerror.CodeUnavailable, "join refused: the cluster is not initialized (run cluster init first)"), false
	}
	want := st.Cluster
	if c.Cluster.Tag != "" && c.Cluster.Tag != want.Tag {
		return metaResult{}, refusef("cluster tag mismatch: node %d belongs to cluster %s, this is cluster %s", n.ID, c.Cluster.Tag, want.Tag), false
	}
	if c.Cluster.ProtocolVersion != want.ProtocolVersion {
		return metaResult{}, refusef("protocol version mismatch: node %d speaks protocol %d, the cluster speaks %d", n.ID, c.Cluster.ProtocolVersion, want.ProtocolVersion), false
	}
	if !compatibleVersions(c.Cluster.ProductVersion, want.ProductVersion) {
		return metaResult{}, refusef("product version %q of node %d is incompatible with the cluster's %q (major.minor must match)", c.Cluster.ProductVersion, n.ID, want.ProductVersion), false
	}
	for _, o := range st.Nodes {
		if o.ID != n.ID && o.RaftAddr == n.RaftAddr && o.State != NodeRemoved {
			return metaResult{}, refusef("raft address %q belongs to node %d", n.RaftAddr, o.ID), false
		}
	}
	info := st.Cluster
	if i := nodeIndex(st, n.ID); i >= 0 {
		old := st.Nodes[i]
		switch {
		case old.State == NodeRemoved:
			return metaResult{}, refusef("node %d was removed from the cluster; start it with an empty data directory and a new node ID", n.ID), false
		case old.RaftAddr != n.RaftAddr:
			return metaResult{}, refusef("node %d is registered at %q, not %q", n.ID, old.RaftAddr, n.RaftAddr), false
		}
		res := metaResult{View: old.JoinedView, Cluster: &info}
		if old.RPCAddr == n.RPCAddr && old.PGAddr == n.PGAddr && old.ProductVersion == c.Cluster.ProductVersion {
			return res, nil, false
		}
		st.Nodes[i].RPCAddr, st.Nodes[i].PGAddr, st.Nodes[i].ProductVersion = n.RPCAddr, n.PGAddr, c.Cluster.ProductVersion
		bump(st)
		return res, nil, true
	}
	st.View++
	n.State = NodeJoining
	n.JoinedView = st.View
	n.ProductVersion = c.Cluster.ProductVersion
	i := sort.Search(len(st.Nodes), func(i int) bool { return st.Nodes[i].ID >= n.ID })
	st.Nodes = append(st.Nodes, Node{})
	copy(st.Nodes[i+1:], st.Nodes[i:])
	st.Nodes[i] = n
	bump(st)
	return metaResult{View: st.View, Cluster: &info}, nil, true
}

// applyLeave marks a node LEAVING (a new view): its replicas are moved away
// and then it is removed.
func applyLeave(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	i := nodeIndex(st, c.NodeID)
	if i < 0 {
		return metaResult{}, metaErrorf(pgerror.CodeUndefinedObject, "node %d is not registered", c.NodeID), false
	}
	switch st.Nodes[i].State {
	case NodeLeaving:
		return metaResult{View: st.View}, nil, false
	case NodeRemoved:
		return metaResult{}, metaErrorf(pgerror.CodeUndefinedObject, "node %d was removed", c.NodeID), false
	}
	st.Nodes[i].State = NodeLeaving
	st.View++
	bump(st)
	return metaResult{View: st.View}, nil, true
}

// replicasOn counts the replicas of the partition table and of moves in
// progress on node id.
func replicasOn(st *Catalog, id uint64) int {
	n := 0
	for _, s := range st.Partitions.Shards {
		if hasReplica(s, id) {
			n++
		}
	}
	for _, m := range st.Moves {
		if m.To == id {
			n++
		}
	}
	return n
}

// applyRemoveNode marks a node REMOVED (a new view). It is refused (55006)
// while the node still holds replicas, unless Lenient (force): moves to it
// are then aborted, and its replicas stay in the partition table until they
// are re-created elsewhere like those of a dead node.
func applyRemoveNode(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	i := nodeIndex(st, c.NodeID)
	if i < 0 {
		return metaResult{}, metaErrorf(pgerror.CodeUndefinedObject, "node %d is not registered", c.NodeID), false
	}
	if st.Nodes[i].State == NodeRemoved {
		return metaResult{View: st.View}, nil, false
	}
	if n := replicasOn(st, c.NodeID); n > 0 {
		if !c.Lenient {
			return metaResult{}, metaErrorf(CodeObjectInUse, "node %d still holds %d replicas; let them move first (leave) or force the removal", c.NodeID, n), false
		}
		moves := st.Moves[:0]
		for _, m := range st.Moves {
			if m.To == c.NodeID {
				retire(st, m.ShardID, m.To)
				continue
			}
			moves = append(moves, m)
		}
		st.Moves = moves
	}
	st.Nodes[i].State = NodeRemoved
	st.View++
	bump(st)
	return metaResult{View: st.View}, nil, true
}

// applySetState records a node's state. Nodes report JOINING, IDLE and
// HEALTHY themselves (with their addresses and version in c.Node); the meta
// leader reports DOWN. A LEAVING node stays LEAVING whatever it reports; a
// REMOVED node cannot come back.
func applySetState(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	i := nodeIndex(st, c.NodeID)
	if i < 0 {
		return metaResult{}, metaErrorf(pgerror.CodeUndefinedObject, "node %d is not registered", c.NodeID), false
	}
	switch c.State {
	case NodeJoining, NodeIdle, NodeHealthy, NodeDown:
	default:
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "invalid node state %q", c.State), false
	}
	nd := &st.Nodes[i]
	if nd.State == NodeRemoved {
		return metaResult{}, metaErrorf(CodeClusterRefused, "node %d was removed from the cluster", c.NodeID), false
	}
	changed := false
	if nd.State != NodeLeaving && nd.State != c.State {
		nd.State = c.State
		changed = true
	}
	if c.Node != nil && c.Node.ID == c.NodeID {
		if nd.RPCAddr != c.Node.RPCAddr || nd.PGAddr != c.Node.PGAddr || nd.ProductVersion != c.Node.ProductVersion {
			nd.RPCAddr, nd.PGAddr, nd.ProductVersion = c.Node.RPCAddr, c.Node.PGAddr, c.Node.ProductVersion
			changed = true
		}
	}
	if changed {
		bump(st)
	}
	return metaResult{}, nil, changed
}

func moveIndex(st *Catalog, shardID uint64) int {
	i := sort.Search(len(st.Moves), func(i int) bool { return st.Moves[i].ShardID >= shardID })
	if i < len(st.Moves) && st.Moves[i].ShardID == shardID {
		return i
	}
	return -1
}

func shardIndex(st *Catalog, id uint64) int {
	for i := range st.Partitions.Shards {
		if st.Partitions.Shards[i].ID == id {
			return i
		}
	}
	return -1
}

func retire(st *Catalog, shardID, nodeID uint64) {
	r := ShardReplica{ShardID: shardID, NodeID: nodeID}
	i := sort.Search(len(st.Retired), func(i int) bool {
		o := st.Retired[i]
		return o.ShardID > shardID || (o.ShardID == shardID && o.NodeID >= nodeID)
	})
	if i < len(st.Retired) && st.Retired[i] == r {
		return
	}
	st.Retired = append(st.Retired, ShardReplica{})
	copy(st.Retired[i+1:], st.Retired[i:])
	st.Retired[i] = r
}

// applyBeginMove starts moving the replica of shard Move.ShardID from node
// Move.From (0: add one) to node Move.To, which must be placeable, hold no
// replica of the shard and never have been removed from its group. At most
// one move per shard.
func applyBeginMove(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	m := c.Move
	if m == nil {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "begin_move without move"), false
	}
	si := shardIndex(st, m.ShardID)
	if si < 0 {
		return metaResult{}, metaErrorf(pgerror.CodeUndefinedObject, "shard %d does not exist", m.ShardID), false
	}
	s := st.Partitions.Shards[si]
	if moveIndex(st, m.ShardID) >= 0 {
		return metaResult{}, metaErrorf(CodeObjectInUse, "shard %d already has a move in progress", m.ShardID), false
	}
	if m.From != 0 && !hasReplica(s, m.From) {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "shard %d has no replica on node %d", m.ShardID, m.From), false
	}
	ti := nodeIndex(st, m.To)
	switch {
	case ti < 0:
		return metaResult{}, metaErrorf(pgerror.CodeUndefinedObject, "node %d is not registered", m.To), false
	case !st.Nodes[ti].State.placeable():
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "node %d is %s and cannot take replicas", m.To, st.Nodes[ti].State), false
	case hasReplica(s, m.To):
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "shard %d already has a replica on node %d", m.ShardID, m.To), false
	case st.retired(m.ShardID, m.To):
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "node %d was removed from shard %d and cannot rejoin it", m.To, m.ShardID), false
	}
	mv := ShardMove{ShardID: m.ShardID, From: m.From, To: m.To, Phase: MoveLearning}
	i := sort.Search(len(st.Moves), func(i int) bool { return st.Moves[i].ShardID >= m.ShardID })
	st.Moves = append(st.Moves, ShardMove{})
	copy(st.Moves[i+1:], st.Moves[i:])
	st.Moves[i] = mv
	bump(st)
	return metaResult{ID: m.ShardID}, nil, true
}

// findMove returns the index of the move of c.Move.ShardID to c.Move.To.
func findMove(st *Catalog, c *metaCommand) (int, *metaError) {
	if c.Move == nil {
		return -1, metaErrorf(pgerror.CodeInvalidParameterValue, "%s without move", c.Op)
	}
	i := moveIndex(st, c.Move.ShardID)
	if i < 0 || st.Moves[i].To != c.Move.To {
		return -1, metaErrorf(pgerror.CodeUndefinedObject, "shard %d has no move to node %d", c.Move.ShardID, c.Move.To)
	}
	return i, nil
}

// applyMoveCaughtUp records that the new replica of a move has caught up
// (reported by its node after a ReadIndex): the shard's leader may promote
// it.
func applyMoveCaughtUp(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	i, merr := findMove(st, c)
	if merr != nil {
		return metaResult{}, merr, false
	}
	if st.Moves[i].Phase == MovePromoting {
		return metaResult{}, nil, false
	}
	st.Moves[i].Phase = MovePromoting
	bump(st)
	return metaResult{}, nil, true
}

// applyFinishMove ends a move whose new replica was promoted and old one
// removed from the Raft group: the partition table gets the new replica set
// (a new partition-table version) and the old replica is retired.
func applyFinishMove(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	i, merr := findMove(st, c)
	if merr != nil {
		return metaResult{}, merr, false
	}
	m := st.Moves[i]
	if m.Phase != MovePromoting {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "move of shard %d to node %d has not caught up", m.ShardID, m.To), false
	}
	st.Moves = append(st.Moves[:i], st.Moves[i+1:]...)
	if si := shardIndex(st, m.ShardID); si >= 0 {
		s := &st.Partitions.Shards[si]
		reps := make([]uint64, 0, len(s.Replicas)+1)
		for _, r := range s.Replicas {
			if r != m.From {
				reps = append(reps, r)
			}
		}
		reps = append(reps, m.To)
		sort.Slice(reps, func(a, b int) bool { return reps[a] < reps[b] })
		s.Replicas = reps
		if m.From != 0 {
			retire(st, m.ShardID, m.From)
		}
		bumpPartitions(st)
	}
	bump(st)
	return metaResult{ID: m.ShardID}, nil, true
}

// applyAbortMove drops a move (its target went down or away). The target
// is retired from the shard: it may already be a non-voting member, and the
// shard's leader removes it from the group.
func applyAbortMove(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	i, merr := findMove(st, c)
	if merr != nil {
		return metaResult{}, merr, false
	}
	m := st.Moves[i]
	st.Moves = append(st.Moves[:i], st.Moves[i+1:]...)
	retire(st, m.ShardID, m.To)
	bump(st)
	return metaResult{ID: m.ShardID}, nil, true
}
