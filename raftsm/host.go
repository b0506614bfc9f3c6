package raftsm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lni/dragonboat/v4"
	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// Errors callers branch on.
var (
	// ErrNoReplica is returned when this node has no replica of a shard.
	ErrNoReplica = errors.New("longboat/raftsm: no local replica of shard")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("longboat/raftsm: host closed")
)

// Host runs the node's Dragonboat NodeHost: the meta replica, the data shard
// replicas the partition table places here, the reconciler that keeps the two
// in agreement, and the TTL loop.
type Host struct {
	cfg     Config
	log     *slog.Logger
	nh      *dragonboat.NodeHost
	storage Storage

	catalog   atomic.Pointer[Catalog]
	catalogCh chan struct{} // capacity 1: "the catalog changed"
	kickCh    chan struct{} // capacity 1: "reconcile now"

	ctx    context.Context // cancelled by Close; owns the background loops
	cancel context.CancelFunc
	wg     sync.WaitGroup

	reconcileMu sync.Mutex // serialises reconcile passes
	mu          struct {
		sync.Mutex
		running map[uint64]bool         // data replicas started on the NodeHost
		open    map[uint64]ShardStorage // shard handles of opened data SMs
		sms     map[uint64]*dataSM      // live data SMs (tests, status)
	}
	closeOnce sync.Once
	closeErr  error
	bufPool   sync.Pool     // *[]byte command buffers
	cl        *clusterState // cluster mode (cluster.go); nil in single-node mode
}

// Start starts the node's NodeHost. With no meta replica on disk it
// bootstraps the meta group with Config.MetaMembers (by default the
// single-node cluster), waits for its leader and applies the init command
// (which creates database "longboat"). On restart it rejoins its meta
// replica and restarts every data replica the partition table places on this
// node. It returns once the meta group has a leader, the catalog is loaded and
// the local replicas are started and caught up: each has applied every entry
// committed before Start returns (see catchUp; a replica that cannot within
// ProposeTimeout is logged and catches up in the background).
func Start(ctx context.Context, cfg Config) (*Host, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := checkIdentity(&cfg); err != nil {
		return nil, err
	}
	installDragonboatLogger(cfg.Logger, *cfg.DragonboatLogLevel)
	nhc := cfg.nodeHostConfig()
	var live *liveness
	if cfg.Cluster != nil {
		live = newLiveness(cfg.Now)
		nhc.SystemEventListener = live
		nhc.RaftEventListener = live
	}
	nh, err := dragonboat.NewNodeHost(nhc)
	if err != nil {
		return nil, fmt.Errorf("longboat/raftsm: cannot start NodeHost in %s: %w", cfg.nodeHostDir(), err)
	}
	h := &Host{
		cfg:       cfg,
		log:       cfg.Logger.With("node", cfg.NodeID),
		nh:        nh,
		storage:   cfg.Storage,
		catalogCh: make(chan struct{}, 1),
		kickCh:    make(chan struct{}, 1),
	}
	h.mu.running = make(map[uint64]bool)
	h.mu.open = make(map[uint64]ShardStorage)
	h.mu.sms = make(map[uint64]*dataSM)
	h.ctx, h.cancel = context.WithCancel(context.Background())
	start := h.startMeta
	if cfg.Cluster != nil {
		start = func(context.Context) error { return h.startCluster(live) }
	}
	if err := start(ctx); err != nil {
		h.cancel()
		nh.Close()
		return nil, err
	}
	// In cluster mode the catalog may be stale until a meta ReadIndex: the
	// cluster loop deletes orphaned replicas after one (cluster_loop.go).
	if err := h.reconcile(ctx, cfg.Cluster == nil); err != nil {
		h.log.Warn("initial reconcile incomplete", "err", err)
	}
	t0 := time.Now()
	if err := h.catchUp(ctx); err != nil {
		h.log.Warn("local replicas not caught up; reads of these shards may miss writes until their log replay ends",
			"err", err)
	} else {
		h.log.Debug("local replicas caught up", "took", time.Since(t0))
	}
	h.wg.Add(3)
	go h.reconcileLoop()
	go h.ttlLoop()
	go h.compactLoop()
	if h.cl != nil {
		h.wg.Add(1)
		go h.clusterLoop()
	}
	return h, nil
}

