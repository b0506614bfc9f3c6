package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/longboatdb/longboat/server/rpc/longboatpb"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// Metadata keys every call carries (lower case, as gRPC requires).
const (
	mdProtocol = "longboat-protocol" // ProtocolVersion, decimal
	mdCluster  = "longboat-cluster"  // the caller's cluster tag; empty: unknown
	mdNode     = "longboat-node"     // the caller's node ID, for logs
)

// Defaults shared by server and client.
const (
	// DefaultMaxMsgSize bounds one message: a forwarded WriteBatch or a
	// scan chunk (which is far smaller, see DefaultChunkBytes).
	DefaultMaxMsgSize = 64 << 20
	// DefaultChunkBytes is the target size of one scan chunk.
	DefaultChunkBytes = 1 << 20
	// maxChunkRows bounds the points of one encoded SeriesBatch in a chunk.
	maxChunkRows = 1 << 16
)

// ServerOptions configure NewServer. The zero value is usable.
type ServerOptions struct {
	Logger *slog.Logger
	// ClusterTag returns this node's cluster tag ("" before the node has
	// joined a cluster). Calls from a node of another cluster are refused,
	// except Init and Join, which check tags themselves.
	ClusterTag func() string
	// MaxMsgSize bounds received messages (default DefaultMaxMsgSize).
	MaxMsgSize int
	// ChunkBytes is the target size of a scan chunk (default
	// DefaultChunkBytes). A chunk exceeds it only when a single point does.
	ChunkBytes int
	// GRPC are extra options (transport credentials, stats handlers, more
	// interceptors via grpc.ChainUnaryInterceptor/ChainStreamInterceptor).
	GRPC []grpc.ServerOption
}

// NewServer returns a gRPC server serving the Node service with h. The
// caller runs it with Serve(listener) and stops it with GracefulStop or
// Stop. Transport is plaintext unless opts.GRPC adds credentials (TLS
// between nodes is future work; run the RPC port on a trusted network).
func NewServer(h Handlers, opts ServerOptions) *grpc.Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxMsgSize <= 0 {
		opts.MaxMsgSize = DefaultMaxMsgSize
	}
	if opts.ChunkBytes <= 0 {
		opts.ChunkBytes = DefaultChunkBytes
	}
	ns := &nodeServer{h: h, opts: opts, log: opts.Logger.With("component", "rpc")}
	gopts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(opts.MaxMsgSize),
		grpc.MaxSendMsgSize(opts.MaxMsgSize),
		// Clients ping every 10s (ClientOptions.KeepaliveTime); allow it.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.ChainUnaryInterceptor(ns.unaryInterceptor),
		grpc.ChainStreamInterceptor(ns.streamInterceptor),
	}
	s := grpc.NewServer(append(gopts, opts.GRPC...)...)
	pb.RegisterNodeServer(s, ns)
	return s
}

type nodeServer struct {
	pb.UnimplementedNodeServer
	h    Handlers
	opts ServerOptions
	log  *slog.Logger
}

var _ pb.NodeServer = (*nodeServer)(nil)

// checkPeer refuses callers of another protocol version or cluster.
func (s *nodeServer) checkPeer(ctx context.Context, method string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	var proto string
	if v := md.Get(mdProtocol); len(v) > 0 {
		proto = v[0]
	}
	if proto != strconv.FormatUint(uint64(ProtocolVersion), 10) {
		return status.Errorf(codes.FailedPrecondition, "protocol version %q is not supported by this node (it speaks %d)", proto, ProtocolVersion)
	}
	if method == pb.Node_Init_FullMethodName || method == pb.Node_Join_FullMethodName || s.opts.ClusterTag == nil {
		return nil
	}
	var theirs string
	if v := md.Get(mdCluster); len(v) > 0 {
		theirs = v[0]
	}
	if mine := s.opts.ClusterTag(); mine != "" && theirs != "" && mine != theirs {
		return status.Errorf(codes.FailedPrecondition, "caller belongs to cluster %q, this node to cluster %q", theirs, mine)
	}
	return nil
}

func (s *nodeServer) recovered(ctx context.Context, method string, r any) error {
	s.log.ErrorContext(ctx, "rpc handler panicked", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	return status.Errorf(codes.Internal, "internal error in %s: %v", method, r)
}

func (s *nodeServer) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	if err := s.checkPeer(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, s.recovered(ctx, info.FullMethod, r)
		}
	}()
	return handler(ctx, req)
}

func (s *nodeServer) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	if err := s.checkPeer(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = s.recovered(ss.Context(), info.FullMethod, r)
		}
	}()
	return handler(srv, ss)
}

// handlerError turns a handler's error into the reply: a fault, or a gRPC
// status when the call itself was cancelled.
func handlerError(ctx context.Context, err error) (*pb.Fault, error) {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return faultOf(err), nil
}

func unsupported(what string) *pb.Fault {
	return faultOf(pgerror.Newf(pgerror.CodeFeatureNotSupported, "longboat/rpc: this node does not serve %s", what))
}

func badRequest(what string, err error) *pb.Fault {
	return faultOf(pgerror.Wrapf(err, pgerror.CodeProtocolViolation, "longboat/rpc: malformed %s request", what))
}

