package rpc

import (
	"context"
	"errors"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/longboatdb/longboat/server/rpc/longboatpb"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// fakeAdmin records admin calls and answers with fixed results.
type fakeAdmin struct {
	mu      sync.Mutex
	init    *InitRequest
	join    *JoinRequest
	joinErr error
}

var testMeta = []NodeInfo{
	{NodeID: 1, RPCAddr: "n1:7000", RaftAddr: "n1:7100", PGAddr: "n1:5432", HTTPAddr: "n1:8080", GossipAddr: "n1:7946"},
	{NodeID: 2, RPCAddr: "n2:7000", RaftAddr: "n2:7100"},
}

func (a *fakeAdmin) Init(_ context.Context, req *InitRequest) (*InitResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	already := a.init != nil
	if already && !reflect.DeepEqual(a.init, req) {
		return nil, pgerror.New("55000", "cluster already initialised with other meta nodes")
	}
	a.init = req
	return &InitResult{ClusterTag: "c-1234", ProductVersion: "0.3.0", ProtocolVersion: ProtocolVersion, AlreadyInitialized: already, MetaNodes: testMeta}, nil
}

func (a *fakeAdmin) Join(_ context.Context, req *JoinRequest) (*JoinResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.join = req
	if a.joinErr != nil {
		return nil, a.joinErr
	}
	return &JoinResult{ClusterTag: "c-1234", View: 7, PartitionVersion: 19, MetaNodes: testMeta}, nil
}

func (a *fakeAdmin) Status(context.Context) (*ClusterStatus, error) {
	return &ClusterStatus{
		ClusterTag: "c-1234", ProductVersion: "0.3.0", ProtocolVersion: ProtocolVersion,
		View: 7, PartitionVersion: 19, CatalogVersion: 4, ResponderNodeID: 1,
		Nodes: []NodeStatus{
			{Node: testMeta[0], State: "HEALTHY", Shards: 12, Leaders: 4, ProductVersion: "0.3.0"},
			{Node: testMeta[1], State: "JOINING"},
		},
	}, nil
}

func TestAdminCalls(t *testing.T) {
	checkNoLeaks(t)
	admin := &fakeAdmin{}
	ts := startServer(t, Handlers{Admin: admin}, ServerOptions{ClusterTag: func() string { return "c-1234" }})
	c := newTestClient(t, ClientOptions{})
	ctx := context.Background()

	initReq := &InitRequest{MetaNodes: []string{"n1:7000", "n2:7000"}, ProductVersion: "0.3.0", ProtocolVersion: ProtocolVersion}
	res, err := c.Init(ctx, ts.addr, initReq)
	if err != nil {
		t.Fatal(err)
	}
	want := &InitResult{ClusterTag: "c-1234", ProductVersion: "0.3.0", ProtocolVersion: ProtocolVersion, MetaNodes: testMeta}
	if !reflect.DeepEqual(res, want) || !reflect.DeepEqual(admin.init, initReq) {
		t.Fatalf("init: got %+v (handler saw %+v)", res, admin.init)
	}
	if res, err = c.Init(ctx, ts.addr, initReq); err != nil || !res.AlreadyInitialized {
		t.Fatalf("repeated init: %+v, %v", res, err)
	}
	_, err = c.Init(ctx, ts.addr, &InitRequest{MetaNodes: []string{"n9:7000"}})
	if pgerror.Code(err) != "55000" {
		t.Fatalf("conflicting init: %v, want 55000", err)
	}

	joinReq := &JoinRequest{Node: NodeInfo{NodeID: 3, RPCAddr: "n3:7000", RaftAddr: "n3:7100", PGAddr: "n3:5432", HTTPAddr: "n3:8080", GossipAddr: "n3:7946"},
		ClusterTag: "c-1234", ProductVersion: "0.3.0", ProtocolVersion: ProtocolVersion}
	jr, err := c.Join(ctx, ts.addr, joinReq)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(jr, &JoinResult{ClusterTag: "c-1234", View: 7, PartitionVersion: 19, MetaNodes: testMeta}) || !reflect.DeepEqual(admin.join, joinReq) {
		t.Fatalf("join: got %+v (handler saw %+v)", jr, admin.join)
	}
	admin.joinErr = pgerror.WithHint(pgerror.New(pgerror.CodeProtocolViolation, "product version 0.1.0 is too old"), "Upgrade the node.")
	if _, err := c.Join(ctx, ts.addr, joinReq); pgerror.Code(err) != pgerror.CodeProtocolViolation || pgerror.Flatten(err).Hint != "Upgrade the node." {
		t.Fatalf("refused join: %v", err)
	}
	admin.joinErr = &NotLeaderError{LeaderNodeID: 2, LeaderAddr: "n2:7000"}
	var nl *NotLeaderError
	if _, err := c.Join(ctx, ts.addr, joinReq); !errors.As(err, &nl) || nl.LeaderAddr != "n2:7000" {
		t.Fatalf("join at a follower: %v", err)
	}

	st, err := c.Status(ctx, ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	if wantSt, _ := admin.Status(ctx); !reflect.DeepEqual(st, wantSt) {
		t.Fatalf("status\n got %+v\nwant %+v", st, wantSt)
	}
}

// TestPeerChecks: calls from another cluster or protocol version are
// refused; Init and Join are exempt from the cluster check.
func TestPeerChecks(t *testing.T) {
	checkNoLeaks(t)
	admin := &fakeAdmin{}
	ts := startServer(t, Handlers{Admin: admin, Write: &fakeWrite{}}, ServerOptions{ClusterTag: func() string { return "c-1234" }})
	ctx := context.Background()

	other := newTestClient(t, ClientOptions{ClusterTag: func() string { return "c-9999" }})
	_, err := other.Status(ctx, ts.addr)
	if !errors.Is(err, ErrIncompatible) || pgerror.Code(err) != pgerror.CodeProtocolViolation || IsRetryable(err) {
		t.Fatalf("status from another cluster: %v", err)
	}
	if _, err := other.ForwardWrite(ctx, ts.addr, 1, 1, testWriteBatch()); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("write from another cluster: %v", err)
	}
	if _, err := other.Join(ctx, ts.addr, &JoinRequest{ClusterTag: "c-9999"}); err != nil {
		t.Fatalf("join is checked by the handler, not the transport: %v", err)
	}
	if _, err := newTestClient(t, ClientOptions{}).Status(ctx, ts.addr); err != nil {
		t.Fatalf("a caller that does not know the tag yet (the CLI): %v", err)
	}

	// A raw gRPC client sends no protocol version.
	cc, err := grpc.NewClient("passthrough:///"+ts.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	_, err = pb.NewNodeClient(cc).Status(ctx, &pb.StatusRequest{})
	if err = callError(ctx, ts.addr, "status", err); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("call without a protocol version: %v", err)
	}
}

// freeAddr returns a 127.0.0.1 address nothing listens on.
func freeAddr(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	if err := lis.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestServerDown: calls to a node that is not there fail at once with a
// retryable error, well before the caller's deadline; a restarted node is
// reached again.
func TestServerDown(t *testing.T) {
	checkNoLeaks(t)
	c := newTestClient(t, ClientOptions{})
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	check := func(what string, err error) {
		t.Helper()
		var un *UnavailableError
		if !errors.As(err, &un) || un.Addr != addr || !IsRetryable(err) || pgerror.Code(err) != pgerror.CodeUnavailable {
			t.Fatalf("%s to a down node: %v, want *UnavailableError (57P03)", what, err)
		}
		if ctx.Err() != nil {
			t.Fatalf("%s waited for the caller's deadline", what)
		}
	}
	_, err := c.ForwardWrite(ctx, addr, 1, 1, testWriteBatch())
	check("write", err)
	check("scan", c.Scan(ctx, addr, &ScanFragment{}, func(*store.SeriesBatch) error { return nil }))
	_, err = c.Status(ctx, addr)
	check("status", err)

	// The node comes up on that address: the same client reaches it (after
	// at most one reconnect backoff).
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	ts := serveOn(t, lis, Handlers{Admin: &fakeAdmin{}}, ServerOptions{})
	for {
		if _, err = c.Status(ctx, addr); err == nil {
			break
		}
		if !IsRetryable(err) || ctx.Err() != nil {
			t.Fatalf("restarted node: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// And it goes down again.
	ts.stop()
	_, err = c.Status(ctx, addr)
	check("status after stop", err)
}

// TestIdleConnections: a connection unused for IdleTimeout is closed, one
// with a call in flight never is, and a closed one is re-dialled on demand.
func TestIdleConnections(t *testing.T) {
	checkNoLeaks(t)
	release := make(chan struct{})
	started := make(chan struct{})
	ts := startServer(t, Handlers{Admin: &fakeAdmin{}, Scan: scanFunc(func(ctx context.Context, f *ScanFragment, send func(*store.SeriesBatch) error) error {
		close(started)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})}, ServerOptions{})
	c := newTestClient(t, ClientOptions{IdleTimeout: time.Hour})
	ctx := context.Background()
	if _, err := c.Status(ctx, ts.addr); err != nil {
		t.Fatal(err)
	}
	if n := c.numConns(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
	if n := c.closeIdle(time.Now().Add(-time.Hour)); n != 0 {
		t.Fatalf("closed %d recently used connections", n)
	}
	if n := c.closeIdle(time.Now().Add(time.Second)); n != 1 || c.numConns() != 0 {
		t.Fatalf("closed %d idle connections, %d left", n, c.numConns())
	}
	if _, err := c.Status(ctx, ts.addr); err != nil {
		t.Fatalf("after the idle close: %v", err)
	}

	done := make(chan error, 1)
	go func() { done <- c.Scan(ctx, ts.addr, &ScanFragment{}, func(*store.SeriesBatch) error { return nil }) }()
	<-started
	if n := c.closeIdle(time.Now().Add(time.Hour)); n != 0 {
		t.Fatalf("closed a connection with a stream in flight")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := c.closeIdle(time.Now().Add(time.Hour)); n != 1 {
		t.Fatalf("closed %d connections after the stream ended, want 1", n)
	}
}

func TestClientClosed(t *testing.T) {
	checkNoLeaks(t)
	ts := startServer(t, Handlers{Admin: &fakeAdmin{}}, ServerOptions{})
	c := NewClient(ClientOptions{Logger: quietLogger()})
	if _, err := c.Status(context.Background(), ts.addr); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := c.Status(context.Background(), ts.addr); !errors.Is(err, ErrClientClosed) {
		t.Fatalf("call after close: %v", err)
	}
}
