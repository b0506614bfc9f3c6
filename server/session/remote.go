package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/longboatdb/longboat/mpp"
	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/raftsm"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgdialect"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// Read consistency levels (SET read_consistency).
const (
	// ConsistencyStrong reads from the shard's leader (linearizable).
	ConsistencyStrong = "strong"
	// ConsistencyFollower reads from the nearest replica after a Raft
	// ReadIndex (linearizable as well, but served by any replica: it
	// spreads load and keeps reads local where a replica is local).
	ConsistencyFollower = "follower"
)

// Remote reaches shards through other nodes (cluster mode). A Handler
// without one serves every shard from this node (single node).
type Remote interface {
	// Scanner returns a scanner that runs fragment ref of statement q on
	// node nodeID, which holds a replica of shardID.
	Scanner(ctx context.Context, nodeID, shardID uint64, q *FragmentQuery, ref mpp.FragmentRef) (mpp.Scanner, error)
	// Write commits wb to shardID through a node that holds a replica; it
	// returns once the batch is committed by a quorum.
	Write(ctx context.Context, shardID uint64, wb *store.WriteBatch) error
}

// FragmentQuery is what a node needs to rebuild the plan of a statement
// whose fragment it runs: the statement text and everything the planner
// reads from the session.
type FragmentQuery struct {
	Database   string
	SQL        string
	Params     []types.Datum
	ParamTypes []types.OID
	Now        int64 // statement timestamp, µs
	User       string
	// Consistency is ConsistencyStrong or ConsistencyFollower.
	Consistency string
	// CatalogVersion is the coordinator's catalog version when it planned:
	// the executing node waits until it has applied at least that.
	CatalogVersion uint64
}

// shardSource serves one statement's fragments: from the local replica
// when this node has one that the read consistency allows, otherwise
// through Remote.
type shardSource struct {
	s *Session
	q *FragmentQuery
}

func (src shardSource) Scanner(ctx context.Context, shardID uint64, ref mpp.FragmentRef) (mpp.Scanner, error) {
	h := src.s.h
	if h.Remote == nil {
		return h.Host.LocalShard(shardID)
	}
	node, local, err := pickReplica(h.Host, shardID, src.q.Consistency)
	if err != nil {
		return nil, err
	}
	if local {
		if err := h.Host.ReadBarrier(ctx, shardID); err != nil {
			return nil, err
		}
		return h.Host.LocalShard(shardID)
	}
	return h.Remote.Scanner(ctx, node, shardID, src.q, ref)
}

// pickReplica chooses where a fragment of shardID runs: strong reads go to
// the leader, follower reads to the local replica if there is one, else to
// the leader (its address is the one known for sure).
func pickReplica(host *raftsm.Host, shardID uint64, consistency string) (nodeID uint64, local bool, err error) {
	self := host.NodeID()
	_, localErr := host.LocalStorage(shardID)
	hasLocal := localErr == nil
	if consistency == ConsistencyFollower && hasLocal {
		return self, true, nil
	}
	leader, _, valid, lerr := host.NodeHost().GetLeaderID(shardID)
	if lerr == nil && valid && leader != 0 {
		return leader, leader == self, nil
	}
	if hasLocal {
		// No known leader yet: ReadIndex on the local replica waits for one.
		return self, true, nil
	}
	info, ok := host.Catalog().Shard(shardID)
	if !ok || len(info.Replicas) == 0 {
		return 0, false, pgerror.Newf(pgerror.CodeUnavailable, "shard %d is not in the partition table", shardID)
	}
	// Ask a replica; it forwards to the leader or answers NotLeader.
	return info.Replicas[int(shardID)%len(info.Replicas)], false, nil
}

