package planner

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// This file is the scalar function registry. To add a function, add an entry
// to builtins: its arity, result type rule and evaluator. Functions that
// depend on the session (now(), current_setting()) fold to constants at
// build time through env.

type funcDef struct {
	strict   bool // any NULL argument yields NULL without calling eval
	volatile bool // never folded at build time
	min, max int  // arity; max < 0: variadic
	ret      func(args []Expr) types.OID
	eval     func(e *Func, a []types.Datum) (types.Datum, error)
	// evalCtx replaces eval for functions that need the run's
	// EvalContext (pg_sleep); such functions must be volatile.
	evalCtx func(ec *EvalContext, e *Func, a []types.Datum) (types.Datum, error)
	env     func(env *Env, args []Expr) (Expr, error)
}

func fixed(t types.OID) func([]Expr) types.OID { return func([]Expr) types.OID { return t } }

func firstArgType(args []Expr) types.OID {
	if len(args) == 0 {
		return types.Unknown
	}
	return args[0].Type()
}

// floatOrNumeric: numeric stays numeric, anything else becomes float8
// (PostgreSQL's preferred numeric type for int arguments).
func floatOrNumeric(args []Expr) types.OID {
	if firstArgType(args) == types.Numeric {
		return types.Numeric
	}
	return types.Float8
}

// commonType is the result type of COALESCE/GREATEST/CASE branches.
func commonType(ts []types.OID) types.OID {
	var out types.OID
	for _, t := range ts {
		switch {
		case t == types.Unknown || t == types.UnknownLit:
		case out == types.Unknown:
			out = t
		case isNumberType(out) && isNumberType(t):
			if numRank(t) > numRank(out) {
				out = t
			}
		case out == types.Text && t != types.Text && !isStringType(t):
			out = t
		case out == types.Timestamp && t == types.Timestamptz:
			out = t
		}
	}
	if out == types.Unknown {
		return types.Text
	}
	return out
}

func argTypes(args []Expr) []types.OID {
	ts := make([]types.OID, len(args))
	for i, a := range args {
		ts[i] = a.Type()
		if untyped(a) {
			ts[i] = types.Unknown
		}
	}
	return ts
}

func constFold(d types.Datum) (Expr, error) { return &Const{D: d}, nil }

func textArg(env *Env, args []Expr, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	c, ok := args[i].(*Const)
	if !ok || c.D.Null {
		return "", false
	}
	return formatText(c.D), true
}

