package raftsm

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// Meta commands are JSON objects (the meta group is small and rarely
// written; JSON keeps its Raft log and snapshots readable with jq). The
// field set is part of the on-disk format: fields are only ever added.
//
//	{"op":"create_database","database":{...},"lenient":true}
//
// The meta state machine answers with Result.Value 0 and a JSON metaResult,
// or Result.Value 1 and a JSON metaError (SQLSTATE + message).
type metaCommand struct {
	Op         string          `json:"op"`
	Nodes      []Node          `json:"nodes,omitempty"`       // init, add_node
	Database   *shard.Database `json:"database,omitempty"`    // create_database
	Table      *shard.Table    `json:"table,omitempty"`       // create_table
	Columns    []shard.Column  `json:"columns,omitempty"`     // add_columns
	Name       string          `json:"name,omitempty"`        // drop_*, add_columns
	DatabaseID uint32          `json:"database_id,omitempty"` // *_table, ensure_shards
	Partitions []int64         `json:"partitions,omitempty"`  // ensure_shards
	Now        int64           `json:"now,omitempty"`         // expire_shards: µs since epoch, from the proposer's clock
	// Lenient is IF EXISTS / IF NOT EXISTS (remove_node: force).
	Lenient bool `json:"lenient,omitempty"`
	// Cluster is the cluster identity of a cluster init, or the joining
	// node's tag and versions of a join.
	Cluster *ClusterInfo `json:"cluster,omitempty"`
	Node    *Node        `json:"node,omitempty"`    // join, set_state (addresses, versions)
	NodeID  uint64       `json:"node_id,omitempty"` // leave, remove_node, set_state
	State   NodeState    `json:"state,omitempty"`   // set_state
	Move    *ShardMove   `json:"move,omitempty"`    // *_move
}

// Meta command ops.
const (
	opInit           = "init"
	opAddNode        = "add_node"
	opCreateDatabase = "create_database"
	opDropDatabase   = "drop_database"
	opCreateTable    = "create_table"
	opDropTable      = "drop_table"
	opAddColumns     = "add_columns"
	opEnsureShards   = "ensure_shards"
	opExpireShards   = "expire_shards"
	// Logical topology (cluster_cmd.go).
	opJoin         = "join"
	opLeave        = "leave"
	opRemoveNode   = "remove_node"
	opSetState     = "set_state"
	opBeginMove    = "begin_move"
	opMoveCaughtUp = "move_caught_up"
	opFinishMove   = "finish_move"
	opAbortMove    = "abort_move"
)

// metaResult is the success answer of a meta command.
type metaResult struct {
	ID      uint64            `json:"id,omitempty"`      // created/dropped object
	Shards  []shard.ShardInfo `json:"shards,omitempty"`  // ensure_shards: shards of the asked partitions
	Dropped []uint64          `json:"dropped,omitempty"` // shards removed from the partition table
	Tables  []uint32          `json:"tables,omitempty"`  // tables removed
	Table   *shard.Table      `json:"table,omitempty"`   // add_columns
	// View is the view after a join, leave or removal (join: the view
	// that holds the node).
	View uint64 `json:"view,omitempty"`
	// Cluster is the cluster identity (init, join).
	Cluster *ClusterInfo `json:"cluster,omitempty"`
	// AlreadyInitialized: a cluster init found the same init applied.
	AlreadyInitialized bool `json:"already_initialized,omitempty"`
}

// metaError is a business error of a meta command.
type metaError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *metaError) Error() string { return e.Message }

func (e *metaError) pg() error { return pgerror.New(e.Code, e.Message) }

