package raftsm

import (
	"sort"

	"github.com/longboatdb/longboat/shard"
)

// Node is one entry of the node registry (the logical topology): a Longboat
// node, the Raft address of its NodeHost and the addresses it serves on.
// Raft replica IDs equal node IDs in every group.
type Node struct {
	ID       uint64 `json:"id"`
	RaftAddr string `json:"raft_addr"`
	// RPCAddr and PGAddr are the node's inter-node RPC and PostgreSQL
	// addresses, as the node reported them (empty in single-node mode).
	RPCAddr string `json:"rpc_addr,omitempty"`
	PGAddr  string `json:"pg_addr,omitempty"`
	// ProductVersion is the version the node last reported.
	ProductVersion string `json:"product_version,omitempty"`
	// State is the node's lifecycle state ("" in single-node mode).
	State NodeState `json:"state,omitempty"`
	// JoinedView is the view that added the node (1 for the init members).
	JoinedView uint64 `json:"joined_view,omitempty"`
}

// NodeState is a node's lifecycle state in the logical topology
// (DESIGN §7). A node proposes its own JOINING/IDLE/HEALTHY; the meta leader
// marks it DOWN; LEAVING and REMOVED come from leave and remove commands.
type NodeState string

// Node states.
const (
	// NodeInitializing: no meta replica yet; waiting for init or join.
	// Never stored in the registry: a node in it is not registered.
	NodeInitializing NodeState = "INITIALIZING"
	// NodeJoining: admitted, catching up with the catalog.
	NodeJoining NodeState = "JOINING"
	// NodeIdle: caught up; no data replica placed on it yet (or some of
	// them not started yet).
	NodeIdle NodeState = "IDLE"
	// NodeHealthy: every data replica placed on it is running.
	NodeHealthy NodeState = "HEALTHY"
	// NodeDown: unreachable for longer than ClusterConfig.DeadNodeTimeout
	// (set by the meta leader); its replicas are re-created elsewhere.
	NodeDown NodeState = "DOWN"
	// NodeLeaving: asked to leave; its replicas are moved away, then it is
	// removed.
	NodeLeaving NodeState = "LEAVING"
	// NodeRemoved: no longer part of the cluster. Its ID is never reused.
	NodeRemoved NodeState = "REMOVED"
)

// placeable reports whether new replicas may be placed on a node in state s.
// "" is a node registered by the single-node bootstrap.
func (s NodeState) placeable() bool {
	switch s {
	case "", NodeIdle, NodeHealthy:
		return true
	}
	return false
}

// ClusterInfo identifies a cluster: the tag generated at init and the
// versions it was initialised with.
type ClusterInfo struct {
	Tag             string `json:"tag,omitempty"`
	ProductVersion  string `json:"product_version,omitempty"`
	ProtocolVersion uint32 `json:"protocol_version,omitempty"`
}

// MovePhase is the step a replica move is at.
type MovePhase string

// Move phases, in order.
const (
	// MoveLearning: the new replica is (being) added as a non-voting
	// member and is catching up.
	MoveLearning MovePhase = "learning"
	// MovePromoting: the new replica reported it has caught up; the
	// shard's leader promotes it to voter, removes the old replica and
	// proposes finish_move.
	MovePromoting MovePhase = "promoting"
)

// ShardMove is a replica move in progress: a replica of shard ShardID is
// added on node To (non-voting, then promoted) and the one on node From is
// removed (From 0: a pure addition).
type ShardMove struct {
	ShardID uint64    `json:"shard_id"`
	From    uint64    `json:"from,omitempty"`
	To      uint64    `json:"to"`
	Phase   MovePhase `json:"phase,omitempty"`
}

// ShardReplica names the replica of a shard on a node.
type ShardReplica struct {
	ShardID uint64 `json:"shard_id"`
	NodeID  uint64 `json:"node_id"`
}

// IDCounters are the next IDs the meta state machine hands out. They only
// grow: IDs are never reused, even after a drop.
type IDCounters struct {
	Database uint32 `json:"database"`
	Table    uint32 `json:"table"`
	Shard    uint64 `json:"shard"`
}

// FirstShardID is the first data shard ID. Shard IDs below it are reserved
// for system groups (MetaShardID).
const FirstShardID uint64 = 16

// MetaShardID is the Raft shard ID of the meta group.
const MetaShardID uint64 = 1

// Catalog is an immutable snapshot of the meta group's state: databases,
// tables, the partition table, the node registry and the ID counters. Host
// swaps in a new one after every change applied by the meta group; callers
// must treat every slice as read-only.
type Catalog struct {
	// Version is bumped by every applied change.
	Version     uint64               `json:"version"`
	Initialized bool                 `json:"initialized"`
	Databases   []shard.Database     `json:"databases"` // sorted by ID
	TableList   []shard.Table        `json:"tables"`    // sorted by ID
	Partitions  shard.PartitionTable `json:"partitions"`
	Nodes       []Node               `json:"nodes"` // sorted by ID
	NextIDs     IDCounters           `json:"next_ids"`
	// View numbers the logical topology: every applied join, leave and
	// removal bumps it.
	View uint64 `json:"view,omitempty"`
	// Cluster is set by a cluster init (empty for the single-node
	// bootstrap).
	Cluster ClusterInfo `json:"cluster,omitzero"`
	// Moves are the replica moves in progress, sorted by shard ID (at most
	// one per shard).
	Moves []ShardMove `json:"moves,omitempty"`
	// Retired lists the replicas removed from a shard's Raft group, sorted.
	// Dragonboat never lets a removed replica ID back into a group, so
	// placement never picks them again.
	Retired []ShardReplica `json:"retired,omitempty"`

	dbByName map[string]int
	dbByID   map[uint32]int
	tables   map[tableKey]int
}

