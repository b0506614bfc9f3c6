package membership

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// faultNet is an in-process network fault injector. Every node started
// with faultNet.config gossips through a faultTransport over real loopback
// UDP/TCP; while an address is cut, nothing it sends gets out (packets are
// dropped, stream dials refused) and nothing is sent to it. Since every
// node's traffic passes through its own faultTransport, blocking at the
// sender cuts both directions; incoming packets are filtered as well.
type faultNet struct {
	// gossipToTheDead, if set, replaces memberlist's GossipToTheDeadTime
	// (30s): how long it keeps a dead node and gossips to it, which lets
	// a short cut heal by itself. Set once, before any node starts.
	gossipToTheDead time.Duration

	mu  sync.Mutex
	cut map[string]bool
}

func newFaultNet() *faultNet { return &faultNet{cut: make(map[string]bool)} }

func (f *faultNet) setCut(addr string, cut bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut[addr] = cut
}

func (f *faultNet) blocked(a, b string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cut[a] || f.cut[b]
}

// config makes cfg gossip through f.
func (f *faultNet) config(cfg Config) Config {
	cfg.tuneMemberlist = f.tune
	return cfg
}

// tune is a Config.tuneMemberlist: it sets mc.Transport to a NetTransport
// on mc's bind address (retrying an ephemeral port as memberlist does)
// wrapped in a faultTransport.
func (f *faultNet) tune(mc *memberlist.Config) error {
	if f.gossipToTheDead > 0 {
		mc.GossipToTheDeadTime = f.gossipToTheDead
	}
	var nt *memberlist.NetTransport
	var err error
	for range 10 {
		nt, err = memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{mc.BindAddr}, BindPort: mc.BindPort, Logger: mc.Logger,
		})
		if err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("fault transport: %w", err)
	}
	if mc.BindPort == 0 {
		mc.BindPort = nt.GetAutoBindPort()
		mc.AdvertisePort = mc.BindPort
	}
	t := &faultTransport{
		NetTransport: nt,
		net:          f,
		self:         net.JoinHostPort(mc.BindAddr, strconv.Itoa(mc.BindPort)),
		packets:      make(chan *memberlist.Packet),
		done:         make(chan struct{}),
		filtered:     make(chan struct{}),
	}
	go t.filterPackets()
	mc.Transport = t
	return nil
}

// faultTransport is a memberlist.NodeAwareTransport that drops the
// traffic faultNet cuts. self is its own "ip:port".
type faultTransport struct {
	*memberlist.NetTransport
	net      *faultNet
	self     string
	packets  chan *memberlist.Packet
	done     chan struct{} // closed by Shutdown
	filtered chan struct{} // closed when filterPackets returns
}

var _ memberlist.NodeAwareTransport = (*faultTransport)(nil)

func (t *faultTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *faultTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if t.net.blocked(t.self, a.Addr) {
		return time.Now(), nil // lost on the way, as UDP would be
	}
	return t.NetTransport.WriteToAddress(b, a)
}

func (t *faultTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *faultTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if t.net.blocked(t.self, a.Addr) {
		return nil, fmt.Errorf("fault injection: %s -> %s is cut", t.self, a.Addr)
	}
	return t.NetTransport.DialAddressTimeout(a, timeout)
}

func (t *faultTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }

// filterPackets forwards incoming packets, dropping cut ones. UDP packets
// come from the sender's gossip port, so From names the sender.
func (t *faultTransport) filterPackets() {
	defer close(t.filtered)
	in := t.NetTransport.PacketCh()
	for {
		select {
		case p := <-in:
			if t.net.blocked(t.self, p.From.String()) {
				continue
			}
			select {
			case t.packets <- p:
			case <-t.done:
				return
			}
		case <-t.done:
			return
		}
	}
}

// Shutdown stops the listeners first (filterPackets keeps draining them,
// and memberlist keeps reading until this returns), then the filter.
func (t *faultTransport) Shutdown() error {
	err := t.NetTransport.Shutdown()
	close(t.done)
	<-t.filtered
	return err
}

// reconnectConfig is testConfig through fn with a fast reconnect loop.
func reconnectConfig(fn *faultNet, log *slog.Logger, id uint64, seeds ...string) Config {
	cfg := fn.config(testConfig(log, id, "127.0.0.1:0", "c1", seeds...))
	cfg.ReconnectInterval = 100 * time.Millisecond
	return cfg
}

// count returns how many log lines contain every one of parts.
func (r *logRecorder) count(parts ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, l := range *r.lines {
		if containsAll(l, parts) {
			n++
		}
	}
	return n
}

