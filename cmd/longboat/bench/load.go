package bench

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// DataFile is the TSBS data set's file name inside the data directory.
const DataFile = "cpu-only-scale100-1d.csv.gz"

// Copy formats of the loader.
const (
	CopyBinary = "binary" // pgx CopyFrom: COPY ... FROM STDIN (FORMAT binary)
	CopyCSV    = "csv"    // COPY cpu FROM STDIN WITH (FORMAT csv), lines passed through
)

// LoadOptions configures Load.
type LoadOptions struct {
	// File is the gzip-compressed CSV (header line + one row per line).
	File string
	// Workers is the number of parallel COPY connections (default 2).
	Workers int
	// BatchSize is the number of rows per COPY statement (default 10000).
	BatchSize int
	// Format is CopyBinary (default) or CopyCSV.
	Format string
	// Progress, when set, receives one line per second: rows and rows/s.
	Progress io.Writer
	// Label prefixes progress lines.
	Label string
}

// LoadStats is the outcome of a load.
type LoadStats struct {
	Rows       int64         `json:"rows"`
	Elapsed    time.Duration `json:"-"`
	ElapsedSec float64       `json:"elapsed_s"`
	RowsPerSec float64       `json:"rows_per_s"`
	Workers    int           `json:"workers"`
	Format     string        `json:"format"`
}

// loadBatch is one COPY statement's worth of rows.
type loadBatch struct {
	rows []cpuRow // binary
	csv  []byte   // csv: whole lines, no header
	n    int
}

// Load copies opts.File into table cpu (which must exist) over Workers
// connections made by connect. The reader goroutine decompresses and parses
// the file into batches; each worker sends a batch as one COPY statement.
// Connections are opened before the clock starts. On any error the load
// stops and the first error is returned.
func Load(ctx context.Context, connect func(context.Context) (*pgx.Conn, error), opts LoadOptions) (LoadStats, error) {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 10000
	}
	if opts.Format == "" {
		opts.Format = CopyBinary
	}
	if opts.Format != CopyBinary && opts.Format != CopyCSV {
		return LoadStats{}, fmt.Errorf("unknown copy format %q (binary|csv)", opts.Format)
	}
	f, err := os.Open(opts.File)
	if err != nil {
		return LoadStats{}, fmt.Errorf("cannot open data file: %w", err)
	}
	defer f.Close()

	conns := make([]*pgx.Conn, 0, opts.Workers)
	defer func() {
		for _, c := range conns {
			c.Close(context.Background())
		}
	}()
	for range opts.Workers {
		c, err := connect(ctx)
		if err != nil {
			return LoadStats{}, fmt.Errorf("cannot connect loader: %w", err)
		}
		conns = append(conns, c)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		errOnce  sync.Once
		firstErr error
		rows     atomic.Int64
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	batches := make(chan *loadBatch, opts.Workers)
	start := time.Now()

	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(batches)
		if err := readBatches(ctx, f, opts, batches); err != nil {
			fail(err)
		}
	}()
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vals := make([]any, numCols)
			for b := range batches {
				n, err := copyBatch(ctx, c, b, opts.Format, vals)
				if err != nil {
					fail(err)
					// Drain so the reader can finish.
					for range batches {
					}
					return
				}
				rows.Add(n)
			}
		}()
	}

	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		if opts.Progress == nil {
			return
		}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last, lastT := int64(0), start
		for {
			select {
			case <-stopProgress:
				return
			case now := <-t.C:
				n := rows.Load()
				fmt.Fprintf(opts.Progress, "%sload: %d rows, %.0f rows/s (now %.0f rows/s)\n", opts.Label, n,
					float64(n)/now.Sub(start).Seconds(), float64(n-last)/now.Sub(lastT).Seconds())
				last, lastT = n, now
			}
		}
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(stopProgress)
	<-progressDone
	if firstErr != nil {
		return LoadStats{}, firstErr
	}
	n := rows.Load()
	return LoadStats{
		Rows: n, Elapsed: elapsed, ElapsedSec: elapsed.Seconds(),
		RowsPerSec: float64(n) / elapsed.Seconds(), Workers: opts.Workers, Format: opts.Format,
	}, nil
}

