package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/longboatdb/longboat/mpp"
	"github.com/longboatdb/longboat/raftsm"
	"github.com/longboatdb/longboat/server/rpc"
	"github.com/longboatdb/longboat/server/session"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// routeTimeout bounds how long a write or a fragment keeps being re-routed
// (leader changes, a dead node, a stale partition table) when its context
// has no earlier deadline. A leader election takes about a second; a dead
// node's shards have a new leader within a few.
const routeTimeout = 20 * time.Second

// writeAttemptTimeout bounds an attempt to forward a write. A leader that
// vanished without closing its connections (a killed container, a network
// cut) is replaced by an election within about 1–2 s, so the attempt after
// a timeout usually goes to the new leader; after two timeouts in a row the
// bound doubles each time, so that a slow but live leader is not retried
// forever.
const writeAttemptTimeout = 2 * time.Second

// router is the cluster-mode session.Remote: it sends writes to shard
// leaders and fragments to replicas over inter-node RPC. served (below)
// answers the same calls from other nodes.
type router struct {
	host    *raftsm.Host
	client  *rpc.Client
	handler *session.Handler
	log     *slog.Logger
}

var (
	_ session.Remote        = (*router)(nil)
	_ rpc.WriteHandler      = served{}
	_ rpc.ScanHandler       = served{}
	_ mpp.Scanner           = (*retryScanner)(nil)
	_ mpp.PartialAggregator = (*retryScanner)(nil)
	_ rpc.AggregateHandler  = served{}
	_ rpc.AdminHandler      = (*clusterNode)(nil)
)

// rpcAddr returns the RPC address the catalog records for a node.
func (r *router) rpcAddr(nodeID uint64) (string, bool) {
	n, ok := r.host.Catalog().Node(nodeID)
	if !ok || n.RPCAddr == "" {
		return "", false
	}
	return n.RPCAddr, true
}

// target picks the node a write to shardID goes to: the leader this node
// knows (it has a replica), else hint, else a replica from the partition
// table (try counts the attempts, to rotate among them).
func (r *router) target(shardID, hint uint64, try int) (uint64, error) {
	if hint != 0 {
		return hint, nil
	}
	if l, ok := r.host.ShardLeader(shardID); ok {
		return l, nil
	}
	info, ok := r.host.Catalog().Shard(shardID)
	if !ok || len(info.Replicas) == 0 {
		return 0, pgerror.Newf(pgerror.CodeUnavailable, "shard %d is not in the partition table", shardID)
	}
	return info.Replicas[(int(shardID)+try)%len(info.Replicas)], nil
}

// Write implements session.Remote: it commits wb on shardID's leader,
// wherever it is, and returns once a quorum has committed it.
func (r *router) Write(ctx context.Context, shardID uint64, wb *store.WriteBatch) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, routeTimeout)
		defer cancel()
	}
	self := r.host.NodeID()
	var hint uint64
	var last error
	attempt, timeouts := writeAttemptTimeout, 0
	for try, backoff := 0, 5*time.Millisecond; ; try, backoff = try+1, min(backoff*2, 500*time.Millisecond) {
		node, err := r.target(shardID, hint, try)
		if err != nil {
			return err
		}
		hint = 0
		timedOut, err := r.writeAttempt(ctx, shardID, node, attempt, wb)
		if timedOut {
			if timeouts++; timeouts >= 2 {
				attempt = min(2*attempt, routeTimeout)
			}
		}
		if err == nil {
			return nil
		}
		last = err
		var (
			lnl *raftsm.NotLeaderError
			rnl *rpc.NotLeaderError
			lwn *raftsm.WrongNodeError
			rwn *rpc.WrongNodeError
			bz  *rpc.BusyError
		)
		wait := backoff
		switch {
		case errors.As(err, &lnl):
			hint = lnl.LeaderNodeID
		case errors.As(err, &rnl):
			hint = rnl.LeaderNodeID
		case errors.As(err, &lwn), errors.As(err, &rwn):
			// Someone's partition table is stale: the shard moved. Ours
			// follows the meta group; retry on another replica.
		case errors.As(err, &bz):
			wait = max(wait, bz.RetryAfter)
		case rpc.IsRetryable(err), errors.Is(err, raftsm.ErrNoReplica):
		default:
			return err
		}
		if hint == self && node == self {
			hint = 0 // our own replica claims leadership but refused: re-read
		}
		r.log.Debug("write re-routed", "shard", shardID, "node", node, "hint", hint, "err", err)
		// Back off; without a hint to follow, retry as soon as the local
		// replica knows a leader other than the node that just failed:
		// the backoff (up to 500 ms) would otherwise add to every election.
		wctx, cancel := context.WithTimeout(ctx, wait)
		pollLeader(wctx, r.host, shardID, func(l uint64) bool { return hint == 0 && l != node })
		cancel()
		if ctx.Err() != nil {
			return pgerror.Wrapf(errors.Join(last, ctx.Err()), pgerror.CodeUnavailable,
				"shard %d: no leader accepted the write in time", shardID)
		}
	}
}

