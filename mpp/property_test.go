package mpp

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/sql/types"
)

// unpush returns a copy of the plan tree with every pushed-down aggregate
// and per-series limit removed, so that it runs on the generic path.
func unpush(n planner.Node) planner.Node {
	switch x := n.(type) {
	case *planner.Scan:
		c := *x
		if c.Limit > 0 {
			c.Limit, c.Reverse = 0, false
		}
		return &c
	case *planner.Aggregate:
		c := *x
		c.Pushed = nil
		c.Input = unpush(x.Input)
		return &c
	case *planner.Filter:
		c := *x
		c.Input = unpush(x.Input)
		return &c
	case *planner.Project:
		c := *x
		c.Input = unpush(x.Input)
		return &c
	case *planner.Sort:
		c := *x
		c.Input = unpush(x.Input)
		return &c
	case *planner.Limit:
		c := *x
		c.Input = unpush(x.Input)
		return &c
	case *planner.Distinct:
		c := *x
		c.Input = unpush(x.Input)
		return &c
	case *planner.DistinctOn:
		c := *x
		c.Input = unpush(x.Input)
		return &c
	}
	return n
}

func hasPushed(n planner.Node) bool {
	switch x := n.(type) {
	case *planner.Aggregate:
		return x.Pushed != nil || hasPushed(x.Input)
	case *planner.Scan:
		return x.Limit > 0
	case *planner.Filter:
		return hasPushed(x.Input)
	case *planner.Project:
		return hasPushed(x.Input)
	case *planner.Sort:
		return hasPushed(x.Input)
	case *planner.Limit:
		return hasPushed(x.Input)
	case *planner.DistinctOn:
		return hasPushed(x.Input)
	}
	return false
}

func collect(t *testing.T, p *planner.Plan, c *fakeCluster) [][]types.Datum {
	t.Helper()
	var rows [][]types.Datum
	if err := Run(context.Background(), p, c, func(r []types.Datum) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatalf("run: %v", err)
	}
	return rows
}

// TestPushdownMatchesGeneric generates random GROUP BY queries with random
// filters and checks that the pushed-down plan and the generic plan return
// the same rows.
func TestPushdownMatchesGeneric(t *testing.T) {
	c := smallCluster(0.2)
	rng := rand.New(rand.NewPCG(7, 7))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	buckets := []string{
		"time_bucket('60 seconds', time)", "time_bucket('1 hour', time)", "time_bucket('7 minutes', time, '2016-01-01 00:03:00+00')",
		"date_bin('15 minutes', time, '2001-01-01 00:00:00+00')", "date_trunc('hour', time)", "date_trunc('day', time)",
		"floor(__lb_extract('epoch', time)/300)*300", "to_timestamp(floor(__lb_extract('epoch', time)/1800)*1800)", "time",
		"__lb_extract('hour', time)",
	}
	aggs := []string{"count(*)", "count(usage_guest_nice)", "sum(usage_user)", "avg(usage_guest_nice)", "min(usage_idle)", "max(usage_guest_nice)",
		"__lb_first(usage_user, time)", "__lb_last(usage_guest_nice, time)", "max(usage_system)", "avg(usage_nice)"}
	filters := []string{"", "hostname IN ('host_1','host_7','host_42')", "region = 'eu-west-1'", "usage_user > 50",
		"usage_guest_nice < 30 OR usage_user > 70", "NOT (arch = 'x64') AND usage_idle >= 20", "service_environment IS NULL",
		"hostname <> 'host_3' AND usage_guest_nice IS NOT NULL"}
	times := []string{"", "time >= '2016-01-01 03:17:00+00' AND time < '2016-01-01 15:00:00+00'", "time < '2016-01-01 09:59:59.5+00'",
		"time BETWEEN '2016-01-01T06:00:00Z' AND '2016-01-01T07:00:00Z'"}
	for i := 0; i < 120; i++ {
		var sel, group []string
		if rng.IntN(4) > 0 {
			sel = append(sel, pick(buckets...)+" AS b")
			group = append(group, "b")
		}
		for _, tag := range []string{"hostname", "region", "arch", "service_environment"} {
			if rng.IntN(4) == 0 {
				sel = append(sel, tag)
				group = append(group, tag)
			}
		}
		n := 1 + rng.IntN(3)
		byHost := strings.Contains(strings.Join(group, ","), "hostname")
		for j := 0; j < n; j++ {
			a := pick(aggs...)
			// first/last are only deterministic when every group holds one
			// series (all hosts share timestamps).
			for !byHost && strings.HasPrefix(a, "__lb_") {
				a = pick(aggs...)
			}
			sel = append(sel, a)
		}
		var where []string
		if f := pick(filters...); f != "" {
			where = append(where, "("+f+")")
		}
		if f := pick(times...); f != "" {
			where = append(where, f)
		}
		q := "SELECT " + strings.Join(sel, ", ") + " FROM cpu"
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		if len(group) > 0 {
			q += " GROUP BY " + strings.Join(group, ", ")
		}
		if rng.IntN(3) == 0 {
			q += " HAVING count(*) > 2"
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			p, err := planner.Build(parse(t, q), c, &planner.Env{Database: "benchmark", Params: []types.Datum{}})
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if !hasPushed(p.Root) {
				t.Fatalf("not pushed down: %s\n%s", q, strings.Join(p.Explain(), "\n"))
			}
			got := collect(t, p, c)
			gp := *p
			gp.Root = unpush(p.Root)
			want := collect(t, &gp, c)
			checkRows(t, q, got, want, false)
		})
	}
}

// TestLastPointMatchesGeneric checks the Reverse+Limit pushdown.
func TestLastPointMatchesGeneric(t *testing.T) {
	c := smallCluster(0.1)
	for _, q := range []string{
		"SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC",
		// Several hosts share a (region, arch) and report at the same
		// instants, so only the columns that are the same for every tied
		// row are compared: which tied row DISTINCT ON keeps is unspecified
		// in PostgreSQL too.
		"SELECT DISTINCT ON (region, arch) region, arch, time FROM cpu WHERE time < '2016-01-01 13:00:00+00' ORDER BY region, arch, time DESC",
		"SELECT DISTINCT ON (hostname) hostname, time, usage_guest_nice FROM cpu WHERE hostname IN ('host_1', 'host_2') ORDER BY hostname, time",
	} {
		p, err := planner.Build(parse(t, q), c, &planner.Env{Database: "benchmark", Params: []types.Datum{}})
		if err != nil {
			t.Fatal(err)
		}
		if !hasPushed(p.Root) {
			t.Fatalf("not pushed: %s", q)
		}
		got := collect(t, p, c)
		gp := *p
		gp.Root = unpush(p.Root)
		checkRows(t, q, got, collect(t, &gp, c), true)
	}
}
