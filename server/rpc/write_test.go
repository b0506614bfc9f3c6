package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	pb "github.com/longboatdb/longboat/server/rpc/longboatpb"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
)

func TestForwardWriteOK(t *testing.T) {
	checkNoLeaks(t)
	fw := &fakeWrite{rows: 3}
	ts := startServer(t, Handlers{Write: fw}, ServerOptions{})
	c := newTestClient(t, ClientOptions{NodeID: 1})
	wb := testWriteBatch()
	res, err := c.ForwardWrite(context.Background(), ts.addr, 17, 9, wb)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 {
		t.Fatalf("rows = %d, want 3", res.Rows)
	}
	if len(fw.got) != 1 {
		t.Fatalf("handler called %d times", len(fw.got))
	}
	got := fw.got[0]
	if got.ShardID != 17 || got.PartitionVersion != 9 {
		t.Fatalf("shard %d version %d, want 17 and 9", got.ShardID, got.PartitionVersion)
	}
	want := store.AppendWriteBatch(nil, wb)
	if !bytes.Equal(store.AppendWriteBatch(nil, got.Batch), want) || !bytes.Equal(got.Encoded, want) {
		t.Fatal("the handler's batch differs from the one sent")
	}
}

// TestForwardWriteReplies checks that every reply a handler can give maps
// to the right error on the caller, both ways across the wire.
func TestForwardWriteReplies(t *testing.T) {
	checkNoLeaks(t)
	fw := &fakeWrite{}
	ts := startServer(t, Handlers{Write: fw}, ServerOptions{})
	c := newTestClient(t, ClientOptions{})
	cases := []struct {
		name      string
		err       error
		code      string
		retryable bool
		check     func(t *testing.T, err error)
	}{
		{"not leader", &NotLeaderError{ShardID: 17, LeaderNodeID: 2, LeaderAddr: "10.0.0.2:7000"}, pgerror.CodeSerializationFailure, true,
			func(t *testing.T, err error) {
				var e *NotLeaderError
				if !errors.As(err, &e) || *e != (NotLeaderError{ShardID: 17, LeaderNodeID: 2, LeaderAddr: "10.0.0.2:7000"}) {
					t.Fatalf("got %#v", err)
				}
			}},
		{"not leader, leader unknown", &NotLeaderError{ShardID: 17}, pgerror.CodeSerializationFailure, true,
			func(t *testing.T, err error) {
				var e *NotLeaderError
				if !errors.As(err, &e) || e.LeaderAddr != "" || e.LeaderNodeID != 0 {
					t.Fatalf("got %#v", err)
				}
			}},
		{"not leader wrapped by the handler", pgerror.Wrapf(&NotLeaderError{ShardID: 17, LeaderNodeID: 3, LeaderAddr: "h3:7000"}, pgerror.CodeSerializationFailure, "propose"),
			pgerror.CodeSerializationFailure, true,
			func(t *testing.T, err error) {
				var e *NotLeaderError
				if !errors.As(err, &e) || e.LeaderNodeID != 3 || e.LeaderAddr != "h3:7000" {
					t.Fatalf("got %#v", err)
				}
			}},
		{"wrong node", fmt.Errorf("routing: %w", &WrongNodeError{ShardID: 17, PartitionVersion: 42}), pgerror.CodeSerializationFailure, true,
			func(t *testing.T, err error) {
				var e *WrongNodeError
				if !errors.As(err, &e) || *e != (WrongNodeError{ShardID: 17, PartitionVersion: 42}) {
					t.Fatalf("got %#v", err)
				}
			}},
		{"busy", &BusyError{RetryAfter: 250 * time.Millisecond}, codeInsufficientResources, true,
			func(t *testing.T, err error) {
				var e *BusyError
				if !errors.As(err, &e) || e.RetryAfter != 250*time.Millisecond {
					t.Fatalf("got %#v", err)
				}
			}},
		{"catalog behind", &CatalogBehindError{Have: 3, Want: 5}, pgerror.CodeSerializationFailure, true,
			func(t *testing.T, err error) {
				var e *CatalogBehindError
				if !errors.As(err, &e) || *e != (CatalogBehindError{Have: 3, Want: 5}) {
					t.Fatalf("got %#v", err)
				}
			}},
		{"sqlstate, detail and hint", pgerror.WithHint(pgerror.WithDetail(pgerror.New(pgerror.CodeNotNullViolation, "null value in column \"x\""), "Failing row."), "Set x."),
			pgerror.CodeNotNullViolation, false,
			func(t *testing.T, err error) {
				fe := pgerror.Flatten(err)
				if fe.Message != `null value in column "x"` || fe.Detail != "Failing row." || fe.Hint != "Set x." {
					t.Fatalf("got %+v", fe)
				}
			}},
		{"timeout leaves the outcome unknown", pgerror.New(pgerror.CodeStatementCompletionUnk, "write timed out"), pgerror.CodeStatementCompletionUnk, false, nil},
		{"error without a code", errors.New("disk on fire"), pgerror.CodeInternal, false,
			func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "disk on fire") {
					t.Fatalf("got %v", err)
				}
			}},
		{"message that is not UTF-8", pgerror.New(pgerror.CodeInvalidTextRep, "bad value \xff\xfe"), pgerror.CodeInvalidTextRep, false,
			func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "bad value") {
					t.Fatalf("got %v", err)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fw.mu.Lock()
			fw.err = tc.err
			fw.mu.Unlock()
			_, err := c.ForwardWrite(context.Background(), ts.addr, 17, 1, testWriteBatch())
			if err == nil {
				t.Fatal("no error")
			}
			if got := pgerror.Code(err); got != tc.code {
				t.Errorf("SQLSTATE %s, want %s (%v)", got, tc.code, err)
			}
			if got := IsRetryable(err); got != tc.retryable {
				t.Errorf("IsRetryable = %v, want %v (%v)", got, tc.retryable, err)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
		})
	}
}

