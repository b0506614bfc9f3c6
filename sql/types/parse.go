package types

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// codeInvalidBinaryRep is SQLSTATE invalid_binary_representation.
const codeInvalidBinaryRep = "22P03"

// codeCharacterNotInRepertoire is SQLSTATE 22021 (invalid UTF-8).
const codeCharacterNotInRepertoire = "22021"

func errSyntax(t OID, s string) error {
	return pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type %s: %q", TypeName(t), s)
}

func errUTF8() error {
	return pgerror.New(codeCharacterNotInRepertoire, `invalid byte sequence for encoding "UTF8"`)
}

// ParseText runs PostgreSQL's input function for type t on s. Errors carry
// SQLSTATE 22P02 (invalid text representation), 22007 (invalid datetime
// format), 22008 (datetime out of range) or 22003 (numeric out of range).
// t == Unknown (or UnknownLit) yields Datum{T: Unknown, S: s}.
func ParseText(t OID, s string) (Datum, error) {
	switch t {
	case Unknown, UnknownLit:
		return Datum{T: Unknown, S: s}, nil
	case Bool:
		b, ok := parseBool(s)
		if !ok {
			return Datum{}, pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type boolean: %q", s)
		}
		return NewBool(b), nil
	case Int2, Int4, Int8:
		v, err := parseInt(t, s)
		if err != nil {
			return Datum{}, err
		}
		return NewInt(t, v), nil
	case Oid, Regproc:
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || v < math.MinInt32 || v > math.MaxUint32 {
			return Datum{}, errSyntax(Oid, s)
		}
		return NewInt(t, int64(uint32(v))), nil
	case Float4, Float8:
		f, err := parseFloat(t, s)
		if err != nil {
			return Datum{}, err
		}
		return Datum{T: t, F: f}, nil
	case Numeric:
		n, err := canonicalNumeric(s)
		if err != nil {
			return Datum{}, err
		}
		return Datum{T: Numeric, S: n}, nil
	case Text, Varchar, Name, BPChar, Char:
		if !utf8.ValidString(s) {
			return Datum{}, errUTF8()
		}
		if t == Name && len(s) > 63 {
			s = truncateUTF8(s, 63)
		}
		return Datum{T: t, S: s}, nil
	case JSON, JSONB:
		if !json.Valid([]byte(s)) {
			return Datum{}, pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type json")
		}
		return Datum{T: t, S: s}, nil
	case Bytea:
		b, err := parseByteaText(s)
		if err != nil {
			return Datum{}, err
		}
		return Datum{T: Bytea, S: b}, nil
	case UUID:
		u, ok := parseUUID(strings.TrimSpace(s))
		if !ok {
			return Datum{}, errSyntax(UUID, s)
		}
		return Datum{T: UUID, S: formatUUID(u)}, nil
	case Date:
		v, err := parseDateTime(dtDate, s)
		if err != nil {
			return Datum{}, err
		}
		return Datum{T: Date, I: v}, nil
	case Timestamp:
		v, err := parseDateTime(dtTimestamp, s)
		if err != nil {
			return Datum{}, err
		}
		return NewTimestamp(v), nil
	case Timestamptz:
		v, err := parseDateTime(dtTimestamptz, s)
		if err != nil {
			return Datum{}, err
		}
		return NewTimestamptz(v), nil
	case Interval:
		return parseInterval(s)
	case TextArray, NameArray, Int2Array, Int4Array, OidArray:
		return parseArray(t, s)
	}
	return Datum{}, pgerror.Newf(pgerror.CodeFeatureNotSupported, "input of type %s is not supported", TypeName(t))
}

func truncateUTF8(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// parseBool implements PostgreSQL's boolin: case-insensitive, surrounding
// whitespace ignored, any unambiguous prefix of true/false/yes/no, on/off
// (at least two letters), 1/0.
func parseBool(s string) (bool, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return false, false
	}
	prefixOf := func(word string, min int) bool {
		return len(s) >= min && len(s) <= len(word) && word[:len(s)] == s
	}
	switch {
	case prefixOf("true", 1), prefixOf("yes", 1), prefixOf("on", 2), s == "1":
		return true, true
	case prefixOf("false", 1), prefixOf("no", 1), prefixOf("off", 2), s == "0":
		return false, true
	}
	return false, false
}