var builtins = map[string]*funcDef{
	// Session and server information.
	"now":                   {env: func(env *Env, _ []Expr) (Expr, error) { return constFold(types.NewTimestamptz(env.Now)) }, ret: fixed(types.Timestamptz)},
	"current_timestamp":     {env: func(env *Env, _ []Expr) (Expr, error) { return constFold(types.NewTimestamptz(env.Now)) }, ret: fixed(types.Timestamptz), max: 1},
	"transaction_timestamp": {env: func(env *Env, _ []Expr) (Expr, error) { return constFold(types.NewTimestamptz(env.Now)) }, ret: fixed(types.Timestamptz)},
	"statement_timestamp":   {env: func(env *Env, _ []Expr) (Expr, error) { return constFold(types.NewTimestamptz(env.Now)) }, ret: fixed(types.Timestamptz)},
	"clock_timestamp":       {env: func(env *Env, _ []Expr) (Expr, error) { return constFold(types.NewTimestamptz(env.Now)) }, ret: fixed(types.Timestamptz)},
	"localtimestamp":        {env: func(env *Env, _ []Expr) (Expr, error) { return constFold(types.NewTimestamp(env.Now)) }, ret: fixed(types.Timestamp), max: 1},
	"current_date": {env: func(env *Env, _ []Expr) (Expr, error) {
		return constFold(types.Datum{T: types.Date, I: floorDivI(env.Now, usPerDay)})
	}, ret: fixed(types.Date)},
	"current_setting": {min: 1, max: 2, ret: fixed(types.Text), env: func(env *Env, args []Expr) (Expr, error) {
		name, ok := textArg(env, args, 0)
		if !ok {
			return nil, pgerror.Unsupported("current_setting() with a non-constant name")
		}
		if env.Setting != nil {
			if v, ok := env.Setting(strings.ToLower(name)); ok {
				return constFold(types.NewText(v))
			}
		}
		if v, ok := defaultSetting(strings.ToLower(name)); ok {
			return constFold(types.NewText(v))
		}
		if ok, _ := textArg(env, args, 1); ok == "true" || ok == "t" {
			return constFold(types.NullOf(types.Text))
		}
		return nil, pgerror.Newf(pgerror.CodeUndefinedObject, "unrecognized configuration parameter %q", name)
	}},
	"version": {ret: fixed(types.Text), env: func(*Env, []Expr) (Expr, error) {
		return constFold(types.NewText("PostgreSQL 15.0 (Longboat) on x86_64-pc-linux-gnu, compiled by Go, 64-bit"))
	}},
	"current_database": {ret: fixed(types.Name), env: func(env *Env, _ []Expr) (Expr, error) {
		return constFold(types.Datum{T: types.Name, S: env.Database})
	}},
	"current_catalog": {ret: fixed(types.Name), env: func(env *Env, _ []Expr) (Expr, error) {
		return constFold(types.Datum{T: types.Name, S: env.Database})
	}},
	"current_schema": {ret: fixed(types.Name), env: func(*Env, []Expr) (Expr, error) {
		return constFold(types.Datum{T: types.Name, S: "public"})
	}},
	"current_user":      {ret: fixed(types.Name), env: userFold},
	"__lb_current_user": {ret: fixed(types.Name), env: userFold},
	"session_user":      {ret: fixed(types.Name), env: userFold},
	"current_role":      {ret: fixed(types.Name), env: userFold},
	"user":              {ret: fixed(types.Name), env: userFold},
	"pg_backend_pid": {ret: fixed(types.Int4), env: func(*Env, []Expr) (Expr, error) {
		return constFold(types.NewInt(types.Int4, 0))
	}},
	"pg_postmaster_start_time": {ret: fixed(types.Timestamptz), env: func(env *Env, _ []Expr) (Expr, error) { return constFold(types.NewTimestamptz(env.Now)) }},
	"pg_get_userbyid": {min: 1, max: 1, strict: true, ret: fixed(types.Name), eval: func(_ *Func, a []types.Datum) (types.Datum, error) {
		return types.Datum{T: types.Name, S: "longboat"}, nil
	}},
	"pg_table_is_visible": {min: 1, max: 1, strict: true, ret: fixed(types.Bool), eval: func(*Func, []types.Datum) (types.Datum, error) { return types.NewBool(true), nil }},
	"pg_encoding_to_char": {min: 1, max: 1, strict: true, ret: fixed(types.Name), eval: func(*Func, []types.Datum) (types.Datum, error) {
		return types.Datum{T: types.Name, S: "UTF8"}, nil
	}},
	"quote_ident": {min: 1, max: 1, strict: true, ret: fixed(types.Text), eval: func(_ *Func, a []types.Datum) (types.Datum, error) {
		return types.NewText(quoteIdent(formatText(a[0]))), nil
	}},
	"pg_typeof": {min: 1, max: 1, ret: fixed(types.Text), eval: func(e *Func, _ []types.Datum) (types.Datum, error) {
		return types.NewText(typeName(e.Args[0].Type())), nil
	}},
	"pg_sleep": {min: 1, max: 1, strict: true, volatile: true, ret: fixed(types.Void), evalCtx: evalSleep},

	// Time.
	"time_bucket":  {min: 2, max: 3, strict: true, ret: secondArgTime, eval: evalTimeBucket},
	"date_bin":     {min: 3, max: 3, strict: true, ret: secondArgTime, eval: evalDateBin},
	"date_trunc":   {min: 2, max: 3, strict: true, ret: secondArgTime, eval: evalDateTrunc},
	"to_timestamp": {min: 1, max: 1, strict: true, ret: fixed(types.Timestamptz), eval: evalToTimestamp},
	"__lb_extract": {min: 2, max: 2, strict: true, ret: fixed(types.Numeric), eval: func(_ *Func, a []types.Datum) (types.Datum, error) {
		return extract(formatText(a[0]), a[1], true)
	}},
	"date_part": {min: 2, max: 2, strict: true, ret: fixed(types.Float8), eval: func(_ *Func, a []types.Datum) (types.Datum, error) {
		return extract(formatText(a[0]), a[1], false)
	}},
	"__lb_at_time_zone": {min: 2, max: 2, strict: true, ret: atTimeZoneType, eval: evalAtTimeZone},

	// Math.
	"floor":   {min: 1, max: 1, strict: true, ret: floatOrNumeric, eval: mathRound("floor")},
	"ceil":    {min: 1, max: 1, strict: true, ret: floatOrNumeric, eval: mathRound("ceil")},
	"ceiling": {min: 1, max: 1, strict: true, ret: floatOrNumeric, eval: mathRound("ceil")},
	"trunc":   {min: 1, max: 2, strict: true, ret: floatOrNumeric, eval: mathRound("trunc")},
	"round":   {min: 1, max: 2, strict: true, ret: floatOrNumeric, eval: mathRound("round")},
	"abs": {min: 1, max: 1, strict: true, ret: firstArgType, eval: func(_ *Func, a []types.Datum) (types.Datum, error) {
		d := a[0]
		switch {
		case isIntType(d.T):
			if d.I < 0 {
				d.I = -d.I
			}
		case isFloatType(d.T):
			d.F = math.Abs(d.F)
		case d.T == types.Numeric:
			d.S = strings.TrimPrefix(d.S, "-")
		}
		return d, nil
	}},
	"sqrt":  {min: 1, max: 1, strict: true, ret: fixed(types.Float8), eval: mathF(math.Sqrt)},
	"exp":   {min: 1, max: 1, strict: true, ret: fixed(types.Float8), eval: mathF(math.Exp)},
	"ln":    {min: 1, max: 1, strict: true, ret: fixed(types.Float8), eval: mathF(math.Log)},
	"log10": {min: 1, max: 1, strict: true, ret: fixed(types.Float8), eval: mathF(math.Log10)},
	"log":   {min: 1, max: 1, strict: true, ret: fixed(types.Float8), eval: mathF(math.Log10)},
	"sign":  {min: 1, max: 1, strict: true, ret: fixed(types.Float8), eval: mathF(func(f float64) float64 { return float64(cmpFloat(f, 0)) })},
	"power": {min: 2, max: 2, strict: true, ret: fixed(types.Float8), eval: mathF2(math.Pow)},
	"pow":   {min: 2, max: 2, strict: true, ret: fixed(types.Float8), eval: mathF2(math.Pow)},
	"mod": {min: 2, max: 2, strict: true, ret: func(args []Expr) types.OID { return arithType(OpMod, args[0].Type(), args[1].Type()) },
		eval: func(e *Func, a []types.Datum) (types.Datum, error) { return arith(OpMod, a[0], a[1], e.T) }},
	"pi": {ret: fixed(types.Float8), eval: func(*Func, []types.Datum) (types.Datum, error) { return types.NewFloat8(math.Pi), nil }},

	// Conditionals (not strict).
	"coalesce": {min: 1, max: -1, ret: func(args []Expr) types.OID { return commonType(argTypes(args)) }, eval: func(e *Func, a []types.Datum) (types.Datum, error) {
		for _, d := range a {
			if !d.Null {
				return implicitCoerce(d, e.T)
			}
		}
		return types.NullOf(e.T), nil
	}},
	"ifnull": {min: 2, max: 2, ret: func(args []Expr) types.OID { return commonType(argTypes(args)) }, eval: func(e *Func, a []types.Datum) (types.Datum, error) {
		for _, d := range a {
			if !d.Null {
				return implicitCoerce(d, e.T)
			}
		}
		return types.NullOf(e.T), nil
	}},
	"nullif": {min: 2, max: 2, ret: firstArgType, eval: func(e *Func, a []types.Datum) (types.Datum, error) {
		if !a[0].Null && !a[1].Null && Compare(a[0], a[1]) == 0 {
			return types.NullOf(e.T), nil
		}
		return a[0], nil
	}},
	"greatest": {min: 1, max: -1, ret: func(args []Expr) types.OID { return commonType(argTypes(args)) }, eval: extremum(1)},
	"least":    {min: 1, max: -1, ret: func(args []Expr) types.OID { return commonType(argTypes(args)) }, eval: extremum(-1)},

	// Strings.
	"lower":       {min: 1, max: 1, strict: true, ret: fixed(types.Text), eval: strFn(strings.ToLower)},
	"upper":       {min: 1, max: 1, strict: true, ret: fixed(types.Text), eval: strFn(strings.ToUpper)},
	"length":      {min: 1, max: 1, strict: true, ret: fixed(types.Int4), eval: strLen},
	"char_length": {min: 1, max: 1, strict: true, ret: fixed(types.Int4), eval: strLen},
	"concat": {max: -1, ret: fixed(types.Text), eval: func(_ *Func, a []types.Datum) (types.Datum, error) {
		var sb strings.Builder
		for _, d := range a {
			if !d.Null {
				sb.WriteString(formatText(d))
			}
		}
		return types.NewText(sb.String()), nil
	}},
	"substring": {min: 2, max: 3, strict: true, ret: fixed(types.Text), eval: evalSubstr},
	"substr":    {min: 2, max: 3, strict: true, ret: fixed(types.Text), eval: evalSubstr},
	"replace": {min: 3, max: 3, strict: true, ret: fixed(types.Text), eval: func(_ *Func, a []types.Datum) (types.Datum, error) {
		return types.NewText(strings.ReplaceAll(formatText(a[0]), formatText(a[1]), formatText(a[2]))), nil
	}},
	"left": {min: 2, max: 2, strict: true, ret: fixed(types.Text), eval: func(_ *Func, a []types.Datum) (types.Datum, error) {
		r := []rune(formatText(a[0]))
		n := int(a[1].I)
		if n < 0 {
			n = max(len(r)+n, 0)
		}
		return types.NewText(string(r[:min(n, len(r))])), nil
	}},
	"right": {min: 2, max: 2, strict: true, ret: fixed(types.Text), eval: func(_ *Func, a []types.Datum) (types.Datum, error) {
		r := []rune(formatText(a[0]))
		n := int(a[1].I)
		if n < 0 {
			n = max(len(r)+n, 0)
		}
		n = min(n, len(r))
		return types.NewText(string(r[len(r)-n:])), nil
	}},
	"btrim": {min: 1, max: 2, strict: true, ret: fixed(types.Text), eval: trimFn(strings.Trim)},
	"trim":  {min: 1, max: 2, strict: true, ret: fixed(types.Text), eval: trimFn(strings.Trim)},
	"ltrim": {min: 1, max: 2, strict: true, ret: fixed(types.Text), eval: trimFn(strings.TrimLeft)},
	"rtrim": {min: 1, max: 2, strict: true, ret: fixed(types.Text), eval: trimFn(strings.TrimRight)},
	"strpos": {min: 2, max: 2, strict: true, ret: fixed(types.Int4), eval: func(_ *Func, a []types.Datum) (types.Datum, error) {
		s, sub := formatText(a[0]), formatText(a[1])
		i := strings.Index(s, sub)
		if i < 0 {
			return types.NewInt(types.Int4, 0), nil
		}
		return types.NewInt(types.Int4, int64(utf8.RuneCountInString(s[:i])+1)), nil
	}},
	"split_part": {min: 3, max: 3, strict: true, ret: fixed(types.Text), eval: func(_ *Func, a []types.Datum) (types.Datum, error) {
		parts := strings.Split(formatText(a[0]), formatText(a[1]))
		n := int(a[2].I)
		if n < 0 {
			n = len(parts) + n + 1
		}
		if n < 1 || n > len(parts) {
			return types.NewText(""), nil
		}
		return types.NewText(parts[n-1]), nil
	}},
}

