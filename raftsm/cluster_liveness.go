package raftsm

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/lni/dragonboat/v4/raftio"
)

// liveness tracks which nodes this node cannot reach, from two sources:
//
//   - Dragonboat's transport: a ConnectionFailed event for a Raft address
//     marks it down from that moment until a ConnectionEstablished event.
//     The meta leader heartbeats every member of the meta group (voters and
//     non-voters, i.e. every registered node) every HeartbeatRTT, so on the
//     meta leader a dead node's address fails within a few ticks and a node
//     that comes back reconnects within a few ticks.
//   - The server's membership layer (memberlist), through
//     Host.MarkNodeDown / Host.MarkNodeUp.
//
// A node is down while either source says so, since the earliest of them.
// The tracker is consulted by the meta leader only; a new leader starts
// counting from its own first failed contact, which errs on the side of
// waiting longer.
type liveness struct {
	now func() time.Time
	// metaLeaderSeen: some meta leader was elected since the NodeHost
	// started (InitCluster only undoes a bootstrap whose group never
	// formed).
	metaLeaderSeen atomic.Bool
	// onLeader is called on every leader change (it must not block).
	onLeader func()
	mu       struct {
		sync.Mutex
		addrDown map[string]time.Time // Raft address → down since
		marked   map[uint64]time.Time // node ID → marked down since
	}
}

var (
	_ raftio.ISystemEventListener = (*liveness)(nil)
	_ raftio.IRaftEventListener   = (*liveness)(nil)
)

// LeaderUpdated is called by Dragonboat (it must not block) when a local
// replica learns of a new leader.
func (l *liveness) LeaderUpdated(info raftio.LeaderInfo) {
	if info.ShardID == MetaShardID && info.LeaderID != 0 {
		l.metaLeaderSeen.Store(true)
	}
	if f := l.onLeader; f != nil {
		f()
	}
}

func newLiveness(now func() time.Time) *liveness {
	l := &liveness{now: now}
	l.mu.addrDown = make(map[string]time.Time)
	l.mu.marked = make(map[uint64]time.Time)
	return l
}

// downSince reports since when the node with this ID and Raft address has
// been unreachable.
func (l *liveness) downSince(id uint64, addr string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, aok := l.mu.addrDown[addr]
	m, mok := l.mu.marked[id]
	switch {
	case aok && mok:
		if m.Before(a) {
			return m, true
		}
		return a, true
	case aok:
		return a, true
	case mok:
		return m, true
	}
	return time.Time{}, false
}

func (l *liveness) markDown(id uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.mu.marked[id]; !ok {
		l.mu.marked[id] = l.now()
	}
}

// markUp clears both signs that node id (at Raft address addr) is down: a
// transport failure event can be delivered after the reconnection it
// preceded, and would otherwise leave a live node "down" for good.
func (l *liveness) markUp(id uint64, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.mu.marked, id)
	if addr != "" {
		delete(l.mu.addrDown, addr)
	}
}

// ConnectionFailed is called by Dragonboat (from its event goroutine; it must
// not block) when a connection to a remote NodeHost fails.
func (l *liveness) ConnectionFailed(info raftio.ConnectionInfo) {
	if info.SnapshotConnection {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.mu.addrDown[info.Address]; !ok {
		l.mu.addrDown[info.Address] = l.now()
	}
}

// ConnectionEstablished is called by Dragonboat when a connection to a
// remote NodeHost is (re-)established.
func (l *liveness) ConnectionEstablished(info raftio.ConnectionInfo) {
	if info.SnapshotConnection {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.mu.addrDown, info.Address)
}

// The other system events are not used.

func (*liveness) NodeHostShuttingDown()                     {}
func (*liveness) NodeUnloaded(raftio.NodeInfo)              {}
func (*liveness) NodeDeleted(raftio.NodeInfo)               {}
func (*liveness) NodeReady(raftio.NodeInfo)                 {}
func (*liveness) MembershipChanged(raftio.NodeInfo)         {}
func (*liveness) SendSnapshotStarted(raftio.SnapshotInfo)   {}
func (*liveness) SendSnapshotCompleted(raftio.SnapshotInfo) {}
func (*liveness) SendSnapshotAborted(raftio.SnapshotInfo)   {}
func (*liveness) SnapshotReceived(raftio.SnapshotInfo)      {}
func (*liveness) SnapshotRecovered(raftio.SnapshotInfo)     {}
func (*liveness) SnapshotCreated(raftio.SnapshotInfo)       {}
func (*liveness) SnapshotCompacted(raftio.SnapshotInfo)     {}
func (*liveness) LogCompacted(raftio.EntryInfo)             {}
func (*liveness) LogDBCompacted(raftio.EntryInfo)           {}
