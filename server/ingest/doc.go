// Package ingest turns typed rows of one table into per-shard write batches
// and commits them through Raft.
//
// A row is routed by (time partition, slot group): the partition comes from
// the row's time and the database's partition_interval, the slot group from
// shard.Slot of the row's first tag value. Rows are accumulated column-major
// into one store.TableRows per shard; when a shard's batch reaches the batch
// size the Writer hands it to a committer goroutine, so parsing (COPY, INSERT
// VALUES) overlaps with the Raft round trip of the previous batch. Close
// waits for every batch: a COPY or INSERT is acknowledged only after all of
// its rows are committed by a quorum and applied.
//
// Shards are created lazily: the first row of an unknown (database, time
// partition) asks the meta group to create the partition's shards
// (Committer.EnsureShards) before its batch is written.
package ingest