func (h *Host) startMeta(ctx context.Context) error {
	members := h.cfg.MetaMembers
	if h.nh.HasNodeInfo(MetaShardID, h.cfg.NodeID) {
		members = nil // restart: Dragonboat knows the membership
	}
	create := func(uint64, uint64) sm.IStateMachine { return newMetaSM(h.publishCatalog) }
	if err := h.nh.StartReplica(members, false, create, h.cfg.metaConfig()); err != nil {
		return fmt.Errorf("longboat/raftsm: cannot start meta replica: %w", err)
	}
	if err := h.waitLeader(ctx, MetaShardID); err != nil {
		return err
	}
	// The init command is idempotent; proposing it on every start also
	// guarantees that the local meta replica has applied the whole log
	// before the catalog is used.
	nodes := make([]Node, 0, len(h.cfg.MetaMembers))
	for id, addr := range h.cfg.MetaMembers {
		nodes = append(nodes, Node{ID: id, RaftAddr: addr})
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	if _, err := h.proposeMeta(ctx, &metaCommand{Op: opInit, Nodes: nodes}); err != nil {
		return fmt.Errorf("longboat/raftsm: cannot initialise the meta group: %w", err)
	}
	return nil
}

// publishCatalog is called by the meta state machine after every change.
func (h *Host) publishCatalog(c *Catalog) {
	for {
		old := h.catalog.Load()
		if old != nil && old.Version > c.Version {
			return
		}
		if h.catalog.CompareAndSwap(old, c) {
			break
		}
	}
	select {
	case h.catalogCh <- struct{}{}:
	default:
	}
	if h.cl != nil {
		h.cl.poke()
	}
}

// Close stops the background loops and the NodeHost (every state machine
// flushes on close). The Storage is not closed: it belongs to the caller.
func (h *Host) Close() error {
	h.closeOnce.Do(func() {
		h.cancel()
		h.wg.Wait()
		h.nh.Close()
	})
	return h.closeErr
}

// NodeHost returns the Dragonboat NodeHost (metrics, status).
func (h *Host) NodeHost() *dragonboat.NodeHost { return h.nh }

// NodeID returns this node's ID.
func (h *Host) NodeID() uint64 { return h.cfg.NodeID }

// Catalog returns the current catalog snapshot. Never nil after Start.
func (h *Host) Catalog() *Catalog { return h.catalog.Load() }

// waitLeader waits until shardID has a known leader.
func (h *Host) waitLeader(ctx context.Context, shardID uint64) error {
	return h.waitLeaders(ctx, []uint64{shardID})
}

func (h *Host) waitLeaders(ctx context.Context, ids []uint64) error {
	pending := append([]uint64(nil), ids...)
	poll := time.Duration(h.cfg.RTTMillisecond) * time.Millisecond / 2
	poll = min(max(poll, time.Millisecond), 20*time.Millisecond)
	for {
		rest := pending[:0]
		for _, id := range pending {
			leader, _, ok, err := h.nh.GetLeaderID(id)
			if errors.Is(err, dragonboat.ErrClosed) {
				return pgerror.Wrap(ErrClosed, pgerror.CodeAdminShutdown)
			}
			if err != nil || !ok || leader == 0 {
				rest = append(rest, id)
			}
		}
		pending = rest
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctxError(ctx, fmt.Sprintf("shard %d has no leader", pending[0]))
		case <-h.ctx.Done():
			return pgerror.Wrap(ErrClosed, pgerror.CodeAdminShutdown)
		case <-time.After(poll):
		}
	}
}

// ctxError maps an expired or cancelled context, when nothing was proposed,
// to 57014 as PostgreSQL words it. It never returns nil: Dragonboat refuses
// a request whose deadline is less than one tick away (ErrTimeoutTooSmall)
// while ctx has not expired yet, and that refusal must not read as success
// — it once made Write acknowledge a batch it never proposed.
func ctxError(ctx context.Context, what string) error {
	err := ctx.Err()
	if err == nil {
		err = fmt.Errorf("less than one Raft tick left before the deadline: %w", context.DeadlineExceeded)
	}
	if errors.Is(err, context.Canceled) {
		return pgerror.Wrapf(err, pgerror.CodeQueryCanceled, "canceling statement due to user request: %s", what)
	}
	return pgerror.Wrapf(err, pgerror.CodeQueryCanceled, "canceling statement due to statement timeout: %s", what)
}

