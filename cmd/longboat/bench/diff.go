package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// DiffOptions configures Diff.
type DiffOptions struct {
	Protocol Protocol
	Timeout  time.Duration // per query; 0: none
	// MaxQueries is how many differing queries are printed in full (default 10).
	MaxQueries int
	// MaxMismatches is how many mismatches are printed per query (default 5).
	MaxMismatches int
	// Out receives the report (per-type lines and differences).
	Out io.Writer
}

// DiffTypeSummary counts one type's outcome.
type DiffTypeSummary struct {
	Type      string `json:"type"`
	Queries   int    `json:"queries"`
	Identical int    `json:"identical"`
	Differ    int    `json:"differ"`
	// BothFailed counts queries where both sides failed with the same SQLSTATE
	// (counted as identical).
	BothFailed int `json:"both_failed"`
}

// DiffSummary is Diff's outcome.
type DiffSummary struct {
	Types   []DiffTypeSummary `json:"types"`
	Queries int               `json:"queries"`
	Differ  int               `json:"differ"`
}

// Diff runs every query on a then on b and compares the results with
// CompareResults. It returns an error only when a connection fails; result
// differences are in the summary (Differ > 0).
func Diff(ctx context.Context, a, b Connector, sets []QuerySet, opts DiffOptions) (DiffSummary, error) {
	if opts.Protocol == "" {
		opts.Protocol = ProtocolExtended
	}
	if opts.MaxQueries <= 0 {
		opts.MaxQueries = 10
	}
	if opts.MaxMismatches <= 0 {
		opts.MaxMismatches = 5
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	ca, err := a(ctx)
	if err != nil {
		return DiffSummary{}, fmt.Errorf("cannot connect to a: %w", err)
	}
	defer ca.Close(context.Background())
	cb, err := b(ctx)
	if err != nil {
		return DiffSummary{}, fmt.Errorf("cannot connect to b: %w", err)
	}
	defer cb.Close(context.Background())

	run := func(conn *pgconn.PgConn, q string) (*Result, error) {
		qctx, cancel := ctx, context.CancelFunc(func() {})
		if opts.Timeout > 0 {
			qctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		}
		defer cancel()
		return runQuery(qctx, conn, q, opts.Protocol, true)
	}
	var sum DiffSummary
	printed := 0
	for _, set := range sets {
		ts := DiffTypeSummary{Type: set.Type}
		// NB: a query text seen before (lastpoint is one query 100 times) is
		// compared once; repeats count with the first outcome.
		seen := map[string]bool{}
		for i, q := range set.Queries {
			if same, ok := seen[q]; ok {
				ts.Queries++
				if same {
					ts.Identical++
				} else {
					ts.Differ++
				}
				continue
			}
			// Both sides run at the same time: they are different servers in
			// the intended use, and this halves the wall time.
			var (
				rb   *Result
				errB error
				done = make(chan struct{})
			)
			go func() {
				defer close(done)
				rb, errB = run(cb, q)
			}()
			ra, errA := run(ca, q)
			<-done
			if errA != nil {
				return sum, fmt.Errorf("a: %s #%d: %w", set.Type, i+1, errA)
			}
			if errB != nil {
				return sum, fmt.Errorf("b: %s #%d: %w", set.Type, i+1, errB)
			}
			ts.Queries++
			ms := CompareResults(q, ra, rb, opts.MaxMismatches)
			seen[q] = len(ms) == 0
			if len(ms) == 0 {
				ts.Identical++
				if ra.Err != nil {
					ts.BothFailed++
				}
				continue
			}
			ts.Differ++
			if printed < opts.MaxQueries {
				printed++
				fmt.Fprintf(out, "DIFF %s #%d (a: %d rows, b: %d rows)\n  query: %s\n", set.Type, i+1, len(ra.Rows), len(rb.Rows), q)
				for _, m := range ms {
					fmt.Fprintf(out, "  %s\n", m)
				}
			}
		}
		status := "identical"
		if ts.Differ > 0 {
			status = fmt.Sprintf("%d DIFFER", ts.Differ)
		}
		extra := ""
		if ts.BothFailed > 0 {
			extra = fmt.Sprintf(" (%d failed on both sides with the same SQLSTATE)", ts.BothFailed)
		}
		fmt.Fprintf(out, "%-24s %4d queries: %s%s\n", ts.Type, ts.Queries, status, extra)
		sum.Types = append(sum.Types, ts)
		sum.Queries += ts.Queries
		sum.Differ += ts.Differ
	}
	if sum.Differ == 0 {
		fmt.Fprintf(out, "identical: %d queries\n", sum.Queries)
	} else {
		fmt.Fprintf(out, "DIFFERENT: %d of %d queries differ\n", sum.Differ, sum.Queries)
	}
	return sum, nil
}