func TestForwardWriteMalformedBatch(t *testing.T) {
	checkNoLeaks(t)
	fw := &fakeWrite{}
	ts := startServer(t, Handlers{Write: fw}, ServerOptions{})
	c := newTestClient(t, ClientOptions{})
	p, release, err := c.acquire(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := c.outgoing(context.Background(), true)
	defer cancel()
	resp, err := p.stub.Write(ctx, &pb.WriteRequest{ShardId: 1, Batch: []byte{store.WriteBatchVersion, 5, 0xff}})
	if err != nil {
		t.Fatal(err)
	}
	f := resp.GetFault()
	if f == nil {
		t.Fatalf("reply %v, want a fault", resp)
	}
	if got := pgerror.Code(faultError(f)); got != pgerror.CodeProtocolViolation {
		t.Fatalf("SQLSTATE %s, want 08P01", got)
	}
	if len(fw.got) != 0 {
		t.Fatal("handler called with a malformed batch")
	}
}

// TestCallDeadline checks that a call's deadline comes from ctx, or from
// CallTimeout when ctx has none.
func TestCallDeadline(t *testing.T) {
	checkNoLeaks(t)
	deadlines := make(chan time.Time, 1)
	fw := &fakeWrite{fn: func(ctx context.Context, _ *WriteRequest) {
		d, _ := ctx.Deadline()
		deadlines <- d
	}}
	ts := startServer(t, Handlers{Write: fw}, ServerOptions{})
	c := newTestClient(t, ClientOptions{CallTimeout: 42 * time.Second})

	start := time.Now()
	if _, err := c.ForwardWrite(context.Background(), ts.addr, 1, 1, testWriteBatch()); err != nil {
		t.Fatal(err)
	}
	if d := <-deadlines; d.IsZero() || d.Before(start.Add(30*time.Second)) || d.After(time.Now().Add(42*time.Second)) {
		t.Fatalf("deadline %v without a ctx deadline; want about start+42s (start %v)", d, start)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if _, err := c.ForwardWrite(ctx, ts.addr, 1, 1, testWriteBatch()); err != nil {
		t.Fatal(err)
	}
	want, _ := ctx.Deadline()
	// The callee rebuilds the deadline from the remaining time: allow skew.
	if d := <-deadlines; d.IsZero() || d.After(want.Add(time.Minute)) || d.Before(want.Add(-time.Minute)) {
		t.Fatalf("deadline %v, want the ctx deadline %v", d, want)
	}
}

func TestHandlerPanic(t *testing.T) {
	checkNoLeaks(t)
	fw := &fakeWrite{}
	fw.fn = func(_ context.Context, req *WriteRequest) {
		if req.ShardID == 666 {
			panic("boom")
		}
	}
	ts := startServer(t, Handlers{Write: fw}, ServerOptions{})
	c := newTestClient(t, ClientOptions{})
	_, err := c.ForwardWrite(context.Background(), ts.addr, 666, 1, testWriteBatch())
	if pgerror.Code(err) != pgerror.CodeInternal || !strings.Contains(err.Error(), "boom") || IsRetryable(err) {
		t.Fatalf("got %v, want an XX000 error naming the panic", err)
	}
	// The server survives.
	if _, err := c.ForwardWrite(context.Background(), ts.addr, 1, 1, testWriteBatch()); err != nil {
		t.Fatal(err)
	}
}

func TestUnservedCalls(t *testing.T) {
	checkNoLeaks(t)
	ts := startServer(t, Handlers{}, ServerOptions{})
	c := newTestClient(t, ClientOptions{})
	ctx := context.Background()
	_, err := c.ForwardWrite(ctx, ts.addr, 1, 1, testWriteBatch())
	if pgerror.Code(err) != pgerror.CodeFeatureNotSupported {
		t.Errorf("write: %v", err)
	}
	err = c.Scan(ctx, ts.addr, &ScanFragment{}, func(*store.SeriesBatch) error { return nil })
	if pgerror.Code(err) != pgerror.CodeFeatureNotSupported {
		t.Errorf("scan: %v", err)
	}
	_, err = c.Status(ctx, ts.addr)
	if pgerror.Code(err) != pgerror.CodeFeatureNotSupported {
		t.Errorf("status: %v", err)
	}
}