// ServeFragment runs, on this node, fragment ref of statement q over the
// local replica of shardID (the remote side of Remote.Scanner). It waits for
// the catalog to reach q.CatalogVersion, makes the replica linearizable with
// a ReadIndex, rebuilds the plan and streams the scan's batches to fn.
func (h *Handler) ServeFragment(ctx context.Context, q *FragmentQuery, shardID uint64, ref mpp.FragmentRef, fn func(*store.SeriesBatch) error) error {
	p, sh, err := h.prepareFragment(ctx, q, shardID)
	if err != nil {
		return err
	}
	return mpp.ServeFragment(ctx, p, ref, sh, fn)
}

// ServePartialAggregate is ServeFragment for a fragment under a pushed
// aggregate: it runs the partial aggregation here and returns the encoded
// partial groups (mpp.ServePartialAggregate).
func (h *Handler) ServePartialAggregate(ctx context.Context, q *FragmentQuery, shardID uint64, ref mpp.FragmentRef) ([]byte, error) {
	p, sh, err := h.prepareFragment(ctx, q, shardID)
	if err != nil {
		return nil, err
	}
	return mpp.ServePartialAggregate(ctx, p, ref, sh)
}

// prepareFragment waits for the catalog, checks the read consistency, takes
// a ReadIndex barrier on the local replica and rebuilds the statement's plan.
func (h *Handler) prepareFragment(ctx context.Context, q *FragmentQuery, shardID uint64) (*planner.Plan, *store.Shard, error) {
	if err := waitCatalog(ctx, h.Host, q.CatalogVersion); err != nil {
		return nil, nil, err
	}
	if q.Consistency == ConsistencyStrong {
		if leader, ok := h.Host.ShardLeader(shardID); ok && leader != h.Host.NodeID() {
			return nil, nil, &raftsm.NotLeaderError{ShardID: shardID, LeaderNodeID: leader}
		}
	}
	if err := h.Host.ReadBarrier(ctx, shardID); err != nil {
		return nil, nil, err
	}
	sh, err := h.Host.LocalShard(shardID)
	if err != nil {
		return nil, nil, err
	}
	res, err := pgdialect.Normalize(q.SQL)
	if err != nil {
		return nil, nil, err
	}
	s := &Session{h: h, database: q.Database, user: q.User}
	s.mu.settings = map[string]string{}
	env := &planner.Env{Database: q.Database, Params: q.Params, ParamTypes: q.ParamTypes, Now: q.Now, User: q.User, Setting: s.setting}
	if env.Params == nil {
		env.Params = []types.Datum{}
	}
	p, err := planner.Build(res.Stmt, s.catalog(), env)
	if err != nil {
		return nil, nil, fmt.Errorf("rebuilding the plan of a remote fragment: %w", err)
	}
	return p, sh, nil
}

// waitCatalog waits until the local catalog has applied version v.
func waitCatalog(ctx context.Context, host *raftsm.Host, v uint64) error {
	if c := host.Catalog(); c != nil && c.Version >= v {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for backoff := time.Millisecond; ; backoff = min(backoff*2, 50*time.Millisecond) {
		if c := host.Catalog(); c != nil && c.Version >= v {
			return nil
		}
		select {
		case <-ctx.Done():
			have := uint64(0)
			if c := host.Catalog(); c != nil {
				have = c.Version
			}
			return pgerror.Wrapf(errors.Join(ErrCatalogBehind, ctx.Err()), pgerror.CodeUnavailable, "catalog at version %d, the coordinator planned at %d", have, v)
		case <-time.After(backoff):
		}
	}
}

// ErrCatalogBehind is wrapped by ServeFragment's error when the local
// catalog did not reach the coordinator's version in time.
var ErrCatalogBehind = errors.New("catalog behind the coordinator")

// write commits wb to shardID. On a single node it is proposed to the local
// replica. In cluster mode Remote routes it: to the local replica when it
// leads the shard, otherwise to the leader over RPC (following NotLeader
// hints, refreshing on WrongNode, backing off on Busy).
func (h *Handler) write(ctx context.Context, shardID uint64, wb *store.WriteBatch) error {
	if h.Remote != nil {
		return h.Remote.Write(ctx, shardID, wb)
	}
	return h.Host.Write(ctx, shardID, wb)
}
