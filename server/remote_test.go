package server

import (
	"context"
	"errors"
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
