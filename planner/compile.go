package planner

import (
	"math"
	"strconv"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// scopeCol is one column visible to expressions.
type scopeCol struct {
	table  string // qualifier (alias or table name)
	name   string
	typ    types.OID
	col    Column
	hidden bool
}

// scope is the row layout expressions compile against.
type scope struct {
	cols []scopeCol
}

func scopeOf(qual string, cols []Column) *scope {
	sc := &scope{cols: make([]scopeCol, len(cols))}
	for i, c := range cols {
		sc.cols[i] = scopeCol{table: qual, name: c.Name, typ: c.Type, col: c}
	}
	return sc
}

func (sc *scope) resolve(table, name string) (int, error) {
	found := -1
	for i, c := range sc.cols {
		if c.name != name || (table != "" && c.table != table) {
			continue
		}
		if found >= 0 {
			return -1, pgerror.Newf(pgerror.CodeAmbiguousColumn, "column reference %q is ambiguous", name)
		}
		found = i
	}
	if found < 0 {
		return -1, pgerror.Wrap(&UndefinedColumnError{Table: table, Name: name}, pgerror.CodeUndefinedColumn)
	}
	return found, nil
}

func (sc *scope) has(name string) bool {
	for _, c := range sc.cols {
		if c.name == name {
			return true
		}
	}
	return false
}

// expr compiles an AST expression over sc. Aggregate calls compile to
// *AggCall nodes; callers that do not allow them check with hasAgg.
func (b *builder) expr(n ast.ExprNode, sc *scope) (Expr, error) {
	switch x := n.(type) {
	case *test_driver.ParamMarkerExpr:
		return b.param(x.Order + 1)
	case *test_driver.ValueExpr:
		return literal(x)
	case *ast.ColumnNameExpr:
		i, err := sc.resolve(x.Name.Table.O, x.Name.Name.O)
		if err != nil {
			return nil, err
		}
		return &ColRef{Idx: i, Name: sc.cols[i].name, T: sc.cols[i].typ}, nil
	case *ast.ParenthesesExpr:
		return b.expr(x.Expr, sc)
	case *ast.BinaryOperationExpr:
		l, err := b.expr(x.L, sc)
		if err != nil {
			return nil, err
		}
		r, err := b.expr(x.R, sc)
		if err != nil {
			return nil, err
		}
		return b.binary(x.Op, l, r)
	case *ast.UnaryOperationExpr:
		e, err := b.expr(x.V, sc)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case opcode.Minus:
			if c, ok := e.(*Const); ok && !c.D.Null {
				// Fold negative literals (keeps -9223372036854775808 exact).
				return foldConst(&Neg{E: e})
			}
			return &Neg{E: e}, nil
		case opcode.Plus:
			return e, nil
		case opcode.Not, opcode.Not2:
			e, err = b.coerce(e, types.Bool)
			return &Not{E: e}, err
		}
		return nil, pgerror.Unsupported("operator " + x.Op.String())
	case *ast.IsNullExpr:
		e, err := b.expr(x.Expr, sc)
		return &IsNull{E: e, Not: x.Not}, err
	case *ast.IsTruthExpr:
		e, err := b.expr(x.Expr, sc)
		return &IsTruth{E: e, Not: x.Not, True: x.True != 0}, err
	case *ast.BetweenExpr:
		e, err := b.expr(x.Expr, sc)
		if err != nil {
			return nil, err
		}
		lo, err := b.expr(x.Left, sc)
		if err != nil {
			return nil, err
		}
		hi, err := b.expr(x.Right, sc)
		if err != nil {
			return nil, err
		}
		if x.Not {
			a, err := b.binary(opcode.LT, e, lo)
			if err != nil {
				return nil, err
			}
			c, err := b.binary(opcode.GT, e, hi)
			return &Or{Args: []Expr{a, c}}, err
		}
		a, err := b.binary(opcode.GE, e, lo)
		if err != nil {
			return nil, err
		}
		c, err := b.binary(opcode.LE, e, hi)
		return &And{Args: []Expr{a, c}}, err
	case *ast.PatternInExpr:
		e, err := b.expr(x.Expr, sc)
		if err != nil {
			return nil, err
		}
		if x.Sel != nil {
			sq, ok := x.Sel.(*ast.SubqueryExpr)
			if !ok {
				return nil, pgerror.Unsupported("IN with this right-hand side")
			}
			id, _, err := b.subquery(sq, sc)
			if err != nil {
				return nil, err
			}
			return &InSubquery{E: e, Sub: id, Not: x.Not}, nil
		}
		list := make([]Expr, len(x.List))
		for i, it := range x.List {
			if list[i], err = b.expr(it, sc); err != nil {
				return nil, err
			}
		}
		return b.inList(e, list, x.Not)
	case *ast.PatternLikeOrIlikeExpr:
		e, err := b.expr(x.Expr, sc)
		if err != nil {
			return nil, err
		}
		p, err := b.expr(x.Pattern, sc)
		if err != nil {
			return nil, err
		}
		if p, err = b.coerce(p, types.Text); err != nil {
			return nil, err
		}
		lk := &Like{E: e, Pattern: p, Not: x.Not, ILike: !x.IsLike}
		if c, ok := p.(*Const); ok && !c.D.Null {
			if lk.re, err = likeRegexp(c.D.S, lk.ILike); err != nil {
				return nil, err
			}
		}
		return lk, nil
	case *ast.PatternRegexpExpr:
		e, err := b.expr(x.Expr, sc)
		if err != nil {
			return nil, err
		}
		p, err := b.expr(x.Pattern, sc)
		if err != nil {
			return nil, err
		}
		return &Regex{E: e, Pattern: p, Not: x.Not}, nil
	case *ast.CaseExpr:
		return b.caseExpr(x, sc)
	case *ast.FuncCallExpr:
		return b.funcCall(x, sc)
	case *ast.WindowFuncExpr:
		return b.winCall(x, sc)
	case *ast.AggregateFuncExpr:
		return b.aggCall(strings.ToLower(x.F), x.Args, x.Distinct, sc, false)
	case *ast.SubqueryExpr:
		id, node, err := b.subquery(x, sc)
		if err != nil {
			return nil, err
		}
		cols := node.Columns()
		if len(cols) != 1 {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "subquery must return only one column")
		}
		return &ScalarSubquery{Sub: id, T: cols[0].Type}, nil
	case *ast.CompareSubqueryExpr:
		if x.Op != opcode.EQ || x.All {
			return nil, pgerror.Unsupported("comparison with ANY/ALL (subquery) other than = ANY")
		}
		e, err := b.expr(x.L, sc)
		if err != nil {
			return nil, err
		}
		sq, ok := x.R.(*ast.SubqueryExpr)
		if !ok {
			return nil, pgerror.Unsupported("= ANY with this right-hand side")
		}
		id, _, err := b.subquery(sq, sc)
		if err != nil {
			return nil, err
		}
		return &InSubquery{E: e, Sub: id}, nil
	}
	return nil, pgerror.Unsupported(exprKind(n))
}

