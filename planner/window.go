package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// This file plans the ranking window functions row_number(), rank() and
// dense_rank() OVER ([PARTITION BY ...] [ORDER BY ...]), which catalog
// queries use (pgjdbc's DatabaseMetaData.getColumns numbers columns with
// row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)). A window
// call in the select list becomes, below the projection:
//
//	Project (input columns, partition keys, order keys)
//	  → Sort by partition keys, then order keys
//	  → Window (appends the function's int8 value)
//
// and the call itself a ColRef to the appended column. Aggregate window
// functions (sum(x) OVER ...) and frames are not supported.

// WinCall is a ranking window function call. It only appears while
// building: selectStmt replaces it with a ColRef to a Window node's column.
type WinCall struct {
	Name      string // row_number, rank, dense_rank
	Partition []Expr
	Order     []WinOrder
}

// WinOrder is one ORDER BY item of a window.
type WinOrder struct {
	E          Expr
	Desc       bool
	NullsFirst bool
}

func (e *WinCall) Type() types.OID { return types.Int8 }

func (e *WinCall) String() string {
	var sb strings.Builder
	sb.WriteString(e.Name + "() OVER (")
	if len(e.Partition) > 0 {
		sb.WriteString("PARTITION BY ")
		for i, p := range e.Partition {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(p.String())
		}
	}
	if len(e.Order) > 0 {
		if len(e.Partition) > 0 {
			sb.WriteString(" ")
		}
		sb.WriteString("ORDER BY ")
		for i, o := range e.Order {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(o.E.String())
			if o.Desc {
				sb.WriteString(" DESC")
			}
			if o.NullsFirst != o.Desc {
				if o.NullsFirst {
					sb.WriteString(" NULLS FIRST")
				} else {
					sb.WriteString(" NULLS LAST")
				}
			}
		}
	}
	sb.WriteString(")")
	return sb.String()
}

func (e *WinCall) Eval(*EvalContext, []types.Datum) (types.Datum, error) {
	return types.Datum{}, pgerror.Newf(pgerror.CodeInternal, "window function %s evaluated outside of a Window node", e.Name)
}

func (e *WinCall) children() []Expr {
	out := append([]Expr(nil), e.Partition...)
	for _, o := range e.Order {
		out = append(out, o.E)
	}
	return out
}

// Window computes one ranking function over its input, which is sorted by
// the Partition columns, then the Order columns. It outputs each input row
// with the function's value appended (int8).
type Window struct {
	Input     Node
	Func      string // row_number, rank, dense_rank
	Partition []int  // input column indexes
	Order     []int  // input column indexes (peers: equal on all of them)
	Col       Column
}

func (n *Window) Columns() []Column {
	in := n.Input.Columns()
	return append(append(make([]Column, 0, len(in)+1), in...), n.Col)
}

// winCall compiles a window function call.
func (b *builder) winCall(x *ast.WindowFuncExpr, sc *scope) (Expr, error) {
	name := strings.ToLower(x.Name)
	switch name {
	case "row_number", "rank", "dense_rank":
	default:
		return nil, pgerror.Unsupported("window function " + name)
	}
	if len(x.Args) > 0 {
		return nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s with %d arguments does not exist", name, len(x.Args))
	}
	if x.Spec.Name.O != "" || x.Spec.Ref.O != "" {
		return nil, pgerror.Unsupported("named windows")
	}
	w := &WinCall{Name: name}
	if pb := x.Spec.PartitionBy; pb != nil {
		for _, it := range pb.Items {
			e, err := b.windowKey(it.Expr, sc)
			if err != nil {
				return nil, err
			}
			w.Partition = append(w.Partition, e)
		}
	}
	if ob := x.Spec.OrderBy; ob != nil {
		for _, it := range ob.Items {
			inner, nullsFirst, hasNulls := unwrapNulls(it.Expr)
			e, err := b.windowKey(inner, sc)
			if err != nil {
				return nil, err
			}
			o := WinOrder{E: e, Desc: it.Desc, NullsFirst: it.Desc}
			if hasNulls {
				o.NullsFirst = nullsFirst
			}
			w.Order = append(w.Order, o)
		}
	}
	return w, nil
}

func (b *builder) windowKey(x ast.ExprNode, sc *scope) (Expr, error) {
	e, err := b.expr(x, sc)
	if err != nil {
		return nil, err
	}
	if hasWin(e) {
		return nil, pgerror.New(pgerror.CodeWindowingError, "window function calls cannot be nested")
	}
	if untyped(e) {
		return b.coerce(e, types.Text)
	}
	return e, nil
}

// hasWin reports whether e contains a window function call.
func hasWin(e Expr) bool {
	found := false
	walkExpr(e, func(x Expr) bool {
		if _, ok := x.(*WinCall); ok {
			found = true
		}
		return !found
	})
	return found
}

// planWindows puts a Window node over in for each distinct window call in
// exprs (which read in's rows) and returns exprs with the calls replaced by
// references to the Window columns.
func (b *builder) planWindows(in Node, exprs []Expr) (Node, []Expr, error) {
	var calls []*WinCall
	seen := map[string]bool{}
	for _, e := range exprs {
		walkExpr(e, func(x Expr) bool {
			if w, ok := x.(*WinCall); ok {
				if k := w.String(); !seen[k] {
					seen[k] = true
					calls = append(calls, w)
				}
				return false
			}
			return true
		})
	}
	idx := map[string]int{}
	for _, w := range calls {
		cols := in.Columns()
		p := &Project{Input: in}
		for i, c := range cols {
			p.Exprs = append(p.Exprs, &ColRef{Idx: i, Name: c.Name, T: c.Type})
			p.Cols = append(p.Cols, c)
		}
		win := &Window{Func: w.Name, Col: Column{Name: w.Name, Type: types.Int8}}
		var keys []SortKey
		for _, e := range w.Partition {
			win.Partition = append(win.Partition, len(p.Exprs))
			keys = append(keys, SortKey{Idx: len(p.Exprs)})
			p.Exprs = append(p.Exprs, e)
			p.Cols = append(p.Cols, Column{Name: "?partition?", Type: e.Type()})
		}
		for _, o := range w.Order {
			win.Order = append(win.Order, len(p.Exprs))
			keys = append(keys, SortKey{Idx: len(p.Exprs), Desc: o.Desc, NullsFirst: o.NullsFirst})
			p.Exprs = append(p.Exprs, o.E)
			p.Cols = append(p.Cols, Column{Name: "?order?", Type: o.E.Type()})
		}
		win.Input = p
		if len(keys) > 0 {
			win.Input = &Sort{Input: p, Keys: keys}
		}
		idx[w.String()] = len(p.Exprs)
		in = win
	}
	out, err := mapExprs(exprs, func(x Expr) (Expr, error) {
		if w, ok := x.(*WinCall); ok {
			return &ColRef{Idx: idx[w.String()], Name: w.Name, T: types.Int8}, nil
		}
		return nil, nil
	})
	return in, out, err
}
