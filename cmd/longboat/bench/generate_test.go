package bench

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	timeLit  = regexp.MustCompile(`'2016-01-0[12] \d\d:\d\d:\d\d(\.\d{1,6})? \+0000'`)
	hostList = regexp.MustCompile(`'host_\d+'(,'host_\d+')*`)
)

// shape replaces the random parts of a query (time literals, host lists)
// with placeholders, keeping the number of hosts.
func shape(q string) string {
	q = timeLit.ReplaceAllString(q, "'T'")
	return hostList.ReplaceAllStringFunc(q, func(s string) string {
		return "'H'x" + string(rune('0'+strings.Count(s, ",")+1))
	})
}

func testDataDir(t testing.TB) string {
	t.Helper()
	return DefaultDataDir()
}

// TestGeneratorMatchesShippedShapes checks that for every type the
// generator's queries have exactly the shapes found in the shipped files.
func TestGeneratorMatchesShippedShapes(t *testing.T) {
	dir := testDataDir(t)
	if _, err := os.Stat(filepath.Join(dir, "queries")); err != nil {
		t.Fatalf("TSBS query files not found (set LONGBOAT_TSBS_DIR): %v", err)
	}
	shipped, err := LoadQuerySets(dir, QueryTypes(), 0)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := GenerateQuerySets(QueryTypes(), 42, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, set := range shipped {
		want := map[string]bool{}
		for _, q := range set.Queries {
			want[shape(q)] = true
		}
		got := map[string]bool{}
		for _, q := range gen[i].Queries {
			got[shape(q)] = true
		}
		if len(want) != 1 {
			t.Errorf("%s: shipped file has %d shapes, want 1", set.Type, len(want))
		}
		for s := range got {
			if !want[s] {
				t.Errorf("%s: generated shape not in shipped file:\n got %s\nwant %v", set.Type, s, keys(want))
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var (
	windowRe = regexp.MustCompile(`time >= '([^']+)' AND time < '([^']+)'`)
	endRe    = regexp.MustCompile(`time < '([^']+)'`)
)

func TestGeneratorWindowsAndHosts(t *testing.T) {
	dayStart := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	dayEnd := dayStart.Add(24 * time.Hour)
	for _, typ := range QueryTypes() {
		spec, err := specFor(typ)
		if err != nil {
			t.Fatal(err)
		}
		g, err := NewGenerator(typ, 7)
		if err != nil {
			t.Fatal(err)
		}
		for range 500 {
			q := g.Next()
			if m := windowRe.FindStringSubmatch(q); m != nil {
				s, err1 := time.Parse(genTimeFormat, m[1])
				e, err2 := time.Parse(genTimeFormat, m[2])
				if err1 != nil || err2 != nil {
					t.Fatalf("%s: bad literals in %s", typ, q)
				}
				if e.Sub(s) != spec.window || s.Before(dayStart) || e.After(dayEnd) {
					t.Fatalf("%s: window %s..%s, want %s inside the day", typ, s, e, spec.window)
				}
				if s.Nanosecond()%1000 != 0 {
					t.Fatalf("%s: sub-microsecond start %s", typ, s)
				}
			} else if typ == "groupby-orderby-limit" {
				m := endRe.FindStringSubmatch(q)
				e, err := time.Parse(genTimeFormat, m[1])
				if err != nil || e.Before(dayStart.Add(time.Hour)) || e.After(dayEnd) {
					t.Fatalf("%s: bad end %q", typ, m[1])
				}
			} else if typ != "lastpoint" {
				t.Fatalf("%s: no time window in %s", typ, q)
			}
			hosts := regexp.MustCompile(`'host_(\d+)'`).FindAllStringSubmatch(q, -1)
			if len(hosts) != spec.hosts {
				t.Fatalf("%s: %d hosts, want %d: %s", typ, len(hosts), spec.hosts, q)
			}
			seen := map[string]bool{}
			for _, h := range hosts {
				if seen[h[1]] {
					t.Fatalf("%s: duplicate host %s", typ, h[1])
				}
				seen[h[1]] = true
				if len(h[1]) > 2 {
					t.Fatalf("%s: host out of range %s", typ, h[1])
				}
			}
		}
	}
}

func TestGeneratorSeeds(t *testing.T) {
	a, _ := GenerateQuerySets([]string{"single-groupby-1-8-1"}, 7, 20)
	b, _ := GenerateQuerySets([]string{"single-groupby-1-8-1"}, 7, 20)
	c, _ := GenerateQuerySets([]string{"single-groupby-1-8-1"}, 8, 20)
	if !slices.Equal(a[0].Queries, b[0].Queries) {
		t.Fatal("same seed gave different queries")
	}
	if slices.Equal(a[0].Queries, c[0].Queries) {
		t.Fatal("different seeds gave the same queries")
	}
	if slices.Equal(a[0].Queries[:10], a[0].Queries[10:]) {
		t.Fatal("queries repeat")
	}
	if _, err := NewGenerator("single-groupby-1-1-99", 1); err == nil {
		t.Fatal("want error for 99-hour window")
	}
	if _, err := NewGenerator("nope", 1); err == nil {
		t.Fatal("want error for unknown type")
	}
}

func TestTimeLiteralTrimsZeros(t *testing.T) {
	f := func(ts time.Time, want string) {
		t.Helper()
		if got := fmtTime(ts); got != want {
			t.Fatalf("fmtTime(%s) = %q, want %q", ts, got, want)
		}
	}
	f(time.Date(2016, 1, 1, 2, 17, 8, 646325000, time.UTC), "2016-01-01 02:17:08.646325 +0000")
	f(time.Date(2016, 1, 1, 2, 17, 8, 646320000, time.UTC), "2016-01-01 02:17:08.64632 +0000")
	f(time.Date(2016, 1, 1, 2, 17, 8, 0, time.UTC), "2016-01-01 02:17:08 +0000")
}
