package rpc

import (
	"context"

	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/types"
)

// ProtocolVersion is the version of the inter-node protocol. Every call
// carries it in its metadata and a node refuses calls of another version
// (the error wraps ErrIncompatible). Bump it for any change old nodes cannot
// understand; adding proto fields they may ignore is not such a change.
const ProtocolVersion uint32 = 1

// Handlers is what a node serves; the node (server/node.go) implements the
// interfaces. A nil handler answers every call with 0A000 (not supported).
type Handlers struct {
	Write     WriteHandler
	Scan      ScanHandler
	Aggregate AggregateHandler
	Admin     AdminHandler
}

// WriteHandler applies writes forwarded by coordinators on other nodes.
//
// Write proposes req.Batch to shard req.ShardID and returns after it is
// committed by a quorum and applied. The retryable outcomes are returned as
// *NotLeaderError (this replica is not the leader), *WrongNodeError (no
// replica here: the caller's partition table is stale) and *BusyError (back
// off); any other error reaches the caller with its SQLSTATE (sql/pgerror).
// It is called concurrently; req is valid only during the call.
type WriteHandler interface {
	Write(ctx context.Context, req *WriteRequest) (WriteResult, error)
}

// WriteRequest is a forwarded write.
type WriteRequest struct {
	ShardID uint64
	// PartitionVersion is the partition-table version the caller routed by.
	PartitionVersion uint64
	// Batch is the decoded, validated batch.
	Batch *store.WriteBatch
	// Encoded is Batch's exact encoding as it arrived (store.AppendWriteBatch),
	// for a handler that can propose it without re-encoding.
	Encoded []byte
}

// WriteResult is a successful write.
type WriteResult struct {
	Rows uint64 // rows applied
}

// ScanHandler runs scan fragments for coordinators on other nodes.
//
// Scan re-plans f's statement, takes its f.ScanOrdinal-th Scan node, scans
// the local replica of f.ShardID with f.Request's plain fields plus the
// SeriesFilter and UseStats rebuilt from that node, and calls send once per
// SeriesBatch in scan order. send encodes the batch before it returns, so
// the batch may be reused afterwards; it fails when the caller has gone
// away (ctx is then cancelled too), and Scan must then return promptly.
//
// Before scanning, Scan waits briefly for the local catalog to reach
// f.CatalogVersion (returning *CatalogBehindError if it does not) and, for
// either read consistency, for a ReadIndex barrier on the shard; with
// ReadStrong a follower replies *NotLeaderError. These retryable errors must
// be returned before the first send: after data has gone out the caller
// cannot retry the fragment and reports a statement error instead.
type ScanHandler interface {
	Scan(ctx context.Context, f *ScanFragment, send func(*store.SeriesBatch) error) error
}

// AggregateHandler runs scan fragments that sit under a pushed aggregate
// for coordinators on other nodes.
//
// Aggregate re-plans f's statement like ScanHandler.Scan, runs the
// fragment's partial aggregation over the local replica and returns the
// partial groups encoded (mpp.ServePartialAggregate). The same retryable
// errors as Scan's apply; nothing reaches the caller before the whole
// result, so every one of them is retryable.
type AggregateHandler interface {
	Aggregate(ctx context.Context, f *ScanFragment) ([]byte, error)
}

// ReadConsistency chooses the replica a fragment may read.
type ReadConsistency uint8

// Read consistencies (DESIGN.md §9).
const (
	// ReadStrong reads the leader, or a replica after ReadIndex.
	ReadStrong ReadConsistency = iota
	// ReadFollower reads any replica after ReadIndex.
	ReadFollower
)

// ScanFragment identifies a scan fragment by what both sides rebuild
// deterministically: the statement and every input of its plan.
type ScanFragment struct {
	Database   string
	SQL        string
	Params     []types.Datum
	ParamTypes []types.OID
	// NowMicros is the statement timestamp (µs since the Unix epoch):
	// now() must mean the same on both sides.
	NowMicros int64
	User      string
	// Settings are the session settings the plan may read (TimeZone, ...).
	Settings map[string]string
	// Subqueries are the coordinator's materialised uncorrelated
	// subqueries (planner.EvalContext.Subqueries, first column), in order.
	Subqueries [][]types.Datum
	// ScanOrdinal is the index of the Scan node among the plan's Scan nodes
	// in the planner's walk order.
	ScanOrdinal    int
	ShardID        uint64
	CatalogVersion uint64
	Consistency    ReadConsistency
	// Request holds the store request's plain fields as the coordinator
	// computed them; SeriesFilter and UseStats never cross the wire (they
	// are functions): the callee rebuilds them from its re-plan. UseStats
	// arrives as a non-nil placeholder that always returns false when the
	// caller's request had one; the handler replaces it.
	Request store.ScanRequest
}

// AdminHandler serves the cluster admin calls the CLI and joining nodes
// send to any node (DESIGN.md §7). Refusals are errors with a SQLSTATE and
// a clear message; a node that must forward to the meta leader but cannot
// may return *NotLeaderError with the leader's RPC address.
type AdminHandler interface {
	// Init starts the meta group on req.MetaNodes and has the meta leader
	// apply the cluster-init command. The same init sent again succeeds
	// (AlreadyInitialized); a different one is refused.
	Init(ctx context.Context, req *InitRequest) (*InitResult, error)
	// Join admits req.Node into the logical topology, refusing protocol,
	// product-version or cluster-tag mismatches.
	Join(ctx context.Context, req *JoinRequest) (*JoinResult, error)
	// Status reports the cluster as this node sees it.
	Status(ctx context.Context) (*ClusterStatus, error)
}

// NodeInfo names a node and its addresses.
type NodeInfo struct {
	NodeID     uint64
	RPCAddr    string
	RaftAddr   string
	PGAddr     string
	HTTPAddr   string
	GossipAddr string
}

// InitRequest is `longboat cluster init`.
type InitRequest struct {
	// MetaNodes names the meta group's nodes as the operator gave them
	// (node IDs or RPC addresses).
	MetaNodes       []string
	ProductVersion  string
	ProtocolVersion uint32
	// Members and ClusterTag are set when the node that received the
	// operator's init fans it out to a meta node (see the proto): the
	// callee bootstraps with exactly these members and does not fan out.
	Members    []NodeInfo
	ClusterTag string
}

// InitResult is the cluster the init created (or had created before).
type InitResult struct {
	ClusterTag         string
	ProductVersion     string
	ProtocolVersion    uint32
	AlreadyInitialized bool
	MetaNodes          []NodeInfo
}

// JoinRequest asks the meta leader to admit a node.
type JoinRequest struct {
	Node            NodeInfo
	ClusterTag      string
	ProductVersion  string
	ProtocolVersion uint32
}

// JoinResult is an accepted join.
type JoinResult struct {
	ClusterTag       string
	View             uint64 // the topology view that holds the node
	PartitionVersion uint64
	MetaNodes        []NodeInfo
}

// ClusterStatus is `longboat cluster status`.
type ClusterStatus struct {
	ClusterTag       string
	ProductVersion   string
	ProtocolVersion  uint32
	View             uint64
	PartitionVersion uint64
	CatalogVersion   uint64
	ResponderNodeID  uint64
	Nodes            []NodeStatus
}

// NodeStatus is one node in a ClusterStatus.
type NodeStatus struct {
	Node           NodeInfo
	State          string // INITIALIZING, JOINING, IDLE, HEALTHY, DOWN, ...
	Shards         int    // replicas on the node
	Leaders        int    // of which leaders
	ProductVersion string
}
