package bench

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testHeader = "time,hostname,region,datacenter,rack,os,arch,team,service,service_version,service_environment,usage_user,usage_system,usage_idle,usage_nice,usage_iowait,usage_irq,usage_softirq,usage_steal,usage_guest,usage_guest_nice"

func mustLayout(t testing.TB, hdr string) csvLayout {
	t.Helper()
	l, err := parseHeader(strings.Split(hdr, ","))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestParseRecord(t *testing.T) {
	l := mustLayout(t, testHeader)
	var r cpuRow
	rec := strings.Split("2016-01-01T00:00:10Z,host_1,us-west-1,us-west-1a,41,Ubuntu15.10,x64,NYC,9,1,staging,84,11,53,87,29,20,54,77,53,74.5", ",")
	if err := l.parseRecord(rec, &r); err != nil {
		t.Fatal(err)
	}
	if !r.Time.Equal(time.Date(2016, 1, 1, 0, 0, 10, 0, time.UTC)) || r.Tags[0] != "host_1" || r.Tags[9] != "staging" ||
		r.Fields[0] != 84 || r.Fields[9] != 74.5 || r.Null != 0 {
		t.Fatalf("bad row %+v", r)
	}
	vals := make([]any, numCols)
	r.values(vals)
	if vals[0] != r.Time || vals[1] != "host_1" || vals[20] != 74.5 {
		t.Fatalf("bad values %v", vals)
	}

	// Empty fields are NULL.
	rec[2], rec[12] = "", ""
	if err := l.parseRecord(rec, &r); err != nil {
		t.Fatal(err)
	}
	r.values(vals)
	if vals[2] != nil || vals[12] != nil || vals[1] == nil || vals[11] == nil {
		t.Fatalf("nulls: %v (mask %b)", vals, r.Null)
	}

	// Errors.
	for _, bad := range []string{
		"2016-01-01 00:00:10,host_1,a,b,c,d,e,f,g,h,i,1,2,3,4,5,6,7,8,9,10",
		"2016-01-01T00:00:10Z,host_1,a,b,c,d,e,f,g,h,i,1,2,3,4,x,6,7,8,9,10",
		"2016-01-01T00:00:10Z,host_1,a,b,c",
	} {
		if err := l.parseRecord(strings.Split(bad, ","), &r); err == nil {
			t.Fatalf("no error for %q", bad)
		}
	}
}

func TestParseHeaderReordered(t *testing.T) {
	cols := strings.Split(testHeader, ",")
	cols[0], cols[20] = cols[20], cols[0]
	l := mustLayout(t, strings.Join(cols, ","))
	var r cpuRow
	rec := strings.Split("7,host_1,a,b,c,d,e,f,g,h,i,1,2,3,4,5,6,7,8,9,2016-01-01T00:00:10Z", ",")
	if err := l.parseRecord(rec, &r); err != nil {
		t.Fatal(err)
	}
	if r.Fields[9] != 7 || r.Time.Second() != 10 {
		t.Fatalf("bad row %+v", r)
	}
	for _, bad := range []string{"time,hostname", strings.Replace(testHeader, "rack", "shelf", 1), strings.Replace(testHeader, "rack", "os", 1)} {
		if _, err := parseHeader(strings.Split(bad, ",")); err == nil {
			t.Fatalf("no error for header %q", bad)
		}
	}
}

// FuzzParseRecord feeds one CSV line through the loader's parser; a row that
// parses must format back to a line that parses to the same row.
func FuzzParseRecord(f *testing.F) {
	f.Add("2016-01-01T00:00:00Z,host_0,eu-central-1,eu-central-1a,6,Ubuntu15.10,x86,SF,19,1,test,58,2,24,61,22,63,6,44,80,38")
	f.Add("2016-01-01T00:00:00.5+01:00,\"h,1\",,a,b,c,d,e,f,g,h,1e3,-2,NaN,Inf,0,0,0,0,0,0")
	f.Add(",,,,,,,,,,,,,,,,,,,,")
	f.Add("\"")
	layout, err := parseHeader(strings.Split(testHeader, ","))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil {
			return
		}
		var r cpuRow
		if err := layout.parseRecord(rec, &r); err != nil {
			return
		}
		out := make([]string, numCols)
		out[0] = r.Time.Format(time.RFC3339Nano)
		for j := range numTags {
			out[1+j] = r.Tags[j]
		}
		for j := range numFields {
			if r.Null&(1<<(1+numTags+j)) == 0 {
				out[1+numTags+j] = strconv.FormatFloat(r.Fields[j], 'g', -1, 64)
			}
		}
		var r2 cpuRow
		if err := layout.parseRecord(out, &r2); err != nil {
			t.Fatalf("reparse of %q: %v", out, err)
		}
		if !r.Time.Equal(r2.Time) || r.Tags != r2.Tags || r.Null != r2.Null {
			t.Fatalf("round trip: %+v != %+v", r, r2)
		}
		for j := range numFields {
			if r.Fields[j] != r2.Fields[j] && r.Fields[j] == r.Fields[j] {
				t.Fatalf("field %d: %v != %v", j, r.Fields[j], r2.Fields[j])
			}
		}
	})
}
