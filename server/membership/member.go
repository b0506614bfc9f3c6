package membership

import (
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"
)

// Status is a member's liveness as this node sees it.
//
// NB: there is no Suspect status. memberlist v0.7.0 keeps suspicion
// internal (delegates and Members() see suspect nodes as alive), so a
// suspect member stays Alive here until it is declared Dead or refutes.
type Status uint8

const (
	// StatusAlive: the member answers probes (or is suspected but not yet
	// declared dead).
	StatusAlive Status = iota + 1
	// StatusDead: the member stopped answering and was declared dead.
	StatusDead
	// StatusLeft: the member left gracefully (Leave).
	StatusLeft
)

func (s Status) String() string {
	switch s {
	case StatusAlive:
		return "alive"
	case StatusDead:
		return "dead"
	case StatusLeft:
		return "left"
	default:
		return "Status(" + strconv.Itoa(int(s)) + ")"
	}
}

// Member is one node of the physical topology.
type Member struct {
	Name   string // gossip name (unique in the cluster)
	Addr   string // gossip "ip:port"
	Meta   Meta
	Status Status
	// Since is when this node last saw Status change.
	Since time.Time
}

// memberState is the table entry behind a Member.
type memberState struct {
	Member
	bootID uint64
	// leaving is set when a leave intent for this run (bootID) is known.
	leaving bool
}

// nodeAddr formats a memberlist node's address. Called from delegate
// callbacks, while memberlist holds the node's lock, so it copies.
func nodeAddr(n *memberlist.Node) string {
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}
