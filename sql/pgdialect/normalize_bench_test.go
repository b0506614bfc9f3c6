package pgdialect

import "testing"

var sinkResult *Result

func BenchmarkNormalize(b *testing.B) {
	for _, bc := range []struct{ name, sql string }{
		{"tsbs-single-groupby-5-8-1", "SELECT time_bucket('60 seconds', time) AS minute, max(usage_user) as max_usage_user, max(usage_system) as max_usage_system, max(usage_idle) as max_usage_idle, max(usage_nice) as max_usage_nice, max(usage_iowait) as max_usage_iowait FROM cpu WHERE hostname IN ('host_49','host_3','host_35','host_39','host_75','host_15','host_21','host_11') AND time >= '2016-01-01 02:17:08.646325 +0000' AND time < '2016-01-01 03:17:08.646325 +0000' GROUP BY minute ORDER BY minute ASC"},
		{"tsbs-lastpoint", "SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC"},
		{"tsbs-double-groupby-1", "WITH cpu_avg AS ( SELECT time_bucket('3600 seconds', time) as hour, hostname, avg(usage_user) as mean_usage_user FROM cpu WHERE time >= '2016-01-01 07:47:52.646325 +0000' AND time < '2016-01-01 19:47:52.646325 +0000' GROUP BY 1, 2 ) SELECT hour, hostname, mean_usage_user FROM cpu_avg ORDER BY hour, hostname"},
		{"grafana-timegroup", "SELECT floor(extract(epoch from time)/300)*300 AS \"time\", avg(value) AS \"value\", host AS metric FROM metrics WHERE time BETWEEN '2024-05-01T00:00:00Z' AND '2024-05-01T06:00:00.123Z' GROUP BY 1, host ORDER BY 1"},
		{"pgx-params", "select time, host, value from metrics where host = $1 and time > $2::timestamptz and value > $3"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.sql)))
			start := cpuNanos()
			for i := 0; i < b.N; i++ {
				r, err := Normalize(bc.sql)
				if err != nil {
					b.Fatal(err)
				}
				sinkResult = r
			}
			if c := cpuNanos() - start; c > 0 {
				b.ReportMetric(float64(c)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