// propose proposes cmd to shardID with the NO-OP session (the only session
// on-disk state machines accept) and returns the applied Result. It retries
// while the shard is not ready or busy. A timeout leaves the outcome unknown
// (40003) and a cancelled ctx gives 57014 — except when retry is set: each
// attempt is then bounded by attemptTimeout and, while ctx allows, the
// command retry returns is proposed again. A proposal forwarded to a leader
// that has just died is dropped silently and would otherwise hang until the
// deadline. retry must return a command whose second application is
// harmless (a data write: the same point written again is the same point).
func (h *Host) propose(ctx context.Context, shardID uint64, cmd []byte, retry func() []byte) (sm.Result, error) {
	idempotent := retry != nil
	if _, ok := ctx.Deadline(); !ok {
		// Dragonboat requires a deadline; bound the whole call.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.cfg.ProposeTimeout)
		defer cancel()
	}
	backoff := time.Millisecond
	for {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if idempotent {
			pctx, cancel = context.WithTimeout(ctx, h.attemptTimeout())
		}
		res, err := h.nh.SyncPropose(pctx, h.nh.GetNoOPSession(shardID), cmd)
		cancel()
		switch {
		case err == nil:
			return res, nil
		case errors.Is(err, dragonboat.ErrShardNotReady), errors.Is(err, dragonboat.ErrSystemBusy),
			errors.Is(err, dragonboat.ErrShardNotFound) && h.placedHere(shardID):
			// Not proposed: safe to retry. (A replica placed here but not yet
			// started by the reconciler is "not found" for a moment.)
			if errors.Is(err, dragonboat.ErrShardNotFound) {
				h.kickReconciler()
			}
		case errors.Is(err, dragonboat.ErrTimeout) && idempotent && ctx.Err() == nil:
			h.log.Debug("proposal timed out; re-proposing", "shard", shardID)
			cmd = retry()
		case errors.Is(err, dragonboat.ErrTimeout):
			if errors.Is(ctx.Err(), context.Canceled) {
				return res, pgerror.Wrapf(err, pgerror.CodeQueryCanceled, "canceling statement: write to shard %d cancelled", shardID)
			}
			return res, pgerror.Wrapf(err, pgerror.CodeStatementCompletionUnk, "write outcome unknown: shard %d timed out", shardID)
		case errors.Is(err, dragonboat.ErrInvalidDeadline), errors.Is(err, dragonboat.ErrTimeoutTooSmall):
			// Refused before proposing: the deadline is (nearly) gone.
			return res, h.deadlineRefused(ctx, fmt.Sprintf("write to shard %d", shardID))
		case errors.Is(err, dragonboat.ErrCanceled):
			return res, pgerror.Wrapf(err, pgerror.CodeQueryCanceled, "canceling statement: write to shard %d cancelled", shardID)
		case errors.Is(err, dragonboat.ErrShardNotFound):
			return res, pgerror.Wrapf(ErrNoReplica, pgerror.CodeUnavailable, "shard %d", shardID)
		case errors.Is(err, dragonboat.ErrClosed), errors.Is(err, dragonboat.ErrShardClosed):
			return res, pgerror.Wrapf(err, pgerror.CodeAdminShutdown, "shard %d is shutting down", shardID)
		case errors.Is(err, dragonboat.ErrPayloadTooBig):
			return res, pgerror.Wrapf(err, pgerror.CodeProgramLimitExceeded, "write batch of %d bytes to shard %d", len(cmd), shardID)
		default:
			return res, fmt.Errorf("longboat/raftsm: cannot propose to shard %d: %w", shardID, err)
		}
		select {
		case <-ctx.Done():
			return res, ctxError(ctx, fmt.Sprintf("shard %d not ready", shardID))
		case <-h.ctx.Done():
			return res, pgerror.Wrap(ErrClosed, pgerror.CodeAdminShutdown)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 100*time.Millisecond)
	}
}

// deadlineRefused handles Dragonboat refusing a request because ctx's
// deadline is less than one tick away (ErrTimeoutTooSmall) or past
// (ErrInvalidDeadline): nothing was proposed or read. It waits for ctx to
// expire — at most one tick; both refusals imply a deadline — so that the
// caller finds ctx expired, as after any other timeout (a forwarded write
// is then re-routed by its coordinator instead of failing), and returns
// 57014. It waits on ctx itself, not on a timer of its own: a context's
// deadline is delivered by a goroutine, which a loaded machine may run
// after a timer set for the same moment.
func (h *Host) deadlineRefused(ctx context.Context, what string) error {
	select {
	case <-ctx.Done():
		return ctxError(ctx, what)
	case <-h.ctx.Done():
		return pgerror.Wrap(ErrClosed, pgerror.CodeAdminShutdown)
	}
}

