package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// GenerateSeries is generate_series(start, stop [, step]) in FROM, which
// sql/pgdialect rewrites to (SELECT __lb_srf('generate_series', ...) AS c).
// Integers and numeric step by 1 unless told; timestamps need an interval
// step. It outputs one column.
type GenerateSeries struct {
	Start, Stop, Step Expr // Step nil: 1
	Col               Column
}

func (n *GenerateSeries) Columns() []Column { return []Column{n.Col} }

// Next returns cur + step: the executor's iteration step.
func (n *GenerateSeries) Next(cur, step types.Datum) (types.Datum, error) {
	return arith(OpAdd, cur, step, n.Col.Type)
}

// Compare orders two values of the series' type.
func (n *GenerateSeries) Compare(a, b types.Datum) int { return Compare(a, b) }

// srfSelect recognises the rewritten table-function subquery: a SELECT
// with no FROM and one __lb_srf(...) field. ok is false for anything else.
func (b *builder) srfSelect(sel *ast.SelectStmt) (Node, bool, error) {
	if sel.From != nil || sel.Where != nil || sel.GroupBy != nil || sel.Having != nil || sel.OrderBy != nil || sel.Limit != nil ||
		sel.Fields == nil || len(sel.Fields.Fields) != 1 {
		return nil, false, nil
	}
	f := sel.Fields.Fields[0]
	call, ok := f.Expr.(*ast.FuncCallExpr)
	if !ok || !strings.EqualFold(call.FnName.O, "__lb_srf") || len(call.Args) == 0 {
		return nil, false, nil
	}
	fname, ok := constText(call.Args[0])
	if !ok {
		return nil, true, pgerror.New(pgerror.CodeSyntaxError, "malformed table function")
	}
	fname = strings.ToLower(fname)
	if fname != "generate_series" {
		return nil, true, pgerror.Unsupported("table function " + fname + " in FROM")
	}
	args := call.Args[1:]
	if len(args) < 2 || len(args) > 3 {
		return nil, true, pgerror.Newf(pgerror.CodeUndefinedFunction, "function generate_series with %d arguments does not exist", len(args))
	}
	sc := &scope{}
	es := make([]Expr, len(args))
	for i, a := range args {
		var err error
		if es[i], err = b.expr(a, sc); err != nil {
			return nil, true, err
		}
	}
	// The type: a timestamp type when either bound is one, else the
	// widest number type; two untyped bounds are ambiguous, as in PostgreSQL.
	var t types.OID
	for _, e := range es[:2] {
		switch et := e.Type(); {
		case untyped(e):
		case isTimeType(et):
			if !isTimeType(t) || et == types.Timestamptz {
				t = et
			}
		case isNumberType(et) && !isTimeType(t) && (t == 0 || numRank(et) > numRank(t)):
			t = et
		}
	}
	if t == 0 {
		return nil, true, pgerror.New(pgerror.CodeAmbiguousFunction, "function generate_series(unknown, unknown) is not unique")
	}
	for i := 0; i < 2; i++ {
		var err error
		if es[i], err = b.coerce(es[i], t); err != nil {
			return nil, true, err
		}
		if !isTimeType(t) && !isNumberType(es[i].Type()) || isTimeType(t) && !isTimeType(es[i].Type()) {
			return nil, true, pgerror.Newf(pgerror.CodeUndefinedFunction, "function generate_series(%s, %s) does not exist", typeName(es[0].Type()), typeName(es[1].Type()))
		}
	}
	g := &GenerateSeries{Start: es[0], Stop: es[1]}
	switch {
	case len(es) == 3 && isTimeType(t):
		var err error
		if g.Step, err = b.coerce(es[2], types.Interval); err != nil {
			return nil, true, err
		}
		if g.Step.Type() != types.Interval {
			return nil, true, pgerror.Newf(pgerror.CodeUndefinedFunction, "function generate_series(%s, %s, %s) does not exist", typeName(t), typeName(t), typeName(g.Step.Type()))
		}
	case len(es) == 3:
		var err error
		if g.Step, err = b.coerce(es[2], t); err != nil {
			return nil, true, err
		}
	case isTimeType(t):
		return nil, true, pgerror.Newf(pgerror.CodeUndefinedFunction, "function generate_series(%s, %s) does not exist", typeName(t), typeName(t))
	default:
		g.Step = &Const{D: types.NewInt(types.Int4, 1)}
	}
	name := f.AsName.O
	if name == "" {
		name = "generate_series"
	}
	g.Col = Column{Name: name, Type: t}
	return g, true, nil
}
