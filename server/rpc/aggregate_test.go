package rpc

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// aggHandler answers Aggregate with data or err and records the fragment.
type aggHandler struct {
	data []byte
	err  error
	got  *ScanFragment
}

func (h *aggHandler) Aggregate(_ context.Context, f *ScanFragment) ([]byte, error) {
	h.got = f
	return h.data, h.err
}

// TestAggregateChunks sends a partial aggregate larger than a chunk: it
// arrives whole, in order, and the fragment arrives as sent.
func TestAggregateChunks(t *testing.T) {
	data := make([]byte, 10_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	h := &aggHandler{data: data}
	ts := startServer(t, Handlers{Aggregate: h}, ServerOptions{ChunkBytes: 1000})
	c := newTestClient(t, ClientOptions{})
	f := &ScanFragment{Database: "db", SQL: "SELECT count(*) FROM t", ScanOrdinal: 2, ShardID: 17, CatalogVersion: 9, Consistency: ReadFollower}
	got, err := c.Aggregate(context.Background(), ts.addr, f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want the %d sent", len(got), len(data))
	}
	if h.got.SQL != f.SQL || h.got.ShardID != 17 || h.got.ScanOrdinal != 2 || h.got.CatalogVersion != 9 || h.got.Consistency != ReadFollower {
		t.Fatalf("handler saw %+v", h.got)
	}
	// Empty partial (no group): an empty result, no error.
	h.data = nil
	if got, err := c.Aggregate(context.Background(), ts.addr, f); err != nil || len(got) != 0 {
		t.Fatalf("empty: %d bytes, %v", len(got), err)
	}
}

// TestAggregateFaults: retryable refusals come back typed, SQL errors with
// their SQLSTATE, and a node without a handler answers 0A000.
func TestAggregateFaults(t *testing.T) {
	h := &aggHandler{err: &NotLeaderError{ShardID: 5, LeaderNodeID: 3, LeaderAddr: "n3:7200"}}
	ts := startServer(t, Handlers{Aggregate: h}, ServerOptions{})
	c := newTestClient(t, ClientOptions{})
	_, err := c.Aggregate(context.Background(), ts.addr, &ScanFragment{ShardID: 5})
	var nl *NotLeaderError
	if !errors.As(err, &nl) || nl.LeaderNodeID != 3 || !IsRetryable(err) {
		t.Fatalf("not leader: %v", err)
	}
	h.err = pgerror.New(pgerror.CodeUndefinedColumn, "column \"x\" does not exist")
	if _, err := c.Aggregate(context.Background(), ts.addr, &ScanFragment{}); pgerror.Code(err) != pgerror.CodeUndefinedColumn || IsRetryable(err) {
		t.Fatalf("sql error: %v (code %s)", err, pgerror.Code(err))
	}
	none := startServer(t, Handlers{}, ServerOptions{})
	if _, err := c.Aggregate(context.Background(), none.addr, &ScanFragment{}); pgerror.Code(err) != pgerror.CodeFeatureNotSupported {
		t.Fatalf("no handler: %v", err)
	}
}
