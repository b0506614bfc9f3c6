package planner

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

const oidRegclass types.OID = 2205

// EvalContext is the per-run state expressions may read: the results of the
// plan's uncorrelated subqueries, filled by the executor before the main
// plan runs. A Plan is immutable; every Run has its own EvalContext.
type EvalContext struct {
	Subqueries []*SubqueryResult
	// Sleep waits for d or until the run is cancelled, whichever comes
	// first, and then returns the run's cancellation error (nil after a
	// full wait). The executor sets it (the planner does no I/O); without
	// it pg_sleep() fails.
	Sleep func(d time.Duration) error
}

// SubqueryResult is the materialised first column of a subquery.
type SubqueryResult struct {
	Values  []types.Datum
	set     map[string]struct{}
	hasNull bool
}

// NewSubqueryResult indexes the values of a subquery for IN lookups.
func NewSubqueryResult(vals []types.Datum) *SubqueryResult {
	r := &SubqueryResult{Values: vals, set: make(map[string]struct{}, len(vals))}
	for _, v := range vals {
		if v.Null {
			r.hasNull = true
			continue
		}
		r.set[hashKey(v)] = struct{}{}
	}
	return r
}

// hashKey is a canonical key for equality of numbers across int/float/
// numeric types and of strings.
func hashKey(d types.Datum) string {
	switch {
	case isIntType(d.T):
		return "n" + strconv.FormatInt(d.I, 10)
	case isFloatType(d.T):
		if d.F == math.Trunc(d.F) && math.Abs(d.F) < 1e18 {
			return "n" + strconv.FormatInt(int64(d.F), 10)
		}
		return "n" + strconv.FormatFloat(d.F, 'g', -1, 64)
	case d.T == types.Numeric:
		x, err := parseDec(d.S)
		if err != nil {
			return "N" + d.S
		}
		f := x.Float()
		if f == math.Trunc(f) && math.Abs(f) < 1e18 {
			return "n" + strconv.FormatInt(int64(f), 10)
		}
		return "n" + strconv.FormatFloat(f, 'g', -1, 64)
	case isStringType(d.T):
		return "s" + d.S
	case isTimeType(d.T):
		return "t" + strconv.FormatInt(timeUs(d), 10)
	}
	return fmt.Sprintf("%d|%d|%d|%v|%s", d.T, d.I, d.X, d.F, d.S)
}

// HashKey returns a key equal for datums that compare equal (used by hash
// aggregation, DISTINCT and hash joins). NULLs get their own key.
func HashKey(d types.Datum) string {
	if d.Null {
		return "\x00"
	}
	return hashKey(d)
}

// Expr is a typed, compiled scalar expression over a row layout.
type Expr interface {
	Type() types.OID
	Eval(ec *EvalContext, row []types.Datum) (types.Datum, error)
	String() string
}

// ColRef reads column Idx of the input row.
type ColRef struct {
	Idx  int
	Name string
	T    types.OID
}

func (e *ColRef) Type() types.OID { return e.T }
func (e *ColRef) Eval(_ *EvalContext, row []types.Datum) (types.Datum, error) {
	return row[e.Idx], nil
}
func (e *ColRef) String() string { return e.Name }

// Const is a constant. Param is the parameter number it came from (0: a
// literal), kept for parameter type inference.
type Const struct {
	D     types.Datum
	Param int
}

func (e *Const) Type() types.OID {
	if e.D.T == types.UnknownLit {
		return types.Text
	}
	return e.D.T
}
func (e *Const) Eval(*EvalContext, []types.Datum) (types.Datum, error) {
	if e.D.T == types.UnknownLit {
		d := e.D
		d.T = types.Text
		return d, nil
	}
	return e.D, nil
}
func (e *Const) String() string {
	if e.D.Null {
		return "NULL"
	}
	switch {
	case isStringType(e.D.T), isTimeType(e.D.T), e.D.T == types.Interval:
		return "'" + strings.ReplaceAll(formatText(e.D), "'", "''") + "'"
	}
	return formatText(e.D)
}

// untyped reports whether e is a string literal of unknown type.
func untyped(e Expr) bool {
	c, ok := e.(*Const)
	return ok && c.D.T == types.UnknownLit
}

