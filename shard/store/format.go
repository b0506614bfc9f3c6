package store

import (
	"encoding/binary"
	"errors"
)

// This file holds every constant that changes bytes on disk or on the wire.
// Anything here is frozen once written: new values may be added, old ones
// never change meaning. Tuning knobs live in Options (db.go) instead.

// FormatVersion is the version of the on-disk layout (keys and blocks). It is
// stored under the DB meta key and Open refuses a store written by a newer
// version.
const FormatVersion uint64 = 1

// WriteBatchVersion is the first byte of every encoded WriteBatch.
const WriteBatchVersion byte = 1

// SeriesBatchVersion is the first byte of every encoded SeriesBatch (the
// inter-node scan stream, batchcodec.go).
const SeriesBatchVersion byte = 1

// SnapshotVersion is the version byte after the snapshot stream magic.
const SnapshotVersion byte = 1

// snapshotMagic opens every snapshot stream.
const snapshotMagic = "LBSS"

// Keyspace tags: the first byte of every key.
const (
	ksDBMeta byte = 0x00 // DB-wide metadata
	ksShard  byte = 0x01 // ksShard | shardID u64 BE | ...
)

// DB meta keys (after ksDBMeta).
const (
	dbMetaFormat byte = 0x01 // value: u64 BE FormatVersion
)

// Sub-spaces of a shard, the byte after the 9-byte shard prefix.
const (
	subMeta   byte = 0x01 // | metaID(1)                       → u64 BE
	subSeries byte = 0x02 // | table u32 | series u64          → encoded tag tuple
	subBlock  byte = 0x03 // | table u32 | series u64 | colKind | colID u16 | minTime u64 (sign flipped) | seq u64 → block
)

// Shard meta IDs (after subMeta).
const (
	metaApplied    byte = 0x01 // durable applied Raft index
	metaNextSeries byte = 0x02 // next series ID to assign
	metaNextSeq    byte = 0x03 // next block sequence number
)

// Column kinds in block keys. The time column sorts before the fields.
const (
	colKindTime  byte = 0x00
	colKindField byte = 0x01
)

// Codec encodings: the first byte of every value stream.
const (
	encTimeConstDelta byte = 0x01 // n, first, delta
	encTimeDoD        byte = 0x02 // n, first, firstDelta, width, packed zigzag(dod - minDod)...

	encIntConst byte = 0x11 // n, v
	encIntFOR   byte = 0x12 // n, min, width, packed v-min
	encIntDelta byte = 0x13 // n, first, minDelta, width, packed delta-minDelta

	encFloatConst   byte = 0x21 // n, 8 bytes
	encFloatInt     byte = 0x22 // n, then an int stream of the values as int64
	encFloatGorilla byte = 0x23 // n, Gorilla XOR bit stream

	encBoolBitmap byte = 0x31 // n, bitmap

	encStrDictRLE byte = 0x41 // n, dict, runs
)

// Block header flags.
const (
	blockFlagNulls byte = 1 << 0 // a NULL bitmap follows the header
	blockFlagStats byte = 1 << 1 // min/max/sum/first/last follow
	// blockFlagIntStats: the float stats are integers, stored as varints.
	blockFlagIntStats byte = 1 << 2
)

// blockTypeTime is the type byte of a time-column block (no ColType is 0
// except TypeInvalid, which is never stored).
const blockTypeTime byte = 0

// Limits validated on decode (never panic or over-allocate on garbage).
const (
	maxBlockRows     = 1 << 16 // rows in one stored block
	maxDecodeValues  = 1 << 20 // values in one codec stream
	maxWriteRows     = 1 << 20 // rows of one table in one WriteBatch (MaxWriteBatchRows)
	maxStringLen     = 1 << 24
	shardPrefixLen   = 9
	blockKeyLen      = shardPrefixLen + 1 + 4 + 8 + 1 + 2 + 8 + 8
	seriesKeyLen     = shardPrefixLen + 1 + 4 + 8
	maxSnapshotKey   = 1 << 16
	maxSnapshotValue = 1 << 24
)

var errCorrupt = errors.New("longboat/store: corrupt data")

func shardPrefix(dst []byte, id uint64) []byte {
	dst = append(dst, ksShard)
	return binary.BigEndian.AppendUint64(dst, id)
}

// shardBounds returns [start, end) of every key of the shard.
func shardBounds(id uint64) (start, end []byte) {
	start = shardPrefix(nil, id)
	end = prefixEnd(start)
	return start, end
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p was all 0xff: no upper bound
}

func metaKey(dst []byte, shardID uint64, id byte) []byte {
	dst = shardPrefix(dst, shardID)
	return append(dst, subMeta, id)
}