func exprKind(n ast.Node) string {
	s := strings.TrimPrefix(strings.TrimPrefix(typeString(n), "*ast."), "*test_driver.")
	return "expression " + s
}

func typeString(n any) string {
	switch n.(type) {
	case *ast.RowExpr:
		return "row constructor"
	case *ast.ExistsSubqueryExpr:
		return "EXISTS"
	case *ast.DefaultExpr:
		return "DEFAULT"
	case *ast.VariableExpr:
		return "variable"
	case *ast.FuncCastExpr:
		return "CAST"
	}
	return "of this kind"
}

// literal converts a parser literal. Strings are untyped (PostgreSQL's
// "unknown") until context gives them a type.
func literal(x *test_driver.ValueExpr) (Expr, error) {
	switch x.Kind() {
	case test_driver.KindNull:
		return &Const{D: types.Datum{T: types.UnknownLit, Null: true}}, nil
	case test_driver.KindInt64:
		v := x.GetInt64()
		if x.Type.GetFlag()&mysql.IsBooleanFlag != 0 {
			// TRUE / FALSE: the TiDB parser keeps them as 1 / 0 with this flag.
			return &Const{D: types.NewBool(v != 0)}, nil
		}
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return &Const{D: types.NewInt(types.Int4, v)}, nil
		}
		return &Const{D: types.NewInt(types.Int8, v)}, nil
	case test_driver.KindUint64:
		v := x.GetUint64()
		if v <= math.MaxInt32 {
			return &Const{D: types.NewInt(types.Int4, int64(v))}, nil
		}
		if v <= math.MaxInt64 {
			return &Const{D: types.NewInt(types.Int8, int64(v))}, nil
		}
		return &Const{D: types.Datum{T: types.Numeric, S: strconv.FormatUint(v, 10)}}, nil
	case test_driver.KindFloat32, test_driver.KindFloat64:
		d, err := decFromFloat(x.GetFloat64())
		if err != nil {
			return nil, err
		}
		return &Const{D: numericDatum(&d)}, nil
	case test_driver.KindMysqlDecimal:
		d, err := parseDec(x.GetMysqlDecimal().String())
		if err != nil {
			return nil, err
		}
		return &Const{D: numericDatum(&d)}, nil
	case test_driver.KindString, test_driver.KindBytes:
		return &Const{D: types.Datum{T: types.UnknownLit, S: x.GetString()}}, nil
	}
	return nil, pgerror.Unsupported("literal of this kind")
}

