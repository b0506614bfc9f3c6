package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
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
	for _, format := range []string{CopyBinary, CopyCSV} {
		bs := collectBatches(t, data, format, 10)
		if len(bs) != 3 || bs[0].n != 10 || bs[2].n != 5 || strings.Count(string(bs[0].csv), "\n") != 10 {
			t.Fatalf("%s batches: %d", format, len(bs))
		}
		if bs[0].line != 2 || bs[2].line != 22 {
			t.Fatalf("%s: first lines %d, %d", format, bs[0].line, bs[2].line)
		}
		if strings.Contains(string(bs[0].csv), "hostname") || !strings.HasPrefix(string(bs[0].csv), "2016-01-01T00:00:00Z,host_0,") {
			t.Fatalf("%s batch 0 starts %q", format, string(bs[0].csv)[:40])
		}
	}
	// The binary stream of a batch is each line parsed by parseRecord and
	// encoded by appendCopyRow.
	bs := collectBatches(t, data, CopyBinary, 10)
	got, err := encodeBinary(nil, bs[2])
	if err != nil {
		t.Fatal(err)
	}
	l := mustLayout(t, testHeader)
	want := appendCopyHeader(nil)
	for _, line := range strings.Split(strings.TrimSuffix(string(bs[2].csv), "\n"), "\n") {
		var r cpuRow
		if err := l.parseRecord(strings.Split(line, ","), &r); err != nil {
			t.Fatal(err)
		}
		want = appendCopyRow(want, &r)
	}
	want = appendCopyTrailer(want)
	if !bytes.Equal(got, want) {
		t.Fatalf("binary batch:\n got %x\nwant %x", got, want)
	}
	// Exact multiple of the batch size: no empty trailing batch.
	if got := collectBatches(t, gzCSV(t, 20), CopyBinary, 10); len(got) != 2 {
		t.Fatalf("want 2 batches, got %d", len(got))
	}
}

// TestAppendCopyLine checks the loader's CSV line encoder against
// parseRecord + appendCopyRow, the oracle, on lines with NULLs, quotes,
// CRLF and errors, in the file's column order and a shuffled one.
func TestAppendCopyLine(t *testing.T) {
	cols := strings.Split(testHeader, ",")
	shuffled := append([]string(nil), cols...)
	shuffled[0], shuffled[5], shuffled[12], shuffled[20] = shuffled[20], shuffled[12], shuffled[5], shuffled[0]
	lines := []string{
		"2016-01-01T00:00:10Z,host_1,us-west-1,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,staging,84,11,53,87,29,20,54,77,53,74.5",
		"2016-01-01T00:00:10.25Z,host_1,,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,,84,11,,87,29,20,54,77,53,",
		"2016-01-01T00:00:10Z,\"host,1\",us-west-1,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,staging,84,11,53,87,29,20,54,77,53,74.5",
		"2016-01-01T00:00:10Z,host_1,us-west-1,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,staging,84,11,53,87,29,20,54,77,53,74.5\r",
		"2016-01-01T00:00:10Z,host_1,us-west-1,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,staging,84,11,53,87,29,20,54,77,53",
		"2016-01-01T00:00:10Z,host_1,us-west-1,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,staging,84,11,53,87,29,20,54,77,53,1,2",
		"yesterday,host_1,us-west-1,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,staging,84,11,53,87,29,20,54,77,53,74.5",
		"2016-01-01T00:00:10Z,host_1,us-west-1,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,staging,84,11,53,87,29,20,54,77,53,x",
	}
	for _, hdr := range [][]string{cols, shuffled} {
		l, err := parseHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range lines {
			var r cpuRow
			got, gotErr := l.appendCopyLine(nil, []byte(line), &r)
			var want []byte
			rec, wantErr := csv.NewReader(strings.NewReader(strings.TrimSuffix(line, "\r"))).Read()
			if wantErr == nil {
				if wantErr = l.parseRecord(rec, &r); wantErr == nil {
					want = appendCopyRow(nil, &r)
				}
			}
			if (gotErr == nil) != (wantErr == nil) || !bytes.Equal(got, want) && gotErr == nil {
				t.Errorf("%q:\n got %x, %v\nwant %x, %v", line, got, gotErr, want, wantErr)
			}
		}
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
	fmt.Fprintln(zw, "2016-01-01T00:00:00Z,host_0,r,d,1,os,x64,t,s,1,prod,1,2,3,4,5,6,7,8,9,10")
	fmt.Fprintln(zw)
	fmt.Fprintln(zw, "2016-01-01T00:00:00Z,host_0,r,d,1,os,x64,t,s,1,prod,x,2,3,4,5,6,7,8,9,10")
	zw.Close()
	if err := readBatches(context.Background(), bytes.NewReader(buf.Bytes()), LoadOptions{Format: CopyBinary, BatchSize: 10}, ch); err != nil {
		t.Fatal(err)
	}
	if _, err := encodeBinary(nil, <-ch); err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("want a line-4 parse error (the blank line 3 skipped), got %v", err)
	}
	// A cancelled context stops the reader instead of blocking on send.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	full := make(chan *loadBatch)
	if err := readBatches(ctx, bytes.NewReader(gzCSV(t, 30)), LoadOptions{Format: CopyBinary, BatchSize: 10}, full); err == nil {
		t.Fatal("no error after cancel")
	}
}
