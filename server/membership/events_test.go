package membership

import (
	"fmt"
	"testing"
)

func evName(ev Event) string {
	if ev.Type == EventResync {
		return "resync"
	}
	return ev.Member.Name
}

func names(evs []Event) string {
	var out []string
	for _, ev := range evs {
		out = append(out, evName(ev))
	}
	return fmt.Sprint(out)
}

// TestSubscriberResync drives a subscriber directly: a full buffer turns
// the next event into one resync, later events are dropped until the
// subscriber has read the resync, and delivery then resumes.
func TestSubscriberResync(t *testing.T) {
	s := newSubscriber(2)
	ev := func(name string) Event { return Event{Type: EventJoin, Member: Member{Name: name}} }
	f := func(step string, send []string, want string) {
		t.Helper()
		for _, n := range send {
			s.deliverLocked(ev(n))
		}
		if got := names(drain(s.ch)); got != want {
			t.Errorf("%s: got %s, want %s", step, got, want)
		}
	}
	f("within buffer", []string{"a", "b"}, "[a b]")
	f("overflow", []string{"c", "d", "e", "f"}, "[c d resync]")
	// The resync was read (channel empty): delivery resumes.
	f("after resync", []string{"g"}, "[g]")

	// Events that arrive while the resync is still unread are dropped.
	for _, n := range []string{"h", "i", "j"} {
		s.deliverLocked(ev(n))
	}
	if got := evName(<-s.ch); got != "h" {
		t.Fatalf("first = %s", got)
	}
	s.deliverLocked(ev("k")) // resync still queued behind i: dropped
	if got := names(drain(s.ch)); got != "[i resync]" {
		t.Fatalf("got %s, want [i resync]", got)
	}
	f("resumed", []string{"l"}, "[l]")
}

func TestTypeStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{EventJoin.String(), "join"}, {EventUpdate.String(), "update"}, {EventDead.String(), "dead"},
		{EventLeave.String(), "leave"}, {EventResync.String(), "resync"}, {EventType(42).String(), "EventType(42)"},
		{StatusAlive.String(), "alive"}, {StatusDead.String(), "dead"}, {StatusLeft.String(), "left"},
		{Status(9).String(), "Status(9)"},
	} {
		if c.got != c.want {
			t.Errorf("%q != %q", c.got, c.want)
		}
	}
}