// attemptTimeout bounds one attempt of an idempotent proposal: ten election
// timeouts, at least 2 s (10 s at the default tick).
func (h *Host) attemptTimeout() time.Duration {
	d := 10 * time.Duration(h.cfg.ElectionRTT*h.cfg.RTTMillisecond) * time.Millisecond
	return max(d, 2*time.Second)
}

func (h *Host) placedHere(shardID uint64) bool {
	if shardID == MetaShardID {
		return true
	}
	c := h.Catalog()
	if c == nil {
		return false
	}
	s, ok := c.Shard(shardID)
	if !ok {
		return false
	}
	for _, r := range s.Replicas {
		if r == h.cfg.NodeID {
			return true
		}
	}
	return false
}

// proposeMeta proposes a meta command and decodes its answer. Business
// errors come back as pgerror errors.
func (h *Host) proposeMeta(ctx context.Context, c *metaCommand) (metaResult, error) {
	if err := h.checkMetaReady(); err != nil {
		return metaResult{}, err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return metaResult{}, err
	}
	retry := func() []byte { return data }
	switch c.Op {
	case opCreateDatabase, opDropDatabase, opCreateTable, opDropTable:
		// The first attempt may have been applied: retry leniently, so that
		// it does not fail on its own success. (A concurrent creator of the
		// same name is then not reported; the result is the same catalog.)
		retry = func() []byte {
			c2 := *c
			c2.Lenient = true
			data, _ := json.Marshal(&c2)
			return data
		}
	}
	res, err := h.propose(ctx, MetaShardID, data, retry)
	if err != nil {
		return metaResult{}, err
	}
	return decodeMetaResult(res)
}

// maxPooledBuf caps the command buffers kept for reuse.
const maxPooledBuf = 16 << 20

// Write replicates wb to shard shardID and returns once it is committed and
// applied on this node. Errors: 40003 when Dragonboat timed out (the write
// may or may not have happened), 57014 when ctx was cancelled, 22000 when the
// shard refused the batch; ErrNoReplica (57P03) when this node has no
// replica.
func (h *Host) Write(ctx context.Context, shardID uint64, wb *store.WriteBatch) error {
	if err := h.checkWriteRoute(shardID); err != nil {
		return err
	}
	bp, _ := h.bufPool.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	cmd := append((*bp)[:0], cmdWriteBatch)
	cmd = h.storage.AppendWriteBatch(cmd, wb)
	res, err := h.propose(ctx, shardID, cmd, func() []byte { return cmd })
	if cap(cmd) <= maxPooledBuf {
		*bp = cmd[:0]
		h.bufPool.Put(bp)
	}
	if err != nil {
		return err
	}
	return dataResultError(shardID, res)
}

func dataResultError(shardID uint64, res sm.Result) error {
	switch res.Value {
	case resultOK:
		return nil
	case resultRejected:
		return pgerror.Newf(pgerror.CodeDataException, "shard %d refused the write: %s", shardID, res.Data)
	case resultNone:
		// Completed without our state machine's answer: do not take it
		// for a committed write (the caller's write fails and may be
		// retried; a point rewritten with the same values is idempotent).
		return pgerror.Newf(pgerror.CodeStatementCompletionUnk, "shard %d: the write completed without a result from the state machine; its outcome is unknown", shardID)
	default:
		return pgerror.Newf(pgerror.CodeInternal, "shard %d could not decode the command: %s", shardID, res.Data)
	}
}