func seriesKey(dst []byte, shardID uint64, table uint32, series uint64) []byte {
	dst = shardPrefix(dst, shardID)
	dst = append(dst, subSeries)
	dst = binary.BigEndian.AppendUint32(dst, table)
	return binary.BigEndian.AppendUint64(dst, series)
}

func seriesTablePrefix(dst []byte, shardID uint64, table uint32) []byte {
	dst = shardPrefix(dst, shardID)
	dst = append(dst, subSeries)
	return binary.BigEndian.AppendUint32(dst, table)
}

func blockTablePrefix(dst []byte, shardID uint64, table uint32) []byte {
	dst = shardPrefix(dst, shardID)
	dst = append(dst, subBlock)
	return binary.BigEndian.AppendUint32(dst, table)
}

// blockColPrefix is the prefix of every block of one column of one series.
func blockColPrefix(dst []byte, shardID uint64, table uint32, series uint64, kind byte, col uint16) []byte {
	dst = blockTablePrefix(dst, shardID, table)
	dst = binary.BigEndian.AppendUint64(dst, series)
	dst = append(dst, kind)
	return binary.BigEndian.AppendUint16(dst, col)
}

func blockKey(dst []byte, shardID uint64, table uint32, series uint64, kind byte, col uint16, minTime int64, seq uint64) []byte {
	dst = blockColPrefix(dst, shardID, table, series, kind, col)
	dst = binary.BigEndian.AppendUint64(dst, uint64(minTime)^(1<<63))
	return binary.BigEndian.AppendUint64(dst, seq)
}

// parseBlockKeySuffix returns minTime and seq of a block key.
func parseBlockKeySuffix(k []byte) (minTime int64, seq uint64, ok bool) {
	if len(k) != blockKeyLen {
		return 0, 0, false
	}
	minTime = int64(binary.BigEndian.Uint64(k[blockKeyLen-16:]) ^ (1 << 63))
	seq = binary.BigEndian.Uint64(k[blockKeyLen-8:])
	return minTime, seq, true
}

// appendTags encodes a tag tuple (series index value).
func appendTags(dst []byte, tags []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(tags)))
	for _, t := range tags {
		dst = binary.AppendUvarint(dst, uint64(len(t)))
		dst = append(dst, t...)
	}
	return dst
}

func decodeTags(src []byte, dst []string) ([]string, []byte, error) {
	n, src, err := readUvarint(src)
	if err != nil {
		return dst, nil, err
	}
	if n > uint64(len(src)) {
		return dst, nil, errCorrupt
	}
	for range n {
		var l uint64
		if l, src, err = readUvarint(src); err != nil {
			return dst, nil, err
		}
		if l > uint64(len(src)) {
			return dst, nil, errCorrupt
		}
		// Reuse the string already in dst's spare capacity when equal
		// (DecodeWriteBatch decoding the same series again): no allocation.
		if i := len(dst); i < cap(dst) && dst[:i+1][i] == string(src[:l]) {
			dst = dst[:i+1]
		} else {
			dst = append(dst, string(src[:l]))
		}
		src = src[l:]
	}
	return dst, src, nil
}

// seriesMapKey is the in-memory key of a series: table + length-prefixed tags.
func seriesMapKey(dst []byte, table uint32, tags []string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, table)
	return appendTags(dst, tags)
}

func readUvarint(src []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(src)
	if n <= 0 {
		return 0, nil, errCorrupt
	}
	return v, src[n:], nil
}

func readVarint(src []byte) (int64, []byte, error) {
	v, n := binary.Varint(src)
	if n <= 0 {
		return 0, nil, errCorrupt
	}
	return v, src[n:], nil
}

func readByte(src []byte) (byte, []byte, error) {
	if len(src) == 0 {
		return 0, nil, errCorrupt
	}
	return src[0], src[1:], nil
}

// readCount reads a value count and bounds it.
func readCount(src []byte, limit uint64) (int, []byte, error) {
	n, rest, err := readUvarint(src)
	if err != nil {
		return 0, nil, err
	}
	if n > limit {
		return 0, nil, errCorrupt
	}
	return int(n), rest, nil
}

// MaxSeriesBatchRows is the largest number of points of one encoded
// SeriesBatch that DecodeSeriesBatch accepts; split longer runs first.
const MaxSeriesBatchRows = maxDecodeValues

// MaxSeriesBatchValues bounds points × fields of one encoded SeriesBatch, so
// that a few bytes of constant streams cannot decode into gigabytes.
const MaxSeriesBatchValues = 1 << 22

// MaxWriteBatchRows is the largest number of rows of one table in one
// WriteBatch; larger batches are rejected (split them before proposing).
const MaxWriteBatchRows = maxWriteRows
