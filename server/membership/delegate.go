package membership

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/memberlist"
)

// delegate adapts Membership to memberlist's callback interfaces, keeping
// them off the public type. memberlist calls these from its own goroutines,
// some with its node lock held: they must not block and must not call back
// into memberlist (see Membership.mu).
type delegate struct {
	m *Membership
}

var (
	_ memberlist.Delegate      = delegate{}
	_ memberlist.EventDelegate = delegate{}
	_ memberlist.AliveDelegate = delegate{}
	_ memberlist.MergeDelegate = delegate{}
)

// refusalLogEvery throttles the warning for a peer refused again and again
// (it re-gossips itself every few hundred milliseconds).
const refusalLogEvery = time.Minute

var errRefused = errors.New("longboat/membership: peer refused")

// NodeMeta returns this node's encoded meta.
func (d delegate) NodeMeta(limit int) []byte {
	d.m.mu.Lock()
	b := bytes.Clone(d.m.mu.encoded)
	d.m.mu.Unlock()
	if len(b) > limit {
		// Validate keeps encodings within MaxMetaSize, memberlist's limit;
		// memberlist panics on more, so send nothing rather than crash.
		d.m.log.Error("node meta exceeds the gossip limit; sending none", "size", len(b), "limit", limit)
		return nil
	}
	return b
}

// NotifyMsg receives a user message piggybacked on gossip (leave intents).
// b may be reused after return.
func (d delegate) NotifyMsg(b []byte) {
	in, err := decodeLeaveMsg(b)
	if err != nil {
		d.m.log.Warn("ignoring malformed gossip message", "bytes", len(b), "err", err)
		return
	}
	d.m.mu.Lock()
	news := d.m.applyIntentLocked(in, time.Now())
	d.m.mu.Unlock()
	if news {
		// Re-gossip it, as memberlist does with its own messages.
		d.m.queue.QueueBroadcast(&intentBroadcast{name: in.name, msg: bytes.Clone(b)})
	}
}

// GetBroadcasts hands memberlist this package's queued broadcasts.
func (d delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.m.queue.GetBroadcasts(overhead, limit)
}

// LocalState carries the known leave intents in push/pull exchanges, so a
// node that missed a broadcast still learns who left.
func (d delegate) LocalState(bool) []byte {
	d.m.mu.Lock()
	ins := d.m.intentsLocked()
	d.m.mu.Unlock()
	return appendState(nil, ins)
}

// MergeRemoteState applies a peer's leave intents.
func (d delegate) MergeRemoteState(buf []byte, _ bool) {
	if len(buf) == 0 {
		return
	}
	ins, err := decodeState(buf)
	if err != nil {
		d.m.log.Warn("ignoring malformed push/pull state", "bytes", len(buf), "err", err)
		return
	}
	now := time.Now()
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	for _, in := range ins {
		d.m.applyIntentLocked(in, now)
	}
}

// NotifyJoin, NotifyLeave and NotifyUpdate feed the member table. The node
// must not be kept: it is memberlist's, guarded by its lock.
func (d delegate) NotifyJoin(n *memberlist.Node)   { d.m.onAlive(n, EventJoin) }
func (d delegate) NotifyLeave(n *memberlist.Node)  { d.m.onGone(n) }
func (d delegate) NotifyUpdate(n *memberlist.Node) { d.m.onAlive(n, EventUpdate) }

// NotifyAlive refuses a peer whose meta does not decode or whose cluster
// tag conflicts with ours; memberlist then ignores its alive messages (and
// so never adds it to the topology).
func (d delegate) NotifyAlive(peer *memberlist.Node) error {
	return d.check(peer)
}

// NotifyMerge refuses a join (push/pull) with a peer cluster if any of its
// members has a conflicting cluster tag. Members whose meta does not decode
// are left to NotifyAlive, which refuses them one by one.
func (d delegate) NotifyMerge(peers []*memberlist.Node) error {
	for _, p := range peers {
		if err := d.check(p); err != nil && !errors.Is(err, errBadMeta) {
			return fmt.Errorf("refusing to merge with the cluster of %q: %w", p.Name, err)
		}
	}
	return nil
}

// check returns why peer must be refused, or nil, and logs a refusal (at
// most once per refusalLogEvery per peer at Warn, else at Debug).
func (d delegate) check(peer *memberlist.Node) error {
	nm, err := decodeNodeMeta(peer.Meta)
	var reason error
	d.m.mu.Lock()
	ours := d.m.mu.meta.ClusterTag
	switch {
	case err != nil:
		reason = fmt.Errorf("peer %q at %s: %w: %w", peer.Name, nodeAddr(peer), errRefused, err)
	case tagConflict(ours, nm.meta.ClusterTag):
		reason = fmt.Errorf("peer %q at %s belongs to cluster %q, this node to %q: %w",
			peer.Name, nodeAddr(peer), nm.meta.ClusterTag, ours, errRefused)
	}
	loud := false
	if reason != nil {
		now := time.Now()
		if last, ok := d.m.mu.refused[peer.Name]; !ok || now.Sub(last) >= refusalLogEvery {
			if len(d.m.mu.refused) >= 1024 {
				clear(d.m.mu.refused)
			}
			d.m.mu.refused[peer.Name] = now
			loud = true
		}
	}
	d.m.mu.Unlock()
	if reason != nil {
		if loud {
			d.m.log.Warn("refusing peer", "peer", peer.Name, "reason", reason)
		} else {
			d.m.log.Debug("refusing peer", "peer", peer.Name, "reason", reason)
		}
	}
	return reason
}

// intentBroadcast is a leave intent queued for gossip. A newer intent for
// the same node replaces an older one still queued.
type intentBroadcast struct {
	name   string
	msg    []byte
	notify chan struct{} // optional, buffered(1): signalled when done
}

var _ memberlist.Broadcast = (*intentBroadcast)(nil)

func (b *intentBroadcast) Invalidates(other memberlist.Broadcast) bool {
	o, ok := other.(*intentBroadcast)
	return ok && o.name == b.name
}

func (b *intentBroadcast) Message() []byte { return b.msg }

func (b *intentBroadcast) Finished() {
	if b.notify != nil {
		select {
		case b.notify <- struct{}{}:
		default:
		}
	}
}