// ParamRef is $N when the plan is only described (no values).
type ParamRef struct {
	N int
	T types.OID
}

func (e *ParamRef) Type() types.OID { return e.T }
func (e *ParamRef) Eval(*EvalContext, []types.Datum) (types.Datum, error) {
	return types.Datum{}, pgerror.Newf(pgerror.CodeUndefinedParameter, "there is no parameter $%d", e.N)
}
func (e *ParamRef) String() string { return "$" + strconv.Itoa(e.N) }

// Op is a binary operator.
type Op uint8

// Binary operators.
const (
	OpAdd Op = iota
	OpSub
	OpMul
	OpDiv
	OpMod
	OpConcat
	OpEQ
	OpNE
	OpLT
	OpLE
	OpGT
	OpGE
)

var opNames = [...]string{"+", "-", "*", "/", "%", "||", "=", "<>", "<", "<=", ">", ">="}

func (o Op) String() string { return opNames[o] }

func (o Op) isCompare() bool { return o >= OpEQ }

// BinOp is L op R.
type BinOp struct {
	Op   Op
	L, R Expr
	T    types.OID
}

func (e *BinOp) Type() types.OID { return e.T }
func (e *BinOp) String() string {
	return "(" + e.L.String() + " " + e.Op.String() + " " + e.R.String() + ")"
}
func (e *BinOp) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	a, err := e.L.Eval(ec, row)
	if err != nil {
		return a, err
	}
	b, err := e.R.Eval(ec, row)
	if err != nil {
		return b, err
	}
	if a.Null || b.Null {
		return types.NullOf(e.T), nil
	}
	if e.Op.isCompare() {
		return types.NewBool(compareOp(e.Op, Compare(a, b))), nil
	}
	return arith(e.Op, a, b, e.T)
}

func compareOp(op Op, c int) bool {
	switch op {
	case OpEQ:
		return c == 0
	case OpNE:
		return c != 0
	case OpLT:
		return c < 0
	case OpLE:
		return c <= 0
	case OpGT:
		return c > 0
	}
	return c >= 0
}

var errDivZero = pgerror.New(pgerror.CodeDivisionByZero, "division by zero")

