package planner

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// dec is an exact decimal: v / 10^scale. It implements the subset of
// PostgreSQL numeric arithmetic the executor needs, with PostgreSQL's result
// scales (add/sub: max scale; mul: sum of scales; div: select_div_scale).
type dec struct {
	v     big.Int
	scale int32
}

var bigTen = big.NewInt(10)

func pow10(n int32) *big.Int {
	return new(big.Int).Exp(bigTen, big.NewInt(int64(n)), nil)
}

// parseDec parses canonical or plain decimal text ("-12.50", "1e3").
func parseDec(s string) (dec, error) {
	var d dec
	t := strings.TrimSpace(s)
	exp := int64(0)
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		e, err := strconv.ParseInt(t[i+1:], 10, 32)
		if err != nil {
			return d, pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type numeric: %q", s)
		}
		if e > 1000 || e < -1000 {
			return d, pgerror.Newf(pgerror.CodeNumericOutOfRange, "value overflows numeric format")
		}
		exp = e
		t = t[:i]
	}
	neg := false
	if strings.HasPrefix(t, "-") {
		neg, t = true, t[1:]
	} else if strings.HasPrefix(t, "+") {
		t = t[1:]
	}
	ip, fp, _ := strings.Cut(t, ".")
	if ip == "" && fp == "" {
		return d, pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type numeric: %q", s)
	}
	for _, c := range ip + fp {
		if c < '0' || c > '9' {
			return d, pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type numeric: %q", s)
		}
	}
	if _, ok := d.v.SetString(ip+fp, 10); !ok {
		d.v.SetInt64(0)
	}
	d.scale = int32(len(fp))
	if exp != 0 {
		sc := int64(d.scale) - exp
		if sc < 0 {
			d.v.Mul(&d.v, pow10(int32(-sc)))
			sc = 0
		}
		d.scale = int32(sc)
	}
	if neg {
		d.v.Neg(&d.v)
	}
	return d, nil
}

func decFromInt(i int64) dec {
	var d dec
	d.v.SetInt64(i)
	return d
}

// decFromFloat converts like PostgreSQL's float8 → numeric (shortest text
// that round-trips, at most 15 significant digits as in float8out of old
// servers is not emulated).
func decFromFloat(f float64) (dec, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dec{}, pgerror.New(pgerror.CodeFeatureNotSupported, "cannot convert NaN or infinity to numeric")
	}
	return parseDec(strconv.FormatFloat(f, 'f', -1, 64))
}

func (d *dec) String() string {
	s := d.v.String()
	if d.scale <= 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	for int32(len(s)) <= d.scale {
		s = "0" + s
	}
	k := int32(len(s)) - d.scale
	out := s[:k] + "." + s[k:]
	if neg {
		out = "-" + out
	}
	return out
}

