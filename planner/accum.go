package planner

import (
	"math"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// Accumulator computes one aggregate over a group, row at a time (the
// generic path; the pushed-down path has its own float accumulators with
// the same results).
type Accumulator interface {
	// Add feeds the evaluated arguments of one row (empty for count(*)).
	Add(args []types.Datum) error
	// Result returns the final value.
	Result() (types.Datum, error)
}

// NewAccumulator returns a fresh accumulator for a.
func NewAccumulator(a *AggCall) Accumulator {
	var acc Accumulator
	var at types.OID
	if len(a.Args) > 0 {
		at = a.Args[0].Type()
	}
	switch a.Name {
	case "count":
		acc = &countAcc{star: len(a.Args) == 0}
	case "sum":
		acc = &sumAcc{t: a.T, at: at}
	case "avg":
		acc = &sumAcc{t: a.T, at: at, avg: true}
	case "min":
		acc = &extremeAcc{t: a.T, sign: -1}
	case "max":
		acc = &extremeAcc{t: a.T, sign: 1}
	case "first":
		acc = &bookendAcc{t: a.T, last: false}
	case "last":
		acc = &bookendAcc{t: a.T, last: true}
	case "bool_and", "every":
		acc = &boolAcc{and: true}
	case "bool_or":
		acc = &boolAcc{}
	case "string_agg":
		acc = &stringAgg{}
	case "stddev", "stddev_samp", "std", "stddev_pop", "variance", "var_samp", "var_pop":
		acc = &varAcc{name: a.Name, t: a.T}
	default:
		acc = &errAcc{name: a.Name}
	}
	if a.Distinct {
		return &distinctAcc{inner: acc, seen: map[string]struct{}{}}
	}
	return acc
}

type errAcc struct{ name string }

func (a *errAcc) Add([]types.Datum) error { return pgerror.Unsupported("aggregate " + a.name) }
func (a *errAcc) Result() (types.Datum, error) {
	return types.Datum{}, pgerror.Unsupported("aggregate " + a.name)
}

type distinctAcc struct {
	inner Accumulator
	seen  map[string]struct{}
}

func (a *distinctAcc) Add(args []types.Datum) error {
	if len(args) > 0 {
		k := HashKey(args[0])
		if _, ok := a.seen[k]; ok {
			return nil
		}
		a.seen[k] = struct{}{}
	}
	return a.inner.Add(args)
}
func (a *distinctAcc) Result() (types.Datum, error) { return a.inner.Result() }

type countAcc struct {
	star bool
	n    int64
}

func (a *countAcc) Add(args []types.Datum) error {
	if a.star || (len(args) > 0 && !args[0].Null) {
		a.n++
	}
	return nil
}
func (a *countAcc) Result() (types.Datum, error) { return types.NewInt(types.Int8, a.n), nil }

// sumAcc implements sum and avg with PostgreSQL's result types: float
// arguments sum in float64, int2/int4 in int64, int8 and numeric exactly.
type sumAcc struct {
	t, at types.OID
	avg   bool
	n     int64
	f     float64
	i     int64
	d     dec
	iv    types.Datum
}

func (a *sumAcc) Add(args []types.Datum) error {
	if len(args) == 0 || args[0].Null {
		return nil
	}
	v := args[0]
	a.n++
	switch {
	case isFloatType(v.T):
		a.f += v.F
		if a.at == types.Float4 && !a.avg {
			a.f = float64(float32(a.f))
		}
	case v.T == types.Int2 || v.T == types.Int4:
		a.i += v.I
	case isIntType(v.T):
		x := decFromInt(v.I)
		a.d = decAdd(&a.d, &x)
	case v.T == types.Numeric:
		x, err := parseDec(v.S)
		if err != nil {
			return err
		}
		a.d = decAdd(&a.d, &x)
	case v.T == types.Interval:
		if a.n == 1 {
			a.iv = v
		} else {
			r, err := arith(OpAdd, a.iv, v, types.Interval)
			if err != nil {
				return err
			}
			a.iv = r
		}
	default:
		return pgerror.Newf(pgerror.CodeUndefinedFunction, "function sum(%s) does not exist", typeName(v.T))
	}
	return nil
}

func (a *sumAcc) Result() (types.Datum, error) {
	if a.n == 0 {
		return types.NullOf(a.t), nil
	}
	switch {
	case isFloatType(a.at):
		if a.avg {
			return types.NewFloat8(a.f / float64(a.n)), nil
		}
		return types.Datum{T: a.t, F: a.f}, nil
	case a.at == types.Interval:
		if a.avg {
			return scaleInterval(a.iv, 1/float64(a.n)), nil
		}
		return a.iv, nil
	}
	sum := a.d
	if a.at == types.Int2 || a.at == types.Int4 {
		if !a.avg {
			return types.NewInt(types.Int8, a.i), nil
		}
		sum = decFromInt(a.i)
	}
	if !a.avg {
		return numericDatum(&sum), nil
	}
	cnt := decFromInt(a.n)
	q, err := decDiv(&sum, &cnt)
	if err != nil {
		return types.Datum{}, err
	}
	return numericDatum(&q), nil
}

type extremeAcc struct {
	t    types.OID
	sign int
	v    types.Datum
	has  bool
}

func (a *extremeAcc) Add(args []types.Datum) error {
	if len(args) == 0 || args[0].Null {
		return nil
	}
	if !a.has || Compare(args[0], a.v)*a.sign > 0 {
		a.v, a.has = args[0], true
	}
	return nil
}
func (a *extremeAcc) Result() (types.Datum, error) {
	if !a.has {
		return types.NullOf(a.t), nil
	}
	return a.v, nil
}

// bookendAcc is TimescaleDB's first(value, time) / last(value, time): the
// value at the smallest / largest time (rows with NULL time are skipped).
// With one argument it keeps the first / last value in input order.
type bookendAcc struct {
	t    types.OID
	last bool
	v    types.Datum
	ts   types.Datum
	has  bool
}

func (a *bookendAcc) Add(args []types.Datum) error {
	if len(args) == 0 {
		return nil
	}
	if len(args) == 1 {
		if !a.has || a.last {
			a.v, a.has = args[0], true
		}
		return nil
	}
	if args[1].Null {
		return nil
	}
	if !a.has {
		a.v, a.ts, a.has = args[0], args[1], true
		return nil
	}
	c := Compare(args[1], a.ts)
	if (a.last && c > 0) || (!a.last && c < 0) {
		a.v, a.ts = args[0], args[1]
	}
	return nil
}
func (a *bookendAcc) Result() (types.Datum, error) {
	if !a.has || a.v.Null {
		return types.NullOf(a.t), nil
	}
	return a.v, nil
}

type boolAcc struct {
	and, has, v bool
}

func (a *boolAcc) Add(args []types.Datum) error {
	if len(args) == 0 || args[0].Null {
		return nil
	}
	b := truthy(args[0])
	if !a.has {
		a.v, a.has = b, true
	} else if a.and {
		a.v = a.v && b
	} else {
		a.v = a.v || b
	}
	return nil
}
func (a *boolAcc) Result() (types.Datum, error) {
	if !a.has {
		return types.NullOf(types.Bool), nil
	}
	return types.NewBool(a.v), nil
}

type stringAgg struct {
	s   []byte
	has bool
}

func (a *stringAgg) Add(args []types.Datum) error {
	if len(args) == 0 || args[0].Null {
		return nil
	}
	if a.has && len(args) > 1 && !args[1].Null {
		a.s = append(a.s, formatText(args[1])...)
	}
	a.s = append(a.s, formatText(args[0])...)
	a.has = true
	return nil
}
func (a *stringAgg) Result() (types.Datum, error) {
	if !a.has {
		return types.NullOf(types.Text), nil
	}
	return types.NewText(string(a.s)), nil
}

// varAcc computes variance/stddev in float64 (Welford).
type varAcc struct {
	name     string
	t        types.OID
	n        float64
	mean, m2 float64
}

func (a *varAcc) Add(args []types.Datum) error {
	if len(args) == 0 || args[0].Null {
		return nil
	}
	x := floatOf(args[0])
	a.n++
	d := x - a.mean
	a.mean += d / a.n
	a.m2 += d * (x - a.mean)
	return nil
}
func (a *varAcc) Result() (types.Datum, error) {
	pop := a.name == "stddev_pop" || a.name == "var_pop"
	if a.n == 0 || (!pop && a.n < 2) {
		return types.NullOf(a.t), nil
	}
	den := a.n - 1
	if pop {
		den = a.n
	}
	v := a.m2 / den
	switch a.name {
	case "stddev", "stddev_samp", "std", "stddev_pop":
		v = math.Sqrt(v)
	}
	if a.t == types.Numeric {
		x, err := decFromFloat(v)
		if err != nil {
			return types.Datum{}, err
		}
		return numericDatum(&x), nil
	}
	return types.NewFloat8(v), nil
}
