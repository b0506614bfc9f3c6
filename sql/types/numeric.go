package types

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// Numeric values are kept as canonical decimal text in Datum.S:
//
//	[-]digits[.digits]   no leading zeros in the integer part (but "0.5"),
//	                     the scale (digits after '.') as written/computed,
//	                     never "-0"; or "NaN", "Infinity", "-Infinity".
//
// The binary (send/recv) format is PostgreSQL's:
//
//	+---------+--------+------+--------+------------------------+
//	| ndigits | weight | sign | dscale | digits[ndigits] int16  |
//	|  int16  | int16  | u16  | int16  | base 10000, MSD first  |
//	+---------+--------+------+--------+------------------------+
//
// value = sum(digits[i] * 10000^(weight-i)); sign 0x0000 +, 0x4000 -,
// 0xC000 NaN, 0xD000 +Infinity, 0xF000 -Infinity.

const (
	numericPos    = 0x0000
	numericNeg    = 0x4000
	numericNaN    = 0xC000
	numericPInf   = 0xD000
	numericNInf   = 0xF000
	maxNumericLen = 1000 // digits before or after the point we accept in text input
)

func errNumericSyntax(s string) error {
	return pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type numeric: %q", s)
}

// canonicalNumeric parses numeric input text and returns its canonical form.
func canonicalNumeric(s string) (string, error) {
	orig := s
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "nan", "+nan", "-nan":
		return "NaN", nil
	case "infinity", "+infinity", "inf", "+inf":
		return "Infinity", nil
	case "-infinity", "-inf":
		return "-Infinity", nil
	}
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[:i]
	var fracPart string
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		fracPart = s[i+1 : j]
		i = j
	}
	if intPart == "" && fracPart == "" {
		return "", errNumericSyntax(orig)
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if exp > 100000 {
				return "", pgerror.Newf(pgerror.CodeNumericOutOfRange, "value overflows numeric format")
			}
			exp = exp*10 + int(s[i]-'0')
			i++
			n++
		}
		if n == 0 {
			return "", errNumericSyntax(orig)
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return "", errNumericSyntax(orig)
	}
	if len(intPart)+exp > 131072 || len(fracPart)-exp > 16383 {
		return "", pgerror.Newf(pgerror.CodeNumericOutOfRange, "value overflows numeric format")
	}
	scale := len(fracPart) - exp
	if scale < 0 {
		scale = 0
	}
	// Shift the decimal point by exp.
	digits := intPart + fracPart
	point := len(intPart) + exp // position of the point within digits
	if point > len(digits) {
		digits += strings.Repeat("0", point-len(digits))
	}
	if point < 0 {
		digits = strings.Repeat("0", -point) + digits
		point = 0
	}
	ip := strings.TrimLeft(digits[:point], "0")
	fp := digits[point:]
	if len(fp) > scale {
		fp = fp[:scale] // only zeros are dropped here (exp > 0 case)
	}
	if len(fp) < scale {
		fp += strings.Repeat("0", scale-len(fp))
	}
	return buildNumeric(neg, ip, fp), nil
}

// buildNumeric assembles canonical text from sign, integer digits without
// leading zeros, and fraction digits.
func buildNumeric(neg bool, ip, fp string) string {
	if ip == "" {
		ip = "0"
	}
	if neg && strings.Trim(ip, "0") == "" && strings.Trim(fp, "0") == "" {
		neg = false
	}
	var b strings.Builder
	b.Grow(len(ip) + len(fp) + 2)
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(ip)
	if fp != "" {
		b.WriteByte('.')
		b.WriteString(fp)
	}
	return b.String()
}

// splitNumeric splits canonical numeric text into sign, integer and fraction digits.
func splitNumeric(s string) (neg bool, ip, fp string) {
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	if k := strings.IndexByte(s, '.'); k >= 0 {
		return neg, s[:k], s[k+1:]
	}
	return neg, s, ""
}

