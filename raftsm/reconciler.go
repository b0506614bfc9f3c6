package raftsm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/lni/dragonboat/v4"

	"github.com/longboatdb/longboat/shard"
)

// The reconciler makes the data replicas running on this NodeHost match the
// partition table: it starts the replicas placed here that are not running
// and stops (then deletes the Raft data and storage of) running replicas the
// table no longer places here — dropped databases and expired shards. It runs
// after every catalog change, every ReconcileInterval, and synchronously
// from EnsureShards and DropDatabase.

func (h *Host) kickReconciler() {
	select {
	case h.kickCh <- struct{}{}:
	default:
	}
}

func (h *Host) reconcileLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.ReconcileInterval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.catalogCh:
		case <-h.kickCh:
		case <-t.C:
		}
		if err := h.reconcile(h.ctx, false); err != nil && h.ctx.Err() == nil {
			h.log.Warn("reconcile", "err", err)
		}
	}
}

// reconcile runs one pass. With orphans set it also deletes replicas found
// on disk (from an earlier run) that the partition table no longer has.
func (h *Host) reconcile(ctx context.Context, orphans bool) error {
	h.reconcileMu.Lock()
	defer h.reconcileMu.Unlock()
	c := h.Catalog()
	if c == nil {
		return nil
	}
	want := make(map[uint64]shard.ShardInfo)
	for _, s := range c.ShardsOnNode(h.cfg.NodeID) {
		want[s.ID] = s
	}
	// The target of a replica move runs a (joining, non-voting) replica too.
	for _, m := range c.Moves {
		if m.To == h.cfg.NodeID {
			if s, ok := c.Shard(m.ShardID); ok {
				want[s.ID] = s
			}
		}
	}
	var errs []error
	// Start what is missing, in ID order (deterministic logs).
	ids := make([]uint64, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		h.mu.Lock()
		running := h.mu.running[id]
		h.mu.Unlock()
		if running {
			continue
		}
		if err := h.startDataReplica(c, want[id]); err != nil {
			errs = append(errs, err)
		}
	}
	// Stop what is no longer placed here.
	var stop []uint64
	h.mu.Lock()
	for id := range h.mu.running {
		if _, ok := want[id]; !ok {
			stop = append(stop, id)
		}
	}
	h.mu.Unlock()
	if orphans {
		// Replicas on disk that the table forgot while this node was down.
		// Only IDs the meta group has already handed out: a replica of a
		// newer shard than this catalog knows must not be touched.
		info := h.nh.GetNodeHostInfo(dragonboat.NodeHostInfoOption{SkipLogInfo: false})
		for _, ni := range info.LogInfo {
			if ni.ShardID < FirstShardID || ni.ReplicaID != h.cfg.NodeID || ni.ShardID >= c.NextIDs.Shard {
				continue
			}
			if _, ok := want[ni.ShardID]; !ok {
				stop = append(stop, ni.ShardID)
			}
		}
	}
	sort.Slice(stop, func(i, j int) bool { return stop[i] < stop[j] })
	for i, id := range stop {
		if i > 0 && stop[i-1] == id {
			continue
		}
		if err := h.removeDataReplica(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// startDataReplica starts the local replica of shard s. A replica on disk
// is restarted (as a non-voting member if it joined as one, see
// clusterFile). A new replica is an initial member of the group (members
// from the partition table) when the shard's replica set never changed;
// otherwise (this node is the target of a move, or the group has changed
// since it was created) it joins as a non-voting member and waits to be
// added by the shard's leader.
func (h *Host) startDataReplica(c *Catalog, s shard.ShardInfo) error {
	var members map[uint64]string
	join, nonVoting := false, false
	if h.nh.HasNodeInfo(s.ID, h.cfg.NodeID) {
		nonVoting = h.joinedShard(s.ID)
	} else if h.cl != nil && shardChanged(c, s.ID) {
		if err := h.recordJoinedShard(s.ID); err != nil {
			return err
		}
		join, nonVoting = true, true
	} else {
		members = make(map[uint64]string, len(s.Replicas))
		for _, r := range s.Replicas {
			n, ok := c.Node(r)
			if !ok {
				return fmt.Errorf("longboat/raftsm: shard %d: replica node %d is not registered", s.ID, r)
			}
			members[r] = n.RaftAddr
		}
	}
	dc := h.cfg.dataConfig(s.ID)
	dc.IsNonVoting = nonVoting
	err := h.nh.StartOnDiskReplica(members, join, h.newDataSM, dc)
	if err != nil && !errors.Is(err, dragonboat.ErrShardAlreadyExist) {
		return fmt.Errorf("longboat/raftsm: cannot start replica of shard %d: %w", s.ID, err)
	}
	h.mu.Lock()
	h.mu.running[s.ID] = true
	h.mu.Unlock()
	return nil
}

// shardChanged reports whether shard id's replica set may differ from the
// one it was created with: a move is in progress or has happened.
func shardChanged(c *Catalog, id uint64) bool {
	if _, ok := c.Move(id); ok {
		return true
	}
	for _, r := range c.Retired {
		if r.ShardID == id {
			return true
		}
	}
	return false
}

// removeDataReplica stops the local replica of shard id, deletes its Raft
// data and then its storage.
func (h *Host) removeDataReplica(ctx context.Context, id uint64) error {
	if err := h.nh.StopReplica(id, h.cfg.NodeID); err != nil && !errors.Is(err, dragonboat.ErrShardNotFound) {
		return fmt.Errorf("longboat/raftsm: cannot stop replica of shard %d: %w", id, err)
	}
	rctx, cancel := context.WithTimeout(ctx, h.cfg.ProposeTimeout)
	defer cancel()
	for {
		err := h.nh.SyncRemoveData(rctx, id, h.cfg.NodeID)
		if err == nil {
			break
		}
		if !errors.Is(err, dragonboat.ErrShardNotStopped) {
			return fmt.Errorf("longboat/raftsm: cannot remove Raft data of shard %d: %w", id, err)
		}
		select {
		case <-rctx.Done():
			return fmt.Errorf("longboat/raftsm: cannot remove Raft data of shard %d: %w", id, rctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := h.storage.DropShard(id); err != nil {
		return fmt.Errorf("longboat/raftsm: cannot drop storage of shard %d: %w", id, err)
	}
	h.mu.Lock()
	delete(h.mu.running, id)
	h.mu.Unlock()
	if err := h.forgetJoinedShard(id); err != nil {
		return err
	}
	h.log.Info("shard replica removed", "shard", id)
	return nil
}

// ttlLoop proposes "expire shards" to the meta group when this node is the
// meta leader and some shard is past its database's TTL by the wall clock,
// and pre-creates the next partition's shards (PrecreateShards).
// The clock is read here, outside the state machines; the command carries
// the time so that every replica decides alike.
func (h *Host) ttlLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.TTLCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		if err := h.ExpireShards(h.ctx); err != nil && h.ctx.Err() == nil {
			h.log.Warn("expire shards", "err", err)
		}
		if err := h.PrecreateShards(h.ctx); err != nil && h.ctx.Err() == nil {
			h.log.Warn("pre-create shards", "err", err)
		}
	}
}

// ExpireShards removes the shards past their database's TTL (by the wall
// clock, Config.Now) if this node leads the meta group; the reconciler then
// drops their replicas. It is what the TTL loop runs; exposed for tests and
// admin commands.
func (h *Host) ExpireShards(ctx context.Context) error {
	leader, _, ok, err := h.nh.GetLeaderID(MetaShardID)
	if err != nil || !ok || leader != h.cfg.NodeID {
		return nil
	}
	now := h.cfg.Now().UnixMicro()
	if !h.Catalog().hasExpired(now) {
		return nil
	}
	res, err := h.proposeMeta(ctx, &metaCommand{Op: opExpireShards, Now: now})
	if err != nil {
		return err
	}
	if len(res.Dropped) > 0 {
		h.log.Info("shards expired", "shards", res.Dropped)
		return h.reconcile(ctx, false)
	}
	return nil
}

func (c *Catalog) hasExpired(now int64) bool {
	for _, s := range c.Partitions.Shards {
		if d, ok := c.DatabaseByID(s.Database); ok {
			if ttl := d.TTL.Microseconds(); ttl > 0 && s.PartitionEnd <= math.MaxInt64-ttl && s.PartitionEnd+ttl < now {
				return true
			}
		}
	}
	return false
}

// PrecreateShards creates, if this node leads the meta group, the shards of
// the next time partition of every database that has shards in the current
// one (by the wall clock, Config.Now), once the current partition is in its
// last quarter (at most its last hour). A new shard needs a leader election
// (ElectionRTT..2×ElectionRTT ticks, 1–2 s at the default tick) before it
// takes writes; doing it ahead keeps that stall off the write path at
// partition boundaries.
func (h *Host) PrecreateShards(ctx context.Context) error {
	leader, _, ok, err := h.nh.GetLeaderID(MetaShardID)
	if err != nil || !ok || leader != h.cfg.NodeID {
		return nil
	}
	now := h.cfg.Now().UnixMicro()
	c := h.Catalog()
	var errs []error
	for _, d := range c.Databases {
		width := d.PartitionInterval.Microseconds()
		if width <= 0 {
			continue
		}
		cur := shard.PartitionStart(now, d.PartitionInterval)
		if cur > math.MaxInt64-2*width {
			continue
		}
		next := cur + width
		lead := min(width/4, time.Hour.Microseconds())
		if now < next-lead {
			continue
		}
		if _, ok := c.Partitions.Lookup(d.ID, cur, 0); !ok {
			continue // no writes in the current partition
		}
		if _, ok := c.Partitions.Lookup(d.ID, next, 0); ok {
			continue
		}
		if _, err := h.EnsureShards(ctx, d.ID, []int64{next}); err != nil {
			errs = append(errs, fmt.Errorf("database %q: %w", d.Name, err))
		}
	}
	return errors.Join(errs...)
}
