package membership

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

var (
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("longboat/membership: closed")
	// ErrLeft is returned by UpdateMeta after Leave.
	ErrLeft = errors.New("longboat/membership: node has left the cluster")
)

// Membership is this node's view of the physical topology, kept by
// memberlist (SWIM gossip). Create it with Start; it is safe for concurrent
// use. See the package documentation for the lifecycle.
type Membership struct {
	cfg    Config
	log    *slog.Logger
	bootID uint64
	// bindAll is set when gossip listens on all interfaces.
	bindAll bool
	ml      *memberlist.Memberlist
	// queue holds this package's own broadcasts (leave intents), which
	// memberlist piggybacks on its gossip through delegate.GetBroadcasts.
	queue *memberlist.TransmitLimitedQueue
	// alive counts members with StatusAlive, self included. It is read by
	// queue.NumNodes, which runs under the queue's lock, so it must not
	// take mu.
	alive atomic.Int64

	// bgCtx is cancelled by Close; it bounds the join and reconnect loops
	// and their DNS lookups. wg tracks those loops, the only goroutines
	// this package starts (memberlist owns its own, stopped by Shutdown).
	bgCtx    context.Context
	bgCancel context.CancelFunc
	wg       sync.WaitGroup
	// joined is closed once this node sees another live member, or at
	// Start when there is nothing to join.
	joined chan struct{}

	// life orders Leave and UpdateMeta (readers, for the duration of their
	// memberlist call) against Close (writer): memberlist panics on Leave
	// after Shutdown.
	life struct {
		sync.RWMutex
		closed bool
	}

	// mu guards the member table, the local meta and the subscribers.
	// Lock order: memberlist's locks, then mu. Never call into memberlist
	// or queue while holding mu: memberlist calls the delegate (which takes
	// mu) with its own locks held.
	mu struct {
		sync.Mutex
		meta    Meta
		encoded []byte // appendNodeMeta(bootID, meta)
		members map[string]*memberState
		subs    map[*subscriber]struct{}
		// refused throttles the log line of a refused peer (name → last
		// logged).
		refused map[string]time.Time
		// peak is the most members seen alive at once, self included,
		// less one per member that has since Left: the reconnect loop
		// runs while fewer are alive.
		peak   int
		left   bool
		closed bool
	}
}

// Start binds the gossip listeners, joins memberlist's protocol and, if
// Seeds are configured, starts the background join loop. It returns once
// the node is listening; use WaitJoined to wait for the join. ctx bounds
// Start itself and gives its values (not its cancellation) to background
// work; the Membership lives until Close.
func Start(ctx context.Context, cfg Config) (*Membership, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cannot start membership: %w", err)
	}
	cfg = cfg.withDefaults()
	a, err := cfg.validate()
	if err != nil {
		return nil, fmt.Errorf("cannot start membership: %w", err)
	}
	m := &Membership{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "membership", "node", cfg.NodeName),
		bootID: rand.Uint64(),
		joined: make(chan struct{}),
	}
	if ip := net.ParseIP(a.bindIP); a.bindIP == "" || ip.IsUnspecified() {
		m.bindAll = true
	}
	m.mu.meta = cfg.Meta
	m.mu.encoded = appendNodeMeta(nil, nodeMeta{bootID: m.bootID, meta: cfg.Meta})
	m.mu.members = make(map[string]*memberState)
	m.mu.subs = make(map[*subscriber]struct{})
	m.mu.refused = make(map[string]time.Time)

	mc := m.memberlistConfig(a)
	if cfg.tuneMemberlist != nil {
		if err := cfg.tuneMemberlist(mc); err != nil {
			return nil, fmt.Errorf("cannot start gossip on %q: %w", cfg.BindAddr, err)
		}
	}
	m.queue = &memberlist.TransmitLimitedQueue{
		NumNodes:       func() int { return int(m.alive.Load()) },
		RetransmitMult: mc.RetransmitMult,
	}
	// NB: Create calls the delegate (our own NotifyJoin) before it returns,
	// and peers may call it right after; the delegate never reads m.ml.
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("cannot start gossip on %q: %w", cfg.BindAddr, err)
	}
	m.ml = ml
	m.bgCtx, m.bgCancel = context.WithCancel(context.WithoutCancel(ctx))
	m.log.LogAttrs(ctx, slog.LevelInfo, "gossip started",
		slog.String("addr", m.Addr()), slog.Any("seeds", cfg.Seeds),
		slog.String("cluster_tag", cfg.Meta.ClusterTag))
	if len(cfg.Seeds) == 0 {
		close(m.joined)
	} else {
		m.wg.Add(1)
		go m.joinLoop()
	}
	m.wg.Add(1)
	go m.reconnectLoop()
	return m, nil
}