// writeAttempt makes one attempt to commit wb through node: its local
// replica, or node over RPC with each attempt bounded by bound (a node that
// vanished without closing its connections never answers). watchLeader
// gives up on the attempt as soon as the shard elects another leader. See
// attemptError for the error and timedOut.
func (r *router) writeAttempt(ctx context.Context, shardID, node uint64, bound time.Duration, wb *store.WriteBatch) (timedOut bool, err error) {
	if node == r.host.NodeID() {
		actx, cancel := context.WithCancel(ctx)
		moved := watchLeader(actx, cancel, r.host, shardID, node)
		err = r.host.Write(actx, shardID, wb)
		cancel()
		return attemptError(ctx, actx, err, moved(), shardID, "", bound)
	}
	addr, ok := r.rpcAddr(node)
	if !ok {
		return false, noAddr(node)
	}
	actx, cancel := context.WithTimeout(ctx, bound)
	moved := watchLeader(actx, cancel, r.host, shardID, node)
	_, err = r.client.ForwardWrite(actx, addr, shardID, r.host.Catalog().Partitions.Version, wb)
	cancel()
	return attemptError(ctx, actx, err, moved(), shardID, addr, bound)
}

// attemptError classifies the error of a write attempt, run under actx (a
// child of ctx; for one forwarded to addr, bounded by bound) and over.
// A leader change seen meanwhile (moved, see watchLeader) makes it a
// NotLeader naming the new leader; an attempt that ran out its bound is
// *rpc.UnavailableError and timedOut. Any other error is the callee's
// answer (NotLeader with a hint, WrongNode, Busy…), returned as it is for
// the routing to follow. Once ctx itself is done, err stands.
func attemptError(ctx, actx context.Context, err error, moved, shardID uint64, addr string, bound time.Duration) (timedOut bool, _ error) {
	switch {
	case err == nil || ctx.Err() != nil:
		return false, err
	case moved != 0:
		return false, &rpc.NotLeaderError{ShardID: shardID, LeaderNodeID: moved}
	case errors.Is(actx.Err(), context.DeadlineExceeded):
		// NB: not actx.Err() != nil — the attempt's cancel has run by now.
		return true, &rpc.UnavailableError{Addr: addr, Err: fmt.Errorf("no answer within %v: %w", bound, actx.Err())}
	}
	return false, err
}

// leaderPoll is how often the router looks at the local replica's view of
// a shard's leader while it waits for a write attempt or a backoff.
const leaderPoll = 25 * time.Millisecond

// leaderView is this node's view of shard leaders, from its local
// replicas (raftsm.Host); a shard without a local replica has none.
type leaderView interface {
	ShardLeader(shardID uint64) (nodeID uint64, ok bool)
}

// pollLeader polls v's leader of shardID every leaderPoll until
// changed(leader) holds, and returns that leader, or 0 if ctx ends first.
func pollLeader(ctx context.Context, v leaderView, shardID uint64, changed func(leader uint64) bool) uint64 {
	t := time.NewTicker(leaderPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0
		case <-t.C:
			if l, ok := v.ShardLeader(shardID); ok && changed(l) {
				return l
			}
		}
	}
}