// param returns parameter $n: its value as a constant when executing, a
// ParamRef when describing.
func (b *builder) param(n int) (Expr, error) {
	if n < 1 || n > 65535 {
		return nil, pgerror.Newf(pgerror.CodeUndefinedParameter, "there is no parameter $%d", n)
	}
	for len(b.paramTypes) < n {
		b.paramTypes = append(b.paramTypes, 0)
	}
	if n <= len(b.env.ParamTypes) && b.env.ParamTypes[n-1] != 0 && b.paramTypes[n-1] == 0 {
		b.paramTypes[n-1] = b.env.ParamTypes[n-1]
	}
	declared := b.paramTypes[n-1]
	if b.env.Params == nil {
		return &ParamRef{N: n, T: declared}, nil
	}
	if n > len(b.env.Params) {
		return nil, pgerror.Newf(pgerror.CodeUndefinedParameter, "there is no parameter $%d", n)
	}
	d := b.env.Params[n-1]
	if d.T == types.Unknown || d.T == types.UnknownLit {
		d.T = types.UnknownLit
		if declared != 0 {
			v, err := castDatum(d, declared)
			if err != nil {
				return nil, err
			}
			return &Const{D: v, Param: n}, nil
		}
	}
	return &Const{D: d, Param: n}, nil
}

func (b *builder) noteParam(e Expr, t types.OID) {
	n := 0
	switch x := e.(type) {
	case *Const:
		n = x.Param
	case *ParamRef:
		n = x.N
	}
	if n > 0 && n <= len(b.paramTypes) && b.paramTypes[n-1] == 0 && t != types.UnknownLit {
		b.paramTypes[n-1] = t
	}
}

// coerce gives an untyped literal or parameter type t; a typed expression of
// another type gets a Cast only where PostgreSQL casts implicitly.
func (b *builder) coerce(e Expr, t types.OID) (Expr, error) {
	if t == types.Unknown || t == types.UnknownLit {
		return e, nil
	}
	switch x := e.(type) {
	case *Const:
		if x.D.T == types.UnknownLit || (x.Param > 0 && isStringType(x.D.T) && !isStringType(t)) {
			// An untyped literal, or a parameter the client sent as text
			// (declared text/varchar) used where another type is expected.
			b.noteParam(e, t)
			d, err := castDatum(x.D, t)
			if err != nil {
				return nil, err
			}
			return &Const{D: d, Param: x.Param}, nil
		}
	case *ParamRef:
		b.noteParam(e, t)
		if x.T == 0 {
			return &ParamRef{N: x.N, T: t}, nil
		}
		return e, nil
	}
	if e.Type() == t {
		return e, nil
	}
	if t == types.Bool && !isIntType(e.Type()) && e.Type() != types.Bool {
		return nil, pgerror.Newf(pgerror.CodeDatatypeMismatch, "argument of boolean expression must be type boolean, not type %s", typeName(e.Type()))
	}
	return e, nil
}

