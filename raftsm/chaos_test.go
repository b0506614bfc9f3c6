package raftsm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lni/dragonboat/v4/config"
	"github.com/lni/dragonboat/v4/raftio"
	pb "github.com/lni/dragonboat/v4/raftpb"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// faultNet cuts in-process NodeHosts (on the chan transport) off from each
// other: every message to or from a cut address is dropped silently, as a
// network that blackholes packets does.
type faultNet struct {
	mu      sync.Mutex
	cut     map[string]bool
	dropped atomic.Int64
}

func (f *faultNet) setCut(addr string, cut bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut == nil {
		f.cut = map[string]bool{}
	}
	f.cut[normalizeAddr(addr)] = cut
}

func (f *faultNet) blocked(src, dst string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cut[src] || f.cut[dst]
}

// faultFactory is chanFactory with a faultNet between the NodeHosts.
type faultFactory struct {
	chanFactory
	net *faultNet
}

func (f *faultFactory) Create(c config.NodeHostConfig, h raftio.MessageHandler, ch raftio.ChunkHandler) raftio.ITransport {
	return &faultTransport{ITransport: f.chanFactory.Create(c, h, ch), src: normalizeAddr(c.RaftAddress), net: f.net}
}

type faultTransport struct {
	raftio.ITransport
	src string
	net *faultNet
}

// link is the direction from one NodeHost to another through a faultNet.
type link struct {
	src, dst string
	net      *faultNet
}

func (t *faultTransport) link(target string) link {
	return link{src: t.src, dst: normalizeAddr(target), net: t.net}
}

func (l link) blocked() bool { return l.net.blocked(l.src, l.dst) }

func (l link) unreachable() error { return fmt.Errorf("faultNet: %s cannot reach %s", l.src, l.dst) }

func (t *faultTransport) GetConnection(ctx context.Context, target string) (raftio.IConnection, error) {
	l := t.link(target)
	if l.blocked() {
		return nil, l.unreachable()
	}
	c, err := t.ITransport.GetConnection(ctx, target)
	if err != nil {
		return nil, err
	}
	return &faultConn{IConnection: c, link: l}, nil
}

func (t *faultTransport) GetSnapshotConnection(ctx context.Context, target string) (raftio.ISnapshotConnection, error) {
	l := t.link(target)
	if l.blocked() {
		return nil, l.unreachable()
	}
	c, err := t.ITransport.GetSnapshotConnection(ctx, target)
	if err != nil {
		return nil, err
	}
	return &faultSnapConn{ISnapshotConnection: c, link: l}, nil
}

// faultConn drops the messages of a blocked link silently.
type faultConn struct {
	raftio.IConnection
	link
}

func (c *faultConn) SendMessageBatch(b pb.MessageBatch) error {
	if c.blocked() {
		c.net.dropped.Add(int64(len(b.Requests)))
		return nil
	}
	return c.IConnection.SendMessageBatch(b)
}

// faultSnapConn fails the snapshot chunks of a blocked link.
type faultSnapConn struct {
	raftio.ISnapshotConnection
	link
}

func (c *faultSnapConn) SendChunk(ch pb.Chunk) error {
	if c.blocked() {
		return c.unreachable()
	}
	return c.ISnapshotConnection.SendChunk(ch)
}

// chaosCluster is a testCluster whose hosts are restarted and cut off by a
// nemesis while writers run: hosts are reached through live().
type chaosCluster struct {
	*testCluster
	net   *faultNet
	trace bool // LONGBOAT_CHAOS_TRACE: log faults and slow attempts
	mu    sync.RWMutex
	live  map[uint64]*Host
}

func (cc *chaosCluster) host(id uint64) *Host {
	cc.mu.RLock()
	defer cc.mu.RUnlock()
	return cc.live[id]
}