func parseInt(t OID, s string) (int64, error) {
	ts := strings.TrimSpace(s)
	bits := 64
	switch t {
	case Int2:
		bits = 16
	case Int4:
		bits = 32
	}
	// Reject forms Go accepts but PostgreSQL 15 does not (underscores, 0x).
	valid := ts != ""
	for i := 0; i < len(ts) && valid; i++ {
		c := ts[i]
		valid = (c >= '0' && c <= '9') || (i == 0 && (c == '+' || c == '-') && len(ts) > 1)
	}
	if !valid {
		return 0, errSyntax(t, s)
	}
	v, err := strconv.ParseInt(ts, 10, bits)
	if err != nil {
		return 0, pgerror.Newf(pgerror.CodeNumericOutOfRange, "value %q is out of range for type %s", s, TypeName(t))
	}
	return v, nil
}

func parseFloat(t OID, s string) (float64, error) {
	ts := strings.TrimSpace(s)
	bits := 64
	if t == Float4 {
		bits = 32
	}
	if ts == "" || strings.ContainsAny(ts, "_xXpP") && !isInfOrNaNWord(ts) {
		return 0, errSyntax(t, s)
	}
	f, err := strconv.ParseFloat(ts, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, pgerror.Newf(pgerror.CodeNumericOutOfRange, "%q is out of range for type %s", ts, TypeName(t))
		}
		return 0, errSyntax(t, s)
	}
	if f == 0 && !isZeroLiteral(ts) {
		// Underflow: strtod reports ERANGE and PostgreSQL rejects it.
		return 0, pgerror.Newf(pgerror.CodeNumericOutOfRange, "%q is out of range for type %s", ts, TypeName(t))
	}
	return f, nil
}

func isInfOrNaNWord(s string) bool {
	s = strings.ToLower(strings.TrimLeft(s, "+-"))
	return s == "inf" || s == "infinity" || s == "nan"
}

// isZeroLiteral reports whether the mantissa of a float literal is all zeros.
func isZeroLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 'e' || c == 'E' {
			break
		}
		if c >= '1' && c <= '9' {
			return false
		}
	}
	return true
}

// parseByteaText decodes bytea input: "\x" hex format or the escape format.
func parseByteaText(s string) (string, error) {
	if strings.HasPrefix(s, `\x`) || strings.HasPrefix(s, `\X`) {
		h := s[2:]
		out := make([]byte, 0, len(h)/2)
		for i := 0; i < len(h); {
			if h[i] == ' ' || h[i] == '\t' || h[i] == '\n' || h[i] == '\r' {
				i++
				continue
			}
			if i+1 >= len(h) {
				return "", pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid hexadecimal data: odd number of digits")
			}
			hi, ok1 := unhex(h[i])
			lo, ok2 := unhex(h[i+1])
			if !ok1 || !ok2 {
				return "", pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid hexadecimal digit: %q", h[i:i+2])
			}
			out = append(out, hi<<4|lo)
			i += 2
		}
		return string(out), nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '\\' {
			out = append(out, '\\')
			i += 2
			continue
		}
		if i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && s[i+2] >= '0' && s[i+2] <= '7' && s[i+3] >= '0' && s[i+3] <= '7' {
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 4
			continue
		}
		return "", pgerror.New(pgerror.CodeInvalidTextRep, "invalid input syntax for type bytea")
	}
	return string(out), nil
}

