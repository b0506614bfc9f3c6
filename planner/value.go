package planner

import (
	"math"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// Type families used for coercion and arithmetic.
func isIntType(t types.OID) bool {
	return t == types.Int2 || t == types.Int4 || t == types.Int8 || t == types.Oid
}
func isFloatType(t types.OID) bool { return t == types.Float4 || t == types.Float8 }
func isNumberType(t types.OID) bool {
	return isIntType(t) || isFloatType(t) || t == types.Numeric
}
func isStringType(t types.OID) bool {
	switch t {
	case types.Text, types.Varchar, types.Name, types.BPChar, types.Char, types.UnknownLit:
		return true
	}
	return false
}
func isTimeType(t types.OID) bool {
	return t == types.Timestamptz || t == types.Timestamp || t == types.Date
}

// numRank orders the numeric types for implicit promotion.
func numRank(t types.OID) int {
	switch t {
	case types.Int2:
		return 1
	case types.Int4, types.Oid:
		return 2
	case types.Int8:
		return 3
	case types.Numeric:
		return 4
	case types.Float4:
		return 5
	case types.Float8:
		return 6
	}
	return 0
}

func floatOf(d types.Datum) float64 {
	switch {
	case isFloatType(d.T):
		return d.F
	case d.T == types.Numeric:
		x, err := parseDec(d.S)
		if err != nil {
			return math.NaN()
		}
		return x.Float()
	}
	return float64(d.I)
}

func decOf(d types.Datum) (dec, error) {
	switch {
	case d.T == types.Numeric:
		return parseDec(d.S)
	case isFloatType(d.T):
		return decFromFloat(d.F)
	}
	return decFromInt(d.I), nil
}

func numericDatum(x *dec) types.Datum { return types.Datum{T: types.Numeric, S: x.String()} }

// timeUs returns a time-family datum as µs since the epoch.
func timeUs(d types.Datum) int64 {
	if d.T == types.Date {
		return d.I * 86400_000_000
	}
	return d.I
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	// PostgreSQL: NaN sorts after every other value and equals NaN.
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

// Compare orders two non-NULL datums, converting between the numeric types,
// the time types and the string types as PostgreSQL's implicit casts do.
func Compare(a, b types.Datum) int {
	switch {
	case a.T == b.T:
		switch {
		case isIntType(a.T), a.T == types.Bool, isTimeType(a.T):
			return cmpInt64(a.I, b.I)
		case isFloatType(a.T):
			return cmpFloat(a.F, b.F)
		case a.T == types.Numeric:
			return cmpNumericText(a.S, b.S)
		case a.T == types.Interval:
			return cmpInterval(a, b)
		}
		return strings.Compare(a.S, b.S)
	case isNumberType(a.T) && isNumberType(b.T):
		if isIntType(a.T) && isIntType(b.T) {
			return cmpInt64(a.I, b.I)
		}
		if isFloatType(a.T) || isFloatType(b.T) {
			return cmpFloat(floatOf(a), floatOf(b))
		}
		x, err1 := decOf(a)
		y, err2 := decOf(b)
		if err1 != nil || err2 != nil {
			return cmpFloat(floatOf(a), floatOf(b))
		}
		return decCmp(&x, &y)
	case isTimeType(a.T) && isTimeType(b.T):
		return cmpInt64(timeUs(a), timeUs(b))
	case isStringType(a.T) && isStringType(b.T):
		return strings.Compare(a.S, b.S)
	}
	// Mixed, unrelated types: order by type then by every field so that the
	// order is at least total and deterministic.
	if c := cmpInt64(int64(a.T), int64(b.T)); c != 0 {
		return c
	}
	if c := cmpInt64(a.I, b.I); c != 0 {
		return c
	}
	if c := cmpFloat(a.F, b.F); c != 0 {
		return c
	}
	return strings.Compare(a.S, b.S)
}

func cmpNumericText(a, b string) int {
	if a == b {
		return 0
	}
	x, err1 := parseDec(a)
	y, err2 := parseDec(b)
	if err1 != nil || err2 != nil {
		// NaN sorts last.
		switch {
		case err1 != nil && err2 != nil:
			return strings.Compare(a, b)
		case err1 != nil:
			return 1
		}
		return -1
	}
	return decCmp(&x, &y)
}

func intervalUs(d types.Datum) int64 {
	m, dd, us := d.IntervalParts()
	return int64(m)*30*86400_000_000 + int64(dd)*86400_000_000 + us
}

func cmpInterval(a, b types.Datum) int { return cmpInt64(intervalUs(a), intervalUs(b)) }

// Equal reports whether two non-NULL datums compare equal.
func Equal(a, b types.Datum) bool { return Compare(a, b) == 0 }

// formatText renders a datum in PostgreSQL's text format.
func formatText(d types.Datum) string {
	if isStringType(d.T) {
		return d.S
	}
	return string(types.FormatText(nil, d))
}

func errIntRange(t types.OID) error {
	switch t {
	case types.Int2:
		return pgerror.New(pgerror.CodeNumericOutOfRange, "smallint out of range")
	case types.Int8:
		return pgerror.New(pgerror.CodeNumericOutOfRange, "bigint out of range")
	}
	return pgerror.New(pgerror.CodeNumericOutOfRange, "integer out of range")
}

func intFits(t types.OID, v int64) bool {
	switch t {
	case types.Int2:
		return v >= math.MinInt16 && v <= math.MaxInt16
	case types.Int4:
		return v >= math.MinInt32 && v <= math.MaxInt32
	case types.Oid:
		return v >= 0 && v <= math.MaxUint32
	}
	return true
}

// castDatum converts d to type to with PostgreSQL's explicit cast rules.
func castDatum(d types.Datum, to types.OID) (types.Datum, error) {
	if d.Null {
		return types.NullOf(to), nil
	}
	if d.T == to || to == types.Unknown {
		return d, nil
	}
	switch {
	case isStringType(to):
		s := formatText(d)
		if to == types.UnknownLit {
			return types.Datum{T: types.Text, S: s}, nil
		}
		return types.Datum{T: to, S: s}, nil
	case isStringType(d.T):
		if to == types.Numeric {
			x, err := parseDec(d.S)
			if err != nil {
				return types.Datum{}, err
			}
			return numericDatum(&x), nil
		}
		return types.ParseText(to, strings.TrimSpace(d.S))
	case isIntType(to) && isIntType(d.T):
		if !intFits(to, d.I) {
			return types.Datum{}, errIntRange(to)
		}
		return types.Datum{T: to, I: d.I}, nil
	case isIntType(to) && isFloatType(d.T):
		f := math.RoundToEven(d.F)
		if math.IsNaN(f) || f < -9.223372036854775808e18 || f >= 9.223372036854775808e18 || !intFits(to, int64(f)) {
			return types.Datum{}, errIntRange(to)
		}
		return types.Datum{T: to, I: int64(f)}, nil
	case isIntType(to) && d.T == types.Numeric:
		x, err := parseDec(d.S)
		if err != nil {
			return types.Datum{}, err
		}
		v, ok := decInt64(&x)
		if !ok || !intFits(to, v) {
			return types.Datum{}, errIntRange(to)
		}
		return types.Datum{T: to, I: v}, nil
	case isIntType(to) && d.T == types.Bool:
		return types.Datum{T: to, I: d.I}, nil
	case isFloatType(to) && isNumberType(d.T):
		f := floatOf(d)
		if to == types.Float4 {
			f = float64(float32(f))
		}
		return types.Datum{T: to, F: f}, nil
	case to == types.Numeric && isNumberType(d.T):
		x, err := decOf(d)
		if err != nil {
			return types.Datum{}, err
		}
		return numericDatum(&x), nil
	case to == types.Bool && isIntType(d.T):
		return types.NewBool(d.I != 0), nil
	case (to == types.Timestamptz || to == types.Timestamp) && isTimeType(d.T):
		return types.Datum{T: to, I: timeUs(d)}, nil
	case to == types.Date && (d.T == types.Timestamptz || d.T == types.Timestamp):
		q := d.I / 86400_000_000
		if d.I < 0 && d.I%86400_000_000 != 0 {
			q--
		}
		return types.Datum{T: types.Date, I: q}, nil
	case to == oidRegclass || to == types.Oid:
		if isIntType(d.T) {
			return types.Datum{T: to, I: d.I}, nil
		}
	}
	return types.Cast(d, to)
}

// implicitCoerce converts an expression result for comparison or assignment
// to type to when PostgreSQL would do so implicitly (an untyped literal is
// parsed as to; numbers widen).
func implicitCoerce(d types.Datum, to types.OID) (types.Datum, error) {
	if d.T == to || d.Null {
		if d.Null {
			return types.NullOf(to), nil
		}
		return d, nil
	}
	return castDatum(d, to)
}

// Float returns a numeric datum as float64.
func Float(d types.Datum) (float64, bool) {
	if d.Null || !isNumberType(d.T) {
		return 0, false
	}
	return floatOf(d), true
}

// Conjuncts splits e into its top-level AND terms (nil for nil).
func Conjuncts(e Expr) []Expr { return conjuncts(e) }

// AndOf joins conjuncts (nil for none).
func AndOf(es []Expr) Expr { return andOf(es) }