// appendNumericBinary appends the PostgreSQL binary form of canonical numeric text.
func appendNumericBinary(dst []byte, s string) []byte {
	switch s {
	case "NaN":
		return append(dst, 0, 0, 0, 0, 0xC0, 0, 0, 0)
	case "Infinity":
		return append(dst, 0, 0, 0, 0, 0xD0, 0, 0, 0)
	case "-Infinity":
		return append(dst, 0, 0, 0, 0, 0xF0, 0, 0, 0)
	}
	neg, ip, fp := splitNumeric(s)
	dscale := len(fp)
	ip = strings.TrimLeft(ip, "0")
	// Pad the integer part on the left and the fraction on the right to
	// multiples of 4 digits.
	padL := (4 - len(ip)%4) % 4
	padR := (4 - len(fp)%4) % 4
	all := strings.Repeat("0", padL) + ip + fp + strings.Repeat("0", padR)
	ngroups := len(all) / 4
	weight := (padL+len(ip))/4 - 1
	groups := make([]int16, 0, ngroups)
	for g := 0; g < ngroups; g++ {
		v := 0
		for _, c := range all[g*4 : g*4+4] {
			v = v*10 + int(c-'0')
		}
		groups = append(groups, int16(v))
	}
	// Strip leading zero groups (adjusting weight) and trailing zero groups.
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	sign := uint16(numericPos)
	if neg {
		sign = numericNeg
	}
	if len(groups) == 0 {
		weight = 0
		sign = numericPos
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(groups)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(dscale))
	for _, g := range groups {
		dst = binary.BigEndian.AppendUint16(dst, uint16(g))
	}
	return dst
}

func errBinaryFormat(typ string) error {
	return pgerror.Newf("22P03", "incorrect binary data format for type %s", typ)
}

// decodeNumericBinary decodes PostgreSQL's numeric binary form into canonical text.
func decodeNumericBinary(b []byte) (string, error) {
	if len(b) < 8 {
		return "", errBinaryFormat("numeric")
	}
	ndigits := int(binary.BigEndian.Uint16(b[0:]))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	switch sign {
	case numericNaN:
		return "NaN", nil
	case numericPInf:
		return "Infinity", nil
	case numericNInf:
		return "-Infinity", nil
	case numericPos, numericNeg:
	default:
		return "", pgerror.Newf("22P03", "invalid sign in external \"numeric\" value")
	}
	if ndigits > 0x7fff || dscale > 0x3fff || len(b) != 8+2*ndigits {
		return "", errBinaryFormat("numeric")
	}
	if weight+1 > 131072/4 || weight < -16383/4-ndigits-2 {
		return "", errBinaryFormat("numeric")
	}
	var ib, fb strings.Builder
	for i := 0; i < ndigits; i++ {
		g := int(int16(binary.BigEndian.Uint16(b[8+2*i:])))
		if g < 0 || g > 9999 {
			return "", pgerror.Newf("22P03", "invalid digit in external \"numeric\" value")
		}
		var four [4]byte
		for k := 3; k >= 0; k-- {
			four[k] = byte('0' + g%10)
			g /= 10
		}
		pos := weight - i // power of 10000 of this group
		if pos >= 0 {
			ib.Write(four[:])
		} else {
			fb.Write(four[:])
		}
	}
	ip := ib.String()
	// Integer groups missing between the last digit group and the point.
	if ndigits > 0 && weight >= ndigits {
		ip += strings.Repeat("0", 4*(weight-ndigits+1))
	}
	fp := fb.String()
	// Fraction groups missing between the point and the first digit group.
	if weight < -1 {
		fp = strings.Repeat("0", 4*(-weight-1)) + fp
	}
	if len(fp) > dscale {
		fp = fp[:dscale] // PostgreSQL truncates extra digits to dscale
	}
	if len(fp) < dscale {
		fp += strings.Repeat("0", dscale-len(fp))
	}
	return buildNumeric(sign == numericNeg, strings.TrimLeft(ip, "0"), fp), nil
}

