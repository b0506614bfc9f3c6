package rpc

import (
	"context"

	"github.com/longboatdb/longboat/mpp"
	"github.com/longboatdb/longboat/shard/store"
)

// RemoteScanner is an mpp.Scanner that runs the scan on another node: a
// fragment of a statement that the callee re-plans (see ScanFragment).
//
// Scan sends req's plain fields (table, time range, fields, Reverse, Limit,
// and whether UseStats is set) and ignores its function fields: the callee
// rebuilds SeriesFilter and UseStats from its own plan of the same
// statement, so they must be the ones the plan's Scan node implies, which
// is how mpp builds them.
type RemoteScanner struct {
	Client *Client
	Addr   string
	// Fragment is the statement-level identity of the fragment; its
	// Request is replaced by each Scan's req.
	Fragment ScanFragment
}

var _ mpp.Scanner = (*RemoteScanner)(nil)

// Scan implements mpp.Scanner.
func (s *RemoteScanner) Scan(ctx context.Context, req *store.ScanRequest, fn func(*store.SeriesBatch) error) error {
	f := s.Fragment
	f.Request = *req
	f.Request.SeriesFilter = nil
	return s.Client.Scan(ctx, s.Addr, &f, fn)
}