// evalSleep is pg_sleep(seconds double precision) returns void: it waits
// through the executor's EvalContext.Sleep, so that a cancelled statement
// (CancelRequest, statement timeout, disconnect) stops sleeping at once.
// Zero, negative and NaN durations return at once, as in PostgreSQL; +Inf and
// durations beyond time.Duration's range sleep until cancelled.
func evalSleep(ec *EvalContext, _ *Func, a []types.Datum) (types.Datum, error) {
	if ec == nil || ec.Sleep == nil {
		return types.Datum{}, pgerror.Unsupported("pg_sleep() outside of a query")
	}
	secs := floatOf(a[0])
	var d time.Duration
	switch {
	case math.IsNaN(secs) || secs <= 0:
	case secs >= float64(math.MaxInt64)/float64(time.Second):
		d = time.Duration(math.MaxInt64)
	default:
		d = time.Duration(secs * float64(time.Second))
	}
	if d > 0 {
		if err := ec.Sleep(d); err != nil {
			return types.Datum{}, err
		}
	}
	return types.Datum{T: types.Void}, nil
}

func userFold(env *Env, _ []Expr) (Expr, error) {
	return constFold(types.Datum{T: types.Name, S: env.User})
}

func defaultSetting(name string) (string, bool) {
	switch name {
	case "server_version":
		return "15.0", true
	case "server_version_num":
		return "150000", true
	case "timezone":
		return "UTC", true
	case "datestyle":
		return "ISO, MDY", true
	case "search_path":
		return `"$user", public`, true
	case "server_encoding", "client_encoding":
		return "UTF8", true
	case "standard_conforming_strings":
		return "on", true
	case "integer_datetimes":
		return "on", true
	case "max_identifier_length":
		return "63", true
	case "transaction_isolation", "default_transaction_isolation":
		return "read committed", true
	}
	return "", false
}

