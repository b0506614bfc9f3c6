package types

import (
	"encoding/binary"
	"math"
	"strconv"
)

const hexDigits = "0123456789abcdef"

// FormatText appends the PostgreSQL 15 text output of d (DateStyle ISO, MDY;
// TimeZone UTC; IntervalStyle postgres; extra_float_digits 1) to dst. A NULL
// datum appends nothing: callers encode NULL themselves (length -1 on the
// wire).
func FormatText(dst []byte, d Datum) []byte {
	if d.Null {
		return dst
	}
	switch d.T {
	case Bool:
		if d.I != 0 {
			return append(dst, 't')
		}
		return append(dst, 'f')
	case Int2, Int4, Int8, Oid, Regproc:
		return strconv.AppendInt(dst, d.I, 10)
	case Float8:
		return appendFloat(dst, d.F, 64)
	case Float4:
		return appendFloat(dst, d.F, 32)
	case Date:
		return appendDate(dst, d.I)
	case Timestamp:
		return appendTimestamp(dst, d.I, false)
	case Timestamptz:
		return appendTimestamp(dst, d.I, true)
	case Interval:
		m, dd, us := d.IntervalParts()
		return appendInterval(dst, m, dd, us)
	case Bytea:
		dst = append(dst, '\\', 'x')
		for i := 0; i < len(d.S); i++ {
			dst = append(dst, hexDigits[d.S[i]>>4], hexDigits[d.S[i]&0xf])
		}
		return dst
	}
	// numeric, text, varchar, name, bpchar, char, json, jsonb, uuid, unknown.
	return append(dst, d.S...)
}

// appendFloat formats like PostgreSQL's float8out/float4out with
// extra_float_digits > 0: the shortest string that round-trips, in fixed
// notation when the decimal exponent is in [-4, 15) (float4: [-4, 6)), else
// exponential with at least two exponent digits ("1e+20", "1.5e-07").
func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	// Decimal exponent of the shortest representation.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bits)
	exp := 0
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			x, _ := strconv.Atoi(string(e[i+1:]))
			exp = x
			break
		}
	}
	limit := 15
	if bits == 32 {
		limit = 6
	}
	if exp >= -4 && exp < limit {
		return strconv.AppendFloat(dst, f, 'f', -1, bits)
	}
	return append(dst, e...)
}

// FormatBinary appends the PostgreSQL binary (send) representation of d to
// dst. A NULL datum appends nothing.
//
//	bool         1 byte 0/1
//	int2/4/8     big-endian two's complement
//	oid          uint32
//	float4/8     IEEE 754 big-endian
//	date         int32 days since 2000-01-01 (±infinity: MaxInt32/MinInt32)
//	timestamp(tz) int64 µs since 2000-01-01 00:00:00 (±infinity: Max/MinInt64)
//	interval     int64 µs, int32 days, int32 months
//	numeric      see numeric.go
//	uuid         16 bytes
//	jsonb        version byte 1 + JSON text
//	arrays       PostgreSQL array_send (see array.go)
//	text & co.   raw bytes
func FormatBinary(dst []byte, d Datum) []byte {
	if d.Null {
		return dst
	}
	switch d.T {
	case Bool:
		if d.I != 0 {
			return append(dst, 1)
		}
		return append(dst, 0)
	case Int2:
		return binary.BigEndian.AppendUint16(dst, uint16(d.I))
	case Int4, Oid, Regproc:
		return binary.BigEndian.AppendUint32(dst, uint32(d.I))
	case Int8:
		return binary.BigEndian.AppendUint64(dst, uint64(d.I))
	case Float4:
		return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(d.F)))
	case Float8:
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(d.F))
	case Date:
		var v int32
		switch {
		case d.I == InfinityUs:
			v = math.MaxInt32
		case d.I == NegInfinityUs:
			v = math.MinInt32
		default:
			v = int32(d.I - pgEpochDays)
		}
		return binary.BigEndian.AppendUint32(dst, uint32(v))
	case Timestamp, Timestamptz:
		v := d.I
		if v != InfinityUs && v != NegInfinityUs {
			v -= pgEpochUs
		}
		return binary.BigEndian.AppendUint64(dst, uint64(v))
	case Interval:
		m, dd, us := d.IntervalParts()
		dst = binary.BigEndian.AppendUint64(dst, uint64(us))
		dst = binary.BigEndian.AppendUint32(dst, uint32(dd))
		return binary.BigEndian.AppendUint32(dst, uint32(m))
	case Numeric:
		return appendNumericBinary(dst, d.S)
	case UUID:
		u, ok := parseUUID(d.S)
		if !ok {
			return append(dst, make([]byte, 16)...)
		}
		return append(dst, u[:]...)
	case JSONB:
		dst = append(dst, 1)
		return append(dst, d.S...)
	case TextArray, NameArray, Int2Array, Int4Array, OidArray:
		return appendArrayBinary(dst, d.T, d.S)
	}
	return append(dst, d.S...)
}

// parseUUID accepts PostgreSQL's uuid input forms: 32 hex digits, optionally
// with hyphens after any group of four digits, optionally in braces.
func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' {
		s = s[1 : len(s)-1]
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' {
			if n == 0 || n%4 != 0 || i == len(s)-1 || s[i+1] == '-' {
				return u, false
			}
			continue
		}
		v, ok := unhex(c)
		if !ok || n >= 32 {
			return u, false
		}
		if n%2 == 0 {
			u[n/2] = v << 4
		} else {
			u[n/2] |= v
		}
		n++
	}
	return u, n == 32
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	j := 0
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[x>>4], hexDigits[x&0xf]
		j += 2
	}
	return string(b[:])
}
