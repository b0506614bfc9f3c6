package membership

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func randString(r *rand.Rand, max int) string {
	b := make([]byte, r.IntN(max+1))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randMeta(r *rand.Rand) Meta {
	return Meta{
		NodeID:          r.Uint64() >> r.IntN(64),
		RaftAddr:        randString(r, 40),
		RPCAddr:         randString(r, 40),
		PGAddr:          randString(r, 40),
		HTTPAddr:        randString(r, 40),
		ClusterTag:      randString(r, 40),
		ProductVersion:  randString(r, 20),
		ProtocolVersion: r.Uint32() >> r.IntN(32),
		State:           randString(r, 20),
	}
}

// TestMetaRoundTrip encodes random metas after bytes already in dst and
// decodes them back.
func TestMetaRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		nm := nodeMeta{bootID: r.Uint64(), meta: randMeta(r)}
		if err := nm.meta.Validate(); err != nil {
			t.Fatalf("#%d: %v", i, err)
		}
		prefix := []byte("prefix")
		enc := appendNodeMeta(prefix, nm)
		if string(enc[:len(prefix)]) != "prefix" {
			t.Fatalf("#%d: appendNodeMeta clobbered dst", i)
		}
		enc = enc[len(prefix):]
		if len(enc) != encodedMetaSize(nm.meta) {
			t.Fatalf("#%d: encoded %d bytes, encodedMetaSize says %d", i, len(enc), encodedMetaSize(nm.meta))
		}
		got, err := decodeNodeMeta(enc)
		if err != nil {
			t.Fatalf("#%d: decode: %v", i, err)
		}
		if got != nm {
			t.Fatalf("#%d: round trip %+v -> %+v", i, nm, got)
		}
		// Every strict prefix is malformed, never a panic.
		for n := range len(enc) {
			if _, err := decodeNodeMeta(enc[:n]); !errors.Is(err, errBadMeta) {
				t.Fatalf("#%d: prefix of %d/%d bytes decoded: %v", i, n, len(enc), err)
			}
		}
	}
}

func TestMetaFormat(t *testing.T) {
	nm := nodeMeta{bootID: 0x0102030405060708, meta: Meta{NodeID: 300, RaftAddr: "r", ClusterTag: "tag", ProtocolVersion: 2, State: "IDLE"}}
	enc := appendNodeMeta(nil, nm)
	want := []byte{
		0x01,                                           // format
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // boot ID, LE
		0xac, 0x02, // node ID 300
		0x02,      // protocol version
		0x01, 'r', // raft
		0x00, 0x00, 0x00, // rpc, pg, http
		0x03, 't', 'a', 'g', // cluster tag
		0x00,                     // product version
		0x04, 'I', 'D', 'L', 'E', // state
	}
	if string(enc) != string(want) {
		t.Fatalf("encoding\n got % x\nwant % x", enc, want)
	}
	// Trailing bytes (a later version's extra fields) are ignored.
	got, err := decodeNodeMeta(append(enc, 0x09, 0x09))
	if err != nil || got != nm {
		t.Fatalf("with trailing bytes: %+v, %v", got, err)
	}
	// Another format byte is refused.
	other := append([]byte{0x02}, enc[1:]...)
	if _, err := decodeNodeMeta(other); !errors.Is(err, errBadMeta) {
		t.Fatalf("format 2 decoded: %v", err)
	}
	// A protocol version beyond uint32.
	big := appendNodeMeta(nil, nm)
	big = append(big[:11], 0x80, 0x80, 0x80, 0x80, 0x10)
	if _, err := decodeNodeMeta(big); !errors.Is(err, errBadMeta) {
		t.Fatalf("protocol version overflow decoded: %v", err)
	}
	if _, err := decodeNodeMeta(nil); !errors.Is(err, errBadMeta) {
		t.Fatalf("empty decoded: %v", err)
	}
	if _, err := decodeNodeMeta(make([]byte, MaxMetaSize+1)); !errors.Is(err, errBadMeta) {
		t.Fatalf("oversized decoded: %v", err)
	}
}

func TestMetaValidate(t *testing.T) {
	m := Meta{NodeID: 1}
	// 1 format + 8 boot ID + 1 node ID + 1 protocol + 7 string lengths =
	// 18 bytes; a State of 128+ bytes takes a 2-byte length, so a 493-byte
	// State makes 18 - 1 + 2 + 493 = 512.
	m.State = strings.Repeat("s", 493)
	if err := m.Validate(); err != nil {
		t.Fatalf("512-byte meta refused: %v (size %d)", err, encodedMetaSize(m))
	}
	if n := len(appendNodeMeta(nil, nodeMeta{meta: m})); n != MaxMetaSize {
		t.Fatalf("encoded %d bytes, want %d", n, MaxMetaSize)
	}
	m.State += "s"
	if err := m.Validate(); !errors.Is(err, ErrMetaTooLarge) {
		t.Fatalf("513-byte meta: %v", err)
	}
}

func TestUvarintLen(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 16383, 16384, 1<<63 - 1, 1<<64 - 1} {
		if got, want := uvarintLen(v), len(binaryUvarint(v)); got != want {
			t.Errorf("uvarintLen(%d) = %d, want %d", v, got, want)
		}
	}
}
