package raftsm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// The cluster loop runs on every node in cluster mode, every
// ClusterConfig.CheckInterval and after every catalog change. One pass:
//
//  1. After the meta replica (re)starts, a meta ReadIndex makes the local
//     catalog current; only then does the reconciler delete replicas found
//     on disk that the partition table no longer places here.
//  2. The node reports its own state (IDLE, HEALTHY) and addresses.
//  3. As the target of a replica move, once its new non-voting replica
//     answers a ReadIndex (it has applied everything committed), it reports
//     move_caught_up.
//  4. As the leader of a shard with a move in progress, it runs the move's
//     membership steps: add the target as non-voting; once caught up,
//     promote it, remove the old replica, propose finish_move. It also
//     removes retired replicas still in the group (aborted moves).
//  5. On the meta leader only: nodes unreachable for DeadNodeTimeout are
//     marked DOWN; moves are begun (bounded by MaxConcurrentMoves) for
//     replicas on DOWN, LEAVING or REMOVED nodes and for under-replicated
//     shards, and aborted when their target goes away; LEAVING nodes with
//     no replica left are removed; the meta group keeps up to three voters
//     by promoting non-voting members.
//  6. Every LeaderBalanceInterval: leadership of the shards this node leads
//     is handed to their preferred leader (placement.go).
//
// Every step is idempotent and re-derived from the catalog and Dragonboat's
// membership on each pass, so a pass cut short (leader change, crash) is
// simply redone by the next one, wherever it runs.

func (h *Host) clusterLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.cl.cfg.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.cl.kick:
		case <-t.C:
		}
		if err := h.clusterPass(h.ctx); err != nil && h.ctx.Err() == nil {
			h.log.Debug("cluster pass", "err", err)
		}
	}
}

// loopTimeout bounds one Raft operation of the cluster loop: ten election
// timeouts, at least 1 s.
func (h *Host) loopTimeout() time.Duration {
	return max(10*time.Duration(h.cfg.ElectionRTT*h.cfg.RTTMillisecond)*time.Millisecond, time.Second)
}

func (h *Host) clusterPass(ctx context.Context) error {
	if !h.cl.metaStarted.Load() {
		return nil
	}
	if !h.cl.caughtUp.Load() {
		rctx, cancel := context.WithTimeout(ctx, h.loopTimeout())
		_, err := h.nh.SyncRead(rctx, MetaShardID, QueryCatalog{})
		cancel()
		if err != nil {
			return fmt.Errorf("meta ReadIndex: %w", err)
		}
		h.cl.caughtUp.Store(true)
		if err := h.reconcile(ctx, true); err != nil {
			h.log.Warn("reconcile after catching up with the catalog", "err", err)
		}
	}
	c := h.Catalog()
	if _, ok := c.Node(h.cfg.NodeID); !ok {
		return nil // admitted but the join is not applied here yet
	}
	var errs []error
	errs = append(errs, h.reportState(ctx, c))
	errs = append(errs, h.reportCaughtUp(ctx, c))
	errs = append(errs, h.executeMoves(ctx, c))
	if leader, ok := h.metaLeader(); ok && leader == h.cfg.NodeID {
		errs = append(errs, h.detectFailures(ctx, c))
		errs = append(errs, h.repair(ctx, h.Catalog()))
		errs = append(errs, h.manageMeta(ctx, h.Catalog()))
	}
	errs = append(errs, h.balanceLeaders(c))
	return errors.Join(errs...)
}

// proposeLoop proposes a meta command of the cluster loop, bounded by
// loopTimeout.
func (h *Host) proposeLoop(ctx context.Context, c *metaCommand) (metaResult, error) {
	pctx, cancel := context.WithTimeout(ctx, h.loopTimeout())
	defer cancel()
	return h.proposeMeta(pctx, c)
}