// arith evaluates an arithmetic operator with result type t.
func arith(op Op, a, b types.Datum, t types.OID) (types.Datum, error) {
	if op == OpConcat {
		return types.Datum{T: types.Text, S: formatText(a) + formatText(b)}, nil
	}
	switch {
	case isIntType(t):
		x, y := a.I, b.I
		var r int64
		switch op {
		case OpAdd:
			r = x + y
			if (r > x) != (y > 0) {
				return types.Datum{}, errIntRange(t)
			}
		case OpSub:
			r = x - y
			if (r < x) != (y > 0) {
				return types.Datum{}, errIntRange(t)
			}
		case OpMul:
			r = x * y
			if x != 0 && (r/x != y || (x == -1 && y == math.MinInt64)) {
				return types.Datum{}, errIntRange(t)
			}
		case OpDiv:
			if y == 0 {
				return types.Datum{}, errDivZero
			}
			if y == -1 {
				r = -x
			} else {
				r = x / y
			}
		case OpMod:
			if y == 0 {
				return types.Datum{}, errDivZero
			}
			if y == -1 {
				r = 0
			} else {
				r = x % y
			}
		}
		if !intFits(t, r) {
			return types.Datum{}, errIntRange(t)
		}
		return types.Datum{T: t, I: r}, nil
	case isFloatType(t):
		x, y := floatOf(a), floatOf(b)
		var r float64
		switch op {
		case OpAdd:
			r = x + y
		case OpSub:
			r = x - y
		case OpMul:
			r = x * y
		case OpDiv:
			if y == 0 {
				return types.Datum{}, errDivZero
			}
			r = x / y
		case OpMod:
			if y == 0 {
				return types.Datum{}, errDivZero
			}
			r = math.Mod(x, y)
		}
		if t == types.Float4 {
			r = float64(float32(r))
		}
		return types.Datum{T: t, F: r}, nil
	case t == types.Numeric:
		x, err := decOf(a)
		if err != nil {
			return types.Datum{}, err
		}
		y, err := decOf(b)
		if err != nil {
			return types.Datum{}, err
		}
		var r dec
		switch op {
		case OpAdd:
			r = decAdd(&x, &y)
		case OpSub:
			r = decSub(&x, &y)
		case OpMul:
			r = decMul(&x, &y)
		case OpDiv:
			if r, err = decDiv(&x, &y); err != nil {
				return types.Datum{}, err
			}
		case OpMod:
			if r, err = decMod(&x, &y); err != nil {
				return types.Datum{}, err
			}
		}
		return numericDatum(&r), nil
	case t == types.Timestamptz || t == types.Timestamp || t == types.Date:
		switch {
		case b.T == types.Interval && (op == OpAdd || op == OpSub):
			m, d, us := b.IntervalParts()
			if op == OpSub {
				m, d, us = -m, -d, -us
			}
			v := addInterval(timeUs(a), m, d, us)
			if t == types.Date {
				return types.Datum{T: types.Timestamp, I: v}, nil
			}
			return types.Datum{T: t, I: v}, nil
		case a.T == types.Interval && op == OpAdd:
			m, d, us := a.IntervalParts()
			return types.Datum{T: t, I: addInterval(timeUs(b), m, d, us)}, nil
		case t == types.Date && isIntType(b.T):
			if op == OpSub {
				return types.Datum{T: types.Date, I: a.I - b.I}, nil
			}
			return types.Datum{T: types.Date, I: a.I + b.I}, nil
		}
	case t == types.Interval:
		switch {
		case a.T == types.Interval && b.T == types.Interval:
			m1, d1, u1 := a.IntervalParts()
			m2, d2, u2 := b.IntervalParts()
			if op == OpSub {
				m2, d2, u2 = -m2, -d2, -u2
			}
			return types.NewInterval(m1+m2, d1+d2, u1+u2), nil
		case isTimeType(a.T) && isTimeType(b.T) && op == OpSub:
			diff := timeUs(a) - timeUs(b)
			days := diff / 86400_000_000
			return types.NewInterval(0, int32(days), diff-days*86400_000_000), nil
		case a.T == types.Interval && isNumberType(b.T) && (op == OpMul || op == OpDiv):
			f := floatOf(b)
			if op == OpDiv {
				if f == 0 {
					return types.Datum{}, errDivZero
				}
				f = 1 / f
			}
			return scaleInterval(a, f), nil
		case b.T == types.Interval && isNumberType(a.T) && op == OpMul:
			return scaleInterval(b, floatOf(a)), nil
		}
	}
	return types.Datum{}, pgerror.Newf(pgerror.CodeUndefinedFunction, "operator does not exist: %s %s %s", typeName(a.T), op, typeName(b.T))
}

func scaleInterval(d types.Datum, f float64) types.Datum {
	m, dd, us := d.IntervalParts()
	fm := float64(m) * f
	im := math.Trunc(fm)
	fd := float64(dd)*f + (fm-im)*30
	id := math.Trunc(fd)
	fus := float64(us)*f + (fd-id)*86400e6
	return types.NewInterval(int32(im), int32(id), int64(math.Round(fus)))
}

// addInterval adds months, days and µs to a UTC timestamp.
func addInterval(us int64, months, days int32, micros int64) int64 {
	if months != 0 {
		day := floorDivI(us, 86400_000_000)
		rem := us - day*86400_000_000
		y, m, d := civil(day)
		m += int64(months)
		y += floorDivI(m-1, 12)
		m = (m-1)%12 + 1
		if m <= 0 {
			m += 12
		}
		if dim := monthDays(y, m); d > dim {
			d = dim
		}
		us = daysFrom(y, m, d)*86400_000_000 + rem
	}
	return us + int64(days)*86400_000_000 + micros
}

func typeName(t types.OID) string {
	if n := types.TypeName(t); n != "" {
		return n
	}
	return strconv.Itoa(int(t))
}

// Neg is -E.
type Neg struct{ E Expr }

