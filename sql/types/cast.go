package types

import (
	"math"
	"strconv"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// codeCannotCoerce is SQLSTATE cannot_coerce.
const codeCannotCoerce = "42846"

// Cast converts d to type to, following PostgreSQL's explicit cast rules for
// the supported types:
//
//   - NULL casts to the NULL of the target type;
//   - anything → text/varchar/name/bpchar via FormatText (bool → "true"/"false");
//   - text-like/unknown → anything via ParseText;
//   - between integer widths with range checks (22003);
//   - float → integer rounds half to even (rint), numeric → integer rounds
//     half away from zero; NaN/Infinity → integer fail;
//   - float → numeric uses 15 (float4: 6) significant digits as PostgreSQL;
//   - timestamptz ↔ timestamp (UTC) ↔ date; bool ↔ integer;
//   - json ↔ jsonb ↔ text.
//
// Other combinations fail with 42846.
func Cast(d Datum, to OID) (Datum, error) {
	if d.Null {
		return NullOf(to), nil
	}
	from := d.T
	if from == to {
		if to == Float4 {
			d.F = float64(float32(d.F))
		}
		return d, nil
	}
	switch to {
	case Text, Varchar, Name, BPChar, Unknown, UnknownLit:
		var s string
		if from == Bool {
			s = "false"
			if d.I != 0 {
				s = "true"
			}
		} else {
			s = string(FormatText(nil, d))
		}
		if to == UnknownLit {
			to = Unknown
		}
		if to == Name && len(s) > 63 {
			s = truncateUTF8(s, 63)
		}
		return Datum{T: to, S: s}, nil
	}
	switch from {
	case Text, Varchar, Name, BPChar, Char, Unknown, UnknownLit:
		s := d.S
		if from == BPChar {
			s = strings.TrimRight(s, " ")
		}
		return ParseText(to, s)
	}
	switch {
	case isIntType(from) && isIntType(to):
		if err := checkIntRange(to, d.I); err != nil {
			return Datum{}, err
		}
		return NewInt(to, d.I), nil
	case isIntType(from) && (to == Float4 || to == Float8):
		f := float64(d.I)
		if to == Float4 {
			f = float64(float32(f))
		}
		return Datum{T: to, F: f}, nil
	case isIntType(from) && to == Numeric:
		return Datum{T: Numeric, S: strconv.FormatInt(d.I, 10)}, nil
	case (from == Float4 || from == Float8) && isIntType(to):
		if math.IsNaN(d.F) || math.IsInf(d.F, 0) {
			return Datum{}, intRangeError(to)
		}
		r := math.RoundToEven(d.F)
		if r < -9.223372036854775808e18 || r >= 9.223372036854775808e18 {
			return Datum{}, intRangeError(to)
		}
		v := int64(r)
		if err := checkIntRange(to, v); err != nil {
			return Datum{}, err
		}
		return NewInt(to, v), nil
	case (from == Float4 || from == Float8) && (to == Float4 || to == Float8):
		f := d.F
		if to == Float4 {
			f32 := float32(f)
			if math.IsInf(float64(f32), 0) && !math.IsInf(f, 0) {
				return Datum{}, pgerror.New(pgerror.CodeNumericOutOfRange, "value out of range: overflow")
			}
			f = float64(f32)
		}
		return Datum{T: to, F: f}, nil
	case (from == Float4 || from == Float8) && to == Numeric:
		return Datum{T: Numeric, S: floatToNumeric(d.F, from)}, nil
	case from == Numeric && isIntType(to):
		neg, digits, ok := roundNumericToInt(d.S)
		if !ok {
			what := "NaN"
			if d.S != "NaN" {
				what = "infinity"
			}
			return Datum{}, pgerror.Newf(pgerror.CodeFeatureNotSupported, "cannot convert %s to %s", what, TypeName(to))
		}
		if neg {
			digits = "-" + digits
		}
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return Datum{}, intRangeError(to)
		}
		if err := checkIntRange(to, v); err != nil {
			return Datum{}, err
		}
		return NewInt(to, v), nil
	case from == Numeric && (to == Float4 || to == Float8):
		bits := 64
		if to == Float4 {
			bits = 32
		}
		f, err := strconv.ParseFloat(d.S, bits)
		if err != nil && d.S != "NaN" {
			return Datum{}, pgerror.New(pgerror.CodeNumericOutOfRange, "value out of range: overflow")
		}
		return Datum{T: to, F: f}, nil
	case from == Bool && isIntType(to):
		return NewInt(to, d.I), nil
	case isIntType(from) && to == Bool:
		return NewBool(d.I != 0), nil
	case (from == Timestamp || from == Timestamptz) && (to == Timestamp || to == Timestamptz):
		return Datum{T: to, I: d.I}, nil
	case (from == Timestamp || from == Timestamptz) && to == Date:
		if d.I == InfinityUs || d.I == NegInfinityUs {
			return Datum{T: Date, I: d.I}, nil
		}
		days, _ := floorDiv(d.I, usPerDay)
		return Datum{T: Date, I: days}, nil
	case from == Date && (to == Timestamp || to == Timestamptz):
		if d.I == InfinityUs || d.I == NegInfinityUs {
			return Datum{T: to, I: d.I}, nil
		}
		if d.I > maxTimestampUs/usPerDay || d.I < minDateDays {
			return Datum{}, pgerror.New(pgerror.CodeDatetimeFieldOverflow, "date out of range for timestamp")
		}
		return Datum{T: to, I: d.I * usPerDay}, nil
	case (from == JSON || from == JSONB) && (to == JSON || to == JSONB):
		return Datum{T: to, S: d.S}, nil
	}
	return Datum{}, pgerror.Newf(codeCannotCoerce, "cannot cast type %s to %s", TypeName(from), TypeName(to))
}

func intRangeError(t OID) error {
	switch t {
	case Int2:
		return pgerror.New(pgerror.CodeNumericOutOfRange, "smallint out of range")
	case Int4:
		return pgerror.New(pgerror.CodeNumericOutOfRange, "integer out of range")
	case Oid, Regproc:
		return pgerror.New(pgerror.CodeNumericOutOfRange, "OID out of range")
	}
	return pgerror.New(pgerror.CodeNumericOutOfRange, "bigint out of range")
}

// floatToNumeric converts like PostgreSQL's float8_numeric/float4_numeric:
// printf("%.15g") (float4: "%.6g"), then numeric input.
func floatToNumeric(f float64, from OID) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	prec := 15
	if from == Float4 {
		prec = 6
	}
	s := strconv.FormatFloat(f, 'g', prec, 64)
	n, err := canonicalNumeric(s)
	if err != nil {
		return "NaN"
	}
	return n
}
