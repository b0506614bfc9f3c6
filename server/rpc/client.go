package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/longboatdb/longboat/server/rpc/longboatpb"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// ErrClientClosed is returned by calls on a closed Client.
var ErrClientClosed = errors.New("longboat/rpc: client closed")

// ClientOptions configure NewClient. The zero value is usable.
type ClientOptions struct {
	Logger *slog.Logger
	// NodeID is this node's ID, sent with every call for the callee's logs.
	NodeID uint64
	// ClusterTag returns this node's cluster tag ("" while unknown); a
	// callee of another cluster refuses the call.
	ClusterTag func() string
	// DialTimeout bounds one connection attempt (default 3s). A call to an
	// unreachable node fails after at most this long; a refused connection
	// fails at once.
	DialTimeout time.Duration
	// KeepaliveTime and KeepaliveTimeout: ping an idle connection every
	// KeepaliveTime (default 10s) and drop it when the ping is not answered
	// within KeepaliveTimeout (default 5s).
	KeepaliveTime, KeepaliveTimeout time.Duration
	// IdleTimeout closes a node's connection when no call used it for this
	// long (default 5m).
	IdleTimeout time.Duration
	// CallTimeout is the deadline of a unary call whose ctx has none
	// (default 30s). Scan streams run until ctx ends.
	CallTimeout time.Duration
	// MaxMsgSize bounds sent and received messages (default
	// DefaultMaxMsgSize).
	MaxMsgSize int
	// GRPC are extra dial options (e.g. transport credentials, replacing
	// the default insecure ones).
	GRPC []grpc.DialOption
}

// Client calls other nodes. It keeps one *grpc.ClientConn per node address,
// created on first use and closed after IdleTimeout without calls. It is
// safe for concurrent use.
type Client struct {
	opts ClientOptions
	log  *slog.Logger
	stop chan struct{}
	wg   sync.WaitGroup
	mu   struct {
		sync.Mutex
		conns  map[string]*peer
		closed bool
	}
}

// peer is the connection to one node address.
type peer struct {
	cc   *grpc.ClientConn
	stub pb.NodeClient
	// Guarded by Client.mu.
	inflight int
	lastUsed time.Time
}

// NewClient returns a Client; Close it to release its connections.
func NewClient(opts ClientOptions) *Client {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 3 * time.Second
	}
	if opts.KeepaliveTime <= 0 {
		opts.KeepaliveTime = 10 * time.Second
	}
	if opts.KeepaliveTimeout <= 0 {
		opts.KeepaliveTimeout = 5 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 5 * time.Minute
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 30 * time.Second
	}
	if opts.MaxMsgSize <= 0 {
		opts.MaxMsgSize = DefaultMaxMsgSize
	}
	c := &Client{opts: opts, log: opts.Logger.With("component", "rpc-client"), stop: make(chan struct{})}
	c.mu.conns = make(map[string]*peer)
	c.wg.Add(1)
	go c.janitor()
	return c
}

// Close closes every connection; calls in flight fail. Close waits for the
// Client's own goroutine and is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return nil
	}
	c.mu.closed = true
	conns := c.mu.conns
	c.mu.conns = nil
	close(c.stop)
	c.mu.Unlock()
	c.wg.Wait()
	var errs []error
	for addr, p := range conns {
		if err := p.cc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("longboat/rpc: cannot close connection to %s: %w", addr, err))
		}
	}
	return errors.Join(errs...)
}

// janitor closes idle connections until Close.
func (c *Client) janitor() {
	defer c.wg.Done()
	t := time.NewTicker(max(c.opts.IdleTimeout/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			c.closeIdle(now.Add(-c.opts.IdleTimeout))
		}
	}
}

// closeIdle closes the connections without calls in flight that were last
// used before cutoff, and returns how many it closed.
func (c *Client) closeIdle(cutoff time.Time) int {
	var idle []*peer
	c.mu.Lock()
	for addr, p := range c.mu.conns {
		if p.inflight == 0 && p.lastUsed.Before(cutoff) {
			idle = append(idle, p)
			delete(c.mu.conns, addr)
		}
	}
	c.mu.Unlock()
	for _, p := range idle {
		if err := p.cc.Close(); err != nil {
			c.log.Debug("closing idle connection", "target", p.cc.Target(), "err", err)
		}
	}
	return len(idle)
}