func (e *Neg) Type() types.OID { return e.E.Type() }
func (e *Neg) String() string  { return "(-" + e.E.String() + ")" }
func (e *Neg) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	d, err := e.E.Eval(ec, row)
	if err != nil || d.Null {
		return d, err
	}
	switch {
	case isIntType(d.T):
		if d.I == math.MinInt64 || !intFits(d.T, -d.I) {
			return d, errIntRange(d.T)
		}
		d.I = -d.I
	case isFloatType(d.T):
		d.F = -d.F
	case d.T == types.Numeric:
		x, err := parseDec(d.S)
		if err != nil {
			return d, err
		}
		n := decNeg(&x)
		return numericDatum(&n), nil
	case d.T == types.Interval:
		m, dd, us := d.IntervalParts()
		return types.NewInterval(-m, -dd, -us), nil
	default:
		return d, pgerror.Newf(pgerror.CodeUndefinedFunction, "operator does not exist: - %s", typeName(d.T))
	}
	return d, nil
}

// Not is NOT E (three-valued).
type Not struct{ E Expr }

func (e *Not) Type() types.OID { return types.Bool }
func (e *Not) String() string  { return "(NOT " + e.E.String() + ")" }
func (e *Not) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	d, err := e.E.Eval(ec, row)
	if err != nil || d.Null {
		return types.NullOf(types.Bool), err
	}
	return types.NewBool(!truthy(d)), nil
}

func truthy(d types.Datum) bool {
	if d.Null {
		return false
	}
	if isFloatType(d.T) {
		return d.F != 0
	}
	return d.I != 0
}

// IsTrue reports whether a filter result accepts the row.
func IsTrue(d types.Datum) bool { return !d.Null && truthy(d) }

// And is a conjunction (three-valued, short-circuit on FALSE).
type And struct{ Args []Expr }

func (e *And) Type() types.OID { return types.Bool }
func (e *And) String() string  { return joinExprs(e.Args, " AND ") }
func (e *And) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	null := false
	for _, a := range e.Args {
		d, err := a.Eval(ec, row)
		if err != nil {
			return d, err
		}
		if d.Null {
			null = true
			continue
		}
		if !truthy(d) {
			return types.NewBool(false), nil
		}
	}
	if null {
		return types.NullOf(types.Bool), nil
	}
	return types.NewBool(true), nil
}

// Or is a disjunction (three-valued).
type Or struct{ Args []Expr }

func (e *Or) Type() types.OID { return types.Bool }
func (e *Or) String() string  { return joinExprs(e.Args, " OR ") }
func (e *Or) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	null := false
	for _, a := range e.Args {
		d, err := a.Eval(ec, row)
		if err != nil {
			return d, err
		}
		if d.Null {
			null = true
			continue
		}
		if truthy(d) {
			return types.NewBool(true), nil
		}
	}
	if null {
		return types.NullOf(types.Bool), nil
	}
	return types.NewBool(false), nil
}

func joinExprs(es []Expr, sep string) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// IsNull is E IS [NOT] NULL.
type IsNull struct {
	E   Expr
	Not bool
}

func (e *IsNull) Type() types.OID { return types.Bool }
func (e *IsNull) String() string {
	if e.Not {
		return "(" + e.E.String() + " IS NOT NULL)"
	}
	return "(" + e.E.String() + " IS NULL)"
}
func (e *IsNull) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	d, err := e.E.Eval(ec, row)
	if err != nil {
		return d, err
	}
	return types.NewBool(d.Null != e.Not), nil
}

// IsTruth is E IS [NOT] TRUE/FALSE.
type IsTruth struct {
	E    Expr
	Not  bool
	True bool
}

func (e *IsTruth) Type() types.OID { return types.Bool }
func (e *IsTruth) String() string {
	s := "(" + e.E.String() + " IS "
	if e.Not {
		s += "NOT "
	}
	if e.True {
		return s + "TRUE)"
	}
	return s + "FALSE)"
}
func (e *IsTruth) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	d, err := e.E.Eval(ec, row)
	if err != nil {
		return d, err
	}
	r := !d.Null && truthy(d) == e.True
	return types.NewBool(r != e.Not), nil
}

// InList is E [NOT] IN (list).
type InList struct {
	E    Expr
	List []Expr
	Not  bool
	set  map[string]struct{} // when every list item is a non-NULL constant
}