func (cc *chaosCluster) ids() []uint64 {
	cc.mu.RLock()
	defer cc.mu.RUnlock()
	var ids []uint64
	for id := range cc.live {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// restart closes node id, waits, and starts it again on the same data.
func (cc *chaosCluster) restart(id uint64, down time.Duration) error {
	cc.mu.Lock()
	h := cc.live[id]
	delete(cc.live, id)
	cc.mu.Unlock()
	if err := h.Close(); err != nil {
		return fmt.Errorf("close node %d: %w", id, err)
	}
	time.Sleep(down)
	h, err := Start(cc.ctx, cc.cfgs[id])
	if err != nil {
		return fmt.Errorf("restart node %d: %w", id, err)
	}
	cc.mu.Lock()
	cc.live[id] = h
	cc.testCluster.hosts[id] = h
	cc.mu.Unlock()
	return nil
}

// chaosAck is one acknowledged batch: rows first..first+n-1 of a writer.
type chaosAck struct {
	shardID  uint64
	first, n int64
	at       time.Time
}

// chaosWriter writes batches of its own series ("w<id>", times = row
// numbers) to the shards in turn, routing as server.router does: to the
// leader, following NotLeader hints, each attempt bounded, re-routed on
// refusals and timeouts. A batch that fails is not sent again.
type chaosWriter struct {
	id      int
	next    int64
	acks    []chaosAck
	failed  []chaosAck
	errs    map[string]int
	tries   int
	slowest time.Duration
}

const chaosRows = 8

func chaosBatch(table uint32, w int, first int64) *store.WriteBatch {
	tr := store.TableRows{TableID: table, FieldIDs: []uint16{3}, Series: [][]string{{"w" + strconv.Itoa(w)}}}
	f := make([]float64, chaosRows)
	for i := range int64(chaosRows) {
		tr.SeriesIdx = append(tr.SeriesIdx, 0)
		tr.Times = append(tr.Times, first+i)
		f[i] = float64(first + i)
	}
	tr.Fields = []store.Vector{{Type: shard.TypeFloat8, F64: f}}
	return &store.WriteBatch{Tables: []store.TableRows{tr}}
}

var (
	errNodeDown        = errors.New("node down")
	errAttemptTimedOut = errors.New("attempt timed out")
)

func (cc *chaosCluster) route(ctx context.Context, shardID uint64, wb *store.WriteBatch, try *int) error {
	// The server's router gives up after 20 s; here a failed write must
	// mean a cluster that stopped making progress, not a starved CI
	// machine, so the bound is looser.
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	var hint uint64
	for {
		*try++
		target := hint
		if target == 0 {
			target = cc.leader(shardID)
		}
		if target == 0 {
			ids := cc.ids()
			target = ids[*try%len(ids)]
		}
		err := cc.attempt(ctx, shardID, target, wb)
		hint = 0
		var nl *NotLeaderError
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errAttemptTimedOut), errors.Is(err, errNodeDown), errors.Is(err, ErrNoReplica),
			pgerror.Code(err) == pgerror.CodeAdminShutdown:
		case errors.As(err, &nl):
			hint = nl.LeaderNodeID
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no leader accepted the write in time: %w", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// leader is the leader of shardID that the first live host knowing one
// names, or 0.
func (cc *chaosCluster) leader(shardID uint64) uint64 {
	for _, id := range cc.ids() {
		if h := cc.host(id); h != nil {
			if l, ok := h.ShardLeader(shardID); ok {
				return l
			}
		}
	}
	return 0
}

// attempt writes wb through node target, bounded at 2 s as the router
// bounds a forwarded write; an attempt that ran out its bound wraps
// errAttemptTimedOut.
func (cc *chaosCluster) attempt(ctx context.Context, shardID, target uint64, wb *store.WriteBatch) error {
	h := cc.host(target)
	if h == nil {
		return errNodeDown
	}
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	t0 := time.Now()
	err := h.Write(actx, shardID, wb)
	if d := time.Since(t0); d > 300*time.Millisecond && cc.trace {
		cc.t.Logf("%s slow attempt: shard %d on node %d took %v: %v", time.Now().Format("15:04:05.000"), shardID, target, d, err)
	}
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: %w", errAttemptTimedOut, err)
	}
	return err
}

func (w *chaosWriter) run(ctx context.Context, cc *chaosCluster, shards []shard.ShardInfo, table uint32) {
	w.errs = map[string]int{}
	for i := 0; ctx.Err() == nil; i++ {
		s := shards[(w.id+i)%len(shards)]
		first := w.next
		w.next += chaosRows
		var try int
		t0 := time.Now()
		err := cc.route(ctx, s.ID, chaosBatch(table, w.id, first), &try)
		rec := chaosAck{shardID: s.ID, first: first, n: chaosRows, at: time.Now()}
		if d := rec.at.Sub(t0); d > w.slowest {
			w.slowest = d
		}
		if d := rec.at.Sub(t0); d > 3*time.Second && cc.trace {
			cc.t.Logf("%s slow batch: writer %d shard %d took %v from %s in %d attempts: %v", rec.at.Format("15:04:05.000"), w.id, s.ID, d, t0.Format("15:04:05.000"), try, err)
		}
		w.tries += try
		if err != nil {
			w.failed = append(w.failed, rec)
			if ctx.Err() == nil { // not the batch cut short at the end
				w.errs[pgerror.Code(err)+" "+err.Error()]++
			}
			continue
		}
		w.acks = append(w.acks, rec)
	}
}

// TestChaosAcknowledgedWritesSurvive runs writers against a 3-node cluster
// while a nemesis restarts nodes, cuts them off the network (without
// PreVote they come back with an inflated term and depose leaders) and
// moves leaders. Afterwards every replica of every shard must hold every
// acknowledged row exactly once.
//
// LONGBOAT_CHAOS_SECONDS sets how long each nemesis runs (default 8) and
// LONGBOAT_CHAOS_SEED its seed (default: random, logged);
// LONGBOAT_CHAOS_TRACE=1 logs every fault and every attempt over 300 ms.
func TestChaosAcknowledgedWritesSurvive(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	// Without PreVote a returning node deposes leaders (more elections,
	// more proposals dropped); with it, the production configuration.
	for _, preVote := range []bool{false, true} {
		t.Run(fmt.Sprintf("prevote=%v", preVote), func(t *testing.T) { chaosRun(t, preVote) })
	}
}

func chaosRun(t *testing.T, preVote bool) {
	dur := 8 * time.Second
	if s := os.Getenv("LONGBOAT_CHAOS_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("LONGBOAT_CHAOS_SECONDS=%q: %v", s, err)
		}
		dur = time.Duration(n) * time.Second
	}
	seed := rand.Uint64()
	if s := os.Getenv("LONGBOAT_CHAOS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LONGBOAT_CHAOS_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("nemesis for %v, seed %d (LONGBOAT_CHAOS_SEED), PreVote %v", dur, seed, preVote)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	net := &faultNet{}
	tc := &testCluster{t: t, cfgs: map[uint64]Config{}, hosts: map[uint64]*Host{}, dbs: map[uint64]*store.DB{}}
	ctx, cancel := context.WithTimeout(context.Background(), dur+90*time.Second)
	defer cancel()
	tc.ctx = ctx
	cc := &chaosCluster{testCluster: tc, net: net, live: map[uint64]*Host{}, trace: os.Getenv("LONGBOAT_CHAOS_TRACE") != ""}
	ids := []uint64{1, 2, 3}
	for _, id := range ids {
		tc.add(id)
		cfg := tc.cfgs[id]
		cfg.TransportFactory = &faultFactory{net: net}
		cfg.noPreVote = !preVote
		// A 20 ms tick (elections after 200 ms): the 5 ms of the other
		// tests leaves 2 busy cores behind the tick (spurious elections).
		cfg.RTTMillisecond = 20
		cfg.Cluster.DeadNodeTimeout = time.Hour // no replica moves: 3 nodes, 3 replicas
		tc.cfgs[id] = cfg
	}
	// Registered after tc.add's TempDirs: cleanups run last-in first-out,
	// and a NodeHost must be closed before its directory goes (an idle
	// replica may be saving a snapshot there).
	t.Cleanup(func() {
		cc.mu.Lock()
		defer cc.mu.Unlock()
		for _, h := range cc.live {
			_ = h.Close()
		}
		for _, db := range tc.dbs {
			_ = db.Close()
		}
	})
	tc.start(ids...)
	for id, h := range tc.hosts {
		cc.live[id] = h
	}
	tc.initCluster("chaos", ids...)
	shards, table := tc.setupTableGroups(1, 4)

	wctx, stopWriters := context.WithCancel(ctx)
	writers := make([]*chaosWriter, 6)
	var wg sync.WaitGroup
	for i := range writers {
		writers[i] = &chaosWriter{id: i}
		wg.Add(1)
		go func() {
			defer wg.Done()
			writers[i].run(wctx, cc, shards, table)
		}()
	}

	// The nemesis: one fault at a time, so that a quorum always remains.
	var actions []string
	end := time.Now().Add(dur)
	for time.Now().Before(end) && ctx.Err() == nil {
		id := ids[rng.IntN(len(ids))]
		switch k := rng.IntN(10); {
		case k < 4:
			d := time.Duration(200+rng.IntN(1500)) * time.Millisecond
			actions = append(actions, fmt.Sprintf("cut %d %v", id, d))
			if cc.trace {
				t.Logf("%s nemesis: %s", time.Now().Format("15:04:05.000"), actions[len(actions)-1])
			}
			net.setCut(cc.cfgs[id].RaftAddr, true)
			time.Sleep(d)
			net.setCut(cc.cfgs[id].RaftAddr, false)
		case k < 7:
			d := time.Duration(rng.IntN(800)) * time.Millisecond
			actions = append(actions, fmt.Sprintf("restart %d %v", id, d))
			if cc.trace {
				t.Logf("%s nemesis: %s", time.Now().Format("15:04:05.000"), actions[len(actions)-1])
			}
			if err := cc.restart(id, d); err != nil {
				t.Fatal(err)
			}
		default:
			s := shards[rng.IntN(len(shards))]
			actions = append(actions, fmt.Sprintf("transfer %d to %d", s.ID, id))
			if h := cc.host(id); h != nil {
				_ = h.NodeHost().RequestLeaderTransfer(s.ID, id)
			}
		}
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	stopWriters()
	wg.Wait()
	t.Logf("nemesis: %v; %d messages dropped", actions, net.dropped.Load())

	var acked, failed, tries int
	var slowest time.Duration
	errs := map[string]int{}
	for _, w := range writers {
		acked += len(w.acks)
		failed += len(w.failed)
		tries += w.tries
		slowest = max(slowest, w.slowest)
		for e, n := range w.errs {
			errs[e] += n
		}
	}
	t.Logf("writers: %d batches acknowledged, %d failed, %d attempts, slowest %v; errors: %v", acked, failed, tries, slowest, errs)
	if acked == 0 {
		t.Fatal("no write acknowledged")
	}
	// With one fault at a time a quorum is always there: a write may wait
	// for an election, not fail.
	for e, n := range errs {
		t.Errorf("%d writes failed while the cluster had a quorum: %s", n, e)
	}

	// Every replica catches up, then holds every acknowledged row once.
	for _, s := range shards {
		for _, id := range ids {
			tc.eventually(fmt.Sprintf("node %d catching up shard %d", id, s.ID), func() string {
				h := cc.host(id)
				if _, err := h.LocalStorage(s.ID); err != nil {
					return err.Error()
				}
				rctx, rcancel := context.WithTimeout(ctx, time.Second)
				defer rcancel()
				if err := h.ReadBarrier(rctx, s.ID); err != nil {
					return err.Error()
				}
				return ""
			})
		}
	}
	type key struct {
		w int
		t int64
	}
	var missing int
	failedSeen := map[string]int{} // failed batch → replicas holding all its rows
	for _, s := range shards {
		for _, id := range ids {
			seen := map[key]int{}
			sh, err := cc.host(id).LocalStorage(s.ID)
			if err != nil {
				t.Fatal(err)
			}
			st, err := unwrapStoreShard(sh)
			if err != nil {
				t.Fatal(err)
			}
			err = st.Scan(ctx, &store.ScanRequest{TableID: table, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: []uint16{3}},
				func(b *store.SeriesBatch) error {
					w, err := strconv.Atoi(b.Tags[0][1:])
					if err != nil {
						return err
					}
					for i, ts := range b.Times {
						seen[key{w, ts}]++
						if b.Fields[0].F64[i] != float64(ts) {
							t.Errorf("node %d shard %d: writer %d row %d has value %v", id, s.ID, w, ts, b.Fields[0].F64[i])
						}
					}
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
			for k, n := range seen {
				if n > 1 {
					t.Errorf("node %d shard %d: writer %d row %d present %d times", id, s.ID, k.w, k.t, n)
				}
			}
			for _, w := range writers {
				for _, a := range w.failed {
					if a.shardID != s.ID {
						continue
					}
					all := true
					for r := a.first; r < a.first+a.n; r++ {
						all = all && seen[key{w.id, r}] > 0
					}
					k := fmt.Sprintf("w%d/%d", w.id, a.first)
					if all {
						failedSeen[k]++
					} else {
						failedSeen[k] += 0
					}
				}
				for _, a := range w.acks {
					if a.shardID != s.ID {
						continue
					}
					for r := a.first; r < a.first+a.n; r++ {
						if seen[key{w.id, r}] == 0 {
							missing++
							if missing <= 20 {
								t.Errorf("node %d shard %d: writer %d row %d missing; its batch was acknowledged at %s",
									id, s.ID, w.id, r, a.at.Format("15:04:05.000"))
							}
						}
					}
				}
			}
		}
	}
	t.Logf("failed batches → replicas holding them: %v", failedSeen)
	if missing > 0 {
		t.Errorf("%d acknowledged rows missing (replica × row)", missing)
	}
}