// numConns returns the number of open connections.
func (c *Client) numConns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.mu.conns)
}

// acquire returns the peer for addr, counted as in flight until release.
func (c *Client) acquire(addr string) (*peer, func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return nil, nil, ErrClientClosed
	}
	p := c.mu.conns[addr]
	if p == nil {
		cc, err := c.dial(addr)
		if err != nil {
			return nil, nil, pgerror.Wrapf(&UnavailableError{Addr: addr, Err: err}, pgerror.CodeUnavailable, "longboat/rpc: cannot connect to %s", addr)
		}
		p = &peer{cc: cc, stub: pb.NewNodeClient(cc)}
		c.mu.conns[addr] = p
	}
	p.inflight++
	p.lastUsed = time.Now()
	return p, func() {
		c.mu.Lock()
		p.inflight--
		p.lastUsed = time.Now()
		c.mu.Unlock()
	}, nil
}

// dial creates the connection to addr. grpc.NewClient does not connect:
// the first call does, bounded by DialTimeout.
func (c *Client) dial(addr string) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			MinConnectTimeout: c.opts.DialTimeout,
			// Reconnect to a restarted node within seconds, not minutes.
			Backoff: backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 3 * time.Second},
		}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time: c.opts.KeepaliveTime, Timeout: c.opts.KeepaliveTimeout, PermitWithoutStream: true,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(c.opts.MaxMsgSize), grpc.MaxCallSendMsgSize(c.opts.MaxMsgSize)),
	}
	// passthrough: addr is host:port; no resolver goroutine per node.
	return grpc.NewClient("passthrough:///"+addr, append(opts, c.opts.GRPC...)...)
}

// outgoing adds the call metadata (and for unary calls a default deadline).
func (c *Client) outgoing(ctx context.Context, unary bool) (context.Context, context.CancelFunc) {
	tag := ""
	if c.opts.ClusterTag != nil {
		tag = c.opts.ClusterTag()
	}
	ctx = metadata.AppendToOutgoingContext(ctx,
		mdProtocol, strconv.FormatUint(uint64(ProtocolVersion), 10),
		mdCluster, tag,
		mdNode, strconv.FormatUint(c.opts.NodeID, 10))
	if _, ok := ctx.Deadline(); unary && !ok {
		return context.WithTimeout(ctx, c.opts.CallTimeout)
	}
	return context.WithCancel(ctx)
}

// callError maps a gRPC failure of method on addr to a Longboat error: a
// cancelled ctx gives 57014 wrapping ctx.Err(); a node that cannot be
// reached (or a call cut off) gives *UnavailableError (57P03); a refused
// peer wraps ErrIncompatible (08P01).
func callError(ctx context.Context, addr, method string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return pgerror.Wrapf(ctxErr, pgerror.CodeQueryCanceled, "longboat/rpc: %s to %s", method, addr)
	}
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Aborted:
		return withCode(&UnavailableError{Addr: addr, Err: fmt.Errorf("%s: %s", method, st.Message())})
	case codes.FailedPrecondition:
		return pgerror.Wrapf(fmt.Errorf("%w: %s", ErrIncompatible, st.Message()), pgerror.CodeProtocolViolation, "longboat/rpc: %s refused by %s", method, addr)
	case codes.Unimplemented:
		return pgerror.Newf(pgerror.CodeFeatureNotSupported, "longboat/rpc: %s is not served by %s: %s", method, addr, st.Message())
	case codes.ResourceExhausted:
		return pgerror.Newf(pgerror.CodeProgramLimitExceeded, "longboat/rpc: %s to %s: %s", method, addr, st.Message())
	default:
		return pgerror.Newf(pgerror.CodeInternal, "longboat/rpc: %s to %s failed (%s): %s", method, addr, st.Code(), st.Message())
	}
}