func newInList(e Expr, list []Expr, not bool) *InList {
	in := &InList{E: e, List: list, Not: not}
	set := make(map[string]struct{}, len(list))
	for _, l := range list {
		c, ok := l.(*Const)
		if !ok || c.D.Null {
			return in
		}
		set[hashKey(c.D)] = struct{}{}
	}
	in.set = set
	return in
}

func (e *InList) Type() types.OID { return types.Bool }
func (e *InList) String() string {
	op := " IN "
	if e.Not {
		op = " NOT IN "
	}
	return "(" + e.E.String() + op + joinExprs(e.List, ", ") + ")"
}
func (e *InList) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	d, err := e.E.Eval(ec, row)
	if err != nil {
		return d, err
	}
	if d.Null {
		return types.NullOf(types.Bool), nil
	}
	if e.set != nil {
		_, ok := e.set[hashKey(d)]
		return types.NewBool(ok != e.Not), nil
	}
	null := false
	for _, l := range e.List {
		v, err := l.Eval(ec, row)
		if err != nil {
			return v, err
		}
		if v.Null {
			null = true
			continue
		}
		if Compare(d, v) == 0 {
			return types.NewBool(!e.Not), nil
		}
	}
	if null {
		return types.NullOf(types.Bool), nil
	}
	return types.NewBool(e.Not), nil
}

// InSubquery is E [NOT] IN (uncorrelated subquery Sub).
type InSubquery struct {
	E   Expr
	Sub int
	Not bool
}

func (e *InSubquery) Type() types.OID { return types.Bool }
func (e *InSubquery) String() string {
	op := " IN "
	if e.Not {
		op = " NOT IN "
	}
	return "(" + e.E.String() + op + "$subquery" + strconv.Itoa(e.Sub+1) + ")"
}
func (e *InSubquery) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	d, err := e.E.Eval(ec, row)
	if err != nil {
		return d, err
	}
	if d.Null {
		return types.NullOf(types.Bool), nil
	}
	if ec == nil || e.Sub >= len(ec.Subqueries) || ec.Subqueries[e.Sub] == nil {
		return types.Datum{}, pgerror.New(pgerror.CodeInternal, "subquery result missing")
	}
	r := ec.Subqueries[e.Sub]
	if _, ok := r.set[hashKey(d)]; ok {
		return types.NewBool(!e.Not), nil
	}
	if r.hasNull {
		return types.NullOf(types.Bool), nil
	}
	return types.NewBool(e.Not), nil
}

// ScalarSubquery is (SELECT ...) used as a value.
type ScalarSubquery struct {
	Sub int
	T   types.OID
}

func (e *ScalarSubquery) Type() types.OID { return e.T }
func (e *ScalarSubquery) String() string  { return "$subquery" + strconv.Itoa(e.Sub+1) }
func (e *ScalarSubquery) Eval(ec *EvalContext, _ []types.Datum) (types.Datum, error) {
	if ec == nil || e.Sub >= len(ec.Subqueries) || ec.Subqueries[e.Sub] == nil {
		return types.Datum{}, pgerror.New(pgerror.CodeInternal, "subquery result missing")
	}
	r := ec.Subqueries[e.Sub]
	switch len(r.Values) {
	case 0:
		return types.NullOf(e.T), nil
	case 1:
		return r.Values[0], nil
	}
	return types.Datum{}, pgerror.New(pgerror.CodeCardinalityViolation, "more than one row returned by a subquery used as an expression")
}

// Like is E [NOT] LIKE/ILIKE Pattern.
type Like struct {
	E, Pattern Expr
	Not, ILike bool
	re         *regexp.Regexp // compiled when Pattern is constant
}

func (e *Like) Type() types.OID { return types.Bool }
func (e *Like) String() string {
	op := " LIKE "
	if e.ILike {
		op = " ILIKE "
	}
	if e.Not {
		op = " NOT" + op
	}
	return "(" + e.E.String() + op + e.Pattern.String() + ")"
}
func (e *Like) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	d, err := e.E.Eval(ec, row)
	if err != nil {
		return d, err
	}
	re := e.re
	if re == nil {
		p, err := e.Pattern.Eval(ec, row)
		if err != nil {
			return p, err
		}
		if p.Null {
			return types.NullOf(types.Bool), nil
		}
		if re, err = likeRegexp(formatText(p), e.ILike); err != nil {
			return types.Datum{}, err
		}
	}
	if d.Null {
		return types.NullOf(types.Bool), nil
	}
	return types.NewBool(re.MatchString(formatText(d)) != e.Not), nil
}