// compareNumeric compares two canonical numeric strings exactly. NaN sorts
// above +Infinity, as PostgreSQL orders numerics.
func compareNumeric(a, b string) int {
	ra, rb := numericRank(a), numericRank(b)
	if ra != rb || ra != 0 {
		return cmpInt(int64(ra), int64(rb))
	}
	an, aip, afp := splitNumeric(a)
	bn, bip, bfp := splitNumeric(b)
	aip, bip = strings.TrimLeft(aip, "0"), strings.TrimLeft(bip, "0")
	aZero := aip == "" && strings.Trim(afp, "0") == ""
	bZero := bip == "" && strings.Trim(bfp, "0") == ""
	if aZero {
		an = false
	}
	if bZero {
		bn = false
	}
	if an != bn {
		if an {
			return -1
		}
		return 1
	}
	c := compareMagnitude(aip, afp, bip, bfp)
	if an {
		return -c
	}
	return c
}

// numericRank orders the special values: -Infinity < finite < Infinity < NaN.
func numericRank(s string) int {
	switch s {
	case "-Infinity":
		return -1
	case "Infinity":
		return 1
	case "NaN":
		return 2
	}
	return 0
}

func compareMagnitude(aip, afp, bip, bfp string) int {
	if len(aip) != len(bip) {
		return cmpInt(int64(len(aip)), int64(len(bip)))
	}
	if c := strings.Compare(aip, bip); c != 0 {
		return c
	}
	afp, bfp = strings.TrimRight(afp, "0"), strings.TrimRight(bfp, "0")
	return strings.Compare(afp, bfp)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// roundNumericToInt rounds canonical numeric text half away from zero (as
// PostgreSQL's numeric → integer casts) and returns the integer digits with
// sign; ok is false for NaN/Infinity.
func roundNumericToInt(s string) (neg bool, digits string, ok bool) {
	if numericRank(s) != 0 {
		return false, "", false
	}
	neg, ip, fp := splitNumeric(s)
	ip = strings.TrimLeft(ip, "0")
	if fp != "" && fp[0] >= '5' {
		ip = incrementDigits(ip)
	}
	if ip == "" {
		return false, "0", true
	}
	return neg, ip, true
}

// NumericTypmod applies the type modifier of a numeric(precision, scale)
// column to canonical numeric text s, as PostgreSQL does when a value is
// stored: it rounds to scale digits after the point (half away from zero,
// padding with zeros: 1.5 in numeric(8,3) is 1.500) and fails with 22003
// "numeric field overflow" when more than precision-scale digits remain
// before the point. NaN passes; ±Infinity fails, as in PostgreSQL 15.
func NumericTypmod(s string, precision, scale int) (string, error) {
	switch numericRank(s) {
	case 2:
		return s, nil
	case -1, 1:
		return "", pgerror.WithDetail(pgerror.New(pgerror.CodeNumericOutOfRange, "numeric field overflow"),
			fmt.Sprintf("A field with precision %d, scale %d cannot hold an infinite value.", precision, scale))
	}
	r := roundNumeric(s, scale)
	_, ip, _ := splitNumeric(r)
	if maxInt := precision - scale; len(strings.TrimLeft(ip, "0")) > maxInt {
		bound := "1"
		if maxInt > 0 {
			bound = fmt.Sprintf("10^%d", maxInt)
		}
		return "", pgerror.WithDetail(pgerror.New(pgerror.CodeNumericOutOfRange, "numeric field overflow"),
			fmt.Sprintf("A field with precision %d, scale %d must round to an absolute value less than %s.", precision, scale, bound))
	}
	return r, nil
}

// roundNumeric rounds canonical numeric text to scale digits after the point,
// half away from zero.
func roundNumeric(s string, scale int) string {
	if numericRank(s) != 0 {
		return s
	}
	neg, ip, fp := splitNumeric(s)
	if len(fp) <= scale {
		return buildNumeric(neg, strings.TrimLeft(ip, "0"), fp+strings.Repeat("0", scale-len(fp)))
	}
	up := fp[scale] >= '5'
	all := ip + fp[:scale]
	if up {
		all = incrementDigits(all)
	}
	cut := len(all) - scale
	return buildNumeric(neg, strings.TrimLeft(all[:cut], "0"), all[cut:])
}

// incrementDigits adds one to a decimal digit string.
func incrementDigits(d string) string {
	b := []byte(d)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}