func isUntypedOrParam(e Expr) bool {
	switch x := e.(type) {
	case *Const:
		return x.D.T == types.UnknownLit || (x.Param > 0 && isStringType(x.D.T))
	case *ParamRef:
		return x.T == 0
	}
	return false
}

func (b *builder) binary(op opcode.Op, l, r Expr) (Expr, error) {
	switch op {
	case opcode.LogicAnd, opcode.LogicOr:
		var err error
		if l, err = b.coerce(l, types.Bool); err != nil {
			return nil, err
		}
		if r, err = b.coerce(r, types.Bool); err != nil {
			return nil, err
		}
		if op == opcode.LogicAnd {
			return &And{Args: flattenAnd([]Expr{l, r})}, nil
		}
		return &Or{Args: []Expr{l, r}}, nil
	case opcode.NullEQ:
		return nil, pgerror.Unsupported("operator <=>")
	}
	var o Op
	switch op {
	case opcode.EQ:
		o = OpEQ
	case opcode.NE:
		o = OpNE
	case opcode.LT:
		o = OpLT
	case opcode.LE:
		o = OpLE
	case opcode.GT:
		o = OpGT
	case opcode.GE:
		o = OpGE
	case opcode.Plus:
		o = OpAdd
	case opcode.Minus:
		o = OpSub
	case opcode.Mul:
		o = OpMul
	case opcode.Div, opcode.IntDiv:
		o = OpDiv
	case opcode.Mod:
		o = OpMod
	default:
		return nil, pgerror.Unsupported("operator " + op.String())
	}
	return b.binop(o, l, r)
}

// binop types a binary operator, coercing untyped operands.
func (b *builder) binop(o Op, l, r Expr) (Expr, error) {
	var err error
	lu, ru := isUntypedOrParam(l), isUntypedOrParam(r)
	switch {
	case lu && !ru:
		lt := r.Type()
		if !o.isCompare() && isTimeType(lt) {
			lt = types.Interval
			if o == OpSub && untyped(l) {
				lt = r.Type()
			}
		}
		if o == OpConcat {
			lt = types.Text
		}
		l, err = b.coerce(l, lt)
	case ru && !lu:
		rt := l.Type()
		if !o.isCompare() && (isTimeType(rt) || rt == types.Interval) {
			switch {
			case o == OpSub && isTimeType(rt):
				// ts - 'x': interval (an untyped literal never reads as a timestamp here)
				rt = types.Interval
			case o == OpAdd && isTimeType(rt):
				rt = types.Interval
			case rt == types.Interval && (o == OpMul || o == OpDiv):
				rt = types.Float8
			}
		}
		if o == OpConcat {
			rt = types.Text
		}
		r, err = b.coerce(r, rt)
	case lu && ru:
		if l, err = b.coerce(l, types.Text); err == nil {
			r, err = b.coerce(r, types.Text)
		}
	}
	if err != nil {
		return nil, err
	}
	if o.isCompare() {
		return foldConst(&BinOp{Op: o, L: l, R: r, T: types.Bool})
	}
	t := arithType(o, l.Type(), r.Type())
	if t == types.Unknown {
		return nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "operator does not exist: %s %s %s", typeName(l.Type()), o, typeName(r.Type()))
	}
	return foldConst(&BinOp{Op: o, L: l, R: r, T: t})
}