// localReplicas returns the shards placed on this node (moves to it
// included) and whether each of them is running.
func (h *Host) localReplicas(c *Catalog) (placed []uint64, allRunning bool) {
	for _, s := range c.ShardsOnNode(h.cfg.NodeID) {
		placed = append(placed, s.ID)
	}
	for _, m := range c.Moves {
		if m.To == h.cfg.NodeID {
			placed = append(placed, m.ShardID)
		}
	}
	allRunning = true
	h.mu.Lock()
	for _, id := range placed {
		allRunning = allRunning && h.mu.running[id]
	}
	h.mu.Unlock()
	return placed, allRunning
}

// reportState proposes this node's state and addresses when the registry
// disagrees: JOINING or DOWN become IDLE (or HEALTHY), IDLE becomes HEALTHY
// once every replica placed here runs. A HEALTHY node whose new replica is
// not started yet is left HEALTHY (the reconciler is on it), so shard
// creation does not cost state proposals.
func (h *Host) reportState(ctx context.Context, c *Catalog) error {
	self, _ := c.Node(h.cfg.NodeID)
	if self.State == NodeRemoved || self.State == NodeLeaving {
		return nil
	}
	placed, allRunning := h.localReplicas(c)
	want := self.State
	switch {
	case len(placed) == 0:
		want = NodeIdle
	case allRunning:
		want = NodeHealthy
	case self.State == NodeJoining || self.State == NodeDown || self.State == "":
		want = NodeIdle
	}
	cc := h.cl.cfg
	addrs := Node{ID: h.cfg.NodeID, RPCAddr: cc.RPCAddr, PGAddr: cc.PGAddr, ProductVersion: cc.ProductVersion}
	if want == self.State && self.RPCAddr == addrs.RPCAddr && self.PGAddr == addrs.PGAddr && self.ProductVersion == addrs.ProductVersion {
		return nil
	}
	if _, err := h.proposeLoop(ctx, &metaCommand{Op: opSetState, NodeID: h.cfg.NodeID, State: want, Node: &addrs}); err != nil {
		return fmt.Errorf("report state %s: %w", want, err)
	}
	h.log.Info("node state", "state", want)
	return nil
}

// reportCaughtUp reports the moves to this node whose new replica has
// caught up: it runs, and a ReadIndex on it succeeds.
func (h *Host) reportCaughtUp(ctx context.Context, c *Catalog) error {
	var errs []error
	for _, m := range c.Moves {
		if m.To != h.cfg.NodeID || m.Phase != MoveLearning {
			continue
		}
		h.mu.Lock()
		running := h.mu.running[m.ShardID]
		h.mu.Unlock()
		if !running {
			h.kickReconciler()
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, h.loopTimeout())
		err := h.ReadBarrier(rctx, m.ShardID)
		cancel()
		if err != nil {
			continue // not added yet, or still receiving its snapshot
		}
		if _, err := h.proposeLoop(ctx, &metaCommand{Op: opMoveCaughtUp, Move: &ShardMove{ShardID: m.ShardID, To: m.To}}); err != nil {
			errs = append(errs, fmt.Errorf("report move of shard %d caught up: %w", m.ShardID, err))
			continue
		}
		h.log.Info("moved replica caught up", "shard", m.ShardID)
	}
	return errors.Join(errs...)
}

// executeMoves runs the membership steps of the moves of shards this node
// leads, and removes retired replicas still in the groups it leads.
func (h *Host) executeMoves(ctx context.Context, c *Catalog) error {
	var errs []error
	for _, m := range c.Moves {
		if l, ok := h.ShardLeader(m.ShardID); !ok || l != h.cfg.NodeID {
			continue
		}
		if err := h.executeMove(ctx, c, m); err != nil {
			errs = append(errs, fmt.Errorf("move of shard %d from node %d to node %d: %w", m.ShardID, m.From, m.To, err))
		}
	}
	h.cl.mu.Lock()
	if h.cl.mu.retiredDone == nil {
		h.cl.mu.retiredDone = make(map[ShardReplica]bool)
	}
	var todo []ShardReplica
	for _, r := range c.Retired {
		if !h.cl.mu.retiredDone[r] {
			todo = append(todo, r)
		}
	}
	h.cl.mu.Unlock()
	for _, r := range todo {
		if l, ok := h.ShardLeader(r.ShardID); !ok || l != h.cfg.NodeID {
			continue
		}
		if err := h.deleteMember(ctx, r.ShardID, r.NodeID); err != nil {
			errs = append(errs, err)
			continue
		}
		h.cl.mu.Lock()
		h.cl.mu.retiredDone[r] = true
		h.cl.mu.Unlock()
	}
	return errors.Join(errs...)
}

