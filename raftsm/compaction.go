package raftsm

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/lni/dragonboat/v4"

	"github.com/longboatdb/longboat/shard/store"
)

// Idle compaction.
//
// Dragonboat snapshots a shard every SnapshotEntries entries and keeps
// CompactionOverhead entries behind each snapshot. That bounds the log of a
// busy shard, but the tail written after the last automatic snapshot stays
// forever once the shard goes quiet: after a bulk load of a day's partition
// it is most of the load again, in the Raft log (issue 2). The same loads
// leave many small block groups per series in the store.
//
// So the compactor watches the applied index of every local data replica.
// Once a replica has applied nothing for Config.IdleCompactAfter, it
//
//  1. requests a snapshot with a compaction overhead of 0. A snapshot of
//     an on-disk state machine is cheap: Dragonboat calls Sync (our Flush,
//     which also writes the buffered points out as blocks) and records the
//     index; it does not stream the data. Dragonboat then removes every log
//     entry up to that index and compacts the LogDB range, which is what
//     gives the disk space back;
//  2. packs the shard's blocks (store.Shard.Compact: merge small and
//     overlapping groups, then have Pebble compact the rewritten range).
//     Its writes are not synced; the next synced Flush makes them durable,
//     and losing them in a crash loses nothing (the old blocks stay).
//
// One shard at a time, from one goroutine owned by the Host and stopped by
// Close; writes are never blocked for longer than one window commit of the
// block compaction. A replica that starts applying again is simply
// compacted again after its next idle period.
//
// NB: with an overhead of 0 a follower that was down during the writes can
// no longer catch up from the leader's log and gets a snapshot stream
// instead. For an idle shard that is the cheaper path anyway.

// blockCompactor is the optional capability of a ShardStorage to pack its
// blocks (store.Shard has it).
type blockCompactor interface {
	Compact(ctx context.Context) (store.CompactStats, error)
}

// idleShard is what the compactor remembers of one replica.
type idleShard struct {
	applied   uint64    // applied index last seen
	since     time.Time // when applied last changed (or was first seen)
	compacted uint64    // applied index at the last compaction
	done      bool      // compacted is set
}

// compactLoop runs the idle compactor until the Host closes.
func (h *Host) compactLoop() {
	defer h.wg.Done()
	idle := h.cfg.IdleCompactAfter
	if idle <= 0 {
		return
	}
	t := time.NewTicker(min(max(idle/4, 5*time.Millisecond), time.Second))
	defer t.Stop()
	state := make(map[uint64]*idleShard)
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		id, applied, ok := h.pickIdle(state, time.Now(), idle)
		if !ok {
			continue
		}
		st := state[id]
		if h.compactShard(h.ctx, id, applied) {
			st.compacted, st.done = applied, true
		} else {
			st.since = time.Now() // retry after another idle period
		}
	}
}

// pickIdle updates state from the live replicas and returns the
// lowest-numbered one that has been idle for at least idle since it last
// applied something new to compact.
func (h *Host) pickIdle(state map[uint64]*idleShard, now time.Time, idle time.Duration) (id, applied uint64, ok bool) {
	h.mu.Lock()
	ids := make([]uint64, 0, len(h.mu.sms))
	idx := make(map[uint64]uint64, len(h.mu.sms))
	for sid, d := range h.mu.sms {
		ids = append(ids, sid)
		idx[sid] = d.applied.Load()
	}
	h.mu.Unlock()
	for sid := range state {
		if _, live := idx[sid]; !live {
			delete(state, sid)
		}
	}
	slices.Sort(ids)
	for _, sid := range ids {
		a := idx[sid]
		st := state[sid]
		if st == nil || st.applied != a {
			if st == nil {
				st = &idleShard{}
				state[sid] = st
			}
			st.applied, st.since = a, now
			continue
		}
		if !ok && now.Sub(st.since) >= idle && (!st.done || st.compacted != a) {
			id, applied, ok = sid, a, true
		}
	}
	return id, applied, ok
}

// compactShard drops the Raft log of shard id up to the applied index and
// packs its blocks. It reports whether the shard is done (false: retry
// after the next idle period check).
func (h *Host) compactShard(ctx context.Context, id, applied uint64) bool {
	log := h.log.With("shard", id)
	if !h.snapshotIdle(ctx, log, id, applied) {
		return false
	}
	h.mu.Lock()
	s := h.mu.open[id]
	h.mu.Unlock()
	if bc, ok := s.(blockCompactor); ok {
		t0 := time.Now()
		st, err := bc.Compact(ctx)
		switch {
		case err == nil:
			if st.Rewritten > 0 {
				log.Info("packed blocks", "series", st.Rewritten, "groups_before", st.GroupsBefore,
					"groups_after", st.GroupsAfter, "took", time.Since(t0).Round(time.Millisecond))
			}
		case ctx.Err() != nil:
			return false
		case errors.Is(err, store.ErrClosed):
			return true // replica stopped; nothing left to do
		default:
			log.Warn("cannot pack blocks", "err", err)
		}
	}
	return true
}

// snapshotIdle requests a snapshot of shard id with a compaction overhead of
// 0 (its Sync flushes the buffer). It reports false when it should be
// retried later.
func (h *Host) snapshotIdle(ctx context.Context, log *slog.Logger, id, applied uint64) bool {
	lr, err := h.nh.GetLogReader(id)
	if err != nil {
		return true // replica gone
	}
	if first, _ := lr.GetRange(); first > applied {
		return true // the log holds nothing up to applied
	}
	sctx, cancel := context.WithTimeout(ctx, h.cfg.ProposeTimeout)
	defer cancel()
	t0 := time.Now()
	index, err := h.nh.SyncRequestSnapshot(sctx, id, dragonboat.SnapshotOption{
		OverrideCompactionOverhead: true,
		CompactionOverhead:         0,
	})
	switch {
	case err == nil:
		log.Debug("snapshot of idle shard; log compacted", "index", index, "took", time.Since(t0).Round(time.Millisecond))
		return true
	case errors.Is(err, dragonboat.ErrRejected):
		return true // a snapshot at this index exists already
	case ctx.Err() != nil:
		return false
	case errors.Is(err, dragonboat.ErrShardNotFound), errors.Is(err, dragonboat.ErrShardClosed),
		errors.Is(err, dragonboat.ErrClosed):
		return true
	case errors.Is(err, dragonboat.ErrShardNotReady), errors.Is(err, dragonboat.ErrSystemBusy),
		errors.Is(err, dragonboat.ErrTimeout):
		log.Debug("cannot snapshot idle shard yet", "err", err)
		return false
	default:
		log.Warn("cannot snapshot idle shard", "err", err)
		return false
	}
}