// memberlistConfig translates cfg into memberlist's configuration.
func (m *Membership) memberlistConfig(a addrs) *memberlist.Config {
	mc := memberlist.DefaultLANConfig()
	mc.Name = m.cfg.NodeName
	mc.BindAddr = cmp.Or(a.bindIP, "0.0.0.0")
	mc.BindPort = a.bindPort
	mc.AdvertiseAddr = a.advertiseIP
	mc.AdvertisePort = cmp.Or(a.advPort, a.bindPort)
	mc.ProbeInterval = m.cfg.ProbeInterval
	mc.ProbeTimeout = m.cfg.ProbeTimeout
	mc.SuspicionMult = m.cfg.SuspicionMult
	mc.GossipInterval = m.cfg.GossipInterval
	mc.PushPullInterval = m.cfg.PushPullInterval
	mc.TCPTimeout = m.cfg.TCPTimeout
	// A node restarted with the same name (node ID) at a new address is a
	// new run of the same node: let it take the name over once the old
	// address has been Dead for a suspicion period, time for the dead
	// message to spread and for a merely unreachable old run to refute.
	// memberlist's default (0) refuses it as a conflict until the dead
	// node is forgotten (GossipToTheDeadTime, 30s), and only a later
	// push/pull of the new run then lets it in. A name claimed by a live
	// node is never taken over.
	mc.DeadNodeReclaimTime = time.Duration(m.cfg.SuspicionMult) * m.cfg.ProbeInterval
	d := delegate{m: m}
	mc.Delegate = d
	mc.Events = d
	mc.Alive = d
	mc.Merge = d
	mc.Logger = log.New(logWriter{log: m.cfg.Logger.With("component", "memberlist", "node", m.cfg.NodeName)}, "", 0)
	return mc
}

// Name is this node's gossip name.
func (m *Membership) Name() string { return m.cfg.NodeName }

// Addr is this node's advertised gossip address ("ip:port"), with the
// actual port when BindAddr asked for an ephemeral one.
func (m *Membership) Addr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st := m.mu.members[m.cfg.NodeName]; st != nil {
		return st.Addr
	}
	return ""
}

// Members returns every member this node knows, itself included, sorted by
// name: alive ones, and dead or left ones for Config.DeadRetention.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked(time.Now())
	out := make([]Member, 0, len(m.mu.members))
	for _, st := range m.mu.members {
		out = append(out, st.Member)
	}
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// LocalMeta returns the Meta this node currently gossips.
func (m *Membership) LocalMeta() Meta {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.meta
}

// UpdateMeta replaces this node's Meta and re-gossips it. It waits until
// the update has been broadcast (memberlist's UpdateNode), for at most the
// earlier of ctx's deadline and Config.BroadcastTimeout; on a timeout the
// new Meta stays in effect and keeps spreading, and the error says so.
// NodeID cannot change. NB: ctx cancellation without a deadline is only
// seen before the broadcast starts.
func (m *Membership) UpdateMeta(ctx context.Context, meta Meta) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cannot update node meta: %w", err)
	}
	if err := meta.Validate(); err != nil {
		return fmt.Errorf("cannot update node meta: %w", err)
	}
	m.life.RLock()
	defer m.life.RUnlock()
	if m.life.closed {
		return fmt.Errorf("cannot update node meta: %w", ErrClosed)
	}
	m.mu.Lock()
	if m.mu.left {
		m.mu.Unlock()
		return fmt.Errorf("cannot update node meta: %w", ErrLeft)
	}
	if meta.NodeID != m.mu.meta.NodeID {
		old := m.mu.meta.NodeID
		m.mu.Unlock()
		return fmt.Errorf("cannot update node meta: node ID %d cannot change to %d: %w", old, meta.NodeID, errConfig)
	}
	m.mu.meta = meta
	m.mu.encoded = appendNodeMeta(nil, nodeMeta{bootID: m.bootID, meta: meta})
	m.mu.Unlock()

	timeout := m.broadcastTimeout(ctx)
	if err := m.ml.UpdateNode(timeout); err != nil {
		return fmt.Errorf("cannot confirm the node meta broadcast within %s (the new meta is in effect and keeps spreading): %w", timeout, err)
	}
	return nil
}

