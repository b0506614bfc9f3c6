package raftsm

import (
	"testing"
	"time"

	"github.com/lni/dragonboat/v4/raftio"
)

// TestMarkUpClearsStaleTransportFailure: a connection failure delivered
// after the reconnection it preceded must not leave a node down once the
// membership layer reports it alive.
func TestMarkUpClearsStaleTransportFailure(t *testing.T) {
	l := newLiveness(time.Now)
	l.ConnectionEstablished(raftio.ConnectionInfo{Address: "n1:7100"})
	l.ConnectionFailed(raftio.ConnectionInfo{Address: "n1:7100"}) // late event
	if _, down := l.downSince(1, "n1:7100"); !down {
		t.Fatal("the failure was not recorded")
	}
	l.markUp(1, "n1:7100")
	if _, down := l.downSince(1, "n1:7100"); down {
		t.Fatal("still down after markUp")
	}
}