// watchLeader cancels an attempt to write shardID through target as soon
// as v (the local replica, if this node holds one) sees a leader other
// than target and other than the one it saw when the attempt started: the
// shard has elected a new leader, and an attempt stuck on the old one
// (cut off, dead, or deposed with the proposal in its log) need not wait
// out its bound. The attempt may still commit; sending the batch again to
// the new leader is harmless (a point written twice is one point). stop
// ends the watch and returns the new leader, or 0 if it did not cancel.
func watchLeader(ctx context.Context, cancel context.CancelFunc, v leaderView, shardID, target uint64) (stop func() uint64) {
	seen, _ := v.ShardLeader(shardID)
	wctx, end := context.WithCancel(ctx)
	var moved atomic.Uint64
	go func() {
		if l := pollLeader(wctx, v, shardID, func(l uint64) bool { return l != seen && l != target }); l != 0 {
			moved.Store(l)
			cancel()
		}
	}()
	return func() uint64 {
		end()
		return moved.Load()
	}
}

// Scanner implements session.Remote.
func (r *router) Scanner(ctx context.Context, nodeID, shardID uint64, q *session.FragmentQuery, ref mpp.FragmentRef) (mpp.Scanner, error) {
	cons := rpc.ReadStrong
	if q.Consistency == session.ConsistencyFollower {
		cons = rpc.ReadFollower
	}
	return &retryScanner{r: r, node: nodeID, f: rpc.ScanFragment{
		Database: q.Database, SQL: q.SQL, Params: q.Params, ParamTypes: q.ParamTypes,
		NowMicros: q.Now, User: q.User, Subqueries: ref.Subqueries, ScanOrdinal: ref.Scan,
		ShardID: shardID, CatalogVersion: q.CatalogVersion, Consistency: cons,
	}}, nil
}

// retryScanner runs a fragment on a remote replica; while nothing has been
// received it retries retryable refusals (not the leader, no replica, a
// catalog behind, a node down) on the replica they point to or the next.
type retryScanner struct {
	r    *router
	node uint64
	f    rpc.ScanFragment
}

func (s *retryScanner) Scan(ctx context.Context, req *store.ScanRequest, fn func(*store.SeriesBatch) error) error {
	return s.retry(ctx, func(node uint64) (sent bool, err error) {
		deliver := func(b *store.SeriesBatch) error { sent = true; return fn(b) }
		if node == s.r.host.NodeID() {
			f := &s.f
			err = s.r.handler.ServeFragment(ctx, fragmentQuery(f), f.ShardID, fragmentRef(f), deliver)
			return sent, s.r.rpcError(err)
		}
		addr, ok := s.r.rpcAddr(node)
		if !ok {
			return false, noAddr(node)
		}
		f := s.f
		f.Request = *req
		f.Request.SeriesFilter = nil
		err = s.r.client.Scan(ctx, addr, &f, deliver)
		return sent, err
	})
}

// PartialAggregate implements mpp.PartialAggregator: the fragment is
// aggregated on the node holding the replica, which sends back its partial
// groups instead of its points.
func (s *retryScanner) PartialAggregate(ctx context.Context) ([]byte, error) {
	var out []byte
	err := s.retry(ctx, func(node uint64) (bool, error) {
		var err error
		if node == s.r.host.NodeID() {
			f := &s.f
			out, err = s.r.handler.ServePartialAggregate(ctx, fragmentQuery(f), f.ShardID, fragmentRef(f))
			return false, s.r.rpcError(err)
		}
		addr, ok := s.r.rpcAddr(node)
		if !ok {
			return false, noAddr(node)
		}
		out, err = s.r.client.Aggregate(ctx, addr, &s.f)
		return false, err
	})
	return out, err
}

// fragmentRef names f's fragment within its statement's plan.
func fragmentRef(f *rpc.ScanFragment) mpp.FragmentRef {
	return mpp.FragmentRef{Scan: f.ScanOrdinal, Subqueries: f.Subqueries}
}

func noAddr(node uint64) error {
	return &rpc.UnavailableError{Addr: fmt.Sprintf("node %d", node), Err: errors.New("no RPC address in the catalog")}
}