func likeRegexp(p string, ilike bool) (*regexp.Regexp, error) {
	var sb strings.Builder
	if ilike {
		sb.WriteString("(?is)^")
	} else {
		sb.WriteString("(?s)^")
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '%':
			sb.WriteString(".*")
		case '_':
			sb.WriteString(".")
		case '\\':
			if i+1 < len(p) {
				i++
				sb.WriteString(regexp.QuoteMeta(string(p[i])))
			}
		default:
			sb.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	sb.WriteString("$")
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return nil, pgerror.Wrapf(err, pgerror.CodeInvalidParameterValue, "invalid LIKE pattern")
	}
	return re, nil
}

// Regex is E ~ / ~* / !~ / !~* Pattern.
type Regex struct {
	E, Pattern Expr
	Not, ICase bool
}

func (e *Regex) Type() types.OID { return types.Bool }
func (e *Regex) String() string {
	return "(" + e.E.String() + " ~ " + e.Pattern.String() + ")"
}
func (e *Regex) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	d, err := e.E.Eval(ec, row)
	if err != nil {
		return d, err
	}
	p, err := e.Pattern.Eval(ec, row)
	if err != nil {
		return p, err
	}
	if d.Null || p.Null {
		return types.NullOf(types.Bool), nil
	}
	pat := formatText(p)
	if e.ICase {
		pat = "(?i)" + pat
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return types.Datum{}, pgerror.Wrapf(err, pgerror.CodeInvalidParameterValue, "invalid regular expression")
	}
	return types.NewBool(re.MatchString(formatText(d)) != e.Not), nil
}

// When is one WHEN arm of a CASE.
type When struct{ Cond, Result Expr }

// Case is CASE [Operand] WHEN ... THEN ... [ELSE ...] END.
type Case struct {
	Operand Expr
	Whens   []When
	Else    Expr
	T       types.OID
}

func (e *Case) Type() types.OID { return e.T }
func (e *Case) String() string {
	var sb strings.Builder
	sb.WriteString("CASE")
	if e.Operand != nil {
		sb.WriteString(" " + e.Operand.String())
	}
	for _, w := range e.Whens {
		sb.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Result.String())
	}
	if e.Else != nil {
		sb.WriteString(" ELSE " + e.Else.String())
	}
	sb.WriteString(" END")
	return sb.String()
}
func (e *Case) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	var op types.Datum
	if e.Operand != nil {
		var err error
		if op, err = e.Operand.Eval(ec, row); err != nil {
			return op, err
		}
	}
	for _, w := range e.Whens {
		c, err := w.Cond.Eval(ec, row)
		if err != nil {
			return c, err
		}
		match := false
		if e.Operand != nil {
			match = !op.Null && !c.Null && Compare(op, c) == 0
		} else {
			match = IsTrue(c)
		}
		if match {
			r, err := w.Result.Eval(ec, row)
			if err != nil {
				return r, err
			}
			return implicitCoerce(r, e.T)
		}
	}
	if e.Else == nil {
		return types.NullOf(e.T), nil
	}
	r, err := e.Else.Eval(ec, row)
	if err != nil {
		return r, err
	}
	return implicitCoerce(r, e.T)
}

// Cast is E::To.
type Cast struct {
	E  Expr
	To types.OID
}

func (e *Cast) Type() types.OID { return e.To }
func (e *Cast) String() string  { return e.E.String() + "::" + typeName(e.To) }
func (e *Cast) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	d, err := e.E.Eval(ec, row)
	if err != nil {
		return d, err
	}
	return castDatum(d, e.To)
}

// Func is a call of a scalar function from the registry.
type Func struct {
	Name string
	Args []Expr
	T    types.OID
	fn   *funcDef
	buf  int // number of args
}