func quoteIdent(s string) string {
	safe := s != ""
	for i, c := range s {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func secondArgTime(args []Expr) types.OID {
	if len(args) > 1 {
		if t := args[1].Type(); t == types.Timestamp || t == types.Date {
			return types.Timestamp
		}
	}
	return types.Timestamptz
}

func atTimeZoneType(args []Expr) types.OID {
	if firstArgType(args) == types.Timestamptz {
		return types.Timestamp
	}
	return types.Timestamptz
}

func evalAtTimeZone(e *Func, a []types.Datum) (types.Datum, error) {
	z := strings.ToUpper(formatText(a[1]))
	if z != "UTC" && z != "GMT" && z != "Z" && z != "+00" && z != "ETC/UTC" {
		return types.Datum{}, pgerror.Unsupported("AT TIME ZONE other than UTC")
	}
	return types.Datum{T: e.T, I: timeUs(a[0])}, nil
}

// intervalWidth returns the fixed width of an interval in µs, or false if it
// has months.
func intervalWidth(d types.Datum) (int64, bool) {
	m, days, us := d.IntervalParts()
	if m != 0 {
		return 0, false
	}
	return int64(days)*usPerDay + us, true
}

func evalTimeBucket(e *Func, a []types.Datum) (types.Datum, error) {
	iv, err := implicitCoerce(a[0], types.Interval)
	if err != nil {
		return iv, err
	}
	t := timeUs(a[1])
	m, _, _ := iv.IntervalParts()
	if m != 0 {
		_, days, us := iv.IntervalParts()
		if days != 0 || us != 0 {
			return types.Datum{}, pgerror.New(pgerror.CodeFeatureNotSupported, "month intervals cannot have day or time component")
		}
		origin := int64(timescaleMonthOrigin)
		if len(a) > 2 && isTimeType(a[2].T) {
			origin = timeUs(a[2])
		}
		return types.Datum{T: e.T, I: monthBucket(t, int64(m), origin)}, nil
	}
	w, _ := intervalWidth(iv)
	if w <= 0 {
		return types.Datum{}, pgerror.New(pgerror.CodeInvalidParameterValue, "interval must be greater than 0")
	}
	origin := int64(timescaleOrigin)
	if len(a) > 2 {
		if a[2].T == types.Interval {
			off, _ := intervalWidth(a[2])
			origin += off
		} else {
			origin = timeUs(a[2])
		}
	}
	return types.Datum{T: e.T, I: bucketStart(t, w, origin)}, nil
}

func monthBucket(t, months, origin int64) int64 {
	oy, om, _ := civil(floorDivI(origin, usPerDay))
	ty, tm, _ := civil(floorDivI(t, usPerDay))
	diff := (ty*12 + tm - 1) - (oy*12 + om - 1)
	b := floorDivI(diff, months) * months
	total := oy*12 + om - 1 + b
	y, m := floorDivI(total, 12), total-floorDivI(total, 12)*12+1
	return daysFrom(y, m, 1) * usPerDay
}

func evalDateBin(e *Func, a []types.Datum) (types.Datum, error) {
	iv, err := implicitCoerce(a[0], types.Interval)
	if err != nil {
		return iv, err
	}
	w, ok := intervalWidth(iv)
	if !ok {
		return types.Datum{}, pgerror.New(pgerror.CodeFeatureNotSupported, "timestamps cannot be binned into intervals containing months or years")
	}
	if w <= 0 {
		return types.Datum{}, pgerror.New(pgerror.CodeInvalidParameterValue, "stride must be greater than zero")
	}
	return types.Datum{T: e.T, I: bucketStart(timeUs(a[1]), w, timeUs(a[2]))}, nil
}

// truncUnitWidth returns the fixed width of a date_trunc unit (UTC), and the
// origin of its grid.
func truncUnitWidth(unit string) (w, origin int64, ok bool) {
	switch strings.ToLower(unit) {
	case "microsecond", "microseconds":
		return 1, 0, true
	case "millisecond", "milliseconds":
		return 1000, 0, true
	case "second", "seconds":
		return usPerSec, 0, true
	case "minute", "minutes":
		return 60 * usPerSec, 0, true
	case "hour", "hours":
		return 3600 * usPerSec, 0, true
	case "day", "days":
		return usPerDay, 0, true
	case "week", "weeks":
		return 7 * usPerDay, timescaleOrigin, true // Mondays
	}
	return 0, 0, false
}

func evalDateTrunc(e *Func, a []types.Datum) (types.Datum, error) {
	unit := strings.ToLower(formatText(a[0]))
	t := timeUs(a[1])
	if w, o, ok := truncUnitWidth(unit); ok {
		return types.Datum{T: e.T, I: bucketStart(t, w, o)}, nil
	}
	y, m, _ := civil(floorDivI(t, usPerDay))
	switch unit {
	case "month", "months":
	case "quarter":
		m = (m-1)/3*3 + 1
	case "year", "years":
		m = 1
	case "decade":
		y, m = floorDivI(y, 10)*10, 1
	case "century":
		y, m = floorDivI(y-1, 100)*100+1, 1
	case "millennium":
		y, m = floorDivI(y-1, 1000)*1000+1, 1
	default:
		return types.Datum{}, pgerror.Newf(pgerror.CodeInvalidParameterValue, "unit %q not recognized for type timestamp with time zone", unit)
	}
	return types.Datum{T: e.T, I: daysFrom(y, m, 1) * usPerDay}, nil
}

func evalToTimestamp(_ *Func, a []types.Datum) (types.Datum, error) {
	if !isNumberType(a[0].T) {
		return types.Datum{}, pgerror.Unsupported("to_timestamp(text, text)")
	}
	f := floatOf(a[0])
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return types.Datum{}, pgerror.New(pgerror.CodeDatetimeFieldOverflow, "timestamp out of range")
	}
	return types.NewTimestamptz(int64(math.Round(f * 1e6))), nil
}

// extract implements EXTRACT (numeric result) and date_part (float8).
func extract(field string, d types.Datum, asNumeric bool) (types.Datum, error) {
	field = strings.ToLower(field)
	// Result as µs-scaled integer with scale 6 where PostgreSQL keeps
	// fractions, or as an integer.
	var val int64
	scale := int32(0)
	switch d.T {
	case types.Interval:
		m, days, us := d.IntervalParts()
		switch field {
		case "epoch":
			val = (int64(m)/12*36525*usPerDay/100 + int64(m)%12*30*usPerDay + int64(days)*usPerDay + us)
			scale = 6
		case "year", "years":
			val = int64(m) / 12
		case "month", "months":
			val = int64(m) % 12
		case "day", "days":
			val = int64(days)
		case "hour", "hours":
			val = us / (3600 * usPerSec)
		case "minute", "minutes":
			val = us / (60 * usPerSec) % 60
		case "second", "seconds":
			val, scale = us%(60*usPerSec), 6
		default:
			return types.Datum{}, pgerror.Newf(pgerror.CodeInvalidParameterValue, "unit %q not supported for type interval", field)
		}
	default:
		if !isTimeType(d.T) {
			return types.Datum{}, pgerror.Newf(pgerror.CodeUndefinedFunction, "function extract(unknown, %s) does not exist", typeName(d.T))
		}
		t := timeUs(d)
		day := floorDivI(t, usPerDay)
		tod := t - day*usPerDay
		y, m, dd := civil(day)
		switch field {
		case "epoch":
			val = t
			scale = 6
			if d.T == types.Date {
				val, scale = t/usPerSec, 0
			}
		case "year":
			val = y
		case "month":
			val = m
		case "day":
			val = dd
		case "hour":
			val = tod / (3600 * usPerSec)
		case "minute":
			val = tod / (60 * usPerSec) % 60
		case "second":
			val, scale = tod%(60*usPerSec), 6
		case "millisecond", "milliseconds":
			val, scale = tod%(60*usPerSec), 3
		case "microsecond", "microseconds":
			val = tod % (60 * usPerSec)
		case "dow":
			val = (day%7 + 7 + 4) % 7 // 1970-01-01 was a Thursday
		case "isodow":
			val = (day%7+7+4)%7 + 0
			if val == 0 {
				val = 7
			}
		case "doy":
			val = day - daysFrom(y, 1, 1) + 1
		case "quarter":
			val = (m-1)/3 + 1
		case "week":
			val = isoWeek(day)
		case "decade":
			val = floorDivI(y, 10)
		case "century":
			val = floorDivI(y-1, 100) + 1
		default:
			return types.Datum{}, pgerror.Newf(pgerror.CodeInvalidParameterValue, "unit %q not recognized for type %s", field, typeName(d.T))
		}
		if d.T == types.Date && scale == 6 {
			// date has no time of day
			scale = 0
			val /= usPerSec
		}
	}
	if field == "millisecond" || field == "milliseconds" {
		// val is µs within the minute; PostgreSQL returns ms with scale 3.
		x := dec{scale: 3}
		x.v.SetInt64(val)
		if !asNumeric {
			return types.NewFloat8(float64(val) / 1000), nil
		}
		return numericDatum(&x), nil
	}
	if !asNumeric {
		f := float64(val)
		if scale == 6 {
			f /= 1e6
		}
		return types.NewFloat8(f), nil
	}
	x := dec{scale: scale}
	x.v.SetInt64(val)
	return numericDatum(&x), nil
}

func isoWeek(day int64) int64 {
	// ISO week: week with the year's first Thursday is week 1.
	dow := (day%7+7+3)%7 + 1 // Monday=1
	thursday := day - dow + 4
	y, _, _ := civil(thursday)
	return (thursday-daysFrom(y, 1, 1))/7 + 1
}

func mathRound(kind string) func(e *Func, a []types.Datum) (types.Datum, error) {
	return func(e *Func, a []types.Datum) (types.Datum, error) {
		digits := int64(0)
		if len(a) > 1 {
			digits = max(min(a[1].I, 1000), -1000)
		}
		if e.T == types.Numeric {
			x, err := decOf(a[0])
			if err != nil {
				return types.Datum{}, err
			}
			var r dec
			switch kind {
			case "floor":
				r = decFloor(&x)
			case "ceil":
				r = decCeil(&x)
			case "trunc":
				if digits < 0 {
					digits = 0
				}
				if int32(digits) >= x.scale {
					r = x.rescale(int32(digits))
				} else {
					r.v.Quo(&x.v, pow10(x.scale-int32(digits)))
					r.scale = int32(digits)
				}
			case "round":
				if digits < 0 {
					digits = 0
				}
				r = x.rescale(int32(digits))
			}
			return numericDatum(&r), nil
		}
		f := floatOf(a[0])
		p := math.Pow(10, float64(digits))
		switch kind {
		case "floor":
			f = math.Floor(f)
		case "ceil":
			f = math.Ceil(f)
		case "trunc":
			f = math.Trunc(f*p) / p
		case "round":
			if len(a) > 1 {
				f = math.Round(f*p) / p
			} else {
				f = math.RoundToEven(f)
			}
		}
		return types.NewFloat8(f), nil
	}
}

func mathF(fn func(float64) float64) func(*Func, []types.Datum) (types.Datum, error) {
	return func(_ *Func, a []types.Datum) (types.Datum, error) { return types.NewFloat8(fn(floatOf(a[0]))), nil }
}

func mathF2(fn func(float64, float64) float64) func(*Func, []types.Datum) (types.Datum, error) {
	return func(_ *Func, a []types.Datum) (types.Datum, error) {
		return types.NewFloat8(fn(floatOf(a[0]), floatOf(a[1]))), nil
	}
}

func extremum(sign int) func(*Func, []types.Datum) (types.Datum, error) {
	return func(e *Func, a []types.Datum) (types.Datum, error) {
		var best types.Datum
		found := false
		for _, d := range a {
			if d.Null {
				continue
			}
			if !found || Compare(d, best)*sign > 0 {
				best, found = d, true
			}
		}
		if !found {
			return types.NullOf(e.T), nil
		}
		return implicitCoerce(best, e.T)
	}
}

func strFn(fn func(string) string) func(*Func, []types.Datum) (types.Datum, error) {
	return func(_ *Func, a []types.Datum) (types.Datum, error) { return types.NewText(fn(formatText(a[0]))), nil }
}

func strLen(_ *Func, a []types.Datum) (types.Datum, error) {
	return types.NewInt(types.Int4, int64(utf8.RuneCountInString(formatText(a[0])))), nil
}

func trimFn(fn func(string, string) string) func(*Func, []types.Datum) (types.Datum, error) {
	return func(_ *Func, a []types.Datum) (types.Datum, error) {
		cut := " "
		if len(a) > 1 {
			cut = formatText(a[1])
		}
		return types.NewText(fn(formatText(a[0]), cut)), nil
	}
}

func evalSubstr(_ *Func, a []types.Datum) (types.Datum, error) {
	r := []rune(formatText(a[0]))
	start := a[1].I
	if !isIntType(a[1].T) {
		start, _ = strconv.ParseInt(formatText(a[1]), 10, 64)
	}
	end := int64(len(r)) + 1
	if len(a) > 2 {
		n := a[2].I
		if n < 0 {
			return types.Datum{}, pgerror.New(pgerror.CodeInvalidParameterValue, "negative substring length not allowed")
		}
		end = start + n
	}
	start = max(start, 1)
	end = min(end, int64(len(r))+1)
	if start >= end {
		return types.NewText(""), nil
	}
	return types.NewText(string(r[start-1 : end-1])), nil
}
