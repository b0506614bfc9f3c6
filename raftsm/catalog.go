package raftsm

import (
	"sort"

	"github.com/longboatdb/longboat/shard"
)

// Node is one entry of the node registry: a Longboat node and the Raft
// address of its NodeHost. Raft replica IDs equal node IDs in every group.
type Node struct {
	ID       uint64 `json:"id"`
	RaftAddr string `json:"raft_addr"`
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
