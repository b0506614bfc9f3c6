package rpc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	pb "github.com/longboatdb/longboat/server/rpc/longboatpb"
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
)

// testServer is a real gRPC server on a 127.0.0.1 ephemeral port.
type testServer struct {
	addr   string
	srv    *grpc.Server
	done   chan struct{}
	chunks atomic.Int64 // scan chunks sent
	// maxChunk is the largest Batches.Data sent.
	maxChunk atomic.Int64
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelError + 1}))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// startServer serves h until the test ends (or ts.stop).
func startServer(t testing.TB, h Handlers, opts ServerOptions) *testServer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, lis, h, opts)
}

func serveOn(t testing.TB, lis net.Listener, h Handlers, opts ServerOptions) *testServer {
	t.Helper()
	ts := &testServer{addr: lis.Addr().String(), done: make(chan struct{})}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	opts.GRPC = append(opts.GRPC, grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &countingStream{ServerStream: ss, ts: ts})
	}))
	ts.srv = NewServer(h, opts)
	go func() {
		defer close(ts.done)
		_ = ts.srv.Serve(lis)
	}()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	ts.srv.Stop()
	<-ts.done
}

// countingStream records the scan chunks a server sends.
type countingStream struct {
	grpc.ServerStream
	ts *testServer
}

func (s *countingStream) SendMsg(m any) error {
	if c, ok := m.(*pb.ScanChunk); ok && c.GetBatches() != nil {
		s.ts.chunks.Add(1)
		n := int64(len(c.GetBatches().GetData()))
		for {
			old := s.ts.maxChunk.Load()
			if n <= old || s.ts.maxChunk.CompareAndSwap(old, n) {
				break
			}
		}
	}
	return s.ServerStream.SendMsg(m)
}

func newTestClient(t *testing.T, opts ClientOptions) *Client {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	c := NewClient(opts)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close client: %v", err)
		}
	})
	return c
}

// checkNoLeaks fails the test if goroutines of this package or of gRPC are
// still running once the test's cleanups have run. Register it first.
func checkNoLeaks(t *testing.T) {
	t.Cleanup(func() {
		var last string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			last = leakedGoroutines()
			if last == "" {
				return
			}
		}
		t.Errorf("leaked goroutines:\n%s", last)
	})
}

func leakedGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var leaks []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "testing.tRunner") || strings.Contains(g, "testing.(*T)") {
			continue // the tests themselves
		}
		if strings.Contains(g, "google.golang.org/grpc") || strings.Contains(g, "longboat/server/rpc.(*") {
			leaks = append(leaks, g)
		}
	}
	return strings.Join(leaks, "\n\n")
}

// fakeWrite answers writes with err (or rows) and records the requests.
type fakeWrite struct {
	mu   sync.Mutex
	err  error
	rows uint64
	got  []*WriteRequest
	fn   func(ctx context.Context, req *WriteRequest) // optional hook
}

func (f *fakeWrite) Write(ctx context.Context, req *WriteRequest) (WriteResult, error) {
	if f.fn != nil {
		f.fn(ctx, req)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := *req
	f.got = append(f.got, &cp)
	if f.err != nil {
		return WriteResult{}, f.err
	}
	return WriteResult{Rows: f.rows}, nil
}

// scanFunc adapts a function to ScanHandler.
type scanFunc func(ctx context.Context, f *ScanFragment, send func(*store.SeriesBatch) error) error

func (fn scanFunc) Scan(ctx context.Context, f *ScanFragment, send func(*store.SeriesBatch) error) error {
	return fn(ctx, f, send)
}

// testWriteBatch is a small batch with a NULL.
func testWriteBatch() *store.WriteBatch {
	return &store.WriteBatch{Tables: []store.TableRows{{
		TableID:   3,
		FieldIDs:  []uint16{4, 5},
		Series:    [][]string{{"host_1", "eu"}, {"host_2", "us"}},
		SeriesIdx: []uint32{0, 1, 0},
		Times:     []int64{1_000_000, 1_000_000, 2_000_000},
		Fields: []store.Vector{
			{Type: shard.TypeFloat8, F64: []float64{1.5, 2.5, 0}, Null: []bool{false, false, true}},
			{Type: shard.TypeText, Str: []string{"a", "b", "c"}},
		},
	}}}
}

// testSeriesBatch is a batch of n points of series id, with no garbage at
// NULL positions (so encodings compare equal exactly when batches do).
func testSeriesBatch(id uint64, n int) *store.SeriesBatch {
	b := &store.SeriesBatch{SeriesID: id, Tags: []string{fmt.Sprintf("host_%d", id), "eu-west-1"}}
	f := store.Vector{Type: shard.TypeFloat8, F64: make([]float64, n)}
	i := store.Vector{Type: shard.TypeInt8, I64: make([]int64, n), Null: make([]bool, n)}
	s := store.Vector{Type: shard.TypeText, Str: make([]string, n)}
	for r := range n {
		b.Times = append(b.Times, int64(id)*1_000_000_000+int64(r)*10_000_000)
		f.F64[r] = float64(r%97) * 1.25
		if r%5 == 0 {
			i.Null[r] = true
		} else {
			i.I64[r] = int64(r * r)
		}
		s.Str[r] = fmt.Sprintf("s%d", r%7)
	}
	b.Fields = []store.Vector{f, i, s, {Type: shard.TypeInvalid, Null: allTrue(n)}}
	return b
}

func allTrue(n int) []bool {
	b := make([]bool, n)
	for i := range b {
		b[i] = true
	}
	return b
}
