// Package store is the storage engine of one shard: a columnar in-memory
// buffer in front of compressed column blocks kept in the node's single
// Pebble v2 instance. Every shard owns a key prefix; there is never one
// Pebble per shard.
//
// # Lifecycle and contracts
//
//		Open(dir) ──► DB ──► OpenShard(id) ──► Shard
//		                         │
//		   raftsm Update ──► Apply(index, wb)   buffer only, deterministic
//		   raftsm Sync/  ──► Flush()            one synced Pebble batch:
//		   NeedsFlush                           blocks + series + applied index
//		   raftsm Lookup ──► Scan(ctx, req, fn) buffer ∪ blocks, concurrent
//		   snapshots     ──► PrepareSnapshot / WriteTo / RecoverFromSnapshot
//
//	  - Apply reads only its arguments: series IDs come from a per-shard
//	    counter advanced in Apply order. It records index as applied but not
//	    durable. An invalid batch changes nothing (the index is still recorded).
//	  - Flush persists everything applied so far together with the applied
//	    index, in one synced batch. AppliedIndex returns that durable index,
//	    so after a crash or reopen Raft replays exactly the entries after it;
//	    unflushed points are gone by design.
//	  - Scan may run concurrently with Apply/Flush and after Close (it then
//	    returns ErrClosed). Under the shard's read lock it captures the slice
//	    headers of each series' buffer (buffers are append-only and Flush
//	    replaces them rather than truncating) and opens a Pebble iterator;
//	    decoding happens without any lock.
//	  - Writers (Apply, Flush, DeleteTable, RecoverFromSnapshot, block
//	    compaction) are serialised by Shard.applyMu; the buffer and series
//	    index are guarded by Shard.mu.
//
// # Keys
//
// All integers big-endian. Every key of shard S starts with the 9-byte
// shard prefix, so DropShard is one range delete and a snapshot is one
// range scan:
//
//	0x00 0x01                                     → FormatVersion (u64)
//	0x01 S(8) 0x01 meta(1)                        → u64: 1 applied index,
//	                                                2 next series ID, 3 next block seq
//	0x01 S(8) 0x02 table(4) series(8)             → tag tuple (series index)
//	0x01 S(8) 0x03 table(4) series(8) kind(1) col(2) minTime(8) seq(8) → block
//	                                   │       │      │           └ later wins
//	                                   │       │      └ sign bit flipped
//	                                   │       └ field column ID (0 for time)
//	                                   └ 0 = time column, 1 = field column
//
// The series index is keyed by series ID (its value is the tag tuple) and
// loaded whole into memory by OpenShard, giving (table, tags) → series.
// Series counts per shard are small (thousands), so tag predicates are
// evaluated in memory through ScanRequest.SeriesFilter; there is no stored
// inverted index.
//
// # Blocks
//
// Flush sorts each series' buffer by time (stable; the last write of a
// timestamp wins) and cuts it into groups of at most MaxBlockPoints rows.
// A group is one time block plus one block per field column that has at
// least one non-NULL value in it; all share minTime and seq. A missing
// field block means all NULL. Each block:
//
//	┌──────┬───────┬───────┬─────────┬──────────┬─────────┬────────────────┐
//	│ type │ flags │ count │ minTime │ maxTime- │ nonNull │ stats          │
//	│  1B  │  1B   │ uvar  │  var    │ minTime  │  uvar   │ (if flag 0x02) │
//	│      │       │       │         │  uvar    │ (fields)│                │
//	└──────┴───────┴───────┴─────────┴──────────┴─────────┴────────────────┘
//	┌──────────────────────────────┬──────────────────────────────────────┐
//	│ NULL bitmap, ceil(count/8) B │ value stream of the nonNull values:  │
//	│ only if flag 0x01            │ enc(1) n(uvar) payload               │
//	└──────────────────────────────┴──────────────────────────────────────┘
//
// type is 0 for the time block, else the shard.ColType. Stats of float
// columns are min, max, sum, first, last (first/last = first/last non-NULL
// value in time order): five varints when all are exact integers (flag
// 0x04) else five float64 LE. Integer columns store exact varint
// min/max/first/last plus a float64 sum. Bool and text blocks carry only
// nonNull. Decoding validates every field: counts, time bounds, stats
// order and first/last against the decoded values.
//
// Value streams (append-style AppendX / DecodeX, chosen per block, the
// encoding recorded in the first byte):
//
//	times   0x01 const delta: n first delta
//	        0x02 delta-of-delta: n first delta0 minDod width, then n-2
//	             (dod-minDod) bit-packed LSB-first
//	ints    0x11 const   0x12 frame of reference (v-min, bit-packed)
//	        0x13 delta (delta-minDelta, bit-packed) — smallest wins
//	floats  0x21 const   0x22 integral values (|v|<2^53): an int stream
//	        (TSBS gauges 0..100 → 7 bits/value)   0x23 Gorilla XOR
//	bools   0x31 bitmap
//	strings 0x41 dictionary (first-seen order) + runs (index, length)
//
// # Reads
//
// Scan reads, per series, the headers of the time blocks overlapping the
// range, adds the buffered points as the newest "group", and cuts the
// groups into clusters of overlapping time ranges. A cluster of one group
// is decoded straight into the output; a larger cluster is merged by
// (time, seq) with the buffer winning. Clusters are visited in time order
// (reversed for Reverse), so Limit stops early; Reverse+Limit 1 answers
// from the block headers (last value and maxTime) without decoding. With
// UseStats, a non-overlapping block wholly inside the range is delivered as
// BlockStats (header only). UseStats is not consulted when Limit > 0
// (a stats block cannot be cut to a limit). A block whose float stats are
// unusable (NaN or both infinities) is decoded instead.
//
// # Compaction
//
// Flush cuts a series' buffer into groups, so a busy series accumulates
// many small groups, and out-of-order or overwriting writes make groups
// overlap. Shard.Compact (raftsm runs it when a shard goes idle) and
// CompactBlocks rewrite such series window by window: a window is a run of
// whole overlap clusters of about 64 blocks' worth of rows, rewritten when
// it has overlapping groups or more than one group beyond the
// ceil(rows/MaxBlockPoints) it needs. A window is read through the scan
// path (merged, latest write wins) and encoded without any lock; only its
// commit takes applyMu, re-checks that the series is live and gained no
// group since the plan, and replaces the window in one Pebble batch (range
// deletions over the window's minTime range, then the new blocks with
// fresh seqs). Buffered points are untouched and keep winning. Compact
// then has Pebble compact the rewritten key range so the old blocks leave
// the disk; DB.Compact does the whole keyspace. A shard whose block
// sequence counter has not moved since its last complete compaction is
// skipped without reading anything.
//
// # Pebble tuning
//
// One instance per node sized for small boxes: 32 MiB memtables, 64 MiB
// block cache by default, 32 KiB sstable blocks, one background compaction
// (two when L0 backs up). Our blocks are already bit-packed, so Pebble's
// own compression (snappy by default; zstd or none via Options.Compression)
// saves nothing on values and little on keys: measured on the TSBS day,
// all three settings give the same size (Pebble keeps a block uncompressed
// when compression does not pay).
//
// DiskUsage counts live files; DiskUsageTotal adds the obsolete files being
// deleted and the WAL segments Pebble keeps for recycling.
//
// # Snapshots
//
// PrepareSnapshot flushes and takes a Pebble snapshot. WriteTo streams
// "LBSS" version, then (0x01 keyLen key valLen value)* with keys stripped
// of the shard prefix, then 0x00 and a CRC-32C. RecoverFromSnapshot
// range-deletes the shard and loads the stream, writing the applied index
// last, after the checksum matched.
//
// # WriteBatch encoding
//
// The Raft entry payload (AppendWriteBatch) is columnar too and reuses the
// value-stream codecs; see writebatch.go. Its first byte is
// WriteBatchVersion.
//
// All format constants live in format.go, gated by FormatVersion.
package store
