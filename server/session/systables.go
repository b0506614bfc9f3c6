package session

import (
	"context"
	"strconv"
	"strings"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/raftsm"
	"github.com/longboatdb/longboat/sql/types"
)

// SystemSchema is the schema of Longboat's own system tables
// (longboat.nodes, longboat.shards): the cluster as the node the client
// is connected to sees it.
const SystemSchema = "longboat"

// systemTable resolves longboat.<name>.
func (c planCatalog) systemTable(schema, name string) (planner.VirtualTable, bool) {
	if schema != SystemSchema {
		return nil, false
	}
	switch name {
	case "nodes":
		return nodesTable{h: c.s.h}, true
	case "shards":
		return shardsTable{h: c.s.h, cat: c.cat}, true
	}
	return nil, false
}

func sysColumns(names []string, typs []types.OID) []planner.Column {
	out := make([]planner.Column, len(names))
	for i := range names {
		out[i] = planner.Column{Name: names[i], Type: typs[i], ColumnNum: int16(i + 1)}
	}
	return out
}

func textOrNull(s string) types.Datum {
	if s == "" {
		return types.NullOf(types.Text)
	}
	return types.NewText(s)
}

// nodesTable is longboat.nodes: one row per node in the logical topology.
type nodesTable struct{ h *Handler }

func (nodesTable) Columns() []planner.Column {
	return sysColumns(
		[]string{"node_id", "state", "pg_addr", "rpc_addr", "raft_addr", "replicas", "leaders", "is_meta_leader", "unreachable", "joined_view", "product_version"},
		[]types.OID{types.Int8, types.Text, types.Text, types.Text, types.Text, types.Int8, types.Int8, types.Bool, types.Bool, types.Int8, types.Text})
}

func (t nodesTable) Rows(context.Context) ([][]types.Datum, error) {
	st := t.h.Host.ClusterStatus()
	rows := make([][]types.Datum, 0, len(st.Nodes))
	for _, n := range st.Nodes {
		state := string(n.State)
		if state == "" {
			state = string(raftsm.NodeHealthy) // the single-node bootstrap registers no state
		}
		rows = append(rows, []types.Datum{
			types.NewInt(types.Int8, int64(n.ID)), types.NewText(state), textOrNull(n.PGAddr), textOrNull(n.RPCAddr),
			textOrNull(n.RaftAddr), types.NewInt(types.Int8, int64(n.Replicas)), types.NewInt(types.Int8, int64(n.Leaders)),
			types.NewBool(st.MetaLeader == n.ID), types.NewBool(n.Unreachable),
			types.NewInt(types.Int8, int64(n.JoinedView)), textOrNull(n.ProductVersion),
		})
	}
	return rows, nil
}

// shardsTable is longboat.shards: the partition table.
type shardsTable struct {
	h   *Handler
	cat *raftsm.Catalog
}

func (shardsTable) Columns() []planner.Column {
	return sysColumns(
		[]string{"shard_id", "database", "partition_start", "partition_end", "slot_group", "slot_groups", "replicas", "leader", "state"},
		[]types.OID{types.Int8, types.Text, types.Timestamptz, types.Timestamptz, types.Int4, types.Int4, types.Text, types.Int8, types.Text})
}

func (t shardsTable) Rows(context.Context) ([][]types.Datum, error) {
	rows := make([][]types.Datum, 0, len(t.cat.Partitions.Shards))
	for _, s := range t.cat.Partitions.Shards {
		db := strconv.FormatUint(uint64(s.Database), 10)
		if d, ok := t.cat.DatabaseByID(s.Database); ok {
			db = d.Name
		}
		reps := make([]string, len(s.Replicas))
		for i, r := range s.Replicas {
			reps[i] = strconv.FormatUint(r, 10)
		}
		leader := types.NullOf(types.Int8)
		if l, ok := t.h.Host.ShardLeader(s.ID); ok {
			leader = types.NewInt(types.Int8, int64(l))
		}
		rows = append(rows, []types.Datum{
			types.NewInt(types.Int8, int64(s.ID)), types.NewText(db),
			types.NewTimestamptz(s.PartitionStart), types.NewTimestamptz(s.PartitionEnd),
			types.NewInt(types.Int4, int64(s.SlotGroup)), types.NewInt(types.Int4, int64(s.SlotGroups)),
			types.NewText(strings.Join(reps, ",")), leader, textOrNull(string(s.State)),
		})
	}
	return rows, nil
}
