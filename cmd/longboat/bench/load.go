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
	CopyBinary = "binary" // COPY ... FROM STDIN binary, the stream pgx CopyFrom sends
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

// loadBatch is one COPY statement's worth of rows: whole CSV lines, which
// the worker sends as they are (csv) or encodes (binary).
type loadBatch struct {
	csv    []byte     // whole lines, no header
	n      int        // number of rows (lines that are not blank)
	line   int        // file line number of the first line
	layout *csvLayout // the header's column order
}

// Load copies opts.File into table cpu (which must exist) over Workers
// connections made by connect. The reader goroutine decompresses the file
// and cuts it into batches of lines; each worker parses and encodes a batch
// (binary) and sends it as one COPY statement.
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
			var buf []byte
			for b := range batches {
				n, err := copyBatch(ctx, c, b, opts.Format, &buf)
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

// copyBatch sends one batch as one COPY statement. buf is the worker's
// reusable encoding buffer.
func copyBatch(ctx context.Context, c *pgx.Conn, b *loadBatch, format string, buf *[]byte) (int64, error) {
	data, sql := b.csv, "COPY cpu FROM STDIN WITH (FORMAT csv)"
	if format == CopyBinary {
		d, err := encodeBinary((*buf)[:0], b)
		*buf = d
		if err != nil {
			return 0, err
		}
		data, sql = d, copyBinarySQL
	}
	tag, err := c.PgConn().CopyFrom(ctx, bytes.NewReader(data), sql)
	if err != nil {
		return 0, fmt.Errorf("cannot copy batch of %d rows: %w", b.n, err)
	}
	if tag.RowsAffected() != int64(b.n) {
		return 0, fmt.Errorf("copy of a batch of %d rows reported %d", b.n, tag.RowsAffected())
	}
	return tag.RowsAffected(), nil
}

// encodeBinary appends b's lines to dst as a binary COPY stream.
func encodeBinary(dst []byte, b *loadBatch) ([]byte, error) {
	dst = appendCopyHeader(dst)
	var r cpuRow
	rest := b.csv
	for i := 0; len(rest) > 0; i++ {
		line := rest
		if k := bytes.IndexByte(rest, '\n'); k >= 0 {
			line, rest = rest[:k], rest[k+1:]
		} else {
			rest = nil
		}
		if isBlank(line) {
			continue
		}
		var err error
		if dst, err = b.layout.appendCopyLine(dst, line, &r); err != nil {
			return dst, fmt.Errorf("line %d: %w", b.line+i, err)
		}
	}
	return appendCopyTrailer(dst), nil
}

// readBatches decompresses and splits the file into batches of whole lines
// (the TSBS file has no quoted newlines), after the header line.
func readBatches(ctx context.Context, f io.Reader, opts LoadOptions, out chan<- *loadBatch) error {
	gz, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("cannot read gzip data: %w", err)
	}
	defer gz.Close()
	br := bufio.NewReaderSize(gz, 1<<20)
	hdr, err := br.ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("cannot read CSV header: %w", err)
	}
	rec, err := csv.NewReader(bytes.NewReader(hdr)).Read()
	if err != nil {
		return fmt.Errorf("cannot read CSV header: %w", err)
	}
	layout, err := parseHeader(rec)
	if err != nil {
		return err
	}
	send := func(b *loadBatch) error {
		select {
		case out <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	line := 2
	b := &loadBatch{line: line, layout: &layout}
	for {
		l, err := br.ReadSlice('\n')
		if len(l) > 0 {
			b.csv = append(b.csv, l...)
			if l[len(l)-1] != '\n' {
				b.csv = append(b.csv, '\n')
			}
			if !isBlank(l) { // skipped by encodeBinary, as encoding/csv does
				b.n++
			}
			line++
			if b.n == opts.BatchSize {
				if err := send(b); err != nil {
					return err
				}
				b = &loadBatch{csv: make([]byte, 0, cap(b.csv)), line: line, layout: &layout}
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

func isBlank(line []byte) bool {
	return len(bytes.TrimRight(line, "\r\n")) == 0
}