// arithType is the result type of an arithmetic operator (Unknown: none).
func arithType(o Op, lt, rt types.OID) types.OID {
	if o == OpConcat {
		return types.Text
	}
	switch {
	case isNumberType(lt) && isNumberType(rt):
		if numRank(lt) >= numRank(rt) {
			if lt == types.Oid {
				return types.Int8
			}
			return lt
		}
		return rt
	case isTimeType(lt) && rt == types.Interval && (o == OpAdd || o == OpSub):
		if lt == types.Date {
			return types.Timestamp
		}
		return lt
	case lt == types.Interval && isTimeType(rt) && o == OpAdd:
		if rt == types.Date {
			return types.Timestamp
		}
		return rt
	case isTimeType(lt) && isTimeType(rt) && o == OpSub:
		if lt == types.Date && rt == types.Date {
			return types.Unknown
		}
		return types.Interval
	case lt == types.Date && isIntType(rt) && (o == OpAdd || o == OpSub):
		return types.Date
	case lt == types.Interval && rt == types.Interval && (o == OpAdd || o == OpSub):
		return types.Interval
	case lt == types.Interval && isNumberType(rt) && (o == OpMul || o == OpDiv):
		return types.Interval
	case isNumberType(lt) && rt == types.Interval && o == OpMul:
		return types.Interval
	case (isStringType(lt) || isStringType(rt)) && o == OpConcat:
		return types.Text
	}
	return types.Unknown
}

// foldConst evaluates an expression whose operands are all constants.
func foldConst(e Expr) (Expr, error) {
	for _, c := range exprChildren(e) {
		k, ok := c.(*Const)
		if !ok || k.D.T == types.UnknownLit {
			return e, nil
		}
	}
	if f, ok := e.(*Func); ok && (f.fn.volatile || f.fn.eval == nil) {
		return e, nil
	}
	d, err := e.Eval(nil, nil)
	if err != nil {
		return nil, err
	}
	return &Const{D: d}, nil
}

func flattenAnd(es []Expr) []Expr {
	var out []Expr
	for _, e := range es {
		if a, ok := e.(*And); ok {
			out = append(out, flattenAnd(a.Args)...)
			continue
		}
		out = append(out, e)
	}
	return out
}

// conjuncts splits e into its top-level AND terms.
func conjuncts(e Expr) []Expr {
	if e == nil {
		return nil
	}
	if a, ok := e.(*And); ok {
		return flattenAnd(a.Args)
	}
	return []Expr{e}
}

func andOf(es []Expr) Expr {
	switch len(es) {
	case 0:
		return nil
	case 1:
		return es[0]
	}
	return &And{Args: es}
}

func (b *builder) inList(e Expr, list []Expr, not bool) (Expr, error) {
	t := e.Type()
	if isUntypedOrParam(e) {
		t = commonType(argTypes(list))
		var err error
		if e, err = b.coerce(e, t); err != nil {
			return nil, err
		}
	}
	for i := range list {
		var err error
		if list[i], err = b.coerce(list[i], t); err != nil {
			return nil, err
		}
	}
	return newInList(e, list, not), nil
}

