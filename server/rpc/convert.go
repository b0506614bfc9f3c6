package rpc

import (
	"fmt"
	"math"

	pb "github.com/longboatdb/longboat/server/rpc/longboatpb"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/types"
)

// Conversions between the Go API and the generated messages. Decoders
// validate what the Go side relies on (ranges of narrower integer types);
// everything else is carried as is.

func datumToPB(d types.Datum) *pb.Datum {
	return &pb.Datum{Oid: uint32(d.T), Null: d.Null, I: d.I, F: d.F, S: []byte(d.S), X: d.X}
}

func datumFromPB(d *pb.Datum) types.Datum {
	return types.Datum{T: types.OID(d.GetOid()), Null: d.GetNull(), I: d.GetI(), F: d.GetF(), S: string(d.GetS()), X: d.GetX()}
}

func datumsToPB(ds []types.Datum) []*pb.Datum {
	if len(ds) == 0 {
		return nil
	}
	out := make([]*pb.Datum, len(ds))
	for i, d := range ds {
		out[i] = datumToPB(d)
	}
	return out
}

func datumsFromPB(ds []*pb.Datum) []types.Datum {
	if len(ds) == 0 {
		return nil
	}
	out := make([]types.Datum, len(ds))
	for i, d := range ds {
		out[i] = datumFromPB(d)
	}
	return out
}

func fragmentToPB(f *ScanFragment) *pb.ScanRequest {
	r := &f.Request
	req := &pb.ScanRequest{
		Database:        f.Database,
		Sql:             []byte(f.SQL),
		Params:          datumsToPB(f.Params),
		NowUs:           f.NowMicros,
		User:            f.User,
		ScanOrdinal:     uint32(f.ScanOrdinal),
		ShardId:         f.ShardID,
		CatalogVersion:  f.CatalogVersion,
		ReadConsistency: pb.ReadConsistency(f.Consistency),
		TableId:         r.TableID,
		MinTime:         r.MinTime,
		MaxTime:         r.MaxTime,
		Reverse:         r.Reverse,
		Limit:           int64(r.Limit),
		UseStats:        r.UseStats != nil,
	}
	for _, t := range f.ParamTypes {
		req.ParamTypes = append(req.ParamTypes, uint32(t))
	}
	if len(f.Settings) > 0 {
		req.Settings = make(map[string][]byte, len(f.Settings))
		for k, v := range f.Settings {
			req.Settings[k] = []byte(v)
		}
	}
	for _, sq := range f.Subqueries {
		req.Subqueries = append(req.Subqueries, &pb.DatumList{Values: datumsToPB(sq)})
	}
	for _, id := range r.Fields {
		req.Fields = append(req.Fields, uint32(id))
	}
	return req
}

// noStats is the UseStats placeholder a decoded fragment carries when the
// caller's request had UseStats set (see ScanFragment.Request).
func noStats(int64, int64) bool { return false }

