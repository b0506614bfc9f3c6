package mpp

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/sql/types"
)

var (
	benchOnce    sync.Once
	benchCluster *fakeCluster
)

// fullCluster is the TSBS cpu-only scale-100 one-day shape: 100 hosts, a
// point every 10 s, 864k rows, 1-day partitions cut into 4 slot groups.
func fullCluster() *fakeCluster {
	benchOnce.Do(func() {
		benchCluster = genCluster(genOptions{hosts: 100, start: tsbsStart(), points: 8640, step: 10 * 1_000_000,
			partition: 24 * time.Hour, groups: 4, blockSize: 1000, seed: 1})
	})
	return benchCluster
}

var benchSink int

func benchQuery(b *testing.B, sql string) {
	c := fullCluster()
	stmt := parse(b, sql)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := planner.Build(stmt, c, &planner.Env{Database: "benchmark", Params: []types.Datum{}})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if err := Run(ctx, p, c, func(r []types.Datum) error {
			n++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		benchSink += n
	}
}

func BenchmarkTSBS(b *testing.B) {
	for _, q := range []struct{ name, sql string }{
		{"single-groupby-1-1-1", "SELECT time_bucket('60 seconds', time) AS minute, max(usage_user) as max_usage_user FROM cpu WHERE hostname IN ('host_49') AND time >= '2016-01-01 02:17:08.646325 +0000' AND time < '2016-01-01 03:17:08.646325 +0000' GROUP BY minute ORDER BY minute ASC"},
		{"single-groupby-5-8-1", "SELECT time_bucket('60 seconds', time) AS minute, max(usage_user) as max_usage_user, max(usage_system) as max_usage_system, max(usage_idle) as max_usage_idle, max(usage_nice) as max_usage_nice, max(usage_iowait) as max_usage_iowait FROM cpu WHERE hostname IN ('host_49','host_3','host_35','host_39','host_75','host_15','host_21','host_11') AND time >= '2016-01-01 02:17:08.646325 +0000' AND time < '2016-01-01 03:17:08.646325 +0000' GROUP BY minute ORDER BY minute ASC"},
		{"cpu-max-all-8", "SELECT time_bucket('3600 seconds', time) AS hour, max(usage_user) as max_usage_user, max(usage_system) as max_usage_system, max(usage_idle) as max_usage_idle, max(usage_nice) as max_usage_nice, max(usage_iowait) as max_usage_iowait, max(usage_irq) as max_usage_irq, max(usage_softirq) as max_usage_softirq, max(usage_steal) as max_usage_steal, max(usage_guest) as max_usage_guest, max(usage_guest_nice) as max_usage_guest_nice FROM cpu WHERE hostname IN ('host_49','host_3','host_35','host_39','host_75','host_15','host_21','host_11') AND time >= '2016-01-01 08:24:59.646325 +0000' AND time < '2016-01-01 16:24:59.646325 +0000' GROUP BY hour ORDER BY hour"},
		{"double-groupby-all", "WITH cpu_avg AS ( SELECT time_bucket('3600 seconds', time) as hour, hostname, avg(usage_user) as mean_usage_user, avg(usage_system) as mean_usage_system, avg(usage_idle) as mean_usage_idle, avg(usage_nice) as mean_usage_nice, avg(usage_iowait) as mean_usage_iowait, avg(usage_irq) as mean_usage_irq, avg(usage_softirq) as mean_usage_softirq, avg(usage_steal) as mean_usage_steal, avg(usage_guest) as mean_usage_guest, avg(usage_guest_nice) as mean_usage_guest_nice FROM cpu WHERE time >= '2016-01-01 07:47:52.646325 +0000' AND time < '2016-01-01 19:47:52.646325 +0000' GROUP BY 1, 2 ) SELECT hour, hostname, mean_usage_user, mean_usage_system, mean_usage_idle, mean_usage_nice, mean_usage_iowait, mean_usage_irq, mean_usage_softirq, mean_usage_steal, mean_usage_guest, mean_usage_guest_nice FROM cpu_avg ORDER BY hour, hostname"},
		{"high-cpu-all", "SELECT * FROM cpu WHERE usage_user > 90.0 and time >= '2016-01-01 07:47:52.646325 +0000' AND time < '2016-01-01 19:47:52.646325 +0000'"},
		{"lastpoint", "SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC"},
		{"groupby-orderby-limit", "SELECT time_bucket('60 seconds', time) AS minute, max(usage_user) FROM cpu WHERE time < '2016-01-01 03:17:08.646325 +0000' GROUP BY minute ORDER BY minute DESC LIMIT 5"},
	} {
		b.Run(q.name, func(b *testing.B) { benchQuery(b, q.sql) })
	}
}