// Write implements pb.NodeServer.
func (s *nodeServer) Write(ctx context.Context, req *pb.WriteRequest) (*pb.WriteResponse, error) {
	fault := func(f *pb.Fault) *pb.WriteResponse {
		return &pb.WriteResponse{Result: &pb.WriteResponse_Fault{Fault: f}}
	}
	if s.h.Write == nil {
		return fault(unsupported("writes")), nil
	}
	wb := &store.WriteBatch{}
	if err := store.DecodeWriteBatch(req.GetBatch(), wb); err != nil {
		return fault(badRequest("write", err)), nil
	}
	res, err := s.h.Write.Write(ctx, &WriteRequest{
		ShardID: req.GetShardId(), PartitionVersion: req.GetPartitionVersion(), Batch: wb, Encoded: req.GetBatch(),
	})
	if err != nil {
		f, serr := handlerError(ctx, err)
		if serr != nil {
			return nil, serr
		}
		return fault(f), nil
	}
	return &pb.WriteResponse{Result: &pb.WriteResponse_Ok{Ok: &pb.WriteOK{Rows: res.Rows}}}, nil
}

// Scan implements pb.NodeServer.
func (s *nodeServer) Scan(req *pb.ScanRequest, stream grpc.ServerStreamingServer[pb.ScanChunk]) error {
	sendFault := func(f *pb.Fault) error {
		return stream.Send(&pb.ScanChunk{Payload: &pb.ScanChunk_Fault{Fault: f}})
	}
	if s.h.Scan == nil {
		return sendFault(unsupported("scans"))
	}
	f, err := fragmentFromPB(req)
	if err != nil {
		return sendFault(badRequest("scan", err))
	}
	ctx := stream.Context()
	w := &chunkWriter{stream: stream, limit: s.opts.ChunkBytes}
	err = s.h.Scan.Scan(ctx, f, w.send)
	if err == nil {
		err = w.flush()
		if err == nil {
			return nil
		}
		if w.sendErr != nil {
			return w.sendErr
		}
	}
	if w.sendErr != nil && errors.Is(err, w.sendErr) {
		return w.sendErr // the stream is broken: nothing more can be sent
	}
	fault, serr := handlerError(ctx, err)
	if serr != nil {
		return serr
	}
	// Batches buffered but not sent are dropped: the caller fails the
	// fragment anyway.
	return sendFault(fault)
}

