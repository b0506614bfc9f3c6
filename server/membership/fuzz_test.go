package membership

import (
	"encoding/binary"
	"errors"
	"testing"
)

func binaryUvarint(v uint64) []byte { return binary.AppendUvarint(nil, v) }

// FuzzDecodeMeta feeds arbitrary peer meta bytes to the decoder: it must
// never panic, must fail only with errBadMeta, and whatever decodes must
// survive a re-encode round trip.
func FuzzDecodeMeta(f *testing.F) {
	f.Add(appendNodeMeta(nil, nodeMeta{bootID: 7, meta: Meta{NodeID: 1, RaftAddr: "127.0.0.1:1", ClusterTag: "c", State: "HEALTHY"}}))
	f.Add([]byte{})
	f.Add([]byte{0x01})
	f.Add([]byte{0x01, 0xff, 0xff})
	f.Add([]byte{0x02, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(append(appendNodeMeta(nil, nodeMeta{}), 0xff))
	f.Fuzz(func(t *testing.T, b []byte) {
		nm, err := decodeNodeMeta(b)
		if err != nil {
			if !errors.Is(err, errBadMeta) {
				t.Fatalf("error without errBadMeta: %v", err)
			}
			return
		}
		enc := appendNodeMeta(nil, nm)
		if len(enc) > len(b) {
			t.Fatalf("re-encoding grew from %d to %d bytes", len(b), len(enc))
		}
		got, err := decodeNodeMeta(enc)
		if err != nil || got != nm {
			t.Fatalf("round trip: %+v -> %+v, %v", nm, got, err)
		}
	})
}

// FuzzDecodeGossip does the same for leave-intent messages and push/pull
// state, which also arrive from peers.
func FuzzDecodeGossip(f *testing.F) {
	f.Add(appendLeaveMsg(nil, leaveIntent{name: "node-1", bootID: 9}))
	f.Add(appendState(nil, []leaveIntent{{name: "a", bootID: 1}, {name: "b", bootID: 2}}))
	f.Add([]byte{0x01, 0x01, 0xff})
	f.Add([]byte{0x01, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if in, err := decodeLeaveMsg(b); err == nil {
			if got, err := decodeLeaveMsg(appendLeaveMsg(nil, in)); err != nil || got != in {
				t.Fatalf("message round trip: %+v -> %+v, %v", in, got, err)
			}
		} else if !errors.Is(err, errBadMessage) {
			t.Fatalf("message error without errBadMessage: %v", err)
		}
		if ins, err := decodeState(b); err == nil {
			got, err := decodeState(appendState(nil, ins))
			if err != nil || len(got) != len(ins) {
				t.Fatalf("state round trip: %+v -> %+v, %v", ins, got, err)
			}
			for i := range ins {
				if got[i] != ins[i] {
					t.Fatalf("state round trip: %+v -> %+v", ins, got)
				}
			}
		} else if !errors.Is(err, errBadMessage) {
			t.Fatalf("state error without errBadMessage: %v", err)
		}
	})
}