// Leave announces a graceful departure: peers then report this node as
// Left rather than Dead. It first broadcasts a leave intent, then
// memberlist's leave message, each waited for at most until the earlier of
// ctx's deadline and Config.BroadcastTimeout. The node keeps gossiping
// (so the messages keep spreading) until Close, which should follow.
// Leave is idempotent.
func (m *Membership) Leave(ctx context.Context) error {
	m.life.RLock()
	defer m.life.RUnlock()
	if m.life.closed {
		return fmt.Errorf("cannot leave: %w", ErrClosed)
	}
	deadline := time.Now().Add(m.broadcastTimeout(ctx))
	m.mu.Lock()
	if m.mu.left {
		m.mu.Unlock()
		return nil
	}
	m.mu.left = true
	if st := m.mu.members[m.cfg.NodeName]; st != nil {
		st.leaving = true
	}
	m.mu.Unlock()

	notify := make(chan struct{}, 1)
	in := leaveIntent{name: m.cfg.NodeName, bootID: m.bootID}
	m.queue.QueueBroadcast(&intentBroadcast{name: in.name, msg: appendLeaveMsg(nil, in), notify: notify})
	if m.alive.Load() > 1 {
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-notify:
		case <-ctx.Done():
		case <-t.C:
			m.log.LogAttrs(ctx, slog.LevelWarn, "leave intent not fully broadcast before the deadline; peers may report this node dead instead of left")
		}
		t.Stop()
	}
	timeout := max(time.Until(deadline), time.Millisecond)
	if ctx.Err() != nil {
		timeout = time.Millisecond
	}
	if err := m.ml.Leave(timeout); err != nil {
		return fmt.Errorf("cannot confirm the leave broadcast within %s (the node has left; the message keeps spreading until Close): %w", timeout, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("leave interrupted (the node has left; the message keeps spreading until Close): %w", err)
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "left the cluster")
	return nil
}

// broadcastTimeout is how long a broadcast may be waited for: the earlier
// of ctx's deadline and Config.BroadcastTimeout, at least 1ms (memberlist
// reads 0 as "forever").
func (m *Membership) broadcastTimeout(ctx context.Context) time.Duration {
	d := m.cfg.BroadcastTimeout
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	return max(d, time.Millisecond)
}

// WaitJoined blocks until this node has joined a cluster (it sees another
// live member, or had no seeds but itself), ctx is done or m is closed.
func (m *Membership) WaitJoined(ctx context.Context) error {
	select {
	case <-m.joined:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cannot wait for the cluster join: %w", ctx.Err())
	case <-m.bgCtx.Done():
		return fmt.Errorf("cannot wait for the cluster join: %w", ErrClosed)
	}
}

// Subscribe returns a channel of membership events and a function that
// cancels the subscription and closes the channel. Events are never
// blocked on: a subscriber that falls Config.SubscriberBuffer events behind
// gets one EventResync instead of the events it missed (see EventResync).
// The channel is closed by cancel or Close. Subscribe after Close returns a
// closed channel.
func (m *Membership) Subscribe() (<-chan Event, func()) {
	s := newSubscriber(m.cfg.SubscriberBuffer)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	m.mu.subs[s] = struct{}{}
	return s.ch, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if _, ok := m.mu.subs[s]; ok {
			delete(m.mu.subs, s)
			close(s.ch)
		}
	}
}

// Close stops gossip without a leave message (peers will declare this
// node Dead unless Leave was called first), stops the join and reconnect
// loops, waits for them, and closes every subscription. A join attempt in
// flight may delay Close by up to Config.TCPTimeout (memberlist's Join
// takes no context; the loops check for Close between addresses). Close is
// idempotent.
func (m *Membership) Close() error {
	m.life.Lock()
	if m.life.closed {
		m.life.Unlock()
		return nil
	}
	m.life.closed = true
	m.life.Unlock()

	m.bgCancel()
	err := m.ml.Shutdown()
	m.wg.Wait()
	m.mu.Lock()
	m.mu.closed = true
	for s := range m.mu.subs {
		close(s.ch)
	}
	clear(m.mu.subs)
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("cannot shut down gossip: %w", err)
	}
	return nil
}

