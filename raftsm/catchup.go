package raftsm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// catchUpConcurrency bounds the ReadIndex rounds catchUp runs at once.
const catchUpConcurrency = 64

// catchUp waits until every data replica running on this node has applied
// every entry committed before the call: one ReadBarrier (a Raft ReadIndex)
// per replica, a bounded number at a time, all within ProposeTimeout.
//
// NB: after a restart a replica opens at its durable applied index (the
// last store flush) and Dragonboat replays the rest of its log in the
// background. The single-node read path reads the local replica without a
// ReadIndex, so a node that served before the replay ended answered reads
// that missed acknowledged writes. A ReadIndex on a just restarted group
// also waits for its election and for the new leader's first commit, which
// commits whatever the log held beyond the persisted commit index.
//
// It returns the shards that did not catch up (no quorum, context done);
// they keep catching up in the background.
func (h *Host) catchUp(ctx context.Context) error {
	h.mu.Lock()
	ids := make([]uint64, 0, len(h.mu.running))
	for id := range h.mu.running {
		ids = append(ids, id)
	}
	h.mu.Unlock()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	ctx, cancel := context.WithTimeout(ctx, h.cfg.ProposeTimeout)
	defer cancel()
	errs := make([]error, len(ids))
	sem := make(chan struct{}, catchUpConcurrency)
	var wg sync.WaitGroup
	for i, id := range ids {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := h.ReadBarrier(ctx, id); err != nil {
				errs[i] = fmt.Errorf("shard %d: %w", id, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
