package membership

import (
	"errors"
	"slices"
	"testing"
)

func TestIntentCodecs(t *testing.T) {
	in := leaveIntent{name: "node-7", bootID: 1<<64 - 1}
	msg := appendLeaveMsg(nil, in)
	got, err := decodeLeaveMsg(msg)
	if err != nil || got != in {
		t.Fatalf("leave message: %+v, %v", got, err)
	}
	for n := range len(msg) {
		if _, err := decodeLeaveMsg(msg[:n]); !errors.Is(err, errBadMessage) {
			t.Fatalf("prefix %d decoded: %v", n, err)
		}
	}
	if _, err := decodeLeaveMsg(append(msg, 0)); !errors.Is(err, errBadMessage) {
		t.Fatalf("trailing byte accepted: %v", err)
	}
	if _, err := decodeLeaveMsg(appendLeaveMsg(nil, leaveIntent{})); !errors.Is(err, errBadMessage) {
		t.Fatalf("empty name accepted: %v", err)
	}

	ins := []leaveIntent{{name: "a", bootID: 1}, {name: "node-22", bootID: 99}}
	st := appendState(nil, ins)
	gotIns, err := decodeState(st)
	if err != nil || !slices.Equal(gotIns, ins) {
		t.Fatalf("state: %+v, %v", gotIns, err)
	}
	for n := range len(st) {
		if _, err := decodeState(st[:n]); !errors.Is(err, errBadMessage) {
			t.Fatalf("state prefix %d decoded: %v", n, err)
		}
	}
	if got, err := decodeState(appendState(nil, nil)); err != nil || len(got) != 0 {
		t.Fatalf("empty state: %+v, %v", got, err)
	}
	// A count far beyond the bytes present must not allocate for it.
	huge := []byte{msgFormatV1, 0xff, 0xff, 0x03}
	if _, err := decodeState(huge); !errors.Is(err, errBadMessage) {
		t.Fatalf("huge count: %v", err)
	}
}