// deleteMember removes node from shard's Raft group if it is a member.
func (h *Host) deleteMember(ctx context.Context, shardID, node uint64) error {
	mctx, cancel := context.WithTimeout(ctx, h.loopTimeout())
	defer cancel()
	mem, err := h.nh.SyncGetShardMembership(mctx, shardID)
	if err != nil {
		return fmt.Errorf("membership of shard %d: %w", shardID, err)
	}
	_, voter := mem.Nodes[node]
	_, nonVoter := mem.NonVotings[node]
	if !voter && !nonVoter {
		return nil
	}
	if err := h.nh.SyncRequestDeleteReplica(mctx, shardID, node, 0); err != nil {
		return fmt.Errorf("remove replica %d of shard %d: %w", node, shardID, err)
	}
	h.log.Info("replica removed from its group", "shard", shardID, "replica", node)
	return nil
}

func (h *Host) executeMove(ctx context.Context, c *Catalog, m ShardMove) error {
	to, ok := c.Node(m.To)
	if !ok {
		return fmt.Errorf("target node %d is not registered", m.To)
	}
	mctx, cancel := context.WithTimeout(ctx, h.loopTimeout())
	defer cancel()
	mem, err := h.nh.SyncGetShardMembership(mctx, m.ShardID)
	if err != nil {
		return fmt.Errorf("membership: %w", err)
	}
	_, voter := mem.Nodes[m.To]
	_, nonVoter := mem.NonVotings[m.To]
	if _, removed := mem.Removed[m.To]; removed {
		_, err := h.proposeLoop(ctx, &metaCommand{Op: opAbortMove, Move: &ShardMove{ShardID: m.ShardID, To: m.To}})
		return errors.Join(fmt.Errorf("target was removed from the group earlier; aborting"), err)
	}
	switch m.Phase {
	case MoveLearning:
		if !voter && !nonVoter {
			if err := h.nh.SyncRequestAddNonVoting(mctx, m.ShardID, m.To, to.RaftAddr, 0); err != nil {
				return fmt.Errorf("add non-voting: %w", err)
			}
			h.log.Info("move: non-voting replica added", "shard", m.ShardID, "to", m.To, "from", m.From)
		}
		return nil
	case MovePromoting:
		if !voter {
			if !nonVoter {
				return fmt.Errorf("target is not a member of the group")
			}
			if err := h.nh.SyncRequestAddReplica(mctx, m.ShardID, m.To, to.RaftAddr, 0); err != nil {
				return fmt.Errorf("promote: %w", err)
			}
			h.log.Info("move: replica promoted", "shard", m.ShardID, "to", m.To)
		}
		if m.From != 0 {
			if err := h.deleteMember(ctx, m.ShardID, m.From); err != nil {
				return err
			}
		}
		if _, err := h.proposeLoop(ctx, &metaCommand{Op: opFinishMove, Move: &ShardMove{ShardID: m.ShardID, From: m.From, To: m.To}}); err != nil {
			return fmt.Errorf("finish: %w", err)
		}
		h.log.Info("move finished", "shard", m.ShardID, "from", m.From, "to", m.To)
	}
	return nil
}

