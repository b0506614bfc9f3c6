package bench

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The TSBS cpu-only data set this generator targets: scale 100 over one day.
const (
	genHosts = 100
	// genTimeFormat is TSBS's literal format (goTimeFmt in its TimescaleDB
	// query generator): microseconds with trailing zeros trimmed.
	genTimeFormat = "2006-01-02 15:04:05.999999 -0700"
)

var (
	genStart = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	genEnd   = time.Date(2016, 1, 2, 0, 0, 0, 0, time.UTC)
)

// cpuMetrics are the ten usage_* fields in TSBS order; queries over "M
// metrics" use the first M.
func cpuMetrics() []string {
	return []string{
		"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
		"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice",
	}
}

// querySpec describes one TSBS query type.
type querySpec struct {
	kind    string // single-groupby, cpu-max-all, double-groupby, high-cpu, lastpoint, groupby-orderby-limit
	metrics int
	hosts   int // 0: all hosts (no hostname filter)
	window  time.Duration
}

func specFor(typ string) (querySpec, error) {
	switch typ {
	case "lastpoint":
		return querySpec{kind: typ}, nil
	case "groupby-orderby-limit":
		return querySpec{kind: typ, window: time.Hour}, nil
	case "high-cpu-all":
		return querySpec{kind: "high-cpu", window: 12 * time.Hour}, nil
	case "double-groupby-all":
		return querySpec{kind: "double-groupby", metrics: 10, window: 12 * time.Hour}, nil
	}
	var a, b, c int
	switch {
	case strings.HasPrefix(typ, "single-groupby-"):
		if n, err := fmt.Sscanf(typ, "single-groupby-%d-%d-%d", &a, &b, &c); err == nil && n == 3 && a > 0 && a <= 10 && b > 0 && b <= genHosts && c > 0 && c <= 24 {
			return querySpec{kind: "single-groupby", metrics: a, hosts: b, window: time.Duration(c) * time.Hour}, nil
		}
	case strings.HasPrefix(typ, "cpu-max-all-"):
		if n, err := fmt.Sscanf(typ, "cpu-max-all-%d", &a); err == nil && n == 1 && a > 0 && a <= genHosts {
			return querySpec{kind: "cpu-max-all", metrics: 10, hosts: a, window: 8 * time.Hour}, nil
		}
	case strings.HasPrefix(typ, "double-groupby-"):
		if n, err := fmt.Sscanf(typ, "double-groupby-%d", &a); err == nil && n == 1 && a > 0 && a <= 10 {
			return querySpec{kind: "double-groupby", metrics: a, window: 12 * time.Hour}, nil
		}
	case strings.HasPrefix(typ, "high-cpu-"):
		if n, err := fmt.Sscanf(typ, "high-cpu-%d", &a); err == nil && n == 1 && a > 0 && a <= genHosts {
			return querySpec{kind: "high-cpu", hosts: a, window: 12 * time.Hour}, nil
		}
	}
	return querySpec{}, fmt.Errorf("unknown query type %q", typ)
}

// Generator produces TSBS cpu-only queries of one type, in the exact textual
// shape of the shipped query files, from a seeded math/rand/v2 stream. It is a
// re-implementation of TSBS's devops use case (cmd/tsbs_generate_queries,
// TimescaleDB dialect, host name in the cpu table): the shapes match, the
// shipped seed's values are not reproduced.
type Generator struct {
	typ  string
	spec querySpec
	rng  *rand.Rand
}

// NewGenerator returns a generator for typ. Each type draws from its own
// stream (seed, hash(type)), so adding a type does not shift the others.
func NewGenerator(typ string, seed uint64) (*Generator, error) {
	spec, err := specFor(typ)
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte(typ))
	return &Generator{typ: typ, spec: spec, rng: rand.New(rand.NewPCG(seed, h.Sum64()))}, nil
}

// randWindow returns a random [start, start+d) inside the data set's day, at
// microsecond resolution (the literal format's resolution), like TSBS's
// TimeInterval.RandWindow.
func (g *Generator) randWindow(d time.Duration) (time.Time, time.Time) {
	span := genEnd.Sub(genStart) - d
	us := g.rng.Int64N(int64(span / time.Microsecond))
	start := genStart.Add(time.Duration(us) * time.Microsecond)
	return start, start.Add(d)
}

// hostList returns "'host_a','host_b',..." with n distinct random hosts.
func (g *Generator) hostList(n int) string {
	perm := g.rng.Perm(genHosts)[:n]
	var sb strings.Builder
	for i, h := range perm {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("'host_")
		sb.WriteString(strconv.Itoa(h))
		sb.WriteByte('\'')
	}
	return sb.String()
}

func fmtTime(t time.Time) string { return t.UTC().Format(genTimeFormat) }

func aggList(agg, prefix string, n int) string {
	parts := make([]string, 0, n)
	for _, m := range cpuMetrics()[:n] {
		parts = append(parts, agg+"("+m+") as "+prefix+m)
	}
	return strings.Join(parts, ", ")
}

// Next returns the next query.
func (g *Generator) Next() string {
	s := g.spec
	switch s.kind {
	case "single-groupby":
		hosts := g.hostList(s.hosts)
		start, end := g.randWindow(s.window)
		return fmt.Sprintf("SELECT time_bucket('60 seconds', time) AS minute, %s FROM cpu WHERE hostname IN (%s) AND time >= '%s' AND time < '%s' GROUP BY minute ORDER BY minute ASC",
			aggList("max", "max_", s.metrics), hosts, fmtTime(start), fmtTime(end))
	case "cpu-max-all":
		hosts := g.hostList(s.hosts)
		start, end := g.randWindow(s.window)
		return fmt.Sprintf("SELECT time_bucket('3600 seconds', time) AS hour, %s FROM cpu WHERE hostname IN (%s) AND time >= '%s' AND time < '%s' GROUP BY hour ORDER BY hour",
			aggList("max", "max_", s.metrics), hosts, fmtTime(start), fmtTime(end))
	case "double-groupby":
		start, end := g.randWindow(s.window)
		outer := make([]string, 0, s.metrics)
		for _, m := range cpuMetrics()[:s.metrics] {
			outer = append(outer, "mean_"+m)
		}
		return fmt.Sprintf("WITH cpu_avg AS ( SELECT time_bucket('3600 seconds', time) as hour, hostname, %s FROM cpu WHERE time >= '%s' AND time < '%s' GROUP BY 1, 2 ) SELECT hour, hostname, %s FROM cpu_avg ORDER BY hour, hostname",
			aggList("avg", "mean_", s.metrics), fmtTime(start), fmtTime(end), strings.Join(outer, ", "))
	case "high-cpu":
		var hosts string
		if s.hosts > 0 {
			hosts = g.hostList(s.hosts)
		}
		start, end := g.randWindow(s.window)
		q := fmt.Sprintf("SELECT * FROM cpu WHERE usage_user > 90.0 and time >= '%s' AND time < '%s'", fmtTime(start), fmtTime(end))
		if s.hosts > 0 {
			q += " AND hostname IN (" + hosts + ")"
		}
		return q
	case "lastpoint":
		return "SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC"
	case "groupby-orderby-limit":
		_, end := g.randWindow(s.window)
		return fmt.Sprintf("SELECT time_bucket('60 seconds', time) AS minute, max(usage_user) FROM cpu WHERE time < '%s' GROUP BY minute ORDER BY minute DESC LIMIT 5", fmtTime(end))
	}
	return "" // unreachable: specFor validated the kind
}