// ForwardWrite sends a shard's batch to the node at addr (the shard's
// leader as the caller's partition table of version partitionVersion says)
// and returns after quorum commit. Retryable outcomes come back as
// *NotLeaderError, *WrongNodeError, *BusyError or *UnavailableError (see
// IsRetryable); other errors keep the callee's SQLSTATE.
func (c *Client) ForwardWrite(ctx context.Context, addr string, shardID, partitionVersion uint64, wb *store.WriteBatch) (WriteResult, error) {
	req := &pb.WriteRequest{ShardId: shardID, PartitionVersion: partitionVersion, Batch: store.AppendWriteBatch(nil, wb)}
	p, release, err := c.acquire(addr)
	if err != nil {
		return WriteResult{}, err
	}
	defer release()
	cctx, cancel := c.outgoing(ctx, true)
	defer cancel()
	resp, err := p.stub.Write(cctx, req)
	if err != nil {
		return WriteResult{}, callError(ctx, addr, "write", err)
	}
	switch r := resp.GetResult().(type) {
	case *pb.WriteResponse_Ok:
		return WriteResult{Rows: r.Ok.GetRows()}, nil
	case *pb.WriteResponse_Fault:
		return WriteResult{}, faultError(r.Fault)
	default:
		return WriteResult{}, pgerror.Newf(pgerror.CodeProtocolViolation, "longboat/rpc: write to %s: empty reply", addr)
	}
}

// Scan runs fragment f on the node at addr and calls fn for each
// SeriesBatch it streams back, in order. The batch passed to fn is valid
// only during the call. When fn returns an error, or ctx ends, the stream
// is cancelled (the callee stops) and Scan returns.
//
// Retryable errors (see IsRetryable) are returned only while nothing has
// been delivered to fn: once a batch was delivered the fragment cannot be
// retried, and any failure is a 40001 statement error without the typed
// error in its chain.
func (c *Client) Scan(ctx context.Context, addr string, f *ScanFragment, fn func(*store.SeriesBatch) error) error {
	p, release, err := c.acquire(addr)
	if err != nil {
		return err
	}
	defer release()
	sctx, cancel := c.outgoing(ctx, false)
	defer cancel() // also ends the stream on every early return
	stream, err := p.stub.Scan(sctx, fragmentToPB(f))
	if err != nil {
		return callError(ctx, addr, "scan", err)
	}
	delivered := 0
	fail := func(err error) error {
		if delivered > 0 && IsRetryable(err) {
			return pgerror.Newf(pgerror.CodeSerializationFailure,
				"longboat/rpc: scan of shard %d on %s failed after %d batches: %v", f.ShardID, addr, delivered, err)
		}
		return err
	}
	var b store.SeriesBatch
	for {
		chunk, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fail(callError(ctx, addr, "scan", err))
		}
		switch x := chunk.GetPayload().(type) {
		case *pb.ScanChunk_Batches:
			data := x.Batches.GetData()
			for i := range x.Batches.GetCount() {
				if data, err = store.DecodeSeriesBatch(data, &b); err != nil {
					return pgerror.Wrapf(err, pgerror.CodeInternal, "longboat/rpc: scan of shard %d on %s: batch %d of a chunk", f.ShardID, addr, i)
				}
				if err := fn(&b); err != nil {
					return err
				}
				delivered++
			}
			if len(data) != 0 {
				return pgerror.Newf(pgerror.CodeInternal, "longboat/rpc: scan of shard %d on %s: %d bytes after the last batch of a chunk", f.ShardID, addr, len(data))
			}
		case *pb.ScanChunk_Fault:
			return fail(faultError(x.Fault))
		default:
			return pgerror.Newf(pgerror.CodeProtocolViolation, "longboat/rpc: scan of shard %d on %s: empty chunk", f.ShardID, addr)
		}
	}
}