func (b *builder) caseExpr(x *ast.CaseExpr, sc *scope) (Expr, error) {
	c := &Case{}
	var err error
	if x.Value != nil {
		if c.Operand, err = b.expr(x.Value, sc); err != nil {
			return nil, err
		}
	}
	var results []Expr
	for _, w := range x.WhenClauses {
		cond, err := b.expr(w.Expr, sc)
		if err != nil {
			return nil, err
		}
		if c.Operand != nil {
			if cond, err = b.coerce(cond, c.Operand.Type()); err != nil {
				return nil, err
			}
		} else if cond, err = b.coerce(cond, types.Bool); err != nil {
			return nil, err
		}
		res, err := b.expr(w.Result, sc)
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, When{Cond: cond, Result: res})
		results = append(results, res)
	}
	if x.ElseClause != nil {
		if c.Else, err = b.expr(x.ElseClause, sc); err != nil {
			return nil, err
		}
		results = append(results, c.Else)
	}
	c.T = commonType(argTypes(results))
	for i := range c.Whens {
		if c.Whens[i].Result, err = b.coerce(c.Whens[i].Result, c.T); err != nil {
			return nil, err
		}
	}
	if c.Else != nil {
		if c.Else, err = b.coerce(c.Else, c.T); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func constText(e ast.ExprNode) (string, bool) {
	v, ok := e.(*test_driver.ValueExpr)
	if !ok || v.Kind() != test_driver.KindString {
		return "", false
	}
	return v.GetString(), true
}

func (b *builder) funcCall(x *ast.FuncCallExpr, sc *scope) (Expr, error) {
	name := strings.ToLower(x.FnName.O)
	if s := strings.ToLower(x.Schema.O); s != "" && s != "pg_catalog" {
		return nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s.%s does not exist", x.Schema.O, x.FnName.O)
	}
	switch name {
	case "__lb_param":
		if len(x.Args) == 1 {
			if v, ok := x.Args[0].(*test_driver.ValueExpr); ok && v.Kind() == test_driver.KindInt64 {
				return b.param(int(v.GetInt64()))
			}
		}
		return nil, pgerror.New(pgerror.CodeSyntaxError, "malformed parameter reference")
	case "__lb_cast":
		if len(x.Args) != 2 {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "malformed cast")
		}
		tn, ok := constText(x.Args[1])
		if !ok {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "malformed cast")
		}
		to, ok := types.OIDByName(tn)
		if !ok || to == types.Unknown {
			return nil, pgerror.Newf(pgerror.CodeUndefinedObject, "type %q does not exist", tn)
		}
		if s, ok := constText(x.Args[0]); ok && isRegclassName(tn) {
			return b.regclass(s)
		}
		if s, ok := constText(x.Args[0]); ok && strings.TrimPrefix(strings.ToLower(tn), "pg_catalog.") == "regproc" {
			// The catalog emulation keeps regproc columns (pg_type.typinput,
			// ...) as function names, as regprocout prints them: unqualified.
			return &Const{D: types.Datum{T: types.Name, S: strings.TrimPrefix(strings.TrimSpace(s), "pg_catalog.")}}, nil
		}
		e, err := b.expr(x.Args[0], sc)
		if err != nil {
			return nil, err
		}
		if isUntypedOrParam(e) {
			return b.coerce(e, to)
		}
		if e.Type() == to {
			return e, nil
		}
		return foldConst(&Cast{E: e, To: to})
	case "__lb_distinct_on":
		return nil, pgerror.New(pgerror.CodeSyntaxError, "DISTINCT ON must be the first select item")
	case "__lb_nulls":
		return nil, pgerror.New(pgerror.CodeSyntaxError, "NULLS FIRST/LAST outside ORDER BY")
	case "first", "last", "__lb_first", "__lb_last":
		return b.aggCall(strings.TrimPrefix(name, "__lb_"), x.Args, false, sc, true)
	case "bool_and", "bool_or", "every", "string_agg", "array_agg", "percentile_cont":
		return b.aggCall(name, x.Args, false, sc, true)
	case "__lb_any":
		if len(x.Args) == 3 {
			if op, ok := constText(x.Args[1]); ok && (op == "=" || op == "<>") {
				if arr, ok := x.Args[2].(*ast.FuncCallExpr); ok && strings.EqualFold(arr.FnName.O, "__lb_array") {
					e, err := b.expr(x.Args[0], sc)
					if err != nil {
						return nil, err
					}
					list := make([]Expr, len(arr.Args))
					for i, a := range arr.Args {
						if list[i], err = b.expr(a, sc); err != nil {
							return nil, err
						}
					}
					return b.inList(e, list, op == "<>")
				}
				e, err := b.expr(x.Args[0], sc)
				if err != nil {
					return nil, err
				}
				arr, err := b.expr(x.Args[2], sc)
				if err != nil {
					return nil, err
				}
				return b.anyArray(e, arr, op == "<>")
			}
		}
		return nil, pgerror.Unsupported("ANY/ALL with this right-hand side")
	case "__lb_subscript":
		if len(x.Args) != 2 {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "malformed subscript")
		}
		return b.subscript(x.Args[0], x.Args[1], sc)
	case "__lb_regex":
		// __lb_regex(x, op, pattern): op is ~, ~*, !~ or !~*.
		if len(x.Args) == 3 {
			if op, ok := constText(x.Args[1]); ok {
				e, err := b.expr(x.Args[0], sc)
				if err != nil {
					return nil, err
				}
				p, err := b.expr(x.Args[2], sc)
				if err != nil {
					return nil, err
				}
				if p, err = b.coerce(p, types.Text); err != nil {
					return nil, err
				}
				return &Regex{E: e, Pattern: p, Not: strings.HasPrefix(op, "!"), ICase: strings.HasSuffix(op, "*")}, nil
			}
		}
		return nil, pgerror.Unsupported("regular expression operator form")
	}
	if name == "concat" && len(x.Args) == 2 {
		// TiDB parses a || b as concat(a, b): give it ||'s semantics
		// (NULL in, NULL out). concat() with other arities keeps concat's.
		l, err := b.expr(x.Args[0], sc)
		if err != nil {
			return nil, err
		}
		r, err := b.expr(x.Args[1], sc)
		if err != nil {
			return nil, err
		}
		return b.binop(OpConcat, l, r)
	}
	def, ok := builtins[name]
	if !ok {
		if def, ok = b.externalFunc(name); !ok {
			return nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s does not exist", name)
		}
	}
	if len(x.Args) < def.min || (def.max >= 0 && len(x.Args) > max(def.max, def.min)) {
		return nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s with %d arguments does not exist", name, len(x.Args))
	}
	args := make([]Expr, len(x.Args))
	for i, a := range x.Args {
		var err error
		if args[i], err = b.expr(a, sc); err != nil {
			return nil, err
		}
		if isUntypedOrParam(args[i]) {
			want := types.OID(types.Text)
			if at, ok := funcArgTypes[name]; ok && i < len(at) && at[i] != 0 {
				want = at[i]
			} else if !untyped(args[i]) {
				want = 0
			}
			if args[i], err = b.coerce(args[i], want); err != nil {
				return nil, err
			}
		}
	}
	if def.env != nil {
		return def.env(b.env, args)
	}
	f := &Func{Name: name, Args: args, fn: def}
	f.T = def.ret(args)
	return foldConst(f)
}

