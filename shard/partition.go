package shard

import (
	"hash/fnv"
	"sort"
	"time"
)

// NumSlots is the fixed number of series slots per database. It is part of
// the on-disk format: changing it moves series between slot groups.
const NumSlots = 1024

// Slot returns the slot of a series, given the value of its first tag (the
// distribution key). Series without tags use Slot("").
func Slot(distKey string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(distKey))
	return int(h.Sum32() % NumSlots)
}

// SlotGroup returns the slot group of slot among groups groups. Slots are
// cut into contiguous ranges so that a group is a slot interval.
func SlotGroup(slot, groups int) int {
	if groups <= 1 {
		return 0
	}
	return slot * groups / NumSlots
}

// PartitionStart returns the start (µs since the Unix epoch, UTC) of the time
// partition of width interval that holds t. Partitions are aligned to the
// Unix epoch.
func PartitionStart(t int64, interval time.Duration) int64 {
	w := interval.Microseconds()
	if w <= 0 {
		return 0
	}
	p := t / w * w
	if t < 0 && p != t {
		p -= w
	}
	return p
}

// ShardState is the lifecycle state of a shard.
type ShardState uint8

// Shard lifecycle states (DESIGN.md §4).
const (
	ShardActive ShardState = iota
	ShardCold
	ShardExpired
)

// ShardInfo is one row of the partition table.
type ShardInfo struct {
	ID             uint64     `json:"id"`
	Database       uint32     `json:"database"`
	PartitionStart int64      `json:"partition_start"` // µs, inclusive
	PartitionEnd   int64      `json:"partition_end"`   // µs, exclusive
	SlotGroup      int        `json:"slot_group"`
	SlotGroups     int        `json:"slot_groups"`
	Replicas       []uint64   `json:"replicas"` // node IDs; Raft replica ID == node ID
	State          ShardState `json:"state"`
}

// PartitionTable maps (database, time partition, slot group) to shards. It is
// versioned: every change made by the meta group bumps Version.
type PartitionTable struct {
	Version uint64      `json:"version"`
	Shards  []ShardInfo `json:"shards"` // sorted by (Database, PartitionStart, SlotGroup)
}

// Sort restores the order of Shards.
func (pt *PartitionTable) Sort() {
	sort.Slice(pt.Shards, func(i, j int) bool {
		a, b := &pt.Shards[i], &pt.Shards[j]
		if a.Database != b.Database {
			return a.Database < b.Database
		}
		if a.PartitionStart != b.PartitionStart {
			return a.PartitionStart < b.PartitionStart
		}
		return a.SlotGroup < b.SlotGroup
	})
}

// Overlapping returns the shards of database db whose partition overlaps
// [minTime, maxTime). Pass math.MinInt64/math.MaxInt64 for open bounds.
func (pt *PartitionTable) Overlapping(db uint32, minTime, maxTime int64) []ShardInfo {
	var out []ShardInfo
	for _, s := range pt.Shards {
		if s.Database == db && s.State != ShardExpired && s.PartitionStart < maxTime && s.PartitionEnd > minTime {
			out = append(out, s)
		}
	}
	return out
}

// Lookup returns the shard for (db, partition start, slot group).
func (pt *PartitionTable) Lookup(db uint32, partitionStart int64, slotGroup int) (ShardInfo, bool) {
	i := sort.Search(len(pt.Shards), func(i int) bool {
		s := &pt.Shards[i]
		if s.Database != db {
			return s.Database > db
		}
		if s.PartitionStart != partitionStart {
			return s.PartitionStart > partitionStart
		}
		return s.SlotGroup >= slotGroup
	})
	if i < len(pt.Shards) {
		s := pt.Shards[i]
		if s.Database == db && s.PartitionStart == partitionStart && s.SlotGroup == slotGroup {
			return s, true
		}
	}
	return ShardInfo{}, false
}
