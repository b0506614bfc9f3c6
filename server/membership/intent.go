package membership

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A leave intent says "the run bootID of node name is leaving on purpose".
// memberlist does not tell its delegates whether a node that went away left
// gracefully or failed, so Leave broadcasts an intent before memberlist's
// own leave message, and every node also carries the intents it knows in
// its push/pull state. A node that went away is Left if an intent for its
// current run is known, Dead otherwise; an intent arriving after the node
// was declared Dead upgrades it to Left. Formats are in doc.go.
type leaveIntent struct {
	name   string
	bootID uint64
}

const (
	// msgFormatV1 leads every user message and push/pull state.
	msgFormatV1 = 1
	// msgLeaveIntent is the type byte of a leave-intent broadcast.
	msgLeaveIntent = 1
	// maxIntentName bounds a node name inside a message (memberlist names
	// are bounded by the packet size anyway).
	maxIntentName = 512
	// maxStateIntents bounds the intents decoded from one push/pull state.
	maxStateIntents = 4096
)

var errBadMessage = errors.New("longboat/membership: malformed gossip message")

func appendIntent(dst []byte, in leaveIntent) []byte {
	dst = appendString(dst, in.name)
	return binary.LittleEndian.AppendUint64(dst, in.bootID)
}

func decodeIntent(src []byte) (leaveIntent, []byte, error) {
	var in leaveIntent
	n, rest, err := decodeUvarint(src, "intent name length", errBadMessage)
	if err != nil {
		return in, src, err
	}
	if n == 0 || n > maxIntentName || n > uint64(len(rest)) {
		return in, src, fmt.Errorf("intent name length %d (limit %d, %d bytes left): %w", n, maxIntentName, len(rest), errBadMessage)
	}
	in.name = string(rest[:n])
	rest = rest[n:]
	if len(rest) < bootIDSize {
		return in, src, fmt.Errorf("truncated intent boot ID: %w", errBadMessage)
	}
	in.bootID = binary.LittleEndian.Uint64(rest)
	return in, rest[bootIDSize:], nil
}

// appendLeaveMsg encodes a leave-intent broadcast.
func appendLeaveMsg(dst []byte, in leaveIntent) []byte {
	dst = append(dst, msgFormatV1, msgLeaveIntent)
	return appendIntent(dst, in)
}

// decodeLeaveMsg decodes a user message received through gossip.
func decodeLeaveMsg(src []byte) (leaveIntent, error) {
	if len(src) < 2 {
		return leaveIntent{}, fmt.Errorf("message of %d bytes: %w", len(src), errBadMessage)
	}
	if src[0] != msgFormatV1 || src[1] != msgLeaveIntent {
		return leaveIntent{}, fmt.Errorf("unknown message format %d type %d: %w", src[0], src[1], errBadMessage)
	}
	in, rest, err := decodeIntent(src[2:])
	if err != nil {
		return leaveIntent{}, err
	}
	if len(rest) != 0 {
		return leaveIntent{}, fmt.Errorf("%d trailing bytes: %w", len(rest), errBadMessage)
	}
	return in, nil
}

// appendState encodes the intents exchanged in a push/pull.
func appendState(dst []byte, ins []leaveIntent) []byte {
	dst = append(dst, msgFormatV1)
	dst = binary.AppendUvarint(dst, uint64(len(ins)))
	for _, in := range ins {
		dst = appendIntent(dst, in)
	}
	return dst
}

// decodeState decodes a peer's push/pull state.
func decodeState(src []byte) ([]leaveIntent, error) {
	if len(src) == 0 || src[0] != msgFormatV1 {
		return nil, fmt.Errorf("unknown push/pull state format: %w", errBadMessage)
	}
	n, rest, err := decodeUvarint(src[1:], "intent count", errBadMessage)
	if err != nil {
		return nil, err
	}
	if n > maxStateIntents {
		return nil, fmt.Errorf("%d intents, limit %d: %w", n, maxStateIntents, errBadMessage)
	}
	// Each intent takes at least 1+1+8 bytes; do not trust n for the
	// allocation beyond what the bytes can hold.
	ins := make([]leaveIntent, 0, min(n, uint64(len(rest)/10)))
	for range n {
		var in leaveIntent
		if in, rest, err = decodeIntent(rest); err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d trailing bytes: %w", len(rest), errBadMessage)
	}
	return ins, nil
}