func metaErrorf(code, format string, args ...any) *metaError {
	return &metaError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// DefaultDatabase is the database the single-node bootstrap creates.
const DefaultDatabase = "longboat"

// DefaultReplicas is the replica count of a database created without one
// (capped at the number of nodes that can take replicas).
const DefaultReplicas = 3

// Database defaults filled by the meta state machine.
const (
	DefaultPartitionInterval = 24 * time.Hour
	minPartitionInterval     = time.Second
)

// decodeMetaCommand decodes a meta command. It must not panic on bad input.
func decodeMetaCommand(src []byte) (*metaCommand, error) {
	var c metaCommand
	if err := json.Unmarshal(src, &c); err != nil {
		return nil, fmt.Errorf("longboat/raftsm: malformed meta command: %w", err)
	}
	return &c, nil
}

// applyMeta applies one command to the meta state st in place. It is
// deterministic: it reads only st and c (no clock, no randomness, no map
// iteration). changed reports whether st was modified (and its version
// bumped).
func applyMeta(st *Catalog, c *metaCommand) (res metaResult, merr *metaError, changed bool) {
	switch c.Op {
	case opInit:
		return applyInit(st, c)
	case opAddNode:
		return applyAddNode(st, c)
	case opCreateDatabase:
		return applyCreateDatabase(st, c)
	case opDropDatabase:
		return applyDropDatabase(st, c)
	case opCreateTable:
		return applyCreateTable(st, c)
	case opDropTable:
		return applyDropTable(st, c)
	case opAddColumns:
		return applyAddColumns(st, c)
	case opEnsureShards:
		return applyEnsureShards(st, c)
	case opExpireShards:
		return applyExpireShards(st, c)
	case opJoin:
		return applyJoin(st, c)
	case opLeave:
		return applyLeave(st, c)
	case opRemoveNode:
		return applyRemoveNode(st, c)
	case opSetState:
		return applySetState(st, c)
	case opBeginMove:
		return applyBeginMove(st, c)
	case opMoveCaughtUp:
		return applyMoveCaughtUp(st, c)
	case opFinishMove:
		return applyFinishMove(st, c)
	case opAbortMove:
		return applyAbortMove(st, c)
	default:
		return res, metaErrorf(pgerror.CodeInternal, "unknown meta command %q", c.Op), false
	}
}

func bump(st *Catalog) { st.Version++ }

func bumpPartitions(st *Catalog) {
	st.Partitions.Version++
	st.Partitions.Sort()
}

func sortedNodes(in []Node) ([]Node, *metaError) {
	out := append([]Node(nil), in...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	for i, n := range out {
		if n.ID == 0 || n.RaftAddr == "" {
			return nil, metaErrorf(pgerror.CodeInvalidParameterValue, "invalid node %d at %q", n.ID, n.RaftAddr)
		}
		if i > 0 && out[i-1].ID == n.ID {
			return nil, metaErrorf(pgerror.CodeInvalidParameterValue, "node %d listed twice", n.ID)
		}
	}
	return out, nil
}

// applyInit initialises the meta state. Without c.Cluster it is the
// single-node (or static MetaMembers) bootstrap, proposed on every start:
// applied again it succeeds while every listed node is registered at the
// same address. With c.Cluster it is a cluster init (Host.InitCluster): the
// members are registered IDLE in view 1, the tag and versions recorded; the
// same member set again answers the existing identity, another one is
// refused. Both create database "longboat" with replicas = min(3, nodes).
func applyInit(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	nodes, merr := sortedNodes(c.Nodes)
	if merr != nil {
		return metaResult{}, merr, false
	}
	if len(nodes) == 0 {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "cluster init without nodes"), false
	}
	if st.Initialized {
		// Idempotent: the same init again succeeds, a different one is refused.
		if c.Cluster != nil {
			if !sameInitMembers(st, nodes) {
				return metaResult{}, metaErrorf(CodeClusterRefused, "cluster already initialized with other meta nodes (%s); refusing init with %s",
					formatMembers(initMembers(st)), formatMembers(nodes)), false
			}
			info := st.Cluster
			return metaResult{Cluster: &info, View: st.View, AlreadyInitialized: true}, nil, false
		}
		for _, n := range nodes {
			if got, ok := st.Node(n.ID); !ok || got.RaftAddr != n.RaftAddr {
				return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "cluster already initialized with other members (node %d at %q)", n.ID, n.RaftAddr), false
			}
		}
		return metaResult{}, nil, false
	}
	st.Initialized = true
	st.View = 1
	for i := range nodes {
		nodes[i].JoinedView = 1
		if c.Cluster != nil {
			nodes[i].State = NodeIdle
		}
	}
	st.Nodes = nodes
	var info *ClusterInfo
	if c.Cluster != nil {
		st.Cluster = *c.Cluster
		info = &st.Cluster
	}
	bump(st)
	res, merr, _ := applyCreateDatabase(st, &metaCommand{Op: opCreateDatabase, Lenient: true, Database: &shard.Database{
		Name: DefaultDatabase, PartitionInterval: DefaultPartitionInterval, SlotGroups: 1,
	}})
	if info != nil {
		cp := *info
		res.Cluster = &cp
	}
	res.View = st.View
	return res, merr, true
}