// Aggregate runs fragment f (a scan under a pushed aggregate) on the node
// at addr and returns its encoded partial groups (mpp.PartialAggregator).
// Every error is returned as the callee sent it: nothing has been consumed,
// so retryable ones may be retried elsewhere.
func (c *Client) Aggregate(ctx context.Context, addr string, f *ScanFragment) ([]byte, error) {
	p, release, err := c.acquire(addr)
	if err != nil {
		return nil, err
	}
	defer release()
	sctx, cancel := c.outgoing(ctx, false)
	defer cancel()
	stream, err := p.stub.Aggregate(sctx, fragmentToPB(f))
	if err != nil {
		return nil, callError(ctx, addr, "aggregate", err)
	}
	var out []byte
	for {
		chunk, err := stream.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, callError(ctx, addr, "aggregate", err)
		}
		switch x := chunk.GetPayload().(type) {
		case *pb.AggregateChunk_Data:
			if len(out)+len(x.Data) > c.maxResult() {
				return nil, pgerror.Newf(pgerror.CodeProgramLimitExceeded, "longboat/rpc: partial aggregate of shard %d on %s exceeds %d bytes", f.ShardID, addr, c.maxResult())
			}
			out = append(out, x.Data...)
		case *pb.AggregateChunk_Fault:
			return nil, faultError(x.Fault)
		default:
			return nil, pgerror.Newf(pgerror.CodeProtocolViolation, "longboat/rpc: aggregate of shard %d on %s: empty chunk", f.ShardID, addr)
		}
	}
}

// maxResult bounds an assembled partial aggregate: 16 messages' worth.
func (c *Client) maxResult() int { return 16 * c.opts.MaxMsgSize }

// Init sends `cluster init` to the node at addr.
func (c *Client) Init(ctx context.Context, addr string, req *InitRequest) (*InitResult, error) {
	p, release, err := c.acquire(addr)
	if err != nil {
		return nil, err
	}
	defer release()
	cctx, cancel := c.outgoing(ctx, true)
	defer cancel()
	resp, err := p.stub.Init(cctx, &pb.InitRequest{
		MetaNodes: req.MetaNodes, ProductVersion: req.ProductVersion, ProtocolVersion: req.ProtocolVersion,
		Members: nodesToPB(req.Members), ClusterTag: req.ClusterTag,
	})
	if err != nil {
		return nil, callError(ctx, addr, "init", err)
	}
	if f := resp.GetFault(); f != nil {
		return nil, faultError(f)
	}
	return &InitResult{
		ClusterTag: resp.GetClusterTag(), ProductVersion: resp.GetProductVersion(), ProtocolVersion: resp.GetProtocolVersion(),
		AlreadyInitialized: resp.GetAlreadyInitialized(), MetaNodes: nodesFromPB(resp.GetMetaNodes()),
	}, nil
}

// Join asks the node at addr to admit req.Node.
func (c *Client) Join(ctx context.Context, addr string, req *JoinRequest) (*JoinResult, error) {
	p, release, err := c.acquire(addr)
	if err != nil {
		return nil, err
	}
	defer release()
	cctx, cancel := c.outgoing(ctx, true)
	defer cancel()
	resp, err := p.stub.Join(cctx, &pb.JoinRequest{Node: nodeToPB(req.Node), ClusterTag: req.ClusterTag,
		ProductVersion: req.ProductVersion, ProtocolVersion: req.ProtocolVersion})
	if err != nil {
		return nil, callError(ctx, addr, "join", err)
	}
	if f := resp.GetFault(); f != nil {
		return nil, faultError(f)
	}
	return &JoinResult{ClusterTag: resp.GetClusterTag(), View: resp.GetView(),
		PartitionVersion: resp.GetPartitionVersion(), MetaNodes: nodesFromPB(resp.GetMetaNodes())}, nil
}

// Status asks the node at addr for the cluster status.
func (c *Client) Status(ctx context.Context, addr string) (*ClusterStatus, error) {
	p, release, err := c.acquire(addr)
	if err != nil {
		return nil, err
	}
	defer release()
	cctx, cancel := c.outgoing(ctx, true)
	defer cancel()
	resp, err := p.stub.Status(cctx, &pb.StatusRequest{})
	if err != nil {
		return nil, callError(ctx, addr, "status", err)
	}
	if f := resp.GetFault(); f != nil {
		return nil, faultError(f)
	}
	return statusFromPB(resp), nil
}
