package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"strings"
	"testing"
)

// gzCSV returns a gzip-compressed TSBS-like CSV with n rows.
func gzCSV(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprintln(zw, testHeader)
	for i := range n {
		fmt.Fprintf(zw, "2016-01-01T00:%02d:%02dZ,host_%d,r,d,1,os,x64,t,s,1,prod,%d,2,3,4,5,6,7,8,9,10\n", i/60%60, i%60, i%7, i)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func collectBatches(t *testing.T, data []byte, format string, batch int) []*loadBatch {
	t.Helper()
	ch := make(chan *loadBatch, 100)
	err := readBatches(context.Background(), bytes.NewReader(data), LoadOptions{Format: format, BatchSize: batch}, ch)
	close(ch)
	if err != nil {
		t.Fatal(err)
	}
	var out []*loadBatch
	for b := range ch {
		out = append(out, b)
	}
	return out
}

func TestReadBatches(t *testing.T) {
	data := gzCSV(t, 25)
	bin := collectBatches(t, data, CopyBinary, 10)
	if len(bin) != 3 || bin[0].n != 10 || bin[2].n != 5 || len(bin[2].rows) != 5 {
		t.Fatalf("binary batches: %d", len(bin))
	}
	if r := bin[2].rows[4]; r.Fields[0] != 24 || r.Tags[0] != "host_3" || r.Time.Second() != 24 {
		t.Fatalf("last row %+v", r)
	}
	csvb := collectBatches(t, data, CopyCSV, 10)
	if len(csvb) != 3 || csvb[2].n != 5 || strings.Count(string(csvb[0].csv), "\n") != 10 {
		t.Fatalf("csv batches: %d", len(csvb))
	}
	if strings.Contains(string(csvb[0].csv), "hostname") || !strings.HasPrefix(string(csvb[0].csv), "2016-01-01T00:00:00Z,host_0,") {
		t.Fatalf("csv batch 0 starts %q", string(csvb[0].csv)[:40])
	}
	// Exact multiple of the batch size: no empty trailing batch.
	if got := collectBatches(t, gzCSV(t, 20), CopyBinary, 10); len(got) != 2 {
		t.Fatalf("want 2 batches, got %d", len(got))
	}
}

func TestReadBatchesErrors(t *testing.T) {
	ch := make(chan *loadBatch, 10)
	if err := readBatches(context.Background(), strings.NewReader("not gzip"), LoadOptions{Format: CopyBinary, BatchSize: 10}, ch); err == nil {
		t.Fatal("no error for non-gzip input")
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprintln(zw, testHeader)
	fmt.Fprintln(zw, "2016-01-01T00:00:00Z,host_0,r,d,1,os,x64,t,s,1,prod,x,2,3,4,5,6,7,8,9,10")
	zw.Close()
	err := readBatches(context.Background(), bytes.NewReader(buf.Bytes()), LoadOptions{Format: CopyBinary, BatchSize: 10}, ch)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("want a line-2 parse error, got %v", err)
	}
	// A cancelled context stops the reader instead of blocking on send.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	full := make(chan *loadBatch)
	if err := readBatches(ctx, bytes.NewReader(gzCSV(t, 30)), LoadOptions{Format: CopyBinary, BatchSize: 10}, full); err == nil {
		t.Fatal("no error after cancel")
	}
}