func applyAddNode(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	add, merr := sortedNodes(c.Nodes)
	if merr != nil {
		return metaResult{}, merr, false
	}
	changed := false
	for _, n := range add {
		i := sort.Search(len(st.Nodes), func(i int) bool { return st.Nodes[i].ID >= n.ID })
		if i < len(st.Nodes) && st.Nodes[i].ID == n.ID {
			if st.Nodes[i].RaftAddr != n.RaftAddr {
				return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "node %d is registered at %q, not %q", n.ID, st.Nodes[i].RaftAddr, n.RaftAddr), false
			}
			continue
		}
		st.Nodes = append(st.Nodes, Node{})
		copy(st.Nodes[i+1:], st.Nodes[i:])
		st.Nodes[i] = n
		changed = true
	}
	if changed {
		bump(st)
	}
	return metaResult{}, nil, changed
}

func findDatabase(st *Catalog, name string) int {
	for i := range st.Databases {
		if st.Databases[i].Name == name {
			return i
		}
	}
	return -1
}

func findDatabaseID(st *Catalog, id uint32) int {
	for i := range st.Databases {
		if st.Databases[i].ID == id {
			return i
		}
	}
	return -1
}

func findTable(st *Catalog, db uint32, name string) int {
	for i := range st.TableList {
		if st.TableList[i].Database == db && st.TableList[i].Name == name {
			return i
		}
	}
	return -1
}

func applyCreateDatabase(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	if c.Database == nil || c.Database.Name == "" {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidDatabaseDef, "database name missing"), false
	}
	d := *c.Database
	if i := findDatabase(st, d.Name); i >= 0 {
		if c.Lenient {
			return metaResult{ID: uint64(st.Databases[i].ID)}, nil, false
		}
		return metaResult{}, metaErrorf(pgerror.CodeDuplicateDatabase, "database %q already exists", d.Name), false
	}
	n := placeableNodes(st)
	if d.Replicas <= 0 {
		d.Replicas = DefaultReplicas
	}
	if n > 0 && d.Replicas > n {
		d.Replicas = n
	}
	if d.Replicas <= 0 {
		d.Replicas = 1
	}
	if d.PartitionInterval == 0 {
		d.PartitionInterval = DefaultPartitionInterval
	}
	if d.PartitionInterval < minPartitionInterval {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "partition_interval %s is below the minimum of %s", d.PartitionInterval, minPartitionInterval), false
	}
	d.PartitionInterval = d.PartitionInterval.Truncate(time.Microsecond)
	if d.TTL < 0 {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "ttl must not be negative"), false
	}
	if d.SlotGroups <= 0 {
		d.SlotGroups = 1
	}
	if d.SlotGroups > shard.NumSlots {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "slot_groups %d exceeds %d", d.SlotGroups, shard.NumSlots), false
	}
	if st.NextIDs.Database == math.MaxUint32 {
		return metaResult{}, metaErrorf(pgerror.CodeProgramLimitExceeded, "database IDs exhausted"), false
	}
	d.ID = st.NextIDs.Database
	st.NextIDs.Database++
	st.Databases = append(st.Databases, d)
	bump(st)
	return metaResult{ID: uint64(d.ID)}, nil, true
}

func applyDropDatabase(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	i := findDatabase(st, c.Name)
	if i < 0 {
		if c.Lenient {
			return metaResult{}, nil, false
		}
		return metaResult{}, metaErrorf(pgerror.CodeInvalidCatalogName, "database %q does not exist", c.Name), false
	}
	id := st.Databases[i].ID
	st.Databases = append(st.Databases[:i], st.Databases[i+1:]...)
	res := metaResult{ID: uint64(id)}
	tables := st.TableList[:0]
	for _, t := range st.TableList {
		if t.Database == id {
			res.Tables = append(res.Tables, t.ID)
			continue
		}
		tables = append(tables, t)
	}
	st.TableList = tables
	shards := st.Partitions.Shards[:0]
	for _, s := range st.Partitions.Shards {
		if s.Database == id {
			res.Dropped = append(res.Dropped, s.ID)
			continue
		}
		shards = append(shards, s)
	}
	st.Partitions.Shards = shards
	if len(res.Dropped) > 0 {
		forgetShards(st, res.Dropped)
		bumpPartitions(st)
	}
	bump(st)
	return res, nil, true
}