func isRegclassName(tn string) bool {
	return strings.TrimPrefix(strings.ToLower(tn), "pg_catalog.") == "regclass"
}

// regclass is 'name'::regclass: the pg_class OID of a relation, through
// the catalog's RelationResolver. A number is taken as the OID itself.
// Identifiers fold as in SQL: unquoted parts to lower case, "quoted" kept.
func (b *builder) regclass(s string) (Expr, error) {
	if n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32); err == nil {
		return &Const{D: types.NewInt(types.Oid, int64(n))}, nil
	}
	var parts []string
	for _, p := range strings.Split(strings.TrimSpace(s), ".") {
		if len(p) >= 2 && p[0] == '"' && p[len(p)-1] == '"' {
			parts = append(parts, strings.ReplaceAll(p[1:len(p)-1], `""`, `"`))
		} else {
			parts = append(parts, strings.ToLower(strings.TrimSpace(p)))
		}
	}
	name := strings.Join(parts, ".")
	if rr, ok := b.cat.(RelationResolver); ok {
		if oid, ok := rr.RelationOID(name); ok {
			return &Const{D: types.NewInt(types.Oid, int64(oid))}, nil
		}
	}
	if len(parts) == 2 {
		return nil, undefinedRelation(parts[0], parts[1])
	}
	return nil, undefinedRelation("", name)
}

// externalFunc resolves a function the catalog provides (FuncCatalog).
func (b *builder) externalFunc(name string) (*funcDef, bool) {
	fc, ok := b.cat.(FuncCatalog)
	if !ok {
		return nil, false
	}
	ef, ok := fc.Function(name)
	if !ok || ef.Eval == nil {
		return nil, false
	}
	eval := ef.Eval
	return &funcDef{
		strict: ef.Strict,
		min:    ef.MinArgs,
		max:    ef.MaxArgs,
		ret:    fixed(ef.Result),
		eval:   func(_ *Func, a []types.Datum) (types.Datum, error) { return eval(a) },
	}, true
}

