package membership

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitTimeout bounds every polling wait: generous, because a loaded 2-core
// machine can stall gossip for seconds; a passing run takes far less.
const waitTimeout = 30 * time.Second

// waitFor polls cond until it returns true or waitTimeout passes. cond
// describes the state it saw, for the failure message.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var last string
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last state: %s", waitTimeout, what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logRecorder is an slog.Handler that keeps the last records in memory
// (printed on failure) and lets tests wait for a message. It never calls
// t.Log, since memberlist goroutines may log after a test ends.
type logRecorder struct {
	mu    *sync.Mutex
	lines *[]string
	attrs []slog.Attr
}

const maxLogLines = 20000

func newLogRecorder(t *testing.T) (*slog.Logger, *logRecorder) {
	r := &logRecorder{mu: new(sync.Mutex), lines: new([]string)}
	t.Cleanup(func() {
		if t.Failed() {
			r.mu.Lock()
			defer r.mu.Unlock()
			lines := *r.lines
			if len(lines) > 400 {
				lines = lines[len(lines)-400:]
			}
			t.Logf("last %d log lines:\n%s", len(lines), strings.Join(lines, "\n"))
		}
	})
	return slog.New(r), r
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %q", rec.Time.Format("15:04:05.000"), rec.Level, rec.Message)
	for _, a := range r.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.lines = append(*r.lines, b.String())
	if len(*r.lines) > maxLogLines {
		*r.lines = slices.Delete(*r.lines, 0, maxLogLines/2)
	}
	return nil
}

func (r *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &logRecorder{mu: r.mu, lines: r.lines, attrs: append(slices.Clip(r.attrs), as...)}
}

func (r *logRecorder) WithGroup(string) slog.Handler { return r }

// has reports whether some line contains every one of parts.
func (r *logRecorder) has(parts ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range *r.lines {
		if containsAll(l, parts) {
			return true
		}
	}
	return false
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// fakeResolver is a Resolver over a fixed table that can fail its first
// lookups.
type fakeResolver struct {
	mu        sync.Mutex
	hosts     map[string][]string
	failFirst int
	calls     int
}

func (r *fakeResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.calls <= r.failFirst {
		return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
	}
	addrs, ok := r.hosts[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return slices.Clone(addrs), nil
}

func (r *fakeResolver) numCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// testConfig is a config with fast failure detection, for a node on
// 127.0.0.1 unless bind says otherwise.
func testConfig(log *slog.Logger, id uint64, bind, tag string, seeds ...string) Config {
	return Config{
		BindAddr: bind,
		Seeds:    seeds,
		Meta: Meta{
			NodeID:          id,
			RaftAddr:        fmt.Sprintf("127.0.0.1:%d", 20000+id),
			RPCAddr:         fmt.Sprintf("127.0.0.1:%d", 21000+id),
			PGAddr:          fmt.Sprintf("127.0.0.1:%d", 22000+id),
			HTTPAddr:        fmt.Sprintf("127.0.0.1:%d", 23000+id),
			ClusterTag:      tag,
			ProductVersion:  "v0.0.0-test",
			ProtocolVersion: 1,
			State:           "HEALTHY",
		},
		Logger:           log,
		ProbeInterval:    200 * time.Millisecond,
		ProbeTimeout:     100 * time.Millisecond,
		SuspicionMult:    3,
		GossipInterval:   50 * time.Millisecond,
		PushPullInterval: time.Second,
		TCPTimeout:       2 * time.Second,
		BroadcastTimeout: 5 * time.Second,
		JoinRetry:        JoinRetry{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond},
	}
}

// start starts a node and closes it at the end of the test.
func start(t *testing.T, cfg Config) *Membership {
	t.Helper()
	m, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start(%s): %v", cfg.BindAddr, err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close(%s): %v", m.Name(), err)
		}
	})
	return m
}

// statusOf returns how m sees the member called name.
func statusOf(m *Membership, name string) (Member, bool) {
	for _, mem := range m.Members() {
		if mem.Name == name {
			return mem, true
		}
	}
	return Member{}, false
}

// describe renders m's member table for failure messages.
func describe(m *Membership) string {
	var parts []string
	for _, mem := range m.Members() {
		parts = append(parts, fmt.Sprintf("%s@%s:%s/%s", mem.Name, mem.Addr, mem.Status, mem.Meta.State))
	}
	return m.Name() + " sees [" + strings.Join(parts, " ") + "]"
}

// aliveNames returns the names m sees alive, sorted.
func aliveNames(m *Membership) []string {
	var out []string
	for _, mem := range m.Members() {
		if mem.Status == StatusAlive {
			out = append(out, mem.Name)
		}
	}
	return out
}

// waitAllAlive waits until every node sees exactly the given nodes alive.
func waitAllAlive(t *testing.T, nodes ...*Membership) {
	t.Helper()
	var want []string
	for _, n := range nodes {
		want = append(want, n.Name())
	}
	slices.Sort(want)
	waitFor(t, fmt.Sprintf("every node to see %v alive", want), func() (bool, string) {
		var states []string
		ok := true
		for _, n := range nodes {
			if !slices.Equal(aliveNames(n), want) {
				ok = false
			}
			states = append(states, describe(n))
		}
		return ok, strings.Join(states, "; ")
	})
}

// startCluster starts n nodes on 127.0.0.1 joined through the first one.
func startCluster(t *testing.T, log *slog.Logger, n int, tag string) []*Membership {
	t.Helper()
	first := start(t, testConfig(log, 1, "127.0.0.1:0", tag))
	nodes := []*Membership{first}
	for i := 2; i <= n; i++ {
		nodes = append(nodes, start(t, testConfig(log, uint64(i), "127.0.0.1:0", tag, first.Addr())))
	}
	waitAllAlive(t, nodes...)
	return nodes
}

// drain collects the events already queued on ch.
func drain(ch <-chan Event) []Event {
	var out []Event
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}
