package raftsm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Data-shard Raft entry format (every entry proposed to a data shard):
//
//	+--------+-------------------------------------------+
//	| type:1 | payload                                   |
//	+--------+-------------------------------------------+
//	 0x01     store WriteBatch encoding (Storage.AppendWriteBatch)
//	 0x02     table ID, uint32 little endian (DeleteTable)
//
// Type bytes are part of the on-disk format (the Raft log): values are only
// ever added.
const (
	cmdWriteBatch  byte = 0x01
	cmdDeleteTable byte = 0x02
)

// Result.Value codes set by the data state machine. resultBadCommand and
// resultRejected are business errors and Result.Data holds their message.
// resultOK is deliberately not 0: a zero Result is what Dragonboat hands
// back for a proposal our Update never saw, and that must not pass for an
// applied write (see dataResultError).
const (
	resultNone       uint64 = 0
	resultBadCommand uint64 = 1 // the entry could not be decoded
	resultRejected   uint64 = 2 // the store refused the batch
	resultOK         uint64 = 0x4f4b
)

// errBadCommand is returned by decodeDataCommand for malformed entries.
var errBadCommand = errors.New("longboat/raftsm: malformed data command")

// appendDeleteTable appends a DeleteTable command to dst.
func appendDeleteTable(dst []byte, tableID uint32) []byte {
	dst = append(dst, cmdDeleteTable)
	return binary.LittleEndian.AppendUint32(dst, tableID)
}

// decodeDataCommand splits an entry into its type and payload. For
// cmdDeleteTable it also returns the table ID.
func decodeDataCommand(src []byte) (typ byte, payload []byte, tableID uint32, err error) {
	if len(src) == 0 {
		return 0, nil, 0, fmt.Errorf("%w: empty entry", errBadCommand)
	}
	typ, payload = src[0], src[1:]
	switch typ {
	case cmdWriteBatch:
		return typ, payload, 0, nil
	case cmdDeleteTable:
		if len(payload) != 4 {
			return 0, nil, 0, fmt.Errorf("%w: delete-table payload of %d bytes, want 4", errBadCommand, len(payload))
		}
		return typ, nil, binary.LittleEndian.Uint32(payload), nil
	default:
		return 0, nil, 0, fmt.Errorf("%w: unknown type 0x%02x", errBadCommand, typ)
	}
}