// ReadBarrier waits until the local replica of shardID has applied every
// entry committed before the call (a Raft ReadIndex): reads of LocalStorage
// after it are linearizable. Works on followers too.
func (h *Host) ReadBarrier(ctx context.Context, shardID uint64) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.cfg.ProposeTimeout)
		defer cancel()
	}
	for backoff := time.Millisecond; ; backoff = min(backoff*2, 100*time.Millisecond) {
		// Bounded attempts: a ReadIndex request or answer lost on the way
		// (leader change, reconnect) is never answered.
		actx, cancel := context.WithTimeout(ctx, h.attemptTimeout())
		_, err := h.nh.SyncRead(actx, shardID, QueryAppliedIndex{})
		cancel()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, dragonboat.ErrShardNotReady), errors.Is(err, dragonboat.ErrSystemBusy):
		case errors.Is(err, dragonboat.ErrShardNotFound) && h.placedHere(shardID):
			h.kickReconciler()
		case errors.Is(err, dragonboat.ErrTimeout) && ctx.Err() == nil:
			h.log.Debug("read barrier timed out; retrying", "shard", shardID)
		case errors.Is(err, dragonboat.ErrShardNotFound):
			return pgerror.Wrapf(ErrNoReplica, pgerror.CodeUnavailable, "shard %d", shardID)
		case errors.Is(err, dragonboat.ErrInvalidDeadline), errors.Is(err, dragonboat.ErrTimeoutTooSmall):
			return h.deadlineRefused(ctx, fmt.Sprintf("read barrier on shard %d", shardID))
		case errors.Is(err, dragonboat.ErrTimeout), errors.Is(err, dragonboat.ErrCanceled):
			return ctxError(ctx, fmt.Sprintf("read barrier on shard %d", shardID))
		case errors.Is(err, dragonboat.ErrClosed), errors.Is(err, dragonboat.ErrShardClosed):
			return pgerror.Wrapf(err, pgerror.CodeAdminShutdown, "shard %d is shutting down", shardID)
		default:
			return fmt.Errorf("longboat/raftsm: read barrier on shard %d: %w", shardID, err)
		}
		select {
		case <-ctx.Done():
			return ctxError(ctx, fmt.Sprintf("shard %d not ready", shardID))
		case <-time.After(backoff):
		}
	}
}

// AppliedIndex returns the index of the last entry the local replica of
// shardID has applied.
func (h *Host) AppliedIndex(shardID uint64) (uint64, error) {
	h.mu.Lock()
	d := h.mu.sms[shardID]
	h.mu.Unlock()
	if d == nil {
		return 0, pgerror.Wrapf(ErrNoReplica, pgerror.CodeUnavailable, "shard %d", shardID)
	}
	return d.applied.Load(), nil
}

// LocalStorage returns the storage handle of the local replica of shardID,
// for reads. The handle is closed when the replica stops (shard dropped or
// Host closed).
func (h *Host) LocalStorage(shardID uint64) (ShardStorage, error) {
	h.mu.Lock()
	s := h.mu.open[shardID]
	h.mu.Unlock()
	if s == nil {
		return nil, pgerror.Wrapf(ErrNoReplica, pgerror.CodeUnavailable, "shard %d", shardID)
	}
	return s, nil
}

// LocalShard returns the store handle of the local replica of shardID, for
// reads (single node: the data is complete; otherwise call ReadBarrier
// first). The handle is closed when the replica stops. Error if this node
// has no replica.
func (h *Host) LocalShard(shardID uint64) (*store.Shard, error) {
	s, err := h.LocalStorage(shardID)
	if err != nil {
		return nil, err
	}
	return unwrapStoreShard(s)
}

func (h *Host) newDataSM(shardID, replicaID uint64) sm.IOnDiskStateMachine {
	d := &dataSM{
		shardID:   shardID,
		replicaID: replicaID,
		storage:   h.storage,
		log:       h.log,
	}
	d.onOpen = func(id uint64, s ShardStorage) {
		h.mu.Lock()
		h.mu.open[id] = s
		h.mu.sms[id] = d
		h.mu.Unlock()
	}
	d.onClose = func(id uint64, s ShardStorage) {
		h.mu.Lock()
		if h.mu.open[id] == s {
			delete(h.mu.open, id)
		}
		if h.mu.sms[id] == d {
			delete(h.mu.sms, id)
		}
		h.mu.Unlock()
	}
	return d
}

// --- DDL -------------------------------------------------------------

// CreateDatabase creates a database; the meta group assigns its ID and fills
// defaults (replicas = min(requested or 1, node count), partition interval 1
// day, slot groups 1). A duplicate is 42P04 unless ifNotExists.
func (h *Host) CreateDatabase(ctx context.Context, db shard.Database, ifNotExists bool) error {
	_, err := h.proposeMeta(ctx, &metaCommand{Op: opCreateDatabase, Database: &db, Lenient: ifNotExists})
	return err
}

// DropDatabase drops a database with its tables and shards (their replicas
// are stopped and their storage dropped by the reconciler before return).
// Unknown is 3D000 unless ifExists.
func (h *Host) DropDatabase(ctx context.Context, name string, ifExists bool) error {
	res, err := h.proposeMeta(ctx, &metaCommand{Op: opDropDatabase, Name: name, Lenient: ifExists})
	if err != nil {
		return err
	}
	if len(res.Dropped) > 0 {
		if err := h.reconcile(ctx, false); err != nil {
			h.log.Warn("reconcile after drop database", "database", name, "err", err)
		}
	}
	return nil
}