// ParseBinary runs PostgreSQL's receive function for type t on b (the
// payload of a binary-format parameter or COPY field). For integer types it
// accepts any of the 2, 4 and 8 byte widths and range-checks the value.
func ParseBinary(t OID, b []byte) (Datum, error) {
	switch t {
	case Unknown, UnknownLit:
		return Datum{T: Unknown, S: string(b)}, nil
	case Bool:
		if len(b) != 1 {
			return Datum{}, errBinaryFormat("boolean")
		}
		return NewBool(b[0] != 0), nil
	case Int2, Int4, Int8, Oid, Regproc:
		var v int64
		switch len(b) {
		case 2:
			v = int64(int16(binary.BigEndian.Uint16(b)))
		case 4:
			if t == Oid || t == Regproc {
				v = int64(binary.BigEndian.Uint32(b))
			} else {
				v = int64(int32(binary.BigEndian.Uint32(b)))
			}
		case 8:
			v = int64(binary.BigEndian.Uint64(b))
		default:
			return Datum{}, errBinaryFormat(TypeName(t))
		}
		if err := checkIntRange(t, v); err != nil {
			return Datum{}, err
		}
		return NewInt(t, v), nil
	case Float4, Float8:
		var f float64
		switch len(b) {
		case 4:
			f = float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
		case 8:
			f = math.Float64frombits(binary.BigEndian.Uint64(b))
			if t == Float4 {
				f = float64(float32(f))
			}
		default:
			return Datum{}, errBinaryFormat(TypeName(t))
		}
		return Datum{T: t, F: f}, nil
	case Numeric:
		s, err := decodeNumericBinary(b)
		if err != nil {
			return Datum{}, err
		}
		return Datum{T: Numeric, S: s}, nil
	case Text, Varchar, Name, BPChar, Char, JSON:
		if !utf8.Valid(b) {
			return Datum{}, errUTF8()
		}
		if t == JSON && !json.Valid(b) {
			return Datum{}, pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type json")
		}
		if t == Name && len(b) > 63 {
			return Datum{T: t, S: truncateUTF8(string(b), 63)}, nil
		}
		return Datum{T: t, S: string(b)}, nil
	case JSONB:
		if len(b) < 1 || b[0] != 1 {
			return Datum{}, pgerror.New(codeInvalidBinaryRep, "unsupported jsonb version number")
		}
		if !json.Valid(b[1:]) {
			return Datum{}, pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type json")
		}
		return Datum{T: JSONB, S: string(b[1:])}, nil
	case Bytea:
		return Datum{T: Bytea, S: string(b)}, nil
	case UUID:
		if len(b) != 16 {
			return Datum{}, errBinaryFormat("uuid")
		}
		var u [16]byte
		copy(u[:], b)
		return Datum{T: UUID, S: formatUUID(u)}, nil
	case Date:
		if len(b) != 4 {
			return Datum{}, errBinaryFormat("date")
		}
		v := int32(binary.BigEndian.Uint32(b))
		switch v {
		case math.MaxInt32:
			return Datum{T: Date, I: InfinityUs}, nil
		case math.MinInt32:
			return Datum{T: Date, I: NegInfinityUs}, nil
		}
		days := int64(v) + pgEpochDays
		if days < minDateDays || days > maxDateDays {
			return Datum{}, pgerror.New(pgerror.CodeDatetimeFieldOverflow, "date out of range")
		}
		return Datum{T: Date, I: days}, nil
	case Timestamp, Timestamptz:
		if len(b) != 8 {
			return Datum{}, errBinaryFormat(TypeName(t))
		}
		v := int64(binary.BigEndian.Uint64(b))
		if v != InfinityUs && v != NegInfinityUs {
			if v > maxTimestampUs-pgEpochUs || v < minTimestampUs-pgEpochUs {
				return Datum{}, pgerror.New(pgerror.CodeDatetimeFieldOverflow, "timestamp out of range")
			}
			v += pgEpochUs
		}
		return Datum{T: t, I: v}, nil
	case Interval:
		if len(b) != 16 {
			return Datum{}, errBinaryFormat("interval")
		}
		us := int64(binary.BigEndian.Uint64(b))
		days := int32(binary.BigEndian.Uint32(b[8:]))
		months := int32(binary.BigEndian.Uint32(b[12:]))
		return NewInterval(months, days, us), nil
	case TextArray, NameArray, Int2Array, Int4Array, OidArray:
		return decodeArrayBinary(t, b)
	}
	return Datum{}, pgerror.Newf(pgerror.CodeFeatureNotSupported, "binary input of type %s is not supported", TypeName(t))
}

func checkIntRange(t OID, v int64) error {
	switch t {
	case Int2:
		if v < math.MinInt16 || v > math.MaxInt16 {
			return pgerror.New(pgerror.CodeNumericOutOfRange, "smallint out of range")
		}
	case Int4:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return pgerror.New(pgerror.CodeNumericOutOfRange, "integer out of range")
		}
	case Oid, Regproc:
		if v < 0 || v > math.MaxUint32 {
			return pgerror.New(pgerror.CodeNumericOutOfRange, "OID out of range")
		}
	}
	return nil
}