// retry runs attempt on s.node, then, while it fails with a retryable
// refusal before delivering anything, on the replica the refusal names or
// the next one, for up to routeTimeout.
func (s *retryScanner) retry(ctx context.Context, attempt func(node uint64) (sent bool, err error)) error {
	rctx, cancel := context.WithTimeout(ctx, routeTimeout)
	defer cancel()
	node := s.node
	for try, backoff := 0, 5*time.Millisecond; ; try, backoff = try+1, min(backoff*2, 500*time.Millisecond) {
		sent, err := attempt(node)
		if err == nil || sent || ctx.Err() != nil || !rpc.IsRetryable(err) {
			return err
		}
		var nl *rpc.NotLeaderError
		hint := uint64(0)
		if errors.As(err, &nl) {
			hint = nl.LeaderNodeID
		}
		next, terr := s.r.target(s.f.ShardID, hint, try+1)
		if terr != nil {
			return errors.Join(err, terr)
		}
		s.r.log.Debug("fragment re-routed", "shard", s.f.ShardID, "from", node, "to", next, "err", err)
		node = next
		select {
		case <-rctx.Done():
			return pgerror.Wrapf(errors.Join(err, rctx.Err()), pgerror.CodeUnavailable,
				"shard %d: no replica could run the fragment in time", s.f.ShardID)
		case <-time.After(backoff):
		}
	}
}

func fragmentQuery(f *rpc.ScanFragment) *session.FragmentQuery {
	cons := session.ConsistencyStrong
	if f.Consistency == rpc.ReadFollower {
		cons = session.ConsistencyFollower
	}
	return &session.FragmentQuery{
		Database: f.Database, SQL: f.SQL, Params: f.Params, ParamTypes: f.ParamTypes,
		Now: f.NowMicros, User: f.User, Consistency: cons, CatalogVersion: f.CatalogVersion,
	}
}

// served serves the Write and Scan calls of other nodes' coordinators.
type served struct{ r *router }

// Write implements rpc.WriteHandler: a write forwarded by another node's
// coordinator, proposed to the local replica (which must lead the shard).
func (s served) Write(ctx context.Context, req *rpc.WriteRequest) (rpc.WriteResult, error) {
	r := s.r
	if err := r.host.Write(ctx, req.ShardID, req.Batch); err != nil {
		return rpc.WriteResult{}, r.rpcError(err)
	}
	var rows uint64
	for i := range req.Batch.Tables {
		rows += uint64(len(req.Batch.Tables[i].Times))
	}
	return rpc.WriteResult{Rows: rows}, nil
}

// Scan implements rpc.ScanHandler.
func (s served) Scan(ctx context.Context, f *rpc.ScanFragment, send func(*store.SeriesBatch) error) error {
	r := s.r
	return r.rpcError(r.handler.ServeFragment(ctx, fragmentQuery(f), f.ShardID, fragmentRef(f), send))
}

// Aggregate implements rpc.AggregateHandler.
func (s served) Aggregate(ctx context.Context, f *rpc.ScanFragment) ([]byte, error) {
	data, err := s.r.handler.ServePartialAggregate(ctx, fragmentQuery(f), f.ShardID, fragmentRef(f))
	return data, s.r.rpcError(err)
}

// rpcError maps the routing refusals of raftsm and of the session's
// fragment serving to the typed RPC errors a coordinator retries on.
func (r *router) rpcError(err error) error {
	var (
		nl *raftsm.NotLeaderError
		wn *raftsm.WrongNodeError
	)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, session.ErrCatalogBehind):
		return &rpc.CatalogBehindError{Have: r.host.Catalog().Version}
	case errors.As(err, &nl):
		addr, _ := r.rpcAddr(nl.LeaderNodeID)
		return &rpc.NotLeaderError{ShardID: nl.ShardID, LeaderNodeID: nl.LeaderNodeID, LeaderAddr: addr}
	case errors.As(err, &wn):
		return &rpc.WrongNodeError{ShardID: wn.ShardID, PartitionVersion: wn.PartitionVersion}
	case errors.Is(err, raftsm.ErrNoReplica):
		return &rpc.WrongNodeError{PartitionVersion: r.host.Catalog().Partitions.Version}
	}
	return err
}
