package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/longboatdb/longboat/sql/catalog"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// AnyArray is `E = ANY(Arr)` / `E <> ANY(Arr)` where Arr is an
// array-valued expression (current_schemas(true), a column of type name[]
// or oid[], a parameter), as in pgjdbc's TypeInfoCache query
// `n.nspname = ANY(current_schemas(true))`. ARRAY[...] literals compile to
// an InList instead. Three-valued: NULL when no element decides and E or
// some element is NULL.
type AnyArray struct {
	E   Expr
	Arr Expr
	Not bool // <> ANY
}

func (e *AnyArray) Type() types.OID { return types.Bool }

func (e *AnyArray) String() string {
	op := " = "
	if e.Not {
		op = " <> "
	}
	return e.E.String() + op + "ANY(" + e.Arr.String() + ")"
}

func (e *AnyArray) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	v, err := e.E.Eval(ec, row)
	if err != nil {
		return v, err
	}
	arr, err := e.Arr.Eval(ec, row)
	if err != nil {
		return arr, err
	}
	if arr.Null {
		return types.NullOf(types.Bool), nil
	}
	elems, err := catalog.ArrayElements(arr)
	if err != nil {
		return types.Datum{}, err
	}
	sawNull := v.Null
	for _, el := range elems {
		if el.Null || v.Null {
			sawNull = true
			continue
		}
		d, err := castDatum(types.Datum{T: types.UnknownLit, S: el.S}, v.T)
		if err != nil {
			return types.Datum{}, err
		}
		if (Compare(v, d) == 0) != e.Not {
			return types.NewBool(true), nil
		}
	}
	if sawNull {
		return types.NullOf(types.Bool), nil
	}
	return types.NewBool(false), nil
}

// Subscript is Arr[Index] on a one-dimensional array (lower bound 1; 0 for
// int2vector/oidvector, as in PostgreSQL): NULL when out of range.
type Subscript struct {
	Arr, Index Expr
	T          types.OID // element type
}

func (e *Subscript) Type() types.OID { return e.T }
func (e *Subscript) String() string {
	return "(" + e.Arr.String() + ")[" + e.Index.String() + "]"
}

func (e *Subscript) Eval(ec *EvalContext, row []types.Datum) (types.Datum, error) {
	arr, err := e.Arr.Eval(ec, row)
	if err != nil {
		return arr, err
	}
	i, err := e.Index.Eval(ec, row)
	if err != nil {
		return i, err
	}
	if arr.Null || i.Null {
		return types.NullOf(e.T), nil
	}
	return catalog.ArrayIndex(arr, i.I)
}

// subscript compiles arr[i].
func (b *builder) subscript(arrNode, idxNode ast.ExprNode, sc *scope) (Expr, error) {
	arr, err := b.expr(arrNode, sc)
	if err != nil {
		return nil, err
	}
	if untyped(arr) {
		if arr, err = b.coerce(arr, types.TextArray); err != nil {
			return nil, err
		}
	}
	elem, ok := catalog.ArrayElemType(arr.Type())
	if !ok {
		return nil, pgerror.Newf(pgerror.CodeDatatypeMismatch, "cannot subscript type %s because it does not support subscripting", typeName(arr.Type()))
	}
	idx, err := b.expr(idxNode, sc)
	if err != nil {
		return nil, err
	}
	if idx, err = b.coerce(idx, types.Int4); err != nil {
		return nil, err
	}
	if !isIntType(idx.Type()) {
		return nil, pgerror.Newf(pgerror.CodeDatatypeMismatch, "array subscript must have type integer")
	}
	return foldConst(&Subscript{Arr: arr, Index: idx, T: elem})
}

// anyArray compiles e op ANY(arr) for an array-typed arr.
func (b *builder) anyArray(e, arr Expr, not bool) (Expr, error) {
	if isUntypedOrParam(arr) {
		var err error
		if arr, err = b.coerce(arr, types.TextArray); err != nil {
			return nil, err
		}
	}
	if !catalog.IsArrayType(arr.Type()) {
		return nil, pgerror.Newf(pgerror.CodeWrongObjectType, "op ANY/ALL (array) requires array on right side")
	}
	if untyped(e) {
		elem, _ := catalog.ArrayElemType(arr.Type())
		var err error
		if e, err = b.coerce(e, elem); err != nil {
			return nil, err
		}
	}
	return &AnyArray{E: e, Arr: arr, Not: not}, nil
}
