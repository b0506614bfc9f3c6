package types

import (
	"math"
	"strconv"
	"strings"
)

// family groups types that compare with each other.
type family int

const (
	famOther family = iota
	famBool
	famNumber
	famString
	famTime
	famInterval
)

func familyOf(t OID) family {
	switch t {
	case Bool:
		return famBool
	case Int2, Int4, Int8, Oid, Regproc, Float4, Float8, Numeric:
		return famNumber
	case Text, Varchar, Name, BPChar, Char, Unknown, UnknownLit, JSON, JSONB, Bytea, UUID:
		return famString
	case Date, Timestamp, Timestamptz:
		return famTime
	case Interval:
		return famInterval
	}
	return famOther
}

// Compare returns -1, 0 or +1 ordering a before, equal to or after b. It is a
// total order: NULLs sort after every value (PostgreSQL's ASC default) and
// equal each other; numbers compare by value across int/float/numeric
// (NaN above +Infinity, as PostgreSQL); date, timestamp and timestamptz
// compare as instants (UTC); intervals compare by their 30-day-month,
// 24-hour-day span, as PostgreSQL's interval_cmp; strings compare byte-wise
// (collation "C"). Values of unrelated families order by family.
func Compare(a, b Datum) int {
	if a.Null || b.Null {
		switch {
		case a.Null && b.Null:
			return 0
		case a.Null:
			return 1
		}
		return -1
	}
	fa, fb := familyOf(a.T), familyOf(b.T)
	if fa != fb {
		return cmpInt(int64(fa), int64(fb))
	}
	switch fa {
	case famBool:
		return cmpInt(a.I, b.I)
	case famNumber:
		return compareNumbers(a, b)
	case famString:
		return strings.Compare(a.S, b.S)
	case famTime:
		return cmpInt(timeUs(a), timeUs(b))
	case famInterval:
		return compareIntervals(a, b)
	}
	if c := cmpInt(int64(a.T), int64(b.T)); c != 0 {
		return c
	}
	if c := cmpInt(a.I, b.I); c != 0 {
		return c
	}
	if c := compareFloats(a.F, b.F); c != 0 {
		return c
	}
	if c := strings.Compare(a.S, b.S); c != 0 {
		return c
	}
	return cmpInt(a.X, b.X)
}

// timeUs maps a date, timestamp or timestamptz to microseconds since the Unix epoch.
func timeUs(d Datum) int64 {
	if d.T != Date || d.I == InfinityUs || d.I == NegInfinityUs {
		return d.I
	}
	return d.I * usPerDay
}

func compareIntervals(a, b Datum) int {
	am, ad, aus := a.IntervalParts()
	bm, bd, bus := b.IntervalParts()
	norm := func(m, d int32, us int64) (int64, int64) {
		days := int64(m)*30 + int64(d)
		q, r := floorDiv(us, usPerDay)
		return days + q, r
	}
	x1, y1 := norm(am, ad, aus)
	x2, y2 := norm(bm, bd, bus)
	if c := cmpInt(x1, x2); c != 0 {
		return c
	}
	return cmpInt(y1, y2)
}

func isIntType(t OID) bool {
	switch t {
	case Int2, Int4, Int8, Oid, Regproc:
		return true
	}
	return false
}

// compareFloats orders floats with NaN above everything and equal to itself.
func compareFloats(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareNumbers(a, b Datum) int {
	ai, bi := isIntType(a.T), isIntType(b.T)
	switch {
	case ai && bi:
		return cmpInt(a.I, b.I)
	case a.T == Numeric && b.T == Numeric:
		return compareNumeric(a.S, b.S)
	case ai && b.T == Numeric:
		return compareNumeric(strconv.FormatInt(a.I, 10), b.S)
	case a.T == Numeric && bi:
		return compareNumeric(a.S, strconv.FormatInt(b.I, 10))
	case ai:
		return -compareFloatInt(b.F, a.I)
	case bi:
		return compareFloatInt(a.F, b.I)
	}
	return compareFloats(numberAsFloat(a), numberAsFloat(b))
}

// compareFloatInt compares a float with an int64 exactly.
func compareFloatInt(f float64, i int64) int {
	switch {
	case math.IsNaN(f):
		return 1
	case f >= 9.223372036854775807e18:
		return 1
	case f < -9.223372036854775807e18:
		return -1
	}
	t := math.Trunc(f)
	if c := cmpInt(int64(t), i); c != 0 {
		return c
	}
	return compareFloats(f, t)
}

func numberAsFloat(d Datum) float64 {
	switch d.T {
	case Float4, Float8:
		return d.F
	case Numeric:
		f, _ := strconv.ParseFloat(d.S, 64)
		if d.S == "NaN" {
			return math.NaN()
		}
		return f
	}
	return float64(d.I)
}
