package raftsm

import "testing"

// TestGroupsUsePreVoteAndCheckQuorum: every Raft group runs with PreVote
// (a node cut off from its group must not inflate the term and depose the
// serving leader when it returns) and CheckQuorum.
func TestGroupsUsePreVoteAndCheckQuorum(t *testing.T) {
	c := Config{DataDir: t.TempDir(), RaftAddr: "127.0.0.1:1", NodeID: 1}
	c.setDefaults()
	for name, gc := range map[string]struct{ pre, quorum bool }{
		"meta": {c.metaConfig().PreVote, c.metaConfig().CheckQuorum},
		"data": {c.dataConfig(17).PreVote, c.dataConfig(17).CheckQuorum},
	} {
		if !gc.pre || !gc.quorum {
			t.Errorf("%s group: PreVote %v, CheckQuorum %v", name, gc.pre, gc.quorum)
		}
	}
}
