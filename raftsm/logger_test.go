package raftsm

import (
	"testing"
	"time"
)

func TestRepeatLimiter(t *testing.T) {
	var r repeatLimiter
	t0 := time.Unix(1000, 0)
	every := 30 * time.Second
	if ok, n := r.allow("a %s", t0, every); !ok || n != 0 {
		t.Fatalf("first: %v %d", ok, n)
	}
	for i := range 5 {
		if ok, _ := r.allow("a %s", t0.Add(time.Duration(i+1)*time.Second), every); ok {
			t.Fatalf("repeat %d let through", i)
		}
	}
	if ok, _ := r.allow("b %s", t0.Add(time.Second), every); !ok {
		t.Fatal("another message was held back")
	}
	if ok, n := r.allow("a %s", t0.Add(every+time.Second), every); !ok || n != 5 {
		t.Fatalf("after the interval: %v, %d suppressed (want 5)", ok, n)
	}
	// Bounded: many distinct messages never grow the map past its cap.
	for i := range 1000 {
		r.allow(string(rune('A'+i%26))+time.Duration(i).String(), t0, every)
	}
	if len(r.seen) > 256 {
		t.Fatalf("%d entries kept", len(r.seen))
	}
}