// funcArgTypes gives untyped literal arguments a type per function.
var funcArgTypes = map[string][]types.OID{
	"time_bucket":  {types.Interval, types.Timestamptz, types.Timestamptz},
	"date_bin":     {types.Interval, types.Timestamptz, types.Timestamptz},
	"date_trunc":   {types.Text, types.Timestamptz},
	"to_timestamp": {types.Float8},
	"pg_sleep":     {types.Float8},
	"__lb_extract": {types.Text, types.Timestamptz},
	"date_part":    {types.Text, types.Timestamptz},
	"round":        {types.Numeric, types.Int4},
	"trunc":        {types.Numeric, types.Int4},
	"floor":        {types.Float8},
	"ceil":         {types.Float8},
	"abs":          {types.Float8},
	"left":         {types.Text, types.Int4},
	"right":        {types.Text, types.Int4},
	"substring":    {types.Text, types.Int4, types.Int4},
	"substr":       {types.Text, types.Int4, types.Int4},
	"split_part":   {types.Text, types.Text, types.Int4},
}

// aggCall compiles an aggregate call.
func (b *builder) aggCall(name string, astArgs []ast.ExprNode, distinct bool, sc *scope, fromFunc bool) (Expr, error) {
	a := &AggCall{Name: name, Distinct: distinct}
	star := false
	if name == "count" && len(astArgs) == 1 && !distinct {
		if v, ok := astArgs[0].(*test_driver.ValueExpr); ok && v.Kind() == test_driver.KindInt64 && !fromFunc {
			// count(*) arrives as count(1); count(1) means the same.
			star = true
		}
	}
	if !star {
		for _, x := range astArgs {
			e, err := b.expr(x, sc)
			if err != nil {
				return nil, err
			}
			if hasAgg(e) {
				return nil, pgerror.New(pgerror.CodeGroupingError, "aggregate function calls cannot be nested")
			}
			if untyped(e) {
				if e, err = b.coerce(e, types.Text); err != nil {
					return nil, err
				}
			}
			a.Args = append(a.Args, e)
		}
	}
	t, err := aggResultType(name, a.Args)
	if err != nil {
		return nil, err
	}
	a.T = t
	return a, nil
}

// aggResultType applies PostgreSQL's aggregate result types.
func aggResultType(name string, args []Expr) (types.OID, error) {
	var at types.OID
	if len(args) > 0 {
		at = args[0].Type()
	}
	switch name {
	case "count":
		return types.Int8, nil
	case "sum":
		switch {
		case at == types.Int2 || at == types.Int4:
			return types.Int8, nil
		case at == types.Int8 || at == types.Numeric:
			return types.Numeric, nil
		case isFloatType(at) || at == types.Interval:
			return at, nil
		}
	case "avg":
		switch {
		case isIntType(at) || at == types.Numeric:
			return types.Numeric, nil
		case isFloatType(at):
			return types.Float8, nil
		case at == types.Interval:
			return types.Interval, nil
		}
	case "min", "max", "first", "last":
		if len(args) == 0 {
			break
		}
		if (name == "first" || name == "last") && len(args) > 2 {
			break
		}
		return at, nil
	case "bool_and", "bool_or", "every":
		return types.Bool, nil
	case "string_agg":
		return types.Text, nil
	case "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop", "std":
		if isFloatType(at) {
			return types.Float8, nil
		}
		if isNumberType(at) {
			return types.Numeric, nil
		}
	}
	return 0, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s(%s) does not exist", name, typeName(at))
}

func hasAgg(e Expr) bool {
	found := false
	walkExpr(e, func(x Expr) bool {
		if _, ok := x.(*AggCall); ok {
			found = true
		}
		return !found
	})
	return found
}
