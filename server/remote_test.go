package server

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longboatdb/longboat/server/rpc"
)

// TestAttemptError: a forwarded write attempt counts as timed out only when
// it ran out its own bound. A refusal the callee sent (NotLeader with its
// hint) stays that refusal after the attempt's context was cancelled, and a
// leader change seen by watchLeader names the new leader.
func TestAttemptError(t *testing.T) {
	ctx := context.Background()
	over := func(d time.Duration) context.Context {
		actx, cancel := context.WithTimeout(ctx, d)
		if d > 0 {
			cancel() // the router cancels every attempt when it ends
		} else {
			<-actx.Done()
			cancel()
		}
		return actx
	}
	refusal := &rpc.NotLeaderError{ShardID: 7, LeaderNodeID: 3}

	// The callee answered NotLeader{3} before the bound: keep its hint.
	timedOut, err := attemptError(ctx, over(time.Hour), refusal, 0, 7, "n2:7200", 2*time.Second)
	var nl *rpc.NotLeaderError
	if timedOut || !errors.As(err, &nl) || nl.LeaderNodeID != 3 {
		t.Fatalf("refusal: timedOut %v, err %v; want the NotLeader hint 3 kept", timedOut, err)
	}
	// No answer within the bound.
	timedOut, err = attemptError(ctx, over(0), context.DeadlineExceeded, 0, 7, "n2:7200", 2*time.Second)
	var un *rpc.UnavailableError
	if !timedOut || !errors.As(err, &un) {
		t.Fatalf("bound run out: timedOut %v, err %v", timedOut, err)
	}
	// watchLeader saw node 1 elected and cancelled the attempt.
	timedOut, err = attemptError(ctx, over(time.Hour), context.Canceled, 1, 7, "n2:7200", 2*time.Second)
	if timedOut || !errors.As(err, &nl) || nl.LeaderNodeID != 1 {
		t.Fatalf("leader moved: timedOut %v, err %v", timedOut, err)
	}
	// Success, and the statement's own context ending, pass through.
	if timedOut, err = attemptError(ctx, over(time.Hour), nil, 1, 7, "n2:7200", time.Second); timedOut || err != nil {
		t.Fatalf("success: %v %v", timedOut, err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err = attemptError(done, over(0), refusal, 1, 7, "n2:7200", time.Second); err != refusal {
		t.Fatalf("statement over: %v", err)
	}
}

// fakeLeaders is a leaderView whose leader of every shard the test sets.
type fakeLeaders struct{ leader atomic.Uint64 }

func (f *fakeLeaders) ShardLeader(uint64) (uint64, bool) {
	l := f.leader.Load()
	return l, l != 0
}

// TestWatchLeader: an attempt through the old leader is cancelled once the
// local view names another leader, and stop reports it; an attempt whose
// view does not change, or changes to the target itself, runs on.
func TestWatchLeader(t *testing.T) {
	v := &fakeLeaders{}
	v.leader.Store(2)
	actx, cancel := context.WithCancel(context.Background())
	stop := watchLeader(actx, cancel, v, 7, 2)
	v.leader.Store(1)
	select {
	case <-actx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the attempt through node 2 was not cancelled after node 1 became leader")
	}
	if l := stop(); l != 1 {
		t.Fatalf("stop() = %d, want the new leader 1", l)
	}

	// Forwarded to the hinted leader 3 while the local view still said 2:
	// learning that 3 leads is no reason to give up.
	v.leader.Store(2)
	actx, cancel = context.WithCancel(context.Background())
	defer cancel()
	stop = watchLeader(actx, cancel, v, 7, 3)
	v.leader.Store(3)
	time.Sleep(10 * leaderPoll)
	if l := stop(); l != 0 || actx.Err() != nil {
		t.Fatalf("watch on the target's own election: stop() = %d, ctx %v", l, actx.Err())
	}
}

// TestPollLeader: the backoff wait ends as soon as the view names a leader
// other than the node that failed, and lasts its whole bound otherwise.
func TestPollLeader(t *testing.T) {
	v := &fakeLeaders{}
	v.leader.Store(2)
	notFailed := func(l uint64) bool { return l != 2 }
	ctx, cancel := context.WithTimeout(context.Background(), 4*leaderPoll)
	if l := pollLeader(ctx, v, 7, notFailed); l != 0 || ctx.Err() == nil {
		t.Fatalf("view unchanged: pollLeader returned %d before its bound", l)
	}
	cancel()
	go func() {
		time.Sleep(2 * leaderPoll)
		v.leader.Store(3)
	}()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if l := pollLeader(ctx, v, 7, notFailed); l != 3 {
		t.Fatalf("pollLeader = %d, want 3", l)
	}
}
