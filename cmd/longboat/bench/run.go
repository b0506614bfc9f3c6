package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// TypeStats is the latency summary of one query type on one target.
type TypeStats struct {
	Type       string  `json:"type"`
	N          int     `json:"n"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Rows       int64   `json:"rows"`
	MeanMs     float64 `json:"mean_ms"`
	MedianMs   float64 `json:"median_ms"`
	P95Ms      float64 `json:"p95_ms"`
	MinMs      float64 `json:"min_ms"`
	MaxMs      float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Summarize computes mean, median, p95 (nearest rank), min and max of durs.
func Summarize(typ string, durs []time.Duration) TypeStats {
	s := TypeStats{Type: typ, N: len(durs)}
	if len(durs) == 0 {
		return s
	}
	d := slices.Clone(durs)
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	n := len(d)
	s.MeanMs = ms(sum) / float64(n)
	if n%2 == 1 {
		s.MedianMs = ms(d[n/2])
	} else {
		s.MedianMs = (ms(d[n/2-1]) + ms(d[n/2])) / 2
	}
	rank := int(math.Ceil(0.95*float64(n))) - 1
	s.P95Ms = ms(d[max(rank, 0)])
	s.MinMs = ms(d[0])
	s.MaxMs = ms(d[n-1])
	return s
}

// GeoMean returns the geometric mean of the positive, finite values in xs
// (0 when there are none).
func GeoMean(xs []float64) float64 {
	var sum float64
	n := 0
	for _, x := range xs {
		if x > 0 && !math.IsInf(x, 0) && !math.IsNaN(x) {
			sum += math.Log(x)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return math.Exp(sum / float64(n))
}

// RunOptions configures RunQueries.
type RunOptions struct {
	Workers  int           // parallel connections (default 1)
	Runs     int           // passes over each type's queries (default 1)
	Protocol Protocol      // default extended
	Timeout  time.Duration // per query; 0: none
	Progress io.Writer     // one line per type when set
	Label    string
}

// Connector opens a connection to one target.
type Connector func(ctx context.Context) (*pgconn.PgConn, error)

// RunQueries runs every set, type after type; within a type, Runs passes of
// its queries are spread over Workers connections. Latency is measured from
// sending a query to having read its last row. Server errors are counted per
// type; a connection lost mid-query is counted as an error and reopened.
func RunQueries(ctx context.Context, connect Connector, sets []QuerySet, opts RunOptions) ([]TypeStats, error) {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.Runs <= 0 {
		opts.Runs = 1
	}
	if opts.Protocol == "" {
		opts.Protocol = ProtocolExtended
	}
	conns := make([]*pgconn.PgConn, opts.Workers)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.Background())
			}
		}
	}()
	for i := range conns {
		c, err := connect(ctx)
		if err != nil {
			return nil, fmt.Errorf("cannot connect query worker: %w", err)
		}
		conns[i] = c
	}
	out := make([]TypeStats, 0, len(sets))
	for _, set := range sets {
		st, err := runSet(ctx, connect, conns, set, opts)
		if err != nil {
			return out, err
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "%s%-24s n=%d mean=%.2fms p95=%.2fms errors=%d\n",
				opts.Label, st.Type, st.N, st.MeanMs, st.P95Ms, st.Errors)
		}
		out = append(out, st)
	}
	return out, nil
}

func runSet(ctx context.Context, connect Connector, conns []*pgconn.PgConn, set QuerySet, opts RunOptions) (TypeStats, error) {
	jobs := make(chan string)
	var (
		mu struct {
			sync.Mutex
			durs     []time.Duration
			errors   int
			firstErr string
			rows     int64
			fatal    error
		}
		wg sync.WaitGroup
	)
	record := func(d time.Duration, rows int, qerr string) {
		mu.Lock()
		defer mu.Unlock()
		if qerr != "" {
			mu.errors++
			if mu.firstErr == "" {
				mu.firstErr = qerr
			}
			return
		}
		mu.durs = append(mu.durs, d)
		mu.rows += int64(rows)
	}
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := range jobs {
				qctx, cancel := ctx, context.CancelFunc(func() {})
				if opts.Timeout > 0 {
					qctx, cancel = context.WithTimeout(ctx, opts.Timeout)
				}
				t0 := time.Now()
				res, err := runQuery(qctx, conns[w], q, opts.Protocol, false)
				d := time.Since(t0)
				cancel()
				switch {
				case err != nil:
					record(0, 0, err.Error())
					if ctx.Err() != nil {
						continue // drain
					}
					conns[w].Close(context.Background())
					c, cerr := connect(ctx)
					if cerr != nil {
						mu.Lock()
						if mu.fatal == nil {
							mu.fatal = fmt.Errorf("cannot reconnect query worker: %w", cerr)
						}
						mu.Unlock()
						conns[w] = nil
						for range jobs {
						}
						return
					}
					conns[w] = c
				case res.Err != nil:
					record(0, 0, res.Err.Code+" "+res.Err.Message)
				default:
					record(d, res.NRows, "")
				}
			}
		}()
	}
feed:
	for range opts.Runs {
		for _, q := range set.Queries {
			select {
			case jobs <- q:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	if mu.fatal != nil {
		return TypeStats{}, mu.fatal
	}
	if err := ctx.Err(); err != nil {
		return TypeStats{}, err
	}
	st := Summarize(set.Type, mu.durs)
	st.Errors = mu.errors
	st.FirstError = mu.firstErr
	st.Rows = mu.rows
	return st, nil
}
