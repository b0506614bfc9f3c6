package membership

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// TestClusterFormsFromSeeds starts three nodes: A with no seeds, B seeded
// with A's address, and C seeded with a DNS name (fake resolver) that
// resolves to both A and B. Every node must end up seeing all three alive,
// with each one's meta.
func TestClusterFormsFromSeeds(t *testing.T) {
	log, _ := newLogRecorder(t)
	// A and B listen on the same port on two loopback addresses, so that
	// one DNS name with two A records reaches both.
	var a, b *Membership
	for attempt := 0; ; attempt++ {
		a = start(t, testConfig(log, 1, "127.0.0.1:0", "c1"))
		_, port, _ := net.SplitHostPort(a.Addr())
		var err error
		b, err = Start(context.Background(), testConfig(log, 2, "127.0.0.2:"+port, "c1", a.Addr()))
		if err == nil {
			t.Cleanup(func() { _ = b.Close() })
			break
		}
		if attempt == 5 {
			t.Fatalf("cannot bind 127.0.0.2:%s: %v", port, err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	_, port, _ := net.SplitHostPort(a.Addr())
	if b.Addr() != "127.0.0.2:"+port {
		t.Fatalf("B advertises %s, want 127.0.0.2:%s", b.Addr(), port)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := b.WaitJoined(ctx); err != nil {
		t.Fatalf("B: %v", err)
	}

	res := &fakeResolver{hosts: map[string][]string{"seeds.longboat.test": {"127.0.0.1", "127.0.0.2"}}}
	cfg := testConfig(log, 3, "127.0.0.1:0", "c1", "seeds.longboat.test:"+port)
	cfg.Resolver = res
	c := start(t, cfg)
	if err := c.WaitJoined(ctx); err != nil {
		t.Fatalf("C: %v", err)
	}
	if res.numCalls() == 0 {
		t.Fatal("C joined without resolving its seed through the Resolver")
	}
	waitAllAlive(t, a, b, c)

	for _, n := range []*Membership{a, b, c} {
		for _, want := range []*Membership{a, b, c} {
			got, _ := statusOf(n, want.Name())
			if got.Meta != want.LocalMeta() || got.Addr != want.Addr() {
				t.Errorf("%s sees %s as %+v at %s, want %+v at %s", n.Name(), want.Name(), got.Meta, got.Addr, want.LocalMeta(), want.Addr())
			}
		}
	}
	if a.Name() != "node-1" || c.Name() != "node-3" {
		t.Errorf("default names: %q, %q", a.Name(), c.Name())
	}
}

// TestMetaUpdatePropagates checks that UpdateMeta re-gossips: peers see the
// new meta and subscribers get an EventUpdate.
func TestMetaUpdatePropagates(t *testing.T) {
	log, _ := newLogRecorder(t)
	nodes := startCluster(t, log, 3, "c1")
	a, b := nodes[0], nodes[1]
	events, cancel := b.Subscribe()
	defer cancel()

	meta := a.LocalMeta()
	meta.State = "IDLE"
	meta.PGAddr = "10.0.0.1:5432"
	ctx, cancelCtx := context.WithTimeout(context.Background(), waitTimeout)
	defer cancelCtx()
	if err := a.UpdateMeta(ctx, meta); err != nil {
		t.Fatalf("UpdateMeta: %v", err)
	}
	if got := a.LocalMeta(); got != meta {
		t.Fatalf("LocalMeta = %+v, want %+v", got, meta)
	}
	for _, n := range nodes {
		waitFor(t, n.Name()+" to see node-1's new meta", func() (bool, string) {
			got, _ := statusOf(n, a.Name())
			return got.Meta == meta, describe(n)
		})
	}
	var evs []Event
	waitFor(t, "an update event on B", func() (bool, string) {
		evs = append(evs, drain(events)...)
		for _, ev := range evs {
			if ev.Type == EventUpdate && ev.Member.Name == a.Name() && ev.Member.Meta == meta {
				return true, ""
			}
		}
		return false, fmt.Sprint(evs)
	})

	bad := meta
	bad.NodeID = 99
	if err := a.UpdateMeta(ctx, bad); err == nil {
		t.Error("UpdateMeta accepted a new node ID")
	}
	big := meta
	big.State = strings.Repeat("x", MaxMetaSize)
	if err := a.UpdateMeta(ctx, big); !errors.Is(err, ErrMetaTooLarge) {
		t.Errorf("UpdateMeta(oversized) = %v, want ErrMetaTooLarge", err)
	}
	if got := a.LocalMeta(); got != meta {
		t.Errorf("a refused update changed LocalMeta to %+v", got)
	}
}

// TestCloseWithoutLeaveIsDead: a node that stops without Leave is declared
// Dead by the others.
func TestCloseWithoutLeaveIsDead(t *testing.T) {
	log, _ := newLogRecorder(t)
	nodes := startCluster(t, log, 3, "c1")
	a, b, c := nodes[0], nodes[1], nodes[2]
	events, cancel := a.Subscribe()
	defer cancel()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*Membership{a, b} {
		waitFor(t, n.Name()+" to see node-3 dead", func() (bool, string) {
			got, ok := statusOf(n, c.Name())
			return ok && got.Status == StatusDead, describe(n)
		})
	}
	evs := drain(events)
	if !slices.ContainsFunc(evs, func(ev Event) bool { return ev.Type == EventDead && ev.Member.Name == c.Name() }) {
		t.Errorf("no dead event for node-3 in %v", evs)
	}
	if slices.ContainsFunc(evs, func(ev Event) bool { return ev.Type == EventLeave }) {
		t.Errorf("a crash produced a leave event: %v", evs)
	}
	if err := c.Leave(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Leave after Close = %v, want ErrClosed", err)
	}
	if err := c.UpdateMeta(context.Background(), c.LocalMeta()); !errors.Is(err, ErrClosed) {
		t.Errorf("UpdateMeta after Close = %v, want ErrClosed", err)
	}
}

// TestLeaveIsLeft: a node that calls Leave is reported Left, not Dead.
func TestLeaveIsLeft(t *testing.T) {
	log, _ := newLogRecorder(t)
	nodes := startCluster(t, log, 3, "c1")
	a, b, c := nodes[0], nodes[1], nodes[2]
	events, cancel := a.Subscribe()
	defer cancel()
	ctx, cancelCtx := context.WithTimeout(context.Background(), waitTimeout)
	defer cancelCtx()
	if err := c.Leave(ctx); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	if err := c.Leave(ctx); err != nil {
		t.Errorf("second Leave: %v", err)
	}
	if err := c.UpdateMeta(ctx, c.LocalMeta()); !errors.Is(err, ErrLeft) {
		t.Errorf("UpdateMeta after Leave = %v, want ErrLeft", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*Membership{a, b} {
		waitFor(t, n.Name()+" to see node-3 left", func() (bool, string) {
			got, ok := statusOf(n, c.Name())
			return ok && got.Status == StatusLeft, describe(n)
		})
	}
	evs := drain(events)
	if !slices.ContainsFunc(evs, func(ev Event) bool { return ev.Type == EventLeave && ev.Member.Name == c.Name() }) {
		t.Errorf("no leave event for node-3 in %v", evs)
	}
	// The others stay alive.
	for _, n := range []*Membership{a, b} {
		if got := aliveNames(n); !slices.Equal(got, []string{"node-1", "node-2"}) {
			t.Errorf("%s sees %v alive", n.Name(), got)
		}
	}
}

// TestForeignClusterRefused: a node tagged for another cluster is refused
// and never appears; an untagged node (not joined yet) is accepted.
func TestForeignClusterRefused(t *testing.T) {
	log, rec := newLogRecorder(t)
	nodes := startCluster(t, log, 2, "c1")
	a, b := nodes[0], nodes[1]

	dcfg := testConfig(log, 4, "127.0.0.1:0", "c2", a.Addr())
	d := start(t, dcfg)
	waitFor(t, "node-1 to refuse node-4", func() (bool, string) {
		return rec.has("refusing peer", "node=node-1", "peer=node-4", "cluster \"c2\""), ""
	})
	waitFor(t, "node-4 to fail a join attempt", func() (bool, string) {
		return rec.has("cannot join the cluster yet", "node=node-4"), ""
	})
	for _, n := range []*Membership{a, b} {
		if _, ok := statusOf(n, d.Name()); ok {
			t.Errorf("%s", describe(n))
		}
	}
	if got := aliveNames(d); !slices.Equal(got, []string{"node-4"}) {
		t.Errorf("%s", describe(d))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d.WaitJoined(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitJoined of a refused node = %v", err)
	}

	// A node with no tag yet joins.
	e := start(t, testConfig(log, 5, "127.0.0.1:0", "", a.Addr()))
	waitAllAlive(t, a, b, e)
	if _, ok := statusOf(a, d.Name()); ok {
		t.Errorf("node-4 appeared later: %s", describe(a))
	}
}

// TestMalformedPeerRefused: a raw memberlist peer gossiping garbage meta,
// messages and push/pull state is refused without a panic.
func TestMalformedPeerRefused(t *testing.T) {
	log, rec := newLogRecorder(t)
	nodes := startCluster(t, log, 2, "c1")
	a := nodes[0]

	mc := memberlist.DefaultLANConfig()
	mc.Name = "garbage"
	mc.BindAddr = "127.0.0.1"
	mc.BindPort = 0
	mc.AdvertisePort = 0
	mc.ProbeInterval = 200 * time.Millisecond
	mc.ProbeTimeout = 100 * time.Millisecond
	mc.GossipInterval = 50 * time.Millisecond
	mc.PushPullInterval = 500 * time.Millisecond
	mc.Delegate = garbageDelegate{}
	mc.Logger = nil
	mc.LogOutput = logWriter{log: log.With("node", "garbage")}
	raw, err := memberlist.Create(mc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Shutdown() })
	if _, err := raw.Join([]string{a.Addr()}); err != nil {
		t.Fatalf("raw join: %v", err)
	}
	waitFor(t, "node-1 to refuse the garbage peer, message and state", func() (bool, string) {
		return rec.has("refusing peer", "node=node-1", "peer=garbage", "malformed node meta") &&
			rec.has("ignoring malformed gossip message", "node=node-1") &&
			rec.has("ignoring malformed push/pull state", "node=node-1"), ""
	})
	for _, n := range nodes {
		if _, ok := statusOf(n, "garbage"); ok {
			t.Errorf("garbage peer admitted: %s", describe(n))
		}
	}
	waitAllAlive(t, nodes...)
}

// garbageDelegate gossips bytes that decode as nothing valid.
type garbageDelegate struct{}

func (garbageDelegate) NodeMeta(int) []byte { return []byte{0x01, 0xff, 0xff} }
func (garbageDelegate) NotifyMsg([]byte)    {}
func (garbageDelegate) GetBroadcasts(overhead, limit int) [][]byte {
	return [][]byte{{0x01, 0x01, 0xff}}
}
func (garbageDelegate) LocalState(bool) []byte        { return []byte{0x01, 0x05, 0x00} }
func (garbageDelegate) MergeRemoteState([]byte, bool) {}

// TestJoinRetriesAndReResolves: seeds are re-resolved on every attempt; a
// DNS failure is retried with backoff until the join succeeds.
func TestJoinRetriesAndReResolves(t *testing.T) {
	log, _ := newLogRecorder(t)
	a := start(t, testConfig(log, 1, "127.0.0.1:0", "c1"))
	_, port, _ := net.SplitHostPort(a.Addr())
	res := &fakeResolver{hosts: map[string][]string{"later.longboat.test": {"127.0.0.1"}}, failFirst: 3}
	cfg := testConfig(log, 2, "127.0.0.1:0", "c1", "later.longboat.test:"+port)
	cfg.Resolver = res
	b := start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := b.WaitJoined(ctx); err != nil {
		t.Fatal(err)
	}
	if n := res.numCalls(); n != 4 {
		t.Errorf("resolver called %d times, want 4 (3 failures, then success)", n)
	}
	waitAllAlive(t, a, b)
}

// TestCloseStopsJoinLoop: Close returns while the join loop is still
// retrying an unreachable seed, and WaitJoined then reports ErrClosed.
func TestCloseStopsJoinLoop(t *testing.T) {
	log, rec := newLogRecorder(t)
	port := freePort(t)
	cfg := testConfig(log, 1, "127.0.0.1:0", "c1", "127.0.0.1:"+strconv.Itoa(port))
	cfg.JoinRetry = JoinRetry{Initial: time.Hour, Max: time.Hour}
	m, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed join attempt", func() (bool, string) {
		return rec.has("cannot join the cluster yet"), ""
	})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := m.WaitJoined(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitJoined after Close = %v, want ErrClosed", err)
	}
}

// TestOwnAddressAsOnlySeed: a node whose only seed is itself has nothing
// to join and does not retry.
func TestOwnAddressAsOnlySeed(t *testing.T) {
	log, rec := newLogRecorder(t)
	var m *Membership
	for attempt := 0; ; attempt++ {
		addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
		var err error
		if m, err = Start(context.Background(), testConfig(log, 1, addr, "c1", addr)); err == nil {
			t.Cleanup(func() { _ = m.Close() })
			break
		}
		if attempt == 5 {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := m.WaitJoined(ctx); err != nil {
		t.Fatal(err)
	}
	if rec.has("cannot join the cluster yet") {
		t.Error("retried joining itself")
	}
}

// freePort returns a port that was free on 127.0.0.1 for TCP and UDP.
func freePort(t *testing.T) int {
	t.Helper()
	for range 10 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		_ = l.Close()
		if err == nil {
			_ = u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// TestSubscriptionLifecycle: cancel and Close close subscription channels;
// Subscribe after Close gets a closed channel.
func TestSubscriptionLifecycle(t *testing.T) {
	log, _ := newLogRecorder(t)
	m, err := Start(context.Background(), testConfig(log, 1, "127.0.0.1:0", ""))
	if err != nil {
		t.Fatal(err)
	}
	ch1, cancel1 := m.Subscribe()
	ch2, cancel2 := m.Subscribe()
	cancel1()
	cancel1()
	if _, ok := <-ch1; ok {
		t.Error("cancelled subscription delivered an event")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch2; ok {
		t.Error("subscription open after Close")
	}
	cancel2()
	ch3, cancel3 := m.Subscribe()
	defer cancel3()
	if _, ok := <-ch3; ok {
		t.Error("Subscribe after Close returned an open channel")
	}
	if got := m.Members(); len(got) != 1 || got[0].Name != "node-1" || got[0].Status != StatusAlive {
		t.Errorf("Members after Close = %+v", got)
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	base := testConfig(nil, 1, "127.0.0.1:0", "")
	f := func(name string, mutate func(*Config), want error) {
		t.Helper()
		cfg := base
		mutate(&cfg)
		m, err := Start(context.Background(), cfg)
		if err == nil {
			_ = m.Close()
			t.Errorf("%s: Start succeeded", name)
			return
		}
		if want != nil && !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	f("no name", func(c *Config) { c.Meta.NodeID = 0 }, errConfig)
	f("oversized meta", func(c *Config) { c.Meta.RaftAddr = strings.Repeat("r", 600) }, ErrMetaTooLarge)
	f("host name bind", func(c *Config) { c.BindAddr = "localhost:0" }, errConfig)
	f("bad port", func(c *Config) { c.BindAddr = "127.0.0.1:99999" }, errConfig)
	f("host name advertise", func(c *Config) { c.AdvertiseAddr = "example.com:1" }, errConfig)
	f("bad seed", func(c *Config) { c.Seeds = []string{"a:b:c"} }, errConfig)
	f("negative duration", func(c *Config) { c.ProbeInterval = -time.Second }, errConfig)
	f("bad buffer", func(c *Config) { c.SubscriberBuffer = -1 }, errConfig)
	f("port in use", func(c *Config) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		c.BindAddr = l.Addr().String()
	}, nil)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Start(ctx, base); !errors.Is(err, context.Canceled) {
		t.Errorf("Start(cancelled ctx) = %v", err)
	}
}
