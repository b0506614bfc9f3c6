package raftsm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/longboatdb/longboat/shard"
)

// testCatalog returns a meta state with nodes 1..n in the given states
// ("" for all placeable) after applying ensure_shards for `partitions`
// partitions of a database with `groups` slot groups and k replicas.
func placementState(t *testing.T, states []NodeState, k, groups, partitions int) *Catalog {
	t.Helper()
	st := newEmptyState()
	for i, s := range states {
		st.Nodes = append(st.Nodes, Node{ID: uint64(i + 1), RaftAddr: fmt.Sprintf("n%d:1", i+1), State: s})
	}
	st.Initialized = true
	if _, merr, _ := applyCreateDatabase(st, &metaCommand{Database: &shard.Database{Name: "m", Replicas: k, SlotGroups: groups}}); merr != nil {
		t.Fatal(merr)
	}
	d := st.Databases[0]
	for p := 0; p < partitions; p++ {
		start := int64(p) * d.PartitionInterval.Microseconds()
		if _, merr, _ := applyEnsureShards(st, &metaCommand{DatabaseID: d.ID, Partitions: []int64{start}}); merr != nil {
			t.Fatal(merr)
		}
	}
	return st
}

// TestPlaceReplicas checks against a simple oracle: every shard gets
// min(k, placeable) distinct placeable nodes, and replica counts of
// placeable nodes never differ by more than one (shards are created one at
// a time, each filling the least loaded nodes).
func TestPlaceReplicas(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := []NodeState{"", NodeIdle, NodeHealthy, NodeJoining, NodeDown, NodeLeaving, NodeRemoved}
	for iter := 0; iter < 300; iter++ {
		n := 1 + rng.IntN(7)
		states := make([]NodeState, n)
		placeable := 0
		for i := range states {
			states[i] = all[rng.IntN(len(all))]
			if states[i].placeable() {
				placeable++
			}
		}
		if placeable == 0 {
			states[0] = NodeIdle
			placeable = 1
		}
		k, groups, parts := 1+rng.IntN(4), 1+rng.IntN(5), 1+rng.IntN(4)
		st := placementState(t, states, k, groups, parts)
		want := min(k, placeable)
		counts := map[uint64]int{}
		for _, s := range st.Partitions.Shards {
			if len(s.Replicas) != want || !slices.IsSorted(s.Replicas) || len(slices.Compact(slices.Clone(s.Replicas))) != want {
				t.Fatalf("iter %d: shard %d replicas %v, want %d distinct sorted", iter, s.ID, s.Replicas, want)
			}
			for _, r := range s.Replicas {
				if !states[r-1].placeable() {
					t.Fatalf("iter %d: shard %d placed on node %d in state %q", iter, s.ID, r, states[r-1])
				}
				counts[r]++
			}
		}
		lo, hi := -1, 0
		for i, s := range states {
			if !s.placeable() {
				continue
			}
			c := counts[uint64(i+1)]
			if lo < 0 || c < lo {
				lo = c
			}
			hi = max(hi, c)
		}
		if hi-lo > 1 {
			t.Fatalf("iter %d: unbalanced replica counts %v (states %v, k=%d)", iter, counts, states, k)
		}
	}
}

// TestPreferredLeaders: within one time partition the preferred leaders
// are spread evenly over the nodes, and they do not change when other
// partitions come and go.
func TestPreferredLeaders(t *testing.T) {
	f := func(nodes, k, groups int) {
		t.Helper()
		states := make([]NodeState, nodes)
		st := placementState(t, states, k, groups, 3)
		pref := preferredLeaders(st)
		perPart := map[int64]map[uint64]int{}
		for _, s := range st.Partitions.Shards {
			l, ok := pref[s.ID]
			if !ok || !hasReplica(s, l) {
				t.Fatalf("shard %d (replicas %v): preferred leader %d %v", s.ID, s.Replicas, l, ok)
			}
			if perPart[s.PartitionStart] == nil {
				perPart[s.PartitionStart] = map[uint64]int{}
			}
			perPart[s.PartitionStart][l]++
		}
		for p, led := range perPart {
			most := (groups + nodes - 1) / nodes
			for n, c := range led {
				if c > most {
					t.Fatalf("nodes=%d k=%d groups=%d: partition %d: node %d leads %d shards, want <= %d (%v)", nodes, k, groups, p, n, c, most, led)
				}
			}
		}
		// Expire the first partition: the others keep their leaders.
		before := pref
		first := st.Partitions.Shards[0].PartitionStart
		var dropped []uint64
		kept := st.Partitions.Shards[:0]
		for _, s := range st.Partitions.Shards {
			if s.PartitionStart == first {
				dropped = append(dropped, s.ID)
				continue
			}
			kept = append(kept, s)
		}
		st.Partitions.Shards = kept
		forgetShards(st, dropped)
		after := preferredLeaders(st)
		for _, s := range st.Partitions.Shards {
			if after[s.ID] != before[s.ID] {
				t.Fatalf("shard %d: preferred leader changed from %d to %d when another partition expired", s.ID, before[s.ID], after[s.ID])
			}
		}
	}
	f(3, 3, 3)
	f(3, 3, 6)
	f(4, 3, 4)
	f(4, 3, 8)
	f(5, 3, 10)
	f(3, 1, 3)
	f(1, 1, 2)
}

// TestPreferredLeaderSkipsDownNodes: a replica on a node that cannot take
// work is never preferred.
func TestPreferredLeaderSkipsDownNodes(t *testing.T) {
	st := placementState(t, []NodeState{NodeIdle, NodeIdle, NodeIdle}, 3, 6, 1)
	st.Nodes[1].State = NodeDown
	for id, l := range preferredLeaders(st) {
		if l == 2 {
			t.Fatalf("shard %d prefers the down node 2", id)
		}
	}
}

func TestMoveTarget(t *testing.T) {
	st := placementState(t, []NodeState{NodeIdle, NodeIdle, NodeIdle, NodeIdle, NodeJoining}, 3, 4, 1)
	s := st.Partitions.Shards[0] // replicas [1 2 3]
	if !slices.Equal(s.Replicas, []uint64{1, 2, 3}) {
		t.Fatalf("replicas %v", s.Replicas)
	}
	counts := replicaCounts(st)
	if to, ok := moveTarget(st, s, counts); !ok || to != 4 {
		t.Fatalf("target %d %v, want 4", to, ok)
	}
	retire(st, s.ID, 4)
	if to, ok := moveTarget(st, s, counts); ok {
		t.Fatalf("target %d: node 4 is retired from the shard and node 5 is joining", to)
	}
	st.Nodes[4].State = NodeIdle
	if to, ok := moveTarget(st, s, counts); !ok || to != 5 {
		t.Fatalf("target %d %v, want 5", to, ok)
	}
}

func TestMajorMinor(t *testing.T) {
	f := func(v, want string) {
		t.Helper()
		if got := majorMinor(v); got != want {
			t.Fatalf("majorMinor(%q) = %q, want %q", v, got, want)
		}
	}
	f("0.3.1", "0.3")
	f("v0.3.1-dev", "0.3")
	f("1.12", "1.12")
	f("1.2-rc1", "1.2")
	f("dev", "dev")
	f("", "")
}
