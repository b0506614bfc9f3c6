package planner

import (
	"strings"
	"testing"
)

// TestExplainNamesReplicas: in a cluster (more than one replica) EXPLAIN
// names the nodes holding each shard; a single node's plan says nothing
// about replicas.
func TestExplainNamesReplicas(t *testing.T) {
	cat := newTestCatalog()
	sql := "SELECT count(*) FROM cpu WHERE time >= '2016-01-01 00:00:00+00' AND time < '2016-01-01 06:00:00+00' AND hostname = 'host_1'"
	explain := func() string {
		p, err := Build(parseSQL(t, sql), cat, &Env{Database: "benchmark", Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(p.Explain(), "\n")
	}
	if out := explain(); strings.Contains(out, "replicas") {
		t.Fatalf("single replica, yet:\n%s", out)
	}
	for i := range cat.shards {
		cat.shards[i].Replicas = []uint64{3, 1, 2}
	}
	if out := explain(); !strings.Contains(out, "replicas on nodes 3,1,2") {
		t.Fatalf("want the replicas named:\n%s", out)
	}
}