func (e *Func) Type() types.OID { return e.T }
func (e *Func) String() string {
	parts := make([]string, len(e.Args))
	for i, a := range e.Args {
		parts[i] = a.String()
	}
	return e.Name + "(" + strings.Join(parts, ", ") + ")"
}
func (e *Func) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	var small [4]types.Datum
	args := small[:0]
	if len(e.Args) > len(small) {
		args = make([]types.Datum, 0, len(e.Args))
	}
	for _, a := range e.Args {
		d, err := a.Eval(ec, row)
		if err != nil {
			return d, err
		}
		if d.Null && e.fn.strict {
			return types.NullOf(e.T), nil
		}
		args = append(args, d)
	}
	if e.fn.evalCtx != nil {
		return e.fn.evalCtx(ec, e, args)
	}
	return e.fn.eval(e, args)
}

// AggCall is an aggregate function call. It only appears in the aggregate
// lists of an Aggregate node; expressions above the aggregate read its result
// through a ColRef.
type AggCall struct {
	Name     string // count, sum, avg, min, max, first, last, ...
	Args     []Expr // empty for count(*)
	Distinct bool
	T        types.OID // result type
}

func (e *AggCall) Type() types.OID { return e.T }
func (e *AggCall) String() string {
	if len(e.Args) == 0 {
		return e.Name + "(*)"
	}
	parts := make([]string, len(e.Args))
	for i, a := range e.Args {
		parts[i] = a.String()
	}
	d := ""
	if e.Distinct {
		d = "DISTINCT "
	}
	return e.Name + "(" + d + strings.Join(parts, ", ") + ")"
}
func (e *AggCall) Eval(*EvalContext, []types.Datum) (types.Datum, error) {
	return types.Datum{}, pgerror.New(pgerror.CodeGroupingError, "aggregate functions are not allowed here")
}

// walkExpr calls f on e and its children, depth first (pre-order); f
// returning false skips the children.
func walkExpr(e Expr, f func(Expr) bool) {
	if e == nil || !f(e) {
		return
	}
	for _, c := range exprChildren(e) {
		walkExpr(c, f)
	}
}

func exprChildren(e Expr) []Expr {
	switch x := e.(type) {
	case *BinOp:
		return []Expr{x.L, x.R}
	case *Neg:
		return []Expr{x.E}
	case *Not:
		return []Expr{x.E}
	case *And:
		return x.Args
	case *Or:
		return x.Args
	case *IsNull:
		return []Expr{x.E}
	case *IsTruth:
		return []Expr{x.E}
	case *InList:
		return append([]Expr{x.E}, x.List...)
	case *InSubquery:
		return []Expr{x.E}
	case *Like:
		return []Expr{x.E, x.Pattern}
	case *Regex:
		return []Expr{x.E, x.Pattern}
	case *Case:
		var out []Expr
		if x.Operand != nil {
			out = append(out, x.Operand)
		}
		for _, w := range x.Whens {
			out = append(out, w.Cond, w.Result)
		}
		if x.Else != nil {
			out = append(out, x.Else)
		}
		return out
	case *Cast:
		return []Expr{x.E}
	case *Func:
		return x.Args
	case *AggCall:
		return x.Args
	case *WinCall:
		return x.children()
	case *AnyArray:
		return []Expr{x.E, x.Arr}
	case *Subscript:
		return []Expr{x.Arr, x.Index}
	}
	return nil
}