// detectFailures marks DOWN the nodes unreachable from the meta leader for
// longer than DeadNodeTimeout.
func (h *Host) detectFailures(ctx context.Context, c *Catalog) error {
	now := h.cfg.Now()
	var errs []error
	for _, n := range c.Nodes {
		if n.ID == h.cfg.NodeID || n.State == NodeDown || n.State == NodeRemoved {
			continue
		}
		since, down := h.cl.live.downSince(n.ID, n.RaftAddr)
		if !down || now.Sub(since) < h.cl.cfg.DeadNodeTimeout {
			continue
		}
		if _, err := h.proposeLoop(ctx, &metaCommand{Op: opSetState, NodeID: n.ID, State: NodeDown}); err != nil {
			errs = append(errs, fmt.Errorf("mark node %d down: %w", n.ID, err))
			continue
		}
		h.log.Warn("node marked down", "down_node", n.ID, "unreachable_for", now.Sub(since).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}

// gone reports whether the replicas on node id must be re-created
// elsewhere.
func gone(c *Catalog, id uint64) bool {
	n, ok := c.Node(id)
	if !ok {
		return true
	}
	switch n.State {
	case NodeDown, NodeLeaving, NodeRemoved:
		return true
	}
	return false
}

// repair begins and aborts moves (meta leader only).
func (h *Host) repair(ctx context.Context, c *Catalog) error {
	var errs []error
	active := len(c.Moves)
	for _, m := range c.Moves {
		if n, ok := c.Node(m.To); !ok || !n.State.placeable() {
			if _, err := h.proposeLoop(ctx, &metaCommand{Op: opAbortMove, Move: &ShardMove{ShardID: m.ShardID, To: m.To}}); err != nil {
				errs = append(errs, fmt.Errorf("abort move of shard %d to node %d: %w", m.ShardID, m.To, err))
				continue
			}
			h.log.Warn("move aborted: target went away", "shard", m.ShardID, "to", m.To)
			active--
		}
	}
	placeable := placeableNodes(c)
	counts := replicaCounts(c)
	for _, s := range c.Partitions.Shards {
		if active >= h.cl.cfg.MaxConcurrentMoves {
			break
		}
		if _, busy := c.Move(s.ID); busy {
			continue
		}
		var from uint64
		for _, r := range s.Replicas {
			if gone(c, r) {
				from = r
				break
			}
		}
		if from == 0 {
			d, ok := c.DatabaseByID(s.Database)
			if !ok || len(s.Replicas) >= min(d.Replicas, placeable) {
				continue
			}
		}
		to, ok := moveTarget(c, s, counts)
		if !ok {
			continue // not enough nodes: wait until one joins
		}
		mv := &ShardMove{ShardID: s.ID, From: from, To: to}
		if _, err := h.proposeLoop(ctx, &metaCommand{Op: opBeginMove, Move: mv}); err != nil {
			errs = append(errs, fmt.Errorf("begin move of shard %d to node %d: %w", s.ID, to, err))
			continue
		}
		h.log.Info("move begun", "shard", s.ID, "from", from, "to", to)
		counts[to]++
		active++
	}
	c = h.Catalog()
	for _, n := range c.Nodes {
		if n.State == NodeLeaving && replicasOn(c, n.ID) == 0 {
			if _, err := h.proposeLoop(ctx, &metaCommand{Op: opRemoveNode, NodeID: n.ID}); err != nil {
				errs = append(errs, fmt.Errorf("remove drained node %d: %w", n.ID, err))
				continue
			}
			h.log.Info("drained node removed", "removed_node", n.ID)
		}
	}
	return errors.Join(errs...)
}

// targetMetaVoters is the number of voters the meta group is kept at (when
// enough nodes can take them).
const targetMetaVoters = 3

// manageMeta keeps the meta group's membership in line with the registry
// (meta leader only): REMOVED nodes leave the group; while fewer than three
// voters are on placeable nodes, a placeable non-voting member is promoted;
// a DOWN voter that has been replaced so is removed from the group and the
// registry (REMOVED: Dragonboat never re-admits a removed replica ID, so
// that node must come back with a new ID and an empty data directory).
func (h *Host) manageMeta(ctx context.Context, c *Catalog) error {
	mctx, cancel := context.WithTimeout(ctx, h.loopTimeout())
	defer cancel()
	mem, err := h.nh.SyncGetShardMembership(mctx, MetaShardID)
	if err != nil {
		return fmt.Errorf("meta membership: %w", err)
	}
	state := func(id uint64) NodeState {
		if n, ok := c.Node(id); ok {
			return n.State
		}
		return NodeRemoved
	}
	var healthy, downVoters, nonVoters []uint64
	for id := range mem.Nodes {
		switch s := state(id); {
		case s.placeable():
			healthy = append(healthy, id)
		case s == NodeDown:
			downVoters = append(downVoters, id)
		}
	}
	for id := range mem.NonVotings {
		nonVoters = append(nonVoters, id)
	}
	slices.Sort(healthy)
	slices.Sort(downVoters)
	slices.Sort(nonVoters)
	// Remove REMOVED members (never the last voter, never this node).
	members := slices.Concat(slices.Collect(maps.Keys(mem.Nodes)), nonVoters)
	slices.Sort(members)
	for _, id := range members {
		_, isVoter := mem.Nodes[id]
		if id == h.cfg.NodeID || state(id) != NodeRemoved || (isVoter && len(mem.Nodes) <= 1) {
			continue
		}
		if err := h.nh.SyncRequestDeleteReplica(mctx, MetaShardID, id, 0); err != nil {
			return fmt.Errorf("remove node %d from the meta group: %w", id, err)
		}
		h.log.Info("removed node left the meta group", "removed_node", id)
		return nil // one change per pass: re-read the membership
	}
	if len(healthy) < targetMetaVoters {
		for _, id := range nonVoters {
			n, ok := c.Node(id)
			if !ok || !n.State.placeable() {
				continue
			}
			if err := h.nh.SyncRequestAddReplica(mctx, MetaShardID, id, n.RaftAddr, 0); err != nil {
				return fmt.Errorf("promote node %d to meta voter: %w", id, err)
			}
			h.log.Info("node promoted to meta voter", "promoted", id)
			return nil
		}
	}
	if len(healthy) >= targetMetaVoters && len(downVoters) > 0 {
		id := downVoters[0]
		if _, err := h.proposeLoop(ctx, &metaCommand{Op: opRemoveNode, NodeID: id, Lenient: true}); err != nil {
			return fmt.Errorf("remove dead meta voter %d: %w", id, err)
		}
		h.log.Warn("dead meta voter replaced; removing it", "removed_node", id)
		// The next pass removes it from the group (it is REMOVED now).
	}
	return nil
}

// balanceLeaders hands the leadership of shards this node leads to their
// preferred leader, at most MaxLeaderTransfers per pass, every
// LeaderBalanceInterval.
func (h *Host) balanceLeaders(c *Catalog) error {
	cc := h.cl.cfg
	if cc.LeaderBalanceInterval < 0 {
		return nil
	}
	now := h.cfg.Now()
	h.cl.mu.Lock()
	due := now.Sub(h.cl.mu.lastBalance) >= cc.LeaderBalanceInterval
	if due {
		h.cl.mu.lastBalance = now
	}
	h.cl.mu.Unlock()
	if !due {
		return nil
	}
	pref := preferredLeaders(c)
	var errs []error
	n := 0
	for _, s := range c.ShardsOnNode(h.cfg.NodeID) {
		if n >= cc.MaxLeaderTransfers {
			break
		}
		if l, ok := h.ShardLeader(s.ID); !ok || l != h.cfg.NodeID {
			continue
		}
		p, ok := pref[s.ID]
		if !ok || p == h.cfg.NodeID {
			continue
		}
		if pn, ok := c.Node(p); !ok {
			continue
		} else if _, down := h.cl.live.downSince(p, pn.RaftAddr); down {
			continue
		}
		if err := h.nh.RequestLeaderTransfer(s.ID, p); err != nil {
			errs = append(errs, fmt.Errorf("leader transfer of shard %d to node %d: %w", s.ID, p, err))
			continue
		}
		h.log.Debug("leader transfer", "shard", s.ID, "to", p)
		n++
	}
	return errors.Join(errs...)
}