// Aggregate implements pb.NodeServer.
func (s *nodeServer) Aggregate(req *pb.ScanRequest, stream grpc.ServerStreamingServer[pb.AggregateChunk]) error {
	sendFault := func(f *pb.Fault) error {
		return stream.Send(&pb.AggregateChunk{Payload: &pb.AggregateChunk_Fault{Fault: f}})
	}
	if s.h.Aggregate == nil {
		return sendFault(unsupported("remote aggregation"))
	}
	f, err := fragmentFromPB(req)
	if err != nil {
		return sendFault(badRequest("aggregate", err))
	}
	ctx := stream.Context()
	data, err := s.h.Aggregate.Aggregate(ctx, f)
	if err != nil {
		fault, serr := handlerError(ctx, err)
		if serr != nil {
			return serr
		}
		return sendFault(fault)
	}
	limit := s.opts.ChunkBytes
	for len(data) > 0 {
		n := min(len(data), limit)
		if err := stream.Send(&pb.AggregateChunk{Payload: &pb.AggregateChunk_Data{Data: data[:n]}}); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// chunkWriter packs encoded SeriesBatches into chunks of at most limit
// bytes (unless one point is larger), splitting long batches by rows.
type chunkWriter struct {
	stream  grpc.ServerStreamingServer[pb.ScanChunk]
	limit   int
	enc     store.SeriesBatchEncoder
	buf     []byte
	count   uint32
	sendErr error // the first stream error
}

func (w *chunkWriter) send(b *store.SeriesBatch) error {
	if w.sendErr != nil {
		return w.sendErr
	}
	if err := w.stream.Context().Err(); err != nil {
		return err
	}
	if err := store.ValidateSeriesBatch(b); err != nil {
		return pgerror.Wrapf(err, pgerror.CodeInternal, "longboat/rpc: shard produced a malformed batch")
	}
	n := len(b.Times)
	rows := maxChunkRows
	if nf := len(b.Fields); nf > 0 {
		rows = min(rows, store.MaxSeriesBatchValues/nf)
	}
	if n <= rows {
		return w.add(b)
	}
	for lo := 0; lo < n; lo += rows {
		sub := sliceBatch(b, lo, min(lo+rows, n))
		if err := w.add(&sub); err != nil {
			return err
		}
	}
	return nil
}

// sliceBatch returns a view of points [lo, hi) of b (only the field headers
// are allocated). Stats, if any, go with the first piece.
func sliceBatch(b *store.SeriesBatch, lo, hi int) store.SeriesBatch {
	dst := store.SeriesBatch{SeriesID: b.SeriesID, Tags: b.Tags, Times: b.Times[lo:hi]}
	if lo == 0 {
		dst.Stats = b.Stats
	}
	if len(b.Fields) > 0 {
		dst.Fields = make([]store.Vector, 0, len(b.Fields))
	}
	for _, v := range b.Fields {
		s := store.Vector{Type: v.Type}
		switch {
		case v.F64 != nil:
			s.F64 = v.F64[lo:hi]
		case v.I64 != nil:
			s.I64 = v.I64[lo:hi]
		case v.B != nil:
			s.B = v.B[lo:hi]
		case v.Str != nil:
			s.Str = v.Str[lo:hi]
		}
		if v.Null != nil {
			s.Null = v.Null[lo:hi]
		}
		dst.Fields = append(dst.Fields, s)
	}
	return dst
}

// add appends one encoded batch, splitting it in halves while it alone is
// over the limit, and flushes full chunks.
func (w *chunkWriter) add(b *store.SeriesBatch) error {
	mark := len(w.buf)
	w.buf = w.enc.Append(w.buf, b)
	size := len(w.buf) - mark
	if size > w.limit && len(b.Times) > 1 {
		w.buf = w.buf[:mark]
		n := len(b.Times)
		lo, hi := sliceBatch(b, 0, n/2), sliceBatch(b, n/2, n)
		if err := w.add(&lo); err != nil {
			return err
		}
		return w.add(&hi)
	}
	if mark > 0 && len(w.buf) > w.limit {
		// The new batch does not fit: send what was there, keep the batch.
		// gRPC owns only buf[:mark] once sent, so the tail may still be read.
		rest := w.buf[mark:]
		w.buf = w.buf[:mark]
		if err := w.flush(); err != nil {
			return err
		}
		w.buf = append(w.buf, rest...)
	}
	w.count++
	if len(w.buf) >= w.limit {
		return w.flush()
	}
	return nil
}

// flush sends the buffered batches as one chunk.
func (w *chunkWriter) flush() error {
	if w.count == 0 {
		return nil
	}
	err := w.stream.Send(&pb.ScanChunk{Payload: &pb.ScanChunk_Batches{Batches: &pb.Batches{Count: w.count, Data: w.buf}}})
	// gRPC may read the message after Send returns (stats handlers): never
	// reuse a sent buffer.
	w.buf = make([]byte, 0, max(min(2*len(w.buf), w.limit+w.limit/4), 4096))
	w.count = 0
	if err != nil {
		w.sendErr = fmt.Errorf("longboat/rpc: cannot send scan chunk: %w", err)
		return w.sendErr
	}
	return nil
}

// Init implements pb.NodeServer.
func (s *nodeServer) Init(ctx context.Context, req *pb.InitRequest) (*pb.InitResponse, error) {
	if s.h.Admin == nil {
		return &pb.InitResponse{Fault: unsupported("cluster admin calls")}, nil
	}
	res, err := s.h.Admin.Init(ctx, &InitRequest{
		MetaNodes: req.GetMetaNodes(), ProductVersion: req.GetProductVersion(), ProtocolVersion: req.GetProtocolVersion(),
		Members: nodesFromPB(req.GetMembers()), ClusterTag: req.GetClusterTag(),
	})
	if err != nil {
		f, serr := handlerError(ctx, err)
		if serr != nil {
			return nil, serr
		}
		return &pb.InitResponse{Fault: f}, nil
	}
	return &pb.InitResponse{
		ClusterTag: res.ClusterTag, ProductVersion: res.ProductVersion, ProtocolVersion: res.ProtocolVersion,
		AlreadyInitialized: res.AlreadyInitialized, MetaNodes: nodesToPB(res.MetaNodes),
	}, nil
}

// Join implements pb.NodeServer.
func (s *nodeServer) Join(ctx context.Context, req *pb.JoinRequest) (*pb.JoinResponse, error) {
	if s.h.Admin == nil {
		return &pb.JoinResponse{Fault: unsupported("cluster admin calls")}, nil
	}
	res, err := s.h.Admin.Join(ctx, &JoinRequest{
		Node: nodeFromPB(req.GetNode()), ClusterTag: req.GetClusterTag(),
		ProductVersion: req.GetProductVersion(), ProtocolVersion: req.GetProtocolVersion(),
	})
	if err != nil {
		f, serr := handlerError(ctx, err)
		if serr != nil {
			return nil, serr
		}
		return &pb.JoinResponse{Fault: f}, nil
	}
	return &pb.JoinResponse{
		ClusterTag: res.ClusterTag, View: res.View, PartitionVersion: res.PartitionVersion, MetaNodes: nodesToPB(res.MetaNodes),
	}, nil
}

// Status implements pb.NodeServer.
func (s *nodeServer) Status(ctx context.Context, _ *pb.StatusRequest) (*pb.StatusResponse, error) {
	if s.h.Admin == nil {
		return &pb.StatusResponse{Fault: unsupported("cluster admin calls")}, nil
	}
	st, err := s.h.Admin.Status(ctx)
	if err != nil {
		f, serr := handlerError(ctx, err)
		if serr != nil {
			return nil, serr
		}
		return &pb.StatusResponse{Fault: f}, nil
	}
	return statusToPB(st), nil
}