// --- member table, fed by the delegate ---

// setStatusLocked sets st's status and keeps the alive count.
func (m *Membership) setStatusLocked(st *memberState, s Status, now time.Time) {
	if st.Status == s {
		return
	}
	if st.Status == StatusAlive {
		m.alive.Add(-1)
	}
	if s == StatusAlive {
		m.mu.peak = max(m.mu.peak, int(m.alive.Add(1)))
	}
	if s == StatusLeft {
		// A member that left on purpose is not expected back.
		m.mu.peak = max(m.mu.peak-1, int(m.alive.Load()))
	}
	st.Status = s
	st.Since = now
}

// onAlive records a member that memberlist reports as joined (join) or
// with new meta (update).
func (m *Membership) onAlive(n *memberlist.Node, typ EventType) {
	nm, err := decodeNodeMeta(n.Meta)
	if err != nil {
		// NotifyAlive refuses such nodes, so this is a bug or a race with a
		// meta change; the node is not tracked.
		m.log.Warn("ignoring member with malformed meta", "member", n.Name, "err", err)
		return
	}
	addr := nodeAddr(n)
	now := time.Now()
	m.mu.Lock()
	st := m.mu.members[n.Name]
	if st == nil {
		st = &memberState{Member: Member{Name: n.Name}}
		m.mu.members[n.Name] = st
	}
	if st.Status != StatusAlive {
		typ = EventJoin
	}
	wasDead, deadFor, oldAddr := st.Status == StatusDead, now.Sub(st.Since), st.Addr
	if st.bootID != nm.bootID {
		st.leaving = false // a new run of the node
	}
	st.bootID = nm.bootID
	st.Addr = addr
	st.Meta = nm.meta
	m.setStatusLocked(st, StatusAlive, now)
	m.publishLocked(Event{Type: typ, Member: st.Member})
	m.mu.Unlock()
	if wasDead {
		m.log.Info("dead member is back", "member", n.Name, "addr", addr,
			"old_addr", oldAddr, "dead_for", deadFor.Round(time.Millisecond))
	}
}

// onGone records a member that memberlist reports as gone: Left if a leave
// intent for its run is known, else Dead.
func (m *Membership) onGone(n *memberlist.Node) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.mu.members[n.Name]
	if st == nil || st.Status != StatusAlive {
		return
	}
	typ, s := EventDead, StatusDead
	if st.leaving {
		typ, s = EventLeave, StatusLeft
	}
	m.setStatusLocked(st, s, now)
	m.publishLocked(Event{Type: typ, Member: st.Member})
}

// applyIntentLocked records a leave intent. It reports whether the intent
// was news (the caller then re-gossips it). A member already Dead becomes
// Left.
func (m *Membership) applyIntentLocked(in leaveIntent, now time.Time) bool {
	st := m.mu.members[in.name]
	if st == nil || st.bootID != in.bootID || st.leaving {
		return false // unknown node, another run, or known already
	}
	st.leaving = true
	if st.Status == StatusDead {
		m.setStatusLocked(st, StatusLeft, now)
		m.publishLocked(Event{Type: EventLeave, Member: st.Member})
	}
	return true
}

// intentsLocked lists the leave intents this node knows.
func (m *Membership) intentsLocked() []leaveIntent {
	var out []leaveIntent
	for name, st := range m.mu.members {
		if st.leaving {
			out = append(out, leaveIntent{name: name, bootID: st.bootID})
		}
	}
	return out
}

// pruneLocked forgets members dead or left for longer than DeadRetention.
func (m *Membership) pruneLocked(now time.Time) {
	for name, st := range m.mu.members {
		if st.Status != StatusAlive && name != m.cfg.NodeName && now.Sub(st.Since) > m.cfg.DeadRetention {
			delete(m.mu.members, name)
		}
	}
}

// publishLocked delivers ev to every subscriber without blocking.
func (m *Membership) publishLocked(ev Event) {
	if m.mu.closed {
		return
	}
	for s := range m.mu.subs {
		s.deliverLocked(ev)
	}
}

// tagConflict reports whether two cluster tags belong to different
// clusters. An empty tag (a node that has not joined yet) conflicts with
// nothing.
func tagConflict(ours, theirs string) bool {
	return ours != "" && theirs != "" && ours != theirs
}
