package membership

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Meta is what a node gossips about itself: its identity, where its other
// services listen, which cluster it belongs to and its lifecycle state.
// It travels as memberlist node metadata (see the format in doc.go) and so
// must encode to at most MaxMetaSize bytes.
type Meta struct {
	// NodeID is the node's permanent ID (from node.json). Required unless
	// Config.NodeName is set; it cannot change while running.
	NodeID uint64
	// RaftAddr, RPCAddr, PGAddr and HTTPAddr are the "host:port" addresses
	// of the node's Raft transport, inter-node gRPC, PostgreSQL and HTTP
	// listeners. Empty means "not serving it".
	RaftAddr string
	RPCAddr  string
	PGAddr   string
	HTTPAddr string
	// ClusterTag identifies the cluster the node belongs to; it is empty
	// until the node has joined (or initialised) a cluster. Two nodes that
	// both have a tag and whose tags differ refuse each other.
	ClusterTag string
	// ProductVersion is the Longboat release ("v0.3.1").
	ProductVersion string
	// ProtocolVersion is the inter-node protocol version the node speaks.
	ProtocolVersion uint32
	// State is the node's lifecycle state (INITIALIZING, JOINING, IDLE,
	// HEALTHY, ...). Membership carries it but does not interpret it.
	State string
}

// MaxMetaSize is the largest encoded Meta that memberlist accepts
// (memberlist.MetaMaxSize).
const MaxMetaSize = 512

// metaFormatV1 is the leading format byte of encoded node metadata. It only
// moves forward; a format an older node cannot skip gets a new byte, and the
// older node then refuses the peer (see doc.go).
const metaFormatV1 = 1

// bootIDSize is the width of the boot ID that precedes the Meta fields.
const bootIDSize = 8

var (
	// ErrMetaTooLarge is returned when a Meta encodes to more than
	// MaxMetaSize bytes.
	ErrMetaTooLarge = errors.New("longboat/membership: node meta too large")
	// errBadMeta reports metadata bytes that do not decode.
	errBadMeta = errors.New("longboat/membership: malformed node meta")
)

// Validate reports whether m can be gossiped: it must encode to at most
// MaxMetaSize bytes.
func (m Meta) Validate() error {
	if n := encodedMetaSize(m); n > MaxMetaSize {
		return fmt.Errorf("node meta encodes to %d bytes, limit %d: %w", n, MaxMetaSize, ErrMetaTooLarge)
	}
	return nil
}

// nodeMeta is the decoded form of the gossiped bytes: the public Meta plus
// the boot ID, a random number drawn by each Start, which tells one run of
// a node from the next (leave intents name the run they belong to).
type nodeMeta struct {
	bootID uint64
	meta   Meta
}

func (m *Meta) strings() [7]*string {
	return [7]*string{&m.RaftAddr, &m.RPCAddr, &m.PGAddr, &m.HTTPAddr, &m.ClusterTag, &m.ProductVersion, &m.State}
}

func encodedMetaSize(m Meta) int {
	n := 1 + bootIDSize + uvarintLen(m.NodeID) + uvarintLen(uint64(m.ProtocolVersion))
	for _, s := range m.strings() {
		n += uvarintLen(uint64(len(*s))) + len(*s)
	}
	return n
}

// appendNodeMeta appends the encoding of nm to dst. It does not check the
// size limit; callers validate first.
func appendNodeMeta(dst []byte, nm nodeMeta) []byte {
	dst = append(dst, metaFormatV1)
	dst = binary.LittleEndian.AppendUint64(dst, nm.bootID)
	dst = binary.AppendUvarint(dst, nm.meta.NodeID)
	dst = binary.AppendUvarint(dst, uint64(nm.meta.ProtocolVersion))
	for _, s := range nm.meta.strings() {
		dst = appendString(dst, *s)
	}
	return dst
}

// decodeNodeMeta decodes gossiped node metadata. Bytes after the known
// fields are ignored (room for additive fields); any other deviation is an
// error wrapping errBadMeta. It never keeps a reference to src.
func decodeNodeMeta(src []byte) (nodeMeta, error) {
	var nm nodeMeta
	if len(src) == 0 {
		return nm, fmt.Errorf("empty: %w", errBadMeta)
	}
	if len(src) > MaxMetaSize {
		return nm, fmt.Errorf("%d bytes, limit %d: %w", len(src), MaxMetaSize, errBadMeta)
	}
	if src[0] != metaFormatV1 {
		return nm, fmt.Errorf("unsupported format byte %d (this node reads %d): %w", src[0], metaFormatV1, errBadMeta)
	}
	src = src[1:]
	if len(src) < bootIDSize {
		return nm, fmt.Errorf("truncated boot ID: %w", errBadMeta)
	}
	nm.bootID = binary.LittleEndian.Uint64(src)
	src = src[bootIDSize:]
	var err error
	if nm.meta.NodeID, src, err = decodeUvarint(src, "node ID", errBadMeta); err != nil {
		return nm, err
	}
	var pv uint64
	if pv, src, err = decodeUvarint(src, "protocol version", errBadMeta); err != nil {
		return nm, err
	}
	if pv > math.MaxUint32 {
		return nm, fmt.Errorf("protocol version %d overflows uint32: %w", pv, errBadMeta)
	}
	nm.meta.ProtocolVersion = uint32(pv)
	names := [7]string{"raft address", "rpc address", "pg address", "http address", "cluster tag", "product version", "state"}
	for i, s := range nm.meta.strings() {
		if *s, src, err = decodeString(src, names[i], errBadMeta); err != nil {
			return nm, err
		}
	}
	return nm, nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decodeUvarint decodes a varint; a failure wraps bad.
func decodeUvarint(src []byte, what string, bad error) (uint64, []byte, error) {
	v, n := binary.Uvarint(src)
	if n <= 0 {
		return 0, src, fmt.Errorf("cannot decode %s varint: %w", what, bad)
	}
	return v, src[n:], nil
}

// decodeString decodes a length-prefixed string; a failure wraps bad.
func decodeString(src []byte, what string, bad error) (string, []byte, error) {
	n, rest, err := decodeUvarint(src, what+" length", bad)
	if err != nil {
		return "", src, err
	}
	if n > uint64(len(rest)) {
		return "", src, fmt.Errorf("%s length %d exceeds the %d bytes left: %w", what, n, len(rest), bad)
	}
	return string(rest[:n]), rest[n:], nil
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