func fragmentFromPB(req *pb.ScanRequest) (*ScanFragment, error) {
	if req.GetScanOrdinal() > math.MaxInt32 {
		return nil, fmt.Errorf("scan ordinal %d out of range", req.GetScanOrdinal())
	}
	if req.GetLimit() < 0 || req.GetLimit() > math.MaxInt32 {
		return nil, fmt.Errorf("limit %d out of range", req.GetLimit())
	}
	switch req.GetReadConsistency() {
	case pb.ReadConsistency_READ_CONSISTENCY_STRONG, pb.ReadConsistency_READ_CONSISTENCY_FOLLOWER:
	default:
		return nil, fmt.Errorf("unknown read consistency %d", req.GetReadConsistency())
	}
	f := &ScanFragment{
		Database:       req.GetDatabase(),
		SQL:            string(req.GetSql()),
		Params:         datumsFromPB(req.GetParams()),
		NowMicros:      req.GetNowUs(),
		User:           req.GetUser(),
		ScanOrdinal:    int(req.GetScanOrdinal()),
		ShardID:        req.GetShardId(),
		CatalogVersion: req.GetCatalogVersion(),
		Consistency:    ReadConsistency(req.GetReadConsistency()),
		Request: store.ScanRequest{
			TableID: req.GetTableId(),
			MinTime: req.GetMinTime(),
			MaxTime: req.GetMaxTime(),
			Reverse: req.GetReverse(),
			Limit:   int(req.GetLimit()),
		},
	}
	for _, t := range req.GetParamTypes() {
		f.ParamTypes = append(f.ParamTypes, types.OID(t))
	}
	if len(req.GetSettings()) > 0 {
		f.Settings = make(map[string]string, len(req.GetSettings()))
		for k, v := range req.GetSettings() {
			f.Settings[k] = string(v)
		}
	}
	for _, sq := range req.GetSubqueries() {
		f.Subqueries = append(f.Subqueries, datumsFromPB(sq.GetValues()))
	}
	for _, id := range req.GetFields() {
		if id > math.MaxUint16 {
			return nil, fmt.Errorf("field ID %d out of range", id)
		}
		f.Request.Fields = append(f.Request.Fields, uint16(id))
	}
	if req.GetUseStats() {
		f.Request.UseStats = noStats
	}
	return f, nil
}

func nodeToPB(n NodeInfo) *pb.NodeInfo {
	return &pb.NodeInfo{NodeId: n.NodeID, RpcAddr: n.RPCAddr, RaftAddr: n.RaftAddr, PgAddr: n.PGAddr, HttpAddr: n.HTTPAddr, GossipAddr: n.GossipAddr}
}

func nodeFromPB(n *pb.NodeInfo) NodeInfo {
	return NodeInfo{NodeID: n.GetNodeId(), RPCAddr: n.GetRpcAddr(), RaftAddr: n.GetRaftAddr(), PGAddr: n.GetPgAddr(), HTTPAddr: n.GetHttpAddr(), GossipAddr: n.GetGossipAddr()}
}

func nodesToPB(ns []NodeInfo) []*pb.NodeInfo {
	var out []*pb.NodeInfo
	for _, n := range ns {
		out = append(out, nodeToPB(n))
	}
	return out
}

func nodesFromPB(ns []*pb.NodeInfo) []NodeInfo {
	var out []NodeInfo
	for _, n := range ns {
		out = append(out, nodeFromPB(n))
	}
	return out
}

func clampU32(n int) uint32 { return uint32(min(max(n, 0), math.MaxUint32)) }

func statusToPB(s *ClusterStatus) *pb.StatusResponse {
	r := &pb.StatusResponse{
		ClusterTag: s.ClusterTag, ProductVersion: s.ProductVersion, ProtocolVersion: s.ProtocolVersion,
		View: s.View, PartitionVersion: s.PartitionVersion, CatalogVersion: s.CatalogVersion,
		ResponderNodeId: s.ResponderNodeID,
	}
	for _, n := range s.Nodes {
		r.Nodes = append(r.Nodes, &pb.NodeStatus{Node: nodeToPB(n.Node), State: n.State,
			Shards: clampU32(n.Shards), Leaders: clampU32(n.Leaders), ProductVersion: n.ProductVersion})
	}
	return r
}

func statusFromPB(r *pb.StatusResponse) *ClusterStatus {
	s := &ClusterStatus{
		ClusterTag: r.GetClusterTag(), ProductVersion: r.GetProductVersion(), ProtocolVersion: r.GetProtocolVersion(),
		View: r.GetView(), PartitionVersion: r.GetPartitionVersion(), CatalogVersion: r.GetCatalogVersion(),
		ResponderNodeID: r.GetResponderNodeId(),
	}
	for _, n := range r.GetNodes() {
		s.Nodes = append(s.Nodes, NodeStatus{Node: nodeFromPB(n.GetNode()), State: n.GetState(),
			Shards: int(n.GetShards()), Leaders: int(n.GetLeaders()), ProductVersion: n.GetProductVersion()})
	}
	return s
}