func validateTable(t *shard.Table) *metaError {
	if t.Name == "" {
		return metaErrorf(pgerror.CodeInvalidTableDefinition, "table name missing")
	}
	if len(t.Columns) == 0 {
		return metaErrorf(pgerror.CodeInvalidTableDefinition, "table %q has no columns", t.Name)
	}
	if len(t.Columns) > math.MaxUint16-1 {
		return metaErrorf(pgerror.CodeTooManyColumns, "table %q has too many columns", t.Name)
	}
	if t.TimeCol < 0 || t.TimeCol >= len(t.Columns) {
		return metaErrorf(pgerror.CodeInvalidTableDefinition, "table %q: time column index %d out of range", t.Name, t.TimeCol)
	}
	if ty := t.Columns[t.TimeCol].Type; ty != shard.TypeTimestamptz && ty != shard.TypeTimestamp {
		return metaErrorf(pgerror.CodeInvalidTableDefinition, "table %q: time column %q is not a timestamp", t.Name, t.Columns[t.TimeCol].Name)
	}
	seenTag := make([]bool, len(t.Columns))
	for _, g := range t.Tags {
		if g < 0 || g >= len(t.Columns) || g == t.TimeCol || seenTag[g] {
			return metaErrorf(pgerror.CodeInvalidTableDefinition, "table %q: invalid tag column index %d", t.Name, g)
		}
		seenTag[g] = true
	}
	for i := range t.Columns {
		if t.Columns[i].Name == "" {
			return metaErrorf(pgerror.CodeInvalidTableDefinition, "table %q: column %d has no name", t.Name, i)
		}
		if t.Columns[i].Type == shard.TypeInvalid || t.Columns[i].Type > shard.TypeDate {
			return metaErrorf(pgerror.CodeInvalidTableDefinition, "table %q: column %q has invalid type %d", t.Name, t.Columns[i].Name, t.Columns[i].Type)
		}
		for j := 0; j < i; j++ {
			if t.Columns[j].Name == t.Columns[i].Name {
				return metaErrorf(pgerror.CodeDuplicateColumn, "column %q specified more than once", t.Columns[i].Name)
			}
		}
	}
	return nil
}

// assignColumnIDs gives columns without an ID the next free IDs, in order,
// and rejects duplicate IDs.
func assignColumnIDs(cols []shard.Column) *metaError {
	var max uint16
	for _, c := range cols {
		if c.ID > max {
			max = c.ID
		}
	}
	seen := make(map[uint16]bool, len(cols))
	for i := range cols {
		if cols[i].ID == 0 {
			max++
			cols[i].ID = max
		}
		if seen[cols[i].ID] {
			return metaErrorf(pgerror.CodeInvalidTableDefinition, "column ID %d used twice", cols[i].ID)
		}
		seen[cols[i].ID] = true
	}
	return nil
}

func applyCreateTable(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	if c.Table == nil {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidTableDefinition, "table definition missing"), false
	}
	if findDatabaseID(st, c.DatabaseID) < 0 {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidCatalogName, "database %d does not exist", c.DatabaseID), false
	}
	t := *c.Table
	t.Columns = append([]shard.Column(nil), t.Columns...)
	t.Tags = append([]int(nil), t.Tags...)
	t.Database = c.DatabaseID
	if i := findTable(st, t.Database, t.Name); i >= 0 {
		if c.Lenient {
			return metaResult{ID: uint64(st.TableList[i].ID)}, nil, false
		}
		return metaResult{}, metaErrorf(pgerror.CodeDuplicateTable, "relation %q already exists", t.Name), false
	}
	if merr := validateTable(&t); merr != nil {
		return metaResult{}, merr, false
	}
	if merr := assignColumnIDs(t.Columns); merr != nil {
		return metaResult{}, merr, false
	}
	if st.NextIDs.Table == math.MaxUint32 {
		return metaResult{}, metaErrorf(pgerror.CodeProgramLimitExceeded, "table IDs exhausted"), false
	}
	t.ID = st.NextIDs.Table
	st.NextIDs.Table++
	st.TableList = append(st.TableList, t)
	bump(st)
	return metaResult{ID: uint64(t.ID)}, nil, true
}

func applyDropTable(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	i := findTable(st, c.DatabaseID, c.Name)
	if i < 0 {
		if c.Lenient {
			return metaResult{}, nil, false
		}
		return metaResult{}, metaErrorf(pgerror.CodeUndefinedTable, "relation %q does not exist", c.Name), false
	}
	id := st.TableList[i].ID
	st.TableList = append(st.TableList[:i], st.TableList[i+1:]...)
	bump(st)
	return metaResult{ID: uint64(id), Tables: []uint32{id}}, nil, true
}