// waitStatus waits until n sees each named member with status s.
func waitStatus(t *testing.T, n *Membership, s Status, names ...string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s to see %v %s", n.Name(), names, s), func() (bool, string) {
		for _, name := range names {
			if got, ok := statusOf(n, name); !ok || got.Status != s {
				return false, describe(n)
			}
		}
		return true, describe(n)
	})
}

// TestReconnectAfterPartition cuts node-3 off in both directions until
// both sides have declared the other Dead and memberlist has forgotten
// them (after GossipToTheDeadTime, shortened here from 30s; from then on
// memberlist never contacts them again by itself), heals the cut, and
// expects the reconnect loops to bring all three back Alive everywhere,
// with EventJoin for node-3. Without the reconnect loop it times out.
func TestReconnectAfterPartition(t *testing.T) {
	log, rec := newLogRecorder(t)
	fn := newFaultNet()
	fn.gossipToTheDead = 300 * time.Millisecond
	n1 := start(t, reconnectConfig(fn, log, 1))
	n2 := start(t, reconnectConfig(fn, log, 2, n1.Addr()))
	n3 := start(t, reconnectConfig(fn, log, 3, n1.Addr()))
	waitAllAlive(t, n1, n2, n3)
	events, cancel := n1.Subscribe()
	defer cancel()

	fn.setCut(n3.Addr(), true)
	waitStatus(t, n1, StatusDead, "node-3")
	waitStatus(t, n2, StatusDead, "node-3")
	waitStatus(t, n3, StatusDead, "node-1", "node-2")
	// Stay cut for ten reconnect rounds (at least 1s, well past the 300ms
	// after which memberlist forgets a dead node at its next probe round);
	// node-3's attempts fail meanwhile (logged, not fatal).
	waitFor(t, "ten failed reconnect rounds on node-3", func() (bool, string) {
		n := rec.count(`"reconnect attempt failed"`, "node=node-3", "addr="+n1.Addr())
		return n >= 10, fmt.Sprintf("%d rounds", n)
	})

	fn.setCut(n3.Addr(), false)
	waitAllAlive(t, n1, n2, n3)
	for _, n := range []*Membership{n1, n2, n3} {
		if got, _ := statusOf(n, "node-3"); got.Addr != n3.Addr() {
			t.Errorf("%s has node-3 at %q, want %q", n.Name(), got.Addr, n3.Addr())
		}
	}
	evs := drain(events)
	dead := slices.IndexFunc(evs, func(ev Event) bool { return ev.Type == EventDead && ev.Member.Name == "node-3" })
	back := slices.IndexFunc(evs, func(ev Event) bool {
		return ev.Type == EventJoin && ev.Member.Name == "node-3" && ev.Member.Status == StatusAlive
	})
	if dead < 0 || back < dead {
		t.Errorf("want EventDead then EventJoin for node-3, got %v", names(evs))
	}
	for _, who := range []string{"node=node-1", "node=node-2"} {
		if !rec.has(`"dead member is back"`, who, "member=node-3") {
			t.Errorf("%s logged no return of node-3", who)
		}
	}
	if !rec.has(`"dead member is back"`, "node=node-3", "member=node-1") {
		t.Error("node-3 logged no return of node-1")
	}
}

// TestReconnectSkipsLeftMember: node-3, the others' seed, calls Leave but
// keeps running (so it still answers), and node-2 crashes, which keeps
// node-1's reconnect loop busy with node-2's address and the seed (node-3).
// node-3 must stay Left on node-1 through those rounds, with no EventJoin.
func TestReconnectSkipsLeftMember(t *testing.T) {
	log, rec := newLogRecorder(t)
	fn := newFaultNet()
	n3 := start(t, reconnectConfig(fn, log, 3))
	n1 := start(t, reconnectConfig(fn, log, 1, n3.Addr()))
	n2 := start(t, reconnectConfig(fn, log, 2, n3.Addr()))
	waitAllAlive(t, n1, n2, n3)

	ctx, cancelCtx := context.WithTimeout(context.Background(), waitTimeout)
	defer cancelCtx()
	if err := n3.Leave(ctx); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	waitStatus(t, n1, StatusLeft, "node-3")
	events, cancel := n1.Subscribe()
	defer cancel()

	n2addr := n2.Addr()
	if err := n2.Close(); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, n1, StatusDead, "node-2")
	// Each round tries node-2 first, then the seed: once node-2 has failed
	// five more times, node-1 has pushed/pulled with node-3 at least four.
	base := rec.count(`"reconnect attempt failed"`, "node=node-1", "addr="+n2addr)
	waitFor(t, "five more reconnect rounds on node-1", func() (bool, string) {
		c := rec.count(`"reconnect attempt failed"`, "node=node-1", "addr="+n2addr)
		return c >= base+5, fmt.Sprintf("%d rounds", c-base)
	})
	if got, _ := statusOf(n1, "node-3"); got.Status != StatusLeft {
		t.Errorf("node-1 sees node-3 %s after reconnect rounds, want left; %s", got.Status, describe(n1))
	}
	if evs := drain(events); slices.ContainsFunc(evs, func(ev Event) bool { return ev.Member.Name == "node-3" }) {
		t.Errorf("events for the left node-3: %v", names(evs))
	}
	if rec.has("node=node-3", `"cannot reconnect to the cluster yet; retrying"`) {
		t.Error("node-3 kept reconnecting after Leave")
	}
}

