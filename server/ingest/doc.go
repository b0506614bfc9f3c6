// Package ingest turns typed rows of one table into per-shard write batches
// and commits them through Raft.
//
// A row is routed by (time partition, slot group): the partition comes from
// the row's time and the database's partition_interval, the slot group from
// shard.Slot of the row's first tag value. Rows are accumulated column-major
// into one store.TableRows per shard.
//
// Each shard a Writer touches has a lane: the batch being filled and a FIFO
// of full batches that one goroutine commits, one at a time, in the order
// of their rows. So
//
//   - parsing (COPY, INSERT VALUES) goes on while earlier batches commit;
//   - batches of different shards commit concurrently;
//   - batches of one shard never race: a later row for the same series and
//     time wins across batches as it does within one (the store keeps the
//     last write), which concurrent commits of one shard would not ensure.
//
// A batch ships when it reaches Options.BatchRows, or as soon as its lane is
// idle and it holds Options.MinBatchRows (group commit: the slower the
// commits, the larger the batches). Options.Inflight bounds the batches
// waiting or committing; Add blocks beyond it (back-pressure on the client).
// Close ships what is left and waits for every batch: a COPY or INSERT is
// acknowledged only after all of its rows are committed by a quorum and
// applied. After the first failed commit the rest of the statement's
// batches are dropped; batches committed before it stay (each batch is
// atomic, a statement is not).
//
// Row buffers are recycled through a Pool shared by the node's sessions, so
// a steady load allocates no row storage.
//
// Shards are created lazily: the first row of an unknown (database, time
// partition) asks the meta group to create the partition's shards
// (Committer.EnsureShards) before its batch is written.
package ingest
