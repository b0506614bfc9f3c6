package membership

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// newTable returns a Membership with only its member table set up, to
// drive the delegate callbacks directly.
func newTable(t *testing.T) *Membership {
	log, _ := newLogRecorder(t)
	m := &Membership{cfg: Config{NodeName: "self", DeadRetention: 1 << 62}.withDefaults(), log: log}
	m.mu.members = make(map[string]*memberState)
	m.mu.subs = make(map[*subscriber]struct{})
	m.mu.refused = make(map[string]time.Time)
	return m
}

func node(name string, bootID uint64, state string) *memberlist.Node {
	return &memberlist.Node{
		Name: name, Addr: net.IPv4(10, 0, 0, 1), Port: 7946,
		Meta: appendNodeMeta(nil, nodeMeta{bootID: bootID, meta: Meta{NodeID: 1, State: state}}),
	}
}

// TestLeaveClassification checks how leave intents and memberlist's
// "gone" notifications combine into Dead or Left, including a late intent,
// a stale intent from a previous run, and a restart.
func TestLeaveClassification(t *testing.T) {
	m := newTable(t)
	events, cancel := m.Subscribe()
	defer cancel()
	d := delegate{m: m}
	intent := func(name string, bootID uint64) bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.applyIntentLocked(leaveIntent{name: name, bootID: bootID}, time.Now())
	}
	status := func(name string) Status {
		mem, _ := statusOf(m, name)
		return mem.Status
	}
	expect := func(step string, want ...EventType) {
		t.Helper()
		evs := drain(events)
		var got []EventType
		for _, ev := range evs {
			got = append(got, ev.Type)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: events %v, want %v", step, got, want)
		}
	}

	// Intent, then gone: Left.
	d.NotifyJoin(node("a", 1, "HEALTHY"))
	if !intent("a", 1) || intent("a", 1) {
		t.Error("intent news: want true then false")
	}
	d.NotifyLeave(node("a", 1, "HEALTHY"))
	if s := status("a"); s != StatusLeft {
		t.Errorf("a = %v, want left", s)
	}
	expect("intent then gone", EventJoin, EventLeave)

	// Gone, then a late intent: Dead, then Left.
	d.NotifyJoin(node("b", 2, "HEALTHY"))
	d.NotifyLeave(node("b", 2, "HEALTHY"))
	if s := status("b"); s != StatusDead {
		t.Errorf("b = %v, want dead", s)
	}
	if !intent("b", 2) {
		t.Error("late intent not news")
	}
	if s := status("b"); s != StatusLeft {
		t.Errorf("b = %v after late intent, want left", s)
	}
	expect("gone then intent", EventJoin, EventDead, EventLeave)

	// An intent of another run (stale, or from before a restart) is
	// ignored; a restart clears the previous run's intent.
	d.NotifyJoin(node("c", 3, "HEALTHY"))
	if intent("c", 99) {
		t.Error("intent for another boot ID applied")
	}
	intent("c", 3)
	d.NotifyLeave(node("c", 3, "HEALTHY"))
	d.NotifyJoin(node("c", 4, "HEALTHY")) // restarted
	d.NotifyLeave(node("c", 4, "HEALTHY"))
	if s := status("c"); s != StatusDead {
		t.Errorf("restarted c = %v after a crash, want dead", s)
	}
	expect("restart", EventJoin, EventLeave, EventJoin, EventDead)

	// Update keeps the member alive with the new meta; unknown intents
	// and gone notices for unknown nodes are ignored.
	d.NotifyJoin(node("e", 5, "JOINING"))
	d.NotifyUpdate(node("e", 5, "HEALTHY"))
	if mem, _ := statusOf(m, "e"); mem.Meta.State != "HEALTHY" || mem.Status != StatusAlive || mem.Addr != "10.0.0.1:7946" {
		t.Errorf("e = %+v", mem)
	}
	if intent("nobody", 1) {
		t.Error("intent for an unknown node applied")
	}
	d.NotifyLeave(node("nobody", 1, ""))
	expect("update", EventJoin, EventUpdate)
	if n := m.alive.Load(); n != 1 {
		t.Errorf("alive count %d, want 1 (e)", n)
	}

	// Malformed meta is never tracked.
	d.NotifyJoin(&memberlist.Node{Name: "bad", Meta: []byte{1, 2, 3}})
	if _, ok := statusOf(m, "bad"); ok {
		t.Error("member with malformed meta tracked")
	}
	// Intents travel in push/pull state.
	m2 := newTable(t)
	d2 := delegate{m: m2}
	d2.NotifyJoin(node("a", 1, "HEALTHY"))
	d2.NotifyLeave(node("a", 1, "HEALTHY"))
	d2.MergeRemoteState(d.LocalState(false), false)
	if mem, _ := statusOf(m2, "a"); mem.Status != StatusLeft {
		t.Errorf("push/pull did not carry the intent: %+v", mem)
	}
}

// TestRefusal checks the cluster-tag rule of NotifyAlive and NotifyMerge.
func TestRefusal(t *testing.T) {
	m := newTable(t)
	d := delegate{m: m}
	tagged := func(name, tag string) *memberlist.Node {
		return &memberlist.Node{Name: name, Addr: net.IPv4(10, 0, 0, 2), Port: 1,
			Meta: appendNodeMeta(nil, nodeMeta{meta: Meta{NodeID: 2, ClusterTag: tag}})}
	}
	f := func(ours, theirs string, refused bool) {
		t.Helper()
		m.mu.Lock()
		m.mu.meta.ClusterTag = ours
		m.mu.Unlock()
		err := d.NotifyAlive(tagged("p", theirs))
		if (err != nil) != refused {
			t.Errorf("ours %q theirs %q: NotifyAlive = %v", ours, theirs, err)
		}
		err = d.NotifyMerge([]*memberlist.Node{tagged("q", ""), tagged("p", theirs)})
		if (err != nil) != refused {
			t.Errorf("ours %q theirs %q: NotifyMerge = %v", ours, theirs, err)
		}
	}
	f("", "", false)
	f("", "x", false)
	f("x", "", false)
	f("x", "x", false)
	f("x", "y", true)

	bad := &memberlist.Node{Name: "bad", Addr: net.IPv4(10, 0, 0, 3), Meta: []byte{9}}
	if err := d.NotifyAlive(bad); err == nil {
		t.Error("NotifyAlive accepted malformed meta")
	}
	if err := d.NotifyMerge([]*memberlist.Node{bad}); err != nil {
		t.Errorf("NotifyMerge refused a merge over one malformed peer (NotifyAlive's job): %v", err)
	}
}
