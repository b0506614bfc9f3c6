package raftsm

import (
	"errors"
	"fmt"
	"os"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// ErrNotLeader is matched (errors.Is) by every *NotLeaderError.
var ErrNotLeader = errors.New("longboat/raftsm: not the leader")

// NotLeaderError: this node holds a replica of the shard but is not its
// leader (cluster mode: Write and AdmitNode do not go through followers).
// Retry on LeaderNodeID; 0 when no leader is known. SQLSTATE 57P03.
type NotLeaderError struct {
	ShardID      uint64
	LeaderNodeID uint64
}

func (e *NotLeaderError) Error() string {
	if e.LeaderNodeID == 0 {
		return fmt.Sprintf("longboat/raftsm: shard %d: this replica is not the leader and no leader is known", e.ShardID)
	}
	return fmt.Sprintf("longboat/raftsm: shard %d: this replica is not the leader (leader: node %d)", e.ShardID, e.LeaderNodeID)
}

// Unwrap gives the SQLSTATE and ErrNotLeader.
func (e *NotLeaderError) Unwrap() error {
	return pgerror.Wrapf(ErrNotLeader, pgerror.CodeUnavailable, "shard %d", e.ShardID)
}

// WrongNodeError: this node holds no replica of the shard (cluster mode);
// the caller's partition table is stale if it is older than
// PartitionVersion, else this node's is. It matches ErrNoReplica and has
// SQLSTATE 57P03.
type WrongNodeError struct {
	ShardID          uint64
	PartitionVersion uint64 // of this node's catalog
}

func (e *WrongNodeError) Error() string {
	return fmt.Sprintf("longboat/raftsm: node holds no replica of shard %d (partition table version %d)", e.ShardID, e.PartitionVersion)
}

// Unwrap gives the SQLSTATE and ErrNoReplica.
func (e *WrongNodeError) Unwrap() error {
	return pgerror.Wrapf(ErrNoReplica, pgerror.CodeUnavailable, "shard %d", e.ShardID)
}

// checkWriteRoute is Write's pre-check in cluster mode: a write reaches
// the shard's leader or is refused with the reason (the coordinator routes
// by it), instead of being forwarded through a follower. A replica with no
// known leader proposes anyway (Dragonboat retries until one is elected).
func (h *Host) checkWriteRoute(shardID uint64) error {
	if h.cl == nil {
		return nil
	}
	h.mu.Lock()
	running := h.mu.running[shardID]
	h.mu.Unlock()
	if !running && !h.placedHere(shardID) {
		return &WrongNodeError{ShardID: shardID, PartitionVersion: h.Catalog().Partitions.Version}
	}
	if leader, ok := h.ShardLeader(shardID); ok && leader != h.cfg.NodeID {
		return &NotLeaderError{ShardID: shardID, LeaderNodeID: leader}
	}
	return nil
}

func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("longboat/raftsm: cannot remove %s: %w", path, err)
	}
	return nil
}