// applyAddColumns adds the columns of c.Columns that table c.Name lacks
// (matched by name; existing columns are left alone, even with another type).
func applyAddColumns(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	i := findTable(st, c.DatabaseID, c.Name)
	if i < 0 {
		return metaResult{}, metaErrorf(pgerror.CodeUndefinedTable, "relation %q does not exist", c.Name), false
	}
	t := st.TableList[i]
	cols := append([]shard.Column(nil), t.Columns...)
	var maxID uint16
	for _, col := range cols {
		maxID = max(maxID, col.ID)
	}
	changed := false
	for _, col := range c.Columns {
		if t.ColumnIndex(col.Name) >= 0 || containsColumn(cols[len(t.Columns):], col.Name) {
			continue
		}
		if maxID == math.MaxUint16 {
			return metaResult{}, metaErrorf(pgerror.CodeTooManyColumns, "table %q has too many columns", t.Name), false
		}
		maxID++
		col.ID = maxID
		cols = append(cols, col)
		changed = true
	}
	if changed {
		nt := t
		nt.Columns = cols
		if merr := validateTable(&nt); merr != nil {
			return metaResult{}, merr, false
		}
		st.TableList[i] = nt
		t = nt
		bump(st)
	}
	return metaResult{ID: uint64(t.ID), Table: &t}, nil, changed
}

func containsColumn(cols []shard.Column, name string) bool {
	for _, c := range cols {
		if c.Name == name {
			return true
		}
	}
	return false
}

func applyEnsureShards(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	di := findDatabaseID(st, c.DatabaseID)
	if di < 0 {
		return metaResult{}, metaErrorf(pgerror.CodeInvalidCatalogName, "database %d does not exist", c.DatabaseID), false
	}
	if placeableNodes(st) == 0 {
		return metaResult{}, metaErrorf(pgerror.CodeUnavailable, "no node can take replicas (%d registered)", len(st.Nodes)), false
	}
	d := st.Databases[di]
	width := d.PartitionInterval.Microseconds()
	starts := append([]int64(nil), c.Partitions...)
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	var res metaResult
	changed := false
	for i, p := range starts {
		if i > 0 && starts[i-1] == p {
			continue
		}
		if shard.PartitionStart(p, d.PartitionInterval) != p || p > math.MaxInt64-width {
			return metaResult{}, metaErrorf(pgerror.CodeInvalidParameterValue, "%d is not a partition start of database %q", p, d.Name), false
		}
		for g := 0; g < d.SlotGroups; g++ {
			if s, ok := st.Partitions.Lookup(d.ID, p, g); ok {
				res.Shards = append(res.Shards, s)
				continue
			}
			id := st.NextIDs.Shard
			st.NextIDs.Shard++
			s := shard.ShardInfo{
				ID: id, Database: d.ID, PartitionStart: p, PartitionEnd: p + width,
				SlotGroup: g, SlotGroups: d.SlotGroups,
				Replicas: placeReplicas(st, id, d.Replicas),
				State:    shard.ShardActive,
			}
			st.Partitions.Shards = append(st.Partitions.Shards, s)
			// Keep the table sorted so that Lookup keeps working mid-loop.
			st.Partitions.Sort()
			res.Shards = append(res.Shards, s)
			changed = true
		}
	}
	if changed {
		bumpPartitions(st)
		bump(st)
	}
	return res, nil, changed
}

// applyExpireShards removes the shards whose partition end plus their
// database's TTL is before c.Now (µs, read from the proposer's clock, so
// that every replica decides alike).
func applyExpireShards(st *Catalog, c *metaCommand) (metaResult, *metaError, bool) {
	var res metaResult
	shards := st.Partitions.Shards[:0]
	for _, s := range st.Partitions.Shards {
		di := findDatabaseID(st, s.Database)
		if di >= 0 {
			ttl := st.Databases[di].TTL.Microseconds()
			if ttl > 0 && s.PartitionEnd <= math.MaxInt64-ttl && s.PartitionEnd+ttl < c.Now {
				res.Dropped = append(res.Dropped, s.ID)
				continue
			}
		}
		shards = append(shards, s)
	}
	st.Partitions.Shards = shards
	if len(res.Dropped) == 0 {
		return res, nil, false
	}
	forgetShards(st, res.Dropped)
	bumpPartitions(st)
	bump(st)
	return res, nil, true
}
