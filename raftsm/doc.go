// Package raftsm is Longboat's Dragonboat glue: the node's NodeHost, the
// meta Raft group (catalog, partition table, node registry, ID counters) and
// the data Raft groups (one per shard, an on-disk state machine over
// shard/store). It is the only package that imports Dragonboat's
// state-machine API; it knows nothing of SQL.
//
// # Architecture
//
//	          Host (one per node)
//	┌──────────────────────────────────────────────────────────┐
//	│ Catalog() ◄── atomic swap ◄── metaSM (shard 1, in memory) │
//	│                                  ▲ JSON commands          │
//	│ CreateDatabase/…/EnsureShards ───┘ SyncPropose            │
//	│                                                           │
//	│ reconciler: partition table ⇄ running data replicas      │
//	│   start: StartOnDiskReplica   stop: StopReplica +        │
//	│          SyncRemoveData + Storage.DropShard               │
//	│ TTL loop (meta leader only): propose expire_shards{now}  │
//	│                                                           │
//	│ Write(shard, wb) ── SyncPropose(NO-OP session) ──►        │
//	│                      dataSM (shard ≥ 16) ──► store.Shard  │
//	└──────────────────────────────────────────────────────────┘
//
// Start bootstraps the meta group when none is on disk (by default the
// single-node cluster: members {NodeID: RaftAddr}), waits for its leader and
// proposes the idempotent init command, which on first apply registers the
// nodes and creates database "longboat". Because the init proposal is
// applied after every earlier meta entry, Start returns with a current
// catalog; it then runs one reconcile pass (which also deletes replicas found
// on disk that the partition table no longer has) and returns.
//
// # Cluster mode
//
// With Config.Cluster set, Start does not bootstrap anything: the node is
// INITIALIZING until Bootstrap/InitCluster or AdmitNode (on the meta leader)
// + JoinMeta. Joined nodes are non-voting meta members. The topology
// (views, node states, replica moves) is part of the meta state
// (cluster_cmd.go); the cluster loop (cluster_loop.go) reports the node's
// state, runs replica moves (add non-voting → caught up → promote → remove
// the old one), marks unreachable nodes DOWN after DeadNodeTimeout and
// balances leaders. DataDir/cluster.json records how replicas were
// bootstrapped (cluster_file.go). See docs/architecture.md "Cluster".
//
// # Data shard entries (the Raft log of shards ≥ 16)
//
//	+--------+-------------------------------------------+
//	| type:1 | payload                                   |
//	+--------+-------------------------------------------+
//	 0x01     store WriteBatch (store.AppendWriteBatch)
//	 0x02     table ID, uint32 little endian (DeleteTable)
//
// Update applies each entry to the store (buffered), sets every entry's
// Result (0 ok; 1 malformed command; 2 batch refused by the store, with the
// message in Data) and flushes when the store asks (NeedsFlush). An entry
// that carries no data still goes through store.Apply (an empty batch) so
// that the store's applied index equals the index Dragonboat records in
// snapshots. Only real I/O failures are returned as errors: Dragonboat stops
// the whole NodeHost on them.
//
// Durability: the store writes the applied index in the same Pebble batch as
// the flushed data. Open returns that index; Dragonboat replays only the
// entries after it. Sync (periodic) and Close flush; a crash loses only the
// unflushed buffer, which the replay rebuilds. The replay runs in the
// background once a replica is started, so Start ends with catchUp: a
// ReadIndex on every local data replica, which returns once the replica has
// applied everything committed (including what the new leader's first
// commit adds). Until then the node is not serving, so a read of the local
// replica never misses an acknowledged write (cmd/longboat's TestCrashKill9
// checks this against the real binary).
//
// Snapshots: PrepareSnapshot takes a Pebble snapshot (store.PrepareSnapshot
// flushes first); SaveSnapshot writes the header "LBSS" + u32 version 1 and
// then the store's stream; RecoverFromSnapshot checks the header and hands
// the rest to the store. Lookup(QueryAppliedIndex{}) reads an atomic only, so
// it is safe concurrently with Update and after Close.
//
// # Meta group (shard 1)
//
// An in-memory IStateMachine whose state is the Catalog: databases, tables,
// the versioned partition table, the node registry and the ID counters
// (database and table IDs from 1, shard IDs from 16; never reused).
// Commands and results are JSON (see metacmd.go); a snapshot is the whole
// state as JSON {"format":1,"state":{…}}. Apply is deterministic: no clock,
// no randomness, no map iteration; the TTL loop reads the wall clock and
// puts it in the command. Business errors (duplicate database 42P04, unknown
// database 3D000, duplicate table 42P07, unknown table 42P01, bad
// definitions 42P16/42701/22023) come back in the Result and surface as
// pgerror errors. Shards are placed on the min(replicas, eligible nodes)
// nodes holding the fewest replicas (placement.go).
//
// DROP TABLE removes the table from the catalog, then proposes DeleteTable
// to every shard of its database that has a replica on this node (best
// effort: table IDs are never reused, so rows it misses are unreachable).
// DROP DATABASE and TTL expiry remove shards from the partition table; the
// reconciler then stops their replicas and drops their storage.
//
// # Frozen into the data directory
//
// NodeID, RaftAddr and the Dragonboat DeploymentID are written to
// DataDir/node.json on first start; a later start with other values is
// refused with a clear error (Dragonboat would refuse too, less clearly).
// Dragonboat also freezes its LogDB type and shard count (defaults: Pebble,
// 16) and the engine's ExecShards (16) in DataDir/raft. Raft addresses are
// lower-cased (Dragonboat does so internally and panics on two spellings).
//
// # NodeHost settings (DESIGN §6)
//
// RTTMillisecond 100, HeartbeatRTT 1, ElectionRTT 10 (all configurable;
// tests use RTT 5 ms). Data shards: CheckQuorum, Quiesce, SnapshotEntries
// 200, CompactionOverhead 20, Snappy entry compression. Meta: SnapshotEntries
// 1000. LogDB: GetTinyMemLogDBConfig (≤ 256 MiB of memtables instead of the
// default 8 GB). MaxEntrySize is Dragonboat's default 64 MiB, so 8 MiB
// batches fit.
//
// Dragonboat's logger is a process-global; logger.go installs a slog bridge
// once per process (sync.Once) that forwards to the latest Host's logger,
// at WARN and above by default.
//
// # Errors of Write
//
// 40003 when Dragonboat times out (the write may or may not have happened),
// 57014 when the context is cancelled or its deadline passes before
// anything was proposed, 22000 when the store refused the batch, XX000 when
// the shard could not decode the entry, ErrNoReplica (57P03) when this node
// has no replica, 57P01 when shutting down. ErrShardNotReady and
// ErrSystemBusy are retried with backoff until the context expires.
//
// Idempotent proposals are bounded per attempt (ten election timeouts, at
// least 2 s) and re-proposed while the context allows: a proposal forwarded
// to a leader that has just died is dropped without an answer and would
// otherwise hang until the deadline. Data writes are idempotent (a point
// written again is the same point); meta commands are idempotent or retried
// with IF [NOT] EXISTS semantics, so a retry never fails on its own first
// attempt's success.
//
// # Background work
//
// The reconciler (above) and a maintenance loop every TTLCheckInterval
// that, on the meta leader only, proposes expire_shards{now} and
// pre-creates the next time partition's shards during the last hour (or
// quarter) of the current one: a new shard needs an election (1–2 s at the
// default tick) before it takes writes, and doing it ahead keeps that off
// the write path. Both read the wall clock outside the state machines.
//
// # Known gaps
//
//   - A node removed from a group (a dead meta voter that was replaced, a
//     replica moved away) keeps its ID forever excluded from that group:
//     Dragonboat never re-admits a removed replica ID.
//   - A database's replica count is capped at creation by the nodes then
//     eligible; it does not grow when nodes join later.
//   - If the node crashes after a dropped shard's Raft data is removed but
//     before store.DropShard, that shard's store keys stay behind (nothing
//     refers to them; no store API lists shards to find them).
//   - Host.LocalShard handles are closed when the replica stops; a reader
//     racing with DROP DATABASE or expiry gets store.ErrClosed.

// # Debugging
//
// Set Config.DragonboatLogLevel to INFO to see elections and snapshots.
// Host.NodeHost().GetNodeHostInfo lists the running replicas;
// Host.AppliedIndex(shard) the local apply progress.
package raftsm