type tableKey struct {
	db   uint32
	name string
}

// newEmptyState returns the state of a meta group that has applied nothing.
func newEmptyState() *Catalog {
	return &Catalog{NextIDs: IDCounters{Database: 1, Table: 1, Shard: FirstShardID}}
}

// Database returns the database named name.
func (c *Catalog) Database(name string) (*shard.Database, bool) {
	i, ok := c.dbByName[name]
	if !ok {
		return nil, false
	}
	return &c.Databases[i], true
}

// DatabaseByID returns the database with ID id.
func (c *Catalog) DatabaseByID(id uint32) (*shard.Database, bool) {
	i, ok := c.dbByID[id]
	if !ok {
		return nil, false
	}
	return &c.Databases[i], true
}

// Table returns table name of database dbID.
func (c *Catalog) Table(dbID uint32, name string) (*shard.Table, bool) {
	i, ok := c.tables[tableKey{dbID, name}]
	if !ok {
		return nil, false
	}
	return &c.TableList[i], true
}

// Tables returns the tables of database dbID, sorted by ID.
func (c *Catalog) Tables(dbID uint32) []shard.Table {
	var out []shard.Table
	for _, t := range c.TableList {
		if t.Database == dbID {
			out = append(out, t)
		}
	}
	return out
}

// Node returns the registry entry of node id.
func (c *Catalog) Node(id uint64) (Node, bool) {
	i := sort.Search(len(c.Nodes), func(i int) bool { return c.Nodes[i].ID >= id })
	if i < len(c.Nodes) && c.Nodes[i].ID == id {
		return c.Nodes[i], true
	}
	return Node{}, false
}

// ShardsOnNode returns the live shards of the partition table that place a
// replica on node id.
func (c *Catalog) ShardsOnNode(id uint64) []shard.ShardInfo {
	var out []shard.ShardInfo
	for _, s := range c.Partitions.Shards {
		if s.State == shard.ShardExpired {
			continue
		}
		for _, r := range s.Replicas {
			if r == id {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// Move returns the move in progress of shard id.
func (c *Catalog) Move(id uint64) (ShardMove, bool) {
	i := sort.Search(len(c.Moves), func(i int) bool { return c.Moves[i].ShardID >= id })
	if i < len(c.Moves) && c.Moves[i].ShardID == id {
		return c.Moves[i], true
	}
	return ShardMove{}, false
}

// retired reports whether the replica of shard on node was removed from the
// shard's Raft group.
func (c *Catalog) retired(shardID, nodeID uint64) bool {
	i := sort.Search(len(c.Retired), func(i int) bool {
		r := c.Retired[i]
		return r.ShardID > shardID || (r.ShardID == shardID && r.NodeID >= nodeID)
	})
	return i < len(c.Retired) && c.Retired[i] == ShardReplica{ShardID: shardID, NodeID: nodeID}
}

// Shard returns the partition-table row of shard id.
func (c *Catalog) Shard(id uint64) (shard.ShardInfo, bool) {
	for _, s := range c.Partitions.Shards {
		if s.ID == id {
			return s, true
		}
	}
	return shard.ShardInfo{}, false
}

// clone returns a deep copy of c with its indexes built: the published,
// immutable form of the meta state.
func (c *Catalog) clone() *Catalog {
	out := &Catalog{
		Version:     c.Version,
		Initialized: c.Initialized,
		Databases:   append([]shard.Database(nil), c.Databases...),
		TableList:   make([]shard.Table, len(c.TableList)),
		Partitions:  shard.PartitionTable{Version: c.Partitions.Version, Shards: make([]shard.ShardInfo, len(c.Partitions.Shards))},
		Nodes:       append([]Node(nil), c.Nodes...),
		NextIDs:     c.NextIDs,
		View:        c.View,
		Cluster:     c.Cluster,
		Moves:       append([]ShardMove(nil), c.Moves...),
		Retired:     append([]ShardReplica(nil), c.Retired...),
	}
	for i, t := range c.TableList {
		t.Columns = append([]shard.Column(nil), t.Columns...)
		t.Tags = append([]int(nil), t.Tags...)
		out.TableList[i] = t
	}
	for i, s := range c.Partitions.Shards {
		s.Replicas = append([]uint64(nil), s.Replicas...)
		out.Partitions.Shards[i] = s
	}
	out.buildIndexes()
	return out
}

func (c *Catalog) buildIndexes() {
	c.dbByName = make(map[string]int, len(c.Databases))
	c.dbByID = make(map[uint32]int, len(c.Databases))
	for i, d := range c.Databases {
		c.dbByName[d.Name] = i
		c.dbByID[d.ID] = i
	}
	c.tables = make(map[tableKey]int, len(c.TableList))
	for i, t := range c.TableList {
		c.tables[tableKey{t.Database, t.Name}] = i
	}
}
