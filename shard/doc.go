// Package shard says what a shard is and where it lives: the catalog model
// (databases, tables, columns), shard IDs, the time-partition and series-slot
// math, and the partition table that maps (database, time partition, slot
// group) to a shard and its replicas.
//
// A shard is the unit of replication: one Raft group per shard, whose state
// machine stores the shard's rows in shard/store under the shard's key prefix.
//
// Series placement: a series is (table, tag values). Its slot is
// Slot(first tag value) — the first primary-key tag is the distribution key —
// so a predicate on that tag (hostname = 'a', hostname IN (...)) prunes slot
// groups, and every point of a series lands in the same slot group.
package shard
