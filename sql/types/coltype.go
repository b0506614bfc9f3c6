package types

import "github.com/longboatdb/longboat/shard"

// OfColType maps a storage column type to its PostgreSQL type (Unknown for
// an invalid type). It is the one place that mapping lives.
func OfColType(t shard.ColType) OID {
	switch t {
	case shard.TypeTimestamptz:
		return Timestamptz
	case shard.TypeTimestamp:
		return Timestamp
	case shard.TypeFloat8:
		return Float8
	case shard.TypeFloat4:
		return Float4
	case shard.TypeInt8:
		return Int8
	case shard.TypeInt4:
		return Int4
	case shard.TypeInt2:
		return Int2
	case shard.TypeBool:
		return Bool
	case shard.TypeText:
		return Text
	case shard.TypeVarchar:
		return Varchar
	case shard.TypeNumeric:
		return Numeric
	case shard.TypeDate:
		return Date
	}
	return Unknown
}