// CreateTable creates table t in database dbID; the meta group assigns its
// ID (t.ID is ignored) and the IDs of columns that have none. A duplicate is
// 42P07 unless ifNotExists.
func (h *Host) CreateTable(ctx context.Context, dbID uint32, t shard.Table, ifNotExists bool) error {
	_, err := h.proposeMeta(ctx, &metaCommand{Op: opCreateTable, DatabaseID: dbID, Table: &t, Lenient: ifNotExists})
	return err
}

// AddColumns adds to table name of database dbID the columns it lacks
// (matched by name; IDs assigned by the meta group) and returns the table as
// it is afterwards. Concurrent callers adding the same column are fine.
func (h *Host) AddColumns(ctx context.Context, dbID uint32, name string, cols []shard.Column) (shard.Table, error) {
	res, err := h.proposeMeta(ctx, &metaCommand{Op: opAddColumns, DatabaseID: dbID, Name: name, Columns: cols})
	if err != nil {
		return shard.Table{}, err
	}
	if res.Table == nil {
		return shard.Table{}, fmt.Errorf("longboat/raftsm: add_columns returned no table")
	}
	return *res.Table, nil
}

// DropTable drops a table. Its rows are then deleted from the shards of its
// database that have a replica on this node, by a DeleteTable command
// through each shard's Raft log. That clean-up is best effort: table IDs are
// never reused, so rows it misses are unreachable garbage, not wrong
// answers. Unknown is 42P01 unless ifExists.
func (h *Host) DropTable(ctx context.Context, dbID uint32, name string, ifExists bool) error {
	res, err := h.proposeMeta(ctx, &metaCommand{Op: opDropTable, DatabaseID: dbID, Name: name, Lenient: ifExists})
	if err != nil || res.ID == 0 {
		return err
	}
	tableID := uint32(res.ID)
	cmd := appendDeleteTable(nil, tableID)
	for _, s := range h.Catalog().ShardsOnNode(h.cfg.NodeID) {
		if s.Database != dbID {
			continue
		}
		if _, err := h.propose(ctx, s.ID, cmd, func() []byte { return cmd }); err != nil {
			h.log.Warn("cannot delete rows of dropped table", "table", tableID, "shard", s.ID, "err", err)
		}
	}
	return nil
}

// EnsureShards makes sure every slot group of each given partition (each
// start must be a partition start of the database) has a shard: the missing
// ones are created by ONE meta proposal (concurrent callers may race; the
// meta group dedupes). It then starts the local replicas and waits until each
// has a leader, and returns the shards of those partitions, sorted by
// (partition start, slot group).
func (h *Host) EnsureShards(ctx context.Context, dbID uint32, partitionStarts []int64) ([]shard.ShardInfo, error) {
	shards, ok := h.existingShards(dbID, partitionStarts)
	if !ok {
		res, err := h.proposeMeta(ctx, &metaCommand{Op: opEnsureShards, DatabaseID: dbID, Partitions: partitionStarts})
		if err != nil {
			return nil, err
		}
		shards = res.Shards
	}
	var local []uint64
	needStart := false
	h.mu.Lock()
	for _, s := range shards {
		for _, r := range s.Replicas {
			if r == h.cfg.NodeID {
				local = append(local, s.ID)
				needStart = needStart || !h.mu.running[s.ID]
			}
		}
	}
	h.mu.Unlock()
	if needStart {
		if err := h.reconcile(ctx, false); err != nil {
			return nil, err
		}
	}
	if err := h.waitLeaders(ctx, local); err != nil {
		return nil, err
	}
	return shards, nil
}

// existingShards returns the shards of the given partitions if the current
// catalog already has all of them.
func (h *Host) existingShards(dbID uint32, starts []int64) ([]shard.ShardInfo, bool) {
	c := h.Catalog()
	d, ok := c.DatabaseByID(dbID)
	if !ok {
		return nil, false
	}
	sorted := append([]int64(nil), starts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	var out []shard.ShardInfo
	for i, p := range sorted {
		if i > 0 && sorted[i-1] == p {
			continue
		}
		for g := 0; g < d.SlotGroups; g++ {
			s, ok := c.Partitions.Lookup(dbID, p, g)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
	}
	return out, true
}
