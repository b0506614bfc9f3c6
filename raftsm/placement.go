package raftsm

import (
	"sort"

	"github.com/longboatdb/longboat/shard"
)

// Placement: which nodes hold a shard's replicas, which node should lead
// it, and where a replica moves when its node is down or leaving. Every
// function here is a pure function of the meta state, so the meta state
// machine can call it during apply (deterministic: no clock, no randomness,
// no map iteration order) and every node computes the same answer from the
// same catalog version.

// placeableNodes counts the nodes new replicas may be placed on.
func placeableNodes(st *Catalog) int {
	n := 0
	for _, nd := range st.Nodes {
		if nd.State.placeable() {
			n++
		}
	}
	return n
}

// replicaCounts returns, per node ID, the replicas the partition table
// places on it plus the replicas being added to it by moves.
func replicaCounts(st *Catalog) map[uint64]int {
	counts := make(map[uint64]int, len(st.Nodes))
	for _, s := range st.Partitions.Shards {
		for _, r := range s.Replicas {
			counts[r]++
		}
	}
	for _, m := range st.Moves {
		counts[m.To]++
	}
	return counts
}

// placeReplicas picks min(k, placeable nodes) distinct nodes for a new shard
// id: the placeable nodes holding the fewest replicas, ties broken by the
// registry order rotated by id mod n, so that successive shards of an empty
// cluster take consecutive nodes (and their preferred leaders spread).
// Returned sorted.
func placeReplicas(st *Catalog, id uint64, k int) []uint64 {
	var cands []Node
	for _, n := range st.Nodes {
		if n.State.placeable() {
			cands = append(cands, n)
		}
	}
	n := len(cands)
	if n == 0 {
		return nil
	}
	k = min(max(k, 1), n)
	counts := replicaCounts(st)
	start := int(id % uint64(n))
	order := make([]int, n) // position of cands[i] in the rotated order
	for i := range cands {
		order[i] = (i - start + n) % n
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ca, cb := counts[cands[idx[a]].ID], counts[cands[idx[b]].ID]
		if ca != cb {
			return ca < cb
		}
		return order[idx[a]] < order[idx[b]]
	})
	out := make([]uint64, 0, k)
	for _, i := range idx[:k] {
		out = append(out, cands[i].ID)
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

// moveTarget picks the node that takes over the replica of shard s: a
// placeable node that holds no replica of s, was never removed from s's
// Raft group, and holds the fewest replicas (ties: lowest rotated position,
// as in placeReplicas). ok is false when no node qualifies — the move waits
// until one joins.
func moveTarget(st *Catalog, s shard.ShardInfo, counts map[uint64]int) (uint64, bool) {
	var best uint64
	bestCount, bestOrder := 0, 0
	n := len(st.Nodes)
	for i, nd := range st.Nodes {
		if !nd.State.placeable() || hasReplica(s, nd.ID) || st.retired(s.ID, nd.ID) {
			continue
		}
		c := counts[nd.ID]
		o := (i - int(s.ID%uint64(n)) + n) % n
		if best == 0 || c < bestCount || (c == bestCount && o < bestOrder) {
			best, bestCount, bestOrder = nd.ID, c, o
		}
	}
	return best, best != 0
}

func hasReplica(s shard.ShardInfo, node uint64) bool {
	for _, r := range s.Replicas {
		if r == node {
			return true
		}
	}
	return false
}

// preferredLeaders returns the node that should lead each shard (shard ID
// → node ID). Within each (database, time partition) — the shards written
// together — leaders are spread evenly over the placeable replicas: the
// smallest per-node cap c for which every shard gets a leader is found by
// bipartite matching with capacities (Kuhn's augmenting paths; a partition
// has at most slot_groups shards), visiting shards in slot-group order and
// replicas rotated by shard ID, so the answer is deterministic. Shards of
// other partitions do not affect the choice, so creating or expiring a
// partition never reshuffles the leaders of another one. A shard with no
// placeable replica has no entry.
func preferredLeaders(st *Catalog) map[uint64]uint64 {
	out := make(map[uint64]uint64, len(st.Partitions.Shards))
	placeable := make(map[uint64]bool, len(st.Nodes))
	for _, n := range st.Nodes {
		placeable[n.ID] = n.State.placeable()
	}
	shards := st.Partitions.Shards // sorted by (database, partition, group)
	for i := 0; i < len(shards); {
		j := i
		for j < len(shards) && shards[j].Database == shards[i].Database && shards[j].PartitionStart == shards[i].PartitionStart {
			j++
		}
		spreadLeaders(shards[i:j], placeable, out)
		i = j
	}
	return out
}

// spreadLeaders assigns the leaders of one partition's shards into out.
func spreadLeaders(group []shard.ShardInfo, placeable map[uint64]bool, out map[uint64]uint64) {
	type item struct {
		id    uint64
		cands []uint64 // placeable replicas, rotated by shard ID
	}
	var items []item
	nodes := map[uint64]bool{}
	for _, s := range group {
		var cands []uint64
		for _, r := range s.Replicas {
			if placeable[r] {
				cands = append(cands, r)
			}
		}
		if len(cands) == 0 {
			continue
		}
		start := int(s.ID % uint64(len(cands)))
		rot := append(append([]uint64(nil), cands[start:]...), cands[:start]...)
		items = append(items, item{id: s.ID, cands: rot})
		for _, r := range cands {
			nodes[r] = true
		}
	}
	if len(items) == 0 {
		return
	}
	for c := (len(items) + len(nodes) - 1) / len(nodes); c <= len(items); c++ {
		leader := make([]uint64, len(items))
		led := make(map[uint64][]int) // node → items it leads
		var try func(it int, seen map[uint64]bool) bool
		try = func(it int, seen map[uint64]bool) bool {
			for _, r := range items[it].cands {
				if seen[r] {
					continue
				}
				seen[r] = true
				if len(led[r]) < c {
					leader[it] = r
					led[r] = append(led[r], it)
					return true
				}
				for k, other := range led[r] {
					if try(other, seen) {
						leader[it] = r
						led[r][k] = it
						return true
					}
				}
			}
			return false
		}
		ok := true
		for it := range items {
			if !try(it, map[uint64]bool{}) {
				ok = false
				break
			}
		}
		if ok {
			for it, l := range leader {
				out[items[it].id] = l
			}
			return
		}
	}
}

// forgetShards removes the moves and retired replicas of dropped shards.
func forgetShards(st *Catalog, dropped []uint64) {
	gone := make(map[uint64]bool, len(dropped))
	for _, id := range dropped {
		gone[id] = true
	}
	moves := st.Moves[:0]
	for _, m := range st.Moves {
		if !gone[m.ShardID] {
			moves = append(moves, m)
		}
	}
	st.Moves = moves
	retired := st.Retired[:0]
	for _, r := range st.Retired {
		if !gone[r.ShardID] {
			retired = append(retired, r)
		}
	}
	st.Retired = retired
}