// mapExpr rebuilds e bottom-up, replacing every node for which f returns a
// non-nil expression (f is tried top-down first; a replaced node's children
// are not visited).
func mapExpr(e Expr, f func(Expr) (Expr, error)) (Expr, error) {
	if e == nil {
		return nil, nil
	}
	r, err := f(e)
	if err != nil || r != nil {
		return r, err
	}
	m := func(c Expr) (Expr, error) { return mapExpr(c, f) }
	switch x := e.(type) {
	case *BinOp:
		l, err := m(x.L)
		if err != nil {
			return nil, err
		}
		rr, err := m(x.R)
		if err != nil {
			return nil, err
		}
		return &BinOp{Op: x.Op, L: l, R: rr, T: x.T}, nil
	case *Neg:
		c, err := m(x.E)
		return &Neg{E: c}, err
	case *Not:
		c, err := m(x.E)
		return &Not{E: c}, err
	case *And:
		args, err := mapExprs(x.Args, f)
		return &And{Args: args}, err
	case *Or:
		args, err := mapExprs(x.Args, f)
		return &Or{Args: args}, err
	case *IsNull:
		c, err := m(x.E)
		return &IsNull{E: c, Not: x.Not}, err
	case *IsTruth:
		c, err := m(x.E)
		return &IsTruth{E: c, Not: x.Not, True: x.True}, err
	case *InList:
		c, err := m(x.E)
		if err != nil {
			return nil, err
		}
		list, err := mapExprs(x.List, f)
		if err != nil {
			return nil, err
		}
		return newInList(c, list, x.Not), nil
	case *InSubquery:
		c, err := m(x.E)
		return &InSubquery{E: c, Sub: x.Sub, Not: x.Not}, err
	case *Like:
		c, err := m(x.E)
		if err != nil {
			return nil, err
		}
		p, err := m(x.Pattern)
		return &Like{E: c, Pattern: p, Not: x.Not, ILike: x.ILike, re: x.re}, err
	case *Regex:
		c, err := m(x.E)
		if err != nil {
			return nil, err
		}
		p, err := m(x.Pattern)
		return &Regex{E: c, Pattern: p, Not: x.Not, ICase: x.ICase}, err
	case *Case:
		out := &Case{T: x.T}
		if out.Operand, err = m(x.Operand); err != nil {
			return nil, err
		}
		for _, w := range x.Whens {
			c, err := m(w.Cond)
			if err != nil {
				return nil, err
			}
			rr, err := m(w.Result)
			if err != nil {
				return nil, err
			}
			out.Whens = append(out.Whens, When{c, rr})
		}
		out.Else, err = m(x.Else)
		return out, err
	case *Cast:
		c, err := m(x.E)
		return &Cast{E: c, To: x.To}, err
	case *Func:
		args, err := mapExprs(x.Args, f)
		return &Func{Name: x.Name, Args: args, T: x.T, fn: x.fn}, err
	case *AggCall:
		args, err := mapExprs(x.Args, f)
		return &AggCall{Name: x.Name, Args: args, Distinct: x.Distinct, T: x.T}, err
	case *Subscript:
		a, err := m(x.Arr)
		if err != nil {
			return nil, err
		}
		i, err := m(x.Index)
		return &Subscript{Arr: a, Index: i, T: x.T}, err
	case *AnyArray:
		c, err := m(x.E)
		if err != nil {
			return nil, err
		}
		a, err := m(x.Arr)
		return &AnyArray{E: c, Arr: a, Not: x.Not}, err
	case *WinCall:
		w := &WinCall{Name: x.Name}
		if w.Partition, err = mapExprs(x.Partition, f); err != nil {
			return nil, err
		}
		for _, o := range x.Order {
			e, err := m(o.E)
			if err != nil {
				return nil, err
			}
			w.Order = append(w.Order, WinOrder{E: e, Desc: o.Desc, NullsFirst: o.NullsFirst})
		}
		return w, nil
	}
	return e, nil
}

func mapExprs(es []Expr, f func(Expr) (Expr, error)) ([]Expr, error) {
	out := make([]Expr, len(es))
	for i, e := range es {
		r, err := mapExpr(e, f)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// colsUsed adds the column indexes e reads to set.
func colsUsed(e Expr, set map[int]bool) {
	walkExpr(e, func(x Expr) bool {
		if c, ok := x.(*ColRef); ok {
			set[c.Idx] = true
		}
		return true
	})
}

// isConstExpr reports whether e reads no column and no subquery and calls
// no volatile function (it can be folded at build time).
func isConstExpr(e Expr) bool {
	ok := true
	walkExpr(e, func(x Expr) bool {
		switch f := x.(type) {
		case *ColRef, *InSubquery, *ScalarSubquery, *AggCall, *ParamRef:
			ok = false
		case *Func:
			if f.fn.volatile {
				ok = false
			}
		}
		return ok
	})
	return ok
}