func copyBatch(ctx context.Context, c *pgx.Conn, b *loadBatch, format string, vals []any) (int64, error) {
	if format == CopyCSV {
		tag, err := c.PgConn().CopyFrom(ctx, bytes.NewReader(b.csv), "COPY cpu FROM STDIN WITH (FORMAT csv)")
		if err != nil {
			return 0, fmt.Errorf("cannot copy batch of %d rows: %w", b.n, err)
		}
		return tag.RowsAffected(), nil
	}
	src := &batchSource{rows: b.rows, vals: vals}
	n, err := c.CopyFrom(ctx, pgx.Identifier{"cpu"}, CPUColumns(), src)
	if err != nil {
		return 0, fmt.Errorf("cannot copy batch of %d rows: %w", b.n, err)
	}
	return n, nil
}

// batchSource feeds one batch to pgx CopyFrom, reusing one values slice
// (pgx encodes each row before asking for the next).
type batchSource struct {
	rows []cpuRow
	i    int
	vals []any
}

var _ pgx.CopyFromSource = (*batchSource)(nil)

func (s *batchSource) Next() bool { s.i++; return s.i <= len(s.rows) }
func (s *batchSource) Values() ([]any, error) {
	s.rows[s.i-1].values(s.vals)
	return s.vals, nil
}
func (s *batchSource) Err() error { return nil }

// readBatches decompresses and splits the file into batches.
func readBatches(ctx context.Context, f io.Reader, opts LoadOptions, out chan<- *loadBatch) error {
	gz, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("cannot read gzip data: %w", err)
	}
	defer gz.Close()
	send := func(b *loadBatch) error {
		select {
		case out <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if opts.Format == CopyCSV {
		return readCSVBatches(gz, opts.BatchSize, send)
	}
	r := csv.NewReader(bufio.NewReaderSize(gz, 1<<20))
	r.ReuseRecord = true
	r.FieldsPerRecord = numCols
	hdr, err := r.Read()
	if err != nil {
		return fmt.Errorf("cannot read CSV header: %w", err)
	}
	layout, err := parseHeader(hdr)
	if err != nil {
		return err
	}
	b := &loadBatch{rows: make([]cpuRow, 0, opts.BatchSize)}
	line := 1
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return fmt.Errorf("cannot read CSV: %w", err)
		}
		b.rows = append(b.rows, cpuRow{})
		if err := layout.parseRecord(rec, &b.rows[len(b.rows)-1]); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if len(b.rows) == opts.BatchSize {
			b.n = len(b.rows)
			if err := send(b); err != nil {
				return err
			}
			b = &loadBatch{rows: make([]cpuRow, 0, opts.BatchSize)}
		}
	}
	if len(b.rows) > 0 {
		b.n = len(b.rows)
		return send(b)
	}
	return nil
}

// readCSVBatches passes whole lines through (the TSBS file has no quoted
// newlines), dropping the header line.
func readCSVBatches(r io.Reader, batchSize int, send func(*loadBatch) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	if _, err := br.ReadSlice('\n'); err != nil {
		return fmt.Errorf("cannot read CSV header: %w", err)
	}
	b := &loadBatch{}
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			b.csv = append(b.csv, line...)
			if line[len(line)-1] != '\n' {
				b.csv = append(b.csv, '\n')
			}
			b.n++
			if b.n == batchSize {
				if err := send(b); err != nil {
					return err
				}
				b = &loadBatch{csv: make([]byte, 0, cap(b.csv))}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("cannot read CSV: %w", err)
		}
	}
	if b.n > 0 {
		return send(b)
	}
	return nil
}