func (d *dec) Float() float64 {
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

// rescale returns d with scale s (s >= d.scale: exact; otherwise rounded half
// away from zero).
func (d *dec) rescale(s int32) dec {
	var r dec
	r.scale = s
	switch {
	case s == d.scale:
		r.v.Set(&d.v)
	case s > d.scale:
		r.v.Mul(&d.v, pow10(s-d.scale))
	default:
		r.v.Set(roundDiv(&d.v, pow10(d.scale-s)))
	}
	return r
}

// roundDiv divides rounding half away from zero.
func roundDiv(a, b *big.Int) *big.Int {
	q, m := new(big.Int).QuoRem(a, b, new(big.Int))
	m2 := new(big.Int).Abs(m)
	m2.Lsh(m2, 1)
	if m2.Cmp(new(big.Int).Abs(b)) >= 0 {
		if (a.Sign() < 0) != (b.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

func decAdd(a, b *dec) dec {
	s := max(a.scale, b.scale)
	x, y := a.rescale(s), b.rescale(s)
	x.v.Add(&x.v, &y.v)
	return x
}

func decSub(a, b *dec) dec {
	s := max(a.scale, b.scale)
	x, y := a.rescale(s), b.rescale(s)
	x.v.Sub(&x.v, &y.v)
	return x
}

func decMul(a, b *dec) dec {
	var r dec
	r.v.Mul(&a.v, &b.v)
	r.scale = a.scale + b.scale
	return r
}

func decCmp(a, b *dec) int {
	s := max(a.scale, b.scale)
	x, y := a.rescale(s), b.rescale(s)
	return x.v.Cmp(&y.v)
}

// nbaseWeight returns PostgreSQL's base-10000 weight and first base-10000
// digit of d (0, 0 for zero).
func (d *dec) nbaseWeight() (weight int64, first int64) {
	if d.v.Sign() == 0 {
		return 0, 0
	}
	digits := new(big.Int).Abs(&d.v).String()
	e := int64(len(digits)) - 1 - int64(d.scale) // decimal exponent of the leading digit
	w := e / 4
	if e < 0 && e%4 != 0 {
		w--
	}
	r := e - 4*w // 0..3
	n := int(r + 1)
	lead := digits
	for len(lead) < n {
		lead += "0"
	}
	f, _ := strconv.ParseInt(lead[:n], 10, 64)
	return w, f
}

// decDiv divides with PostgreSQL's select_div_scale result scale.
func decDiv(a, b *dec) (dec, error) {
	if b.v.Sign() == 0 {
		return dec{}, pgerror.New(pgerror.CodeDivisionByZero, "division by zero")
	}
	w1, f1 := a.nbaseWeight()
	w2, f2 := b.nbaseWeight()
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := 16 - qweight*4
	rscale = max(rscale, int64(a.scale), int64(b.scale), 0)
	rscale = min(rscale, 1000)
	return decDivScale(a, b, int32(rscale)), nil
}

// decDivScale returns a/b rounded to scale s.
func decDivScale(a, b *dec, s int32) dec {
	// a/b = (a.v/10^as) / (b.v/10^bs) = a.v*10^(bs+s-as) / b.v / 10^s
	num := new(big.Int).Set(&a.v)
	den := new(big.Int).Set(&b.v)
	sh := int64(b.scale) + int64(s) - int64(a.scale)
	if sh >= 0 {
		num.Mul(num, pow10(int32(sh)))
	} else {
		den.Mul(den, pow10(int32(-sh)))
	}
	var r dec
	r.v.Set(roundDiv(num, den))
	r.scale = s
	return r
}

// decFloor returns floor(d) with scale 0.
func decFloor(d *dec) dec {
	if d.scale <= 0 {
		return *d
	}
	var r dec
	m := new(big.Int)
	r.v.DivMod(&d.v, pow10(d.scale), m) // Euclidean: floor for positive divisor
	return r
}

func decCeil(d *dec) dec {
	f := decFloor(d)
	back := f.rescale(d.scale)
	if back.v.Cmp(&d.v) != 0 {
		f.v.Add(&f.v, big.NewInt(1))
	}
	return f
}

func decTrunc(d *dec) dec {
	if d.scale <= 0 {
		return *d
	}
	var r dec
	r.v.Quo(&d.v, pow10(d.scale))
	return r
}

func decNeg(d *dec) dec {
	var r dec
	r.v.Neg(&d.v)
	r.scale = d.scale
	return r
}

// decInt64 converts to int64 rounding half away from zero.
func decInt64(d *dec) (int64, bool) {
	r := d.rescale(0)
	if !r.v.IsInt64() {
		return 0, false
	}
	return r.v.Int64(), true
}

// decMod is PostgreSQL's numeric mod: result has the sign of a, scale max.
func decMod(a, b *dec) (dec, error) {
	if b.v.Sign() == 0 {
		return dec{}, pgerror.New(pgerror.CodeDivisionByZero, "division by zero")
	}
	s := max(a.scale, b.scale)
	x, y := a.rescale(s), b.rescale(s)
	x.v.Rem(&x.v, &y.v)
	return x, nil
}
