package membership

import "strconv"

// EventType says what happened to a member.
type EventType uint8

const (
	// EventJoin: a member became alive (new, or back after Dead/Left).
	EventJoin EventType = iota + 1
	// EventUpdate: an alive member gossiped new Meta.
	EventUpdate
	// EventDead: a member failed (unreachable beyond the suspicion timeout).
	EventDead
	// EventLeave: a member left gracefully. It may follow an EventDead for
	// the same member when the leave intent arrives after memberlist's
	// leave message.
	EventLeave
	// EventResync: events were dropped because the subscriber fell behind;
	// Member is empty. Call Members for the current view; the events that
	// follow are changes after it.
	EventResync
)

func (t EventType) String() string {
	switch t {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventDead:
		return "dead"
	case EventLeave:
		return "leave"
	case EventResync:
		return "resync"
	default:
		return "EventType(" + strconv.Itoa(int(t)) + ")"
	}
}

// Event is one membership change.
type Event struct {
	Type   EventType
	Member Member // the member after the change
}

// subscriber is one Subscribe channel. Events are delivered without ever
// blocking memberlist's goroutines: ch has room for buffer events plus one
// EventResync. When buffer events are queued the next event is replaced by
// an EventResync in the spare slot, and events are dropped until the
// subscriber has read everything queued (len(ch) == 0 means it has read the
// resync, so a Members call it makes afterwards covers what was dropped).
//
// All fields are guarded by Membership.mu; sends happen under it, so a send
// never races with close.
type subscriber struct {
	ch            chan Event
	buffer        int
	resyncPending bool
}

func newSubscriber(buffer int) *subscriber {
	return &subscriber{ch: make(chan Event, buffer+1), buffer: buffer}
}

// deliverLocked queues ev without blocking. Membership.mu must be held.
func (s *subscriber) deliverLocked(ev Event) {
	if s.resyncPending {
		if len(s.ch) > 0 {
			return // the unread resync covers ev
		}
		s.resyncPending = false
	}
	if len(s.ch) < s.buffer {
		s.ch <- ev
		return
	}
	// Only this goroutine (holding mu) sends, so the spare slot is free.
	s.ch <- Event{Type: EventResync}
	s.resyncPending = true
}
