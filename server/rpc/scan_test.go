package rpc

import (
	"bytes"
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// TestScanManyChunks streams thousands of batches through small chunks and
// checks that every batch arrives intact and in order.
func TestScanManyChunks(t *testing.T) {
	checkNoLeaks(t)
	const nBatches = 3000
	var sent [][]byte
	for i := range nBatches {
		sent = append(sent, store.AppendSeriesBatch(nil, testSeriesBatch(uint64(i), 1+i%150)))
	}
	ts := startServer(t, Handlers{Scan: scanFunc(func(ctx context.Context, f *ScanFragment, send func(*store.SeriesBatch) error) error {
		for i := range nBatches {
			// The handler reuses its batch, as the store does.
			b := testSeriesBatch(uint64(i), 1+i%150)
			if err := send(b); err != nil {
				return err
			}
			clear(b.Times)
		}
		return nil
	})}, ServerOptions{ChunkBytes: 16 << 10})
	c := newTestClient(t, ClientOptions{})
	var got int
	err := c.Scan(context.Background(), ts.addr, &ScanFragment{ShardID: 5}, func(b *store.SeriesBatch) error {
		if got >= nBatches {
			t.Fatalf("more than %d batches", nBatches)
		}
		if enc := store.AppendSeriesBatch(nil, b); !bytes.Equal(enc, sent[got]) {
			t.Fatalf("batch %d differs", got)
		}
		got++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != nBatches {
		t.Fatalf("got %d batches, want %d", got, nBatches)
	}
	if n := ts.chunks.Load(); n < 20 {
		t.Fatalf("%d chunks: the stream was not chunked", n)
	}
	if m := ts.maxChunk.Load(); m > 16<<10 {
		t.Fatalf("a chunk of %d bytes exceeds the 16 KiB limit", m)
	}
}

// TestScanSplitsLongBatches sends one batch far over the chunk size and the
// per-batch row limit: it arrives as consecutive pieces of the same series.
func TestScanSplitsLongBatches(t *testing.T) {
	checkNoLeaks(t)
	const n = 3*maxChunkRows + 123
	big := testSeriesBatch(9, n)
	for i := range big.Fields[0].F64 {
		big.Fields[0].F64[i] = math.Sqrt(float64(i)) // Gorilla: ~8 bytes a value
	}
	ts := startServer(t, Handlers{Scan: scanFunc(func(ctx context.Context, f *ScanFragment, send func(*store.SeriesBatch) error) error {
		return send(big)
	})}, ServerOptions{ChunkBytes: 64 << 10})
	c := newTestClient(t, ClientOptions{})
	var times []int64
	var f64 []float64
	var null []bool
	pieces := 0
	err := c.Scan(context.Background(), ts.addr, &ScanFragment{}, func(b *store.SeriesBatch) error {
		pieces++
		if b.SeriesID != 9 || !reflect.DeepEqual(b.Tags, big.Tags) || len(b.Fields) != len(big.Fields) {
			t.Fatalf("piece %d: series %d tags %v", pieces, b.SeriesID, b.Tags)
		}
		times = append(times, b.Times...)
		f64 = append(f64, b.Fields[0].F64...)
		null = append(null, b.Fields[1].Null...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pieces < n/maxChunkRows || !reflect.DeepEqual(times, big.Times) || !reflect.DeepEqual(f64, big.Fields[0].F64) || !reflect.DeepEqual(null, big.Fields[1].Null) {
		t.Fatalf("%d pieces do not reassemble the batch", pieces)
	}
	if m := ts.maxChunk.Load(); m > 64<<10 {
		t.Fatalf("a chunk of %d bytes exceeds the 64 KiB limit", m)
	}
}

// TestScanCancelStopsHandler cancels the caller mid-stream, and separately
// stops it from the callback: either way the server's handler sees its
// context end and returns.
func TestScanCancelStopsHandler(t *testing.T) {
	checkNoLeaks(t)
	exited := make(chan error, 1)
	ts := startServer(t, Handlers{Scan: scanFunc(func(ctx context.Context, f *ScanFragment, send func(*store.SeriesBatch) error) error {
		b := testSeriesBatch(1, 100)
		for {
			if err := send(b); err != nil {
				if ctx.Err() == nil {
					exited <- errors.New("send failed but the handler's context is live")
				} else {
					exited <- nil
				}
				return err
			}
		}
	})}, ServerOptions{ChunkBytes: 4 << 10})
	c := newTestClient(t, ClientOptions{})
	waitExit := func(t *testing.T) {
		select {
		case err := <-exited:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the server handler is still running after the caller went away")
		}
	}

	t.Run("ctx cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		err := c.Scan(ctx, ts.addr, &ScanFragment{}, func(*store.SeriesBatch) error {
			if n++; n == 500 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || pgerror.Code(err) != pgerror.CodeQueryCanceled {
			t.Fatalf("got %v, want a 57014 error wrapping context.Canceled", err)
		}
		waitExit(t)
	})
	t.Run("callback error", func(t *testing.T) {
		stop := errors.New("limit reached")
		n := 0
		err := c.Scan(context.Background(), ts.addr, &ScanFragment{}, func(*store.SeriesBatch) error {
			if n++; n == 500 {
				return stop
			}
			return nil
		})
		if err != stop {
			t.Fatalf("got %v, want the callback's error", err)
		}
		waitExit(t)
	})
}

// TestScanFaults checks the errors a scan handler returns, before and after
// data went out.
func TestScanFaults(t *testing.T) {
	checkNoLeaks(t)
	var reply error
	var sendFirst int
	ts := startServer(t, Handlers{Scan: scanFunc(func(ctx context.Context, f *ScanFragment, send func(*store.SeriesBatch) error) error {
		for i := range sendFirst {
			if err := send(testSeriesBatch(uint64(i), 50)); err != nil {
				return err
			}
		}
		return reply
	})}, ServerOptions{ChunkBytes: 1 << 10})
	c := newTestClient(t, ClientOptions{})
	scan := func() (int, error) {
		n := 0
		err := c.Scan(context.Background(), ts.addr, &ScanFragment{ShardID: 8}, func(*store.SeriesBatch) error { n++; return nil })
		return n, err
	}

	reply, sendFirst = &NotLeaderError{ShardID: 8, LeaderNodeID: 4, LeaderAddr: "n4:7000"}, 0
	_, err := scan()
	var nl *NotLeaderError
	if !IsRetryable(err) || !errors.As(err, &nl) || nl.LeaderAddr != "n4:7000" {
		t.Fatalf("not leader before data: got %v, want a retryable *NotLeaderError", err)
	}

	reply, sendFirst = &CatalogBehindError{Have: 1, Want: 2}, 0
	if _, err := scan(); !IsRetryable(err) || pgerror.Code(err) != pgerror.CodeSerializationFailure {
		t.Fatalf("catalog behind: got %v", err)
	}

	// A batch buffered but not yet sent is dropped with the fault: still
	// nothing delivered, still retryable.
	reply, sendFirst = &WrongNodeError{ShardID: 8, PartitionVersion: 3}, 1
	if n, err := scan(); n != 0 || !IsRetryable(err) {
		t.Fatalf("wrong node after one buffered batch: %d delivered, %v", n, err)
	}

	// After data went out the fragment cannot be retried.
	reply, sendFirst = &NotLeaderError{ShardID: 8}, 20
	if n, err := scan(); n == 0 || IsRetryable(err) || pgerror.Code(err) != pgerror.CodeSerializationFailure {
		t.Fatalf("not leader after data: %d delivered, %v; want a non-retryable 40001", n, err)
	}

	reply, sendFirst = pgerror.New(pgerror.CodeUndefinedTable, `relation "cpu" does not exist`), 0
	if _, err := scan(); pgerror.Code(err) != pgerror.CodeUndefinedTable || IsRetryable(err) {
		t.Fatalf("got %v, want 42P01", err)
	}

	reply, sendFirst = nil, 3
	if n, err := scan(); err != nil || n != 3 {
		t.Fatalf("clean end: %d batches, %v", n, err)
	}
}

// TestRemoteScannerFragment checks that the fragment's identity and the
// request's plain fields reach the handler exactly, and the function fields
// do not.
func TestRemoteScannerFragment(t *testing.T) {
	checkNoLeaks(t)
	got := make(chan *ScanFragment, 1)
	ts := startServer(t, Handlers{Scan: scanFunc(func(ctx context.Context, f *ScanFragment, send func(*store.SeriesBatch) error) error {
		got <- f
		return send(testSeriesBatch(1, 3))
	})}, ServerOptions{})
	c := newTestClient(t, ClientOptions{})
	rs := &RemoteScanner{Client: c, Addr: ts.addr, Fragment: ScanFragment{
		Database: "metrics",
		SQL:      "SELECT max(usage_user) FROM cpu WHERE hostname = $1 AND note = '\xff' GROUP BY 1",
		Params: []types.Datum{
			types.NewText("host_1"), types.NewInt(types.Int8, -7), types.NewFloat8(2.5), types.NullOf(types.Timestamptz),
			types.NewInterval(1, 2, 3), {T: types.Bytea, S: "\x00\xff"},
		},
		ParamTypes:     []types.OID{types.Text, types.Int8, types.Float8, types.Timestamptz, types.Interval, types.Bytea},
		NowMicros:      1_700_000_000_000_000,
		User:           "longboat",
		Settings:       map[string]string{"TimeZone": "Europe/Paris", "DateStyle": "ISO, MDY"},
		Subqueries:     [][]types.Datum{{types.NewText("a"), types.NewText("b")}, nil, {types.NewBool(true)}},
		ScanOrdinal:    2,
		ShardID:        77,
		CatalogVersion: 12,
		Consistency:    ReadFollower,
	}}
	req := &store.ScanRequest{
		TableID: 4, MinTime: -5, MaxTime: 1 << 50, Fields: []uint16{1, 9, 65535}, Reverse: true, Limit: 1,
		SeriesFilter: func([]string) bool { return false },
		UseStats:     func(int64, int64) bool { return true },
	}
	n := 0
	if err := rs.Scan(context.Background(), req, func(*store.SeriesBatch) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("scan: %d batches, %v", n, err)
	}
	f := <-got
	if f.Request.SeriesFilter != nil {
		t.Error("SeriesFilter crossed the wire")
	}
	if f.Request.UseStats == nil || f.Request.UseStats(0, 1) {
		t.Error("UseStats should arrive as a placeholder that returns false")
	}
	want := rs.Fragment
	want.Request = *req
	want.Request.SeriesFilter, want.Request.UseStats, f.Request.UseStats = nil, nil, nil
	want.Subqueries[1] = nil
	if !reflect.DeepEqual(f, &want) {
		t.Fatalf("fragment\n got %+v\nwant %+v", *f, want)
	}

	// Without UseStats the placeholder is absent.
	req.UseStats = nil
	if err := rs.Scan(context.Background(), req, func(*store.SeriesBatch) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if f := <-got; f.Request.UseStats != nil {
		t.Error("UseStats placeholder without UseStats")
	}
}

func TestFragmentFromPBRejectsBadValues(t *testing.T) {
	good := fragmentToPB(&ScanFragment{Request: store.ScanRequest{Fields: []uint16{1}}})
	if _, err := fragmentFromPB(good); err != nil {
		t.Fatal(err)
	}
	bad := fragmentToPB(&ScanFragment{})
	bad.Fields = []uint32{1 << 16}
	if _, err := fragmentFromPB(bad); err == nil {
		t.Error("field ID over 65535 accepted")
	}
	bad = fragmentToPB(&ScanFragment{})
	bad.Limit = -1
	if _, err := fragmentFromPB(bad); err == nil {
		t.Error("negative limit accepted")
	}
	bad = fragmentToPB(&ScanFragment{})
	bad.ReadConsistency = 9
	if _, err := fragmentFromPB(bad); err == nil {
		t.Error("unknown read consistency accepted")
	}
}