// TestRestartAtNewAddressRejoins: node-3 crashes and a new run of it (same
// name) starts on another port; once the old address is Dead, the new run
// takes the name over (DeadNodeReclaimTime) and every node sees it alive at
// its new address.
func TestRestartAtNewAddressRejoins(t *testing.T) {
	log, _ := newLogRecorder(t)
	fn := newFaultNet()
	n1 := start(t, reconnectConfig(fn, log, 1))
	n2 := start(t, reconnectConfig(fn, log, 2, n1.Addr()))
	n3 := start(t, reconnectConfig(fn, log, 3, n1.Addr()))
	waitAllAlive(t, n1, n2, n3)
	old := n3.Addr()
	if err := n3.Close(); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, n1, StatusDead, "node-3")
	waitStatus(t, n2, StatusDead, "node-3")

	n3b := start(t, reconnectConfig(fn, log, 3, n1.Addr()))
	if n3b.Addr() == old {
		t.Fatalf("restarted node-3 got the old address %s", old)
	}
	waitAllAlive(t, n1, n2, n3b)
	for _, n := range []*Membership{n1, n2} {
		if got, _ := statusOf(n, "node-3"); got.Addr != n3b.Addr() {
			t.Errorf("%s has node-3 at %q, want %q", n.Name(), got.Addr, n3b.Addr())
		}
	}
}

// TestFailureLogThrottle: a reconnect failure is logged at Warn only once
// it has lasted reconnectWarnEvery, then at most once per
// reconnectWarnEvery; a success resets the streak.
func TestFailureLogThrottle(t *testing.T) {
	var f failureLog
	t0 := time.Unix(1000, 0)
	f.ok()
	steps := []struct {
		at   time.Duration
		warn bool
	}{
		{0, false},
		{30 * time.Second, false},
		{reconnectWarnEvery, true},
		{reconnectWarnEvery + time.Second, false},
		{2*reconnectWarnEvery - time.Second, false},
		{2 * reconnectWarnEvery, true},
	}
	for _, s := range steps {
		if got := f.failed(t0.Add(s.at)); got != s.warn {
			t.Errorf("failure at +%s: warn=%v, want %v", s.at, got, s.warn)
		}
	}
	f.ok()
	if f.failed(t0.Add(3 * reconnectWarnEvery)) {
		t.Error("first failure after a success logged at Warn")
	}
}

// TestReconnectPlan: the reconnect loop targets Dead members only (not
// Left ones, nor members whose leave intent is known), and runs while
// fewer members are alive than the peak; a Left member lowers the peak.
func TestReconnectPlan(t *testing.T) {
	m := newTable(t)
	m.onAlive(node("self", 1, "HEALTHY"), EventJoin)
	m.onAlive(node("b", 2, "HEALTHY"), EventJoin)
	m.onAlive(node("c", 3, "HEALTHY"), EventJoin)
	m.onAlive(node("d", 4, "HEALTHY"), EventJoin)
	if p := m.reconnectPlan(); p.needed() || p.peak != 4 {
		t.Fatalf("all alive: %+v", p)
	}
	m.onGone(node("b", 2, "HEALTHY")) // crashed
	m.mu.Lock()
	m.applyIntentLocked(leaveIntent{name: "c", bootID: 3}, time.Now())
	m.mu.Unlock()
	m.onGone(node("c", 3, "HEALTHY")) // left
	p := m.reconnectPlan()
	if want := []string{nodeAddr(node("b", 2, ""))}; !slices.Equal(p.dead, want) || p.alive != 2 || p.peak != 3 || !p.needed() {
		t.Fatalf("b dead, c left: %+v, want dead %v alive 2 peak 3", p, want)
	}
	m.onAlive(node("b", 2, "HEALTHY"), EventJoin)
	if p := m.reconnectPlan(); p.needed() {
		t.Fatalf("b back: %+v", p)
	}
	m.onGone(node("d", 4, "HEALTHY")) // crashed, then its intent arrives late
	m.mu.Lock()
	m.applyIntentLocked(leaveIntent{name: "d", bootID: 4}, time.Now())
	m.mu.Unlock()
	if p := m.reconnectPlan(); p.needed() || len(p.dead) != 0 {
		t.Fatalf("d dead then left: %+v", p)
	}
}
