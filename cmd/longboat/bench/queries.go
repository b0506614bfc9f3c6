package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// QueryTypes returns the 15 TSBS cpu-only query types in report order. The
// slice is fresh on every call; callers may modify it.
func QueryTypes() []string {
	return []string{
		"single-groupby-1-1-1",
		"single-groupby-1-1-12",
		"single-groupby-1-8-1",
		"single-groupby-5-1-1",
		"single-groupby-5-1-12",
		"single-groupby-5-8-1",
		"cpu-max-all-1",
		"cpu-max-all-8",
		"double-groupby-1",
		"double-groupby-5",
		"double-groupby-all",
		"high-cpu-1",
		"high-cpu-all",
		"lastpoint",
		"groupby-orderby-limit",
	}
}

// QuerySet is the list of queries of one type.
type QuerySet struct {
	Type    string
	Queries []string
}

// ParseQueryTypes turns "all" or a comma-separated list into query types,
// checking every name. "none" (or "") gives an empty list.
func ParseQueryTypes(spec string) ([]string, error) {
	spec = strings.TrimSpace(spec)
	switch spec {
	case "", "none":
		return nil, nil
	case "all":
		return QueryTypes(), nil
	}
	known := make(map[string]bool)
	for _, t := range QueryTypes() {
		known[t] = true
	}
	var out []string
	seen := make(map[string]bool)
	for _, t := range strings.Split(spec, ",") {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		if !known[t] {
			return nil, fmt.Errorf("unknown query type %q (known: %s)", t, strings.Join(QueryTypes(), ", "))
		}
		seen[t] = true
		out = append(out, t)
	}
	return out, nil
}

// ParseQueryFile reads one query per line. Blank lines and lines starting
// with "--" are skipped; surrounding whitespace and a trailing ';' are removed.
func ParseQueryFile(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimSpace(strings.TrimSuffix(line, ";"))
		if line == "" || strings.HasPrefix(line, "--") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read query file: %w", err)
	}
	return out, nil
}

// LoadQuerySets reads <dataDir>/queries/<type>.sql for each type and keeps the
// first perType queries of each (all of them when perType <= 0).
func LoadQuerySets(dataDir string, types []string, perType int) ([]QuerySet, error) {
	sets := make([]QuerySet, 0, len(types))
	for _, t := range types {
		path := filepath.Join(dataDir, "queries", t+".sql")
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("cannot open query file (set --data or LONGBOAT_TSBS_DIR): %w", err)
		}
		qs, err := ParseQueryFile(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(qs) == 0 {
			return nil, fmt.Errorf("%s: no queries", path)
		}
		if perType > 0 && len(qs) > perType {
			qs = qs[:perType]
		}
		sets = append(sets, QuerySet{Type: t, Queries: qs})
	}
	return sets, nil
}

// GenerateQuerySets generates perType fresh queries of each type with seed.
func GenerateQuerySets(types []string, seed uint64, perType int) ([]QuerySet, error) {
	if perType <= 0 {
		perType = 100
	}
	sets := make([]QuerySet, 0, len(types))
	for _, t := range types {
		g, err := NewGenerator(t, seed)
		if err != nil {
			return nil, err
		}
		qs := make([]string, perType)
		for i := range qs {
			qs[i] = g.Next()
		}
		sets = append(sets, QuerySet{Type: t, Queries: qs})
	}
	return sets, nil
}
