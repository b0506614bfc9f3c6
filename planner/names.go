package planner

import (
	"strings"

	"github.com/longboatdb/longboat/sql/types"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// figureColname names a result column the way PostgreSQL's FigureColname
// does: a column reference by its name, a function by its name, a cast by
// its argument's name or else the type name, CASE as "case", anything else
// "?column?".
func figureColname(n ast.ExprNode) string {
	name, _ := figureColnameInternal(n)
	return name
}

// figureColnameInternal returns the name and its strength (2: a real name,
// 1: a type name from a cast, 0: ?column?), as PostgreSQL does.
func figureColnameInternal(n ast.ExprNode) (string, int) {
	switch x := n.(type) {
	case *ast.ColumnNameExpr:
		return x.Name.Name.O, 2
	case *ast.ParenthesesExpr:
		return figureColnameInternal(x.Expr)
	case *ast.AggregateFuncExpr:
		return strings.ToLower(x.F), 2
	case *ast.WindowFuncExpr:
		return strings.ToLower(x.Name), 2
	case *ast.CaseExpr:
		return "case", 1
	case *ast.ExistsSubqueryExpr:
		return "exists", 2
	case *ast.SubqueryExpr:
		if sel, ok := x.Query.(*ast.SelectStmt); ok && sel.Fields != nil && len(sel.Fields.Fields) > 0 {
			f := sel.Fields.Fields[0]
			if f.AsName.O != "" {
				return f.AsName.O, 2
			}
			if f.Expr != nil {
				return figureColnameInternal(f.Expr)
			}
		}
	case *ast.FuncCallExpr:
		name := strings.ToLower(x.FnName.O)
		switch name {
		case "__lb_cast":
			if len(x.Args) == 2 {
				if inner, s := figureColnameInternal(x.Args[0]); s == 2 {
					return inner, 2
				}
				if tn, ok := constText(x.Args[1]); ok {
					return castColname(tn), 1
				}
			}
		case "__lb_param", "__lb_any", "__lb_regex":
			return "?column?", 0
		case "__lb_extract":
			return "extract", 2
		case "__lb_current_user":
			return "current_user", 2
		case "__lb_at_time_zone":
			return "timezone", 2
		case "__lb_array":
			return "array", 2
		case "__lb_first", "__lb_last":
			return strings.TrimPrefix(name, "__lb_"), 2
		case "concat":
			// a || b arrives as concat(a, b); PostgreSQL names it ?column?.
			if len(x.Args) == 2 {
				return "?column?", 0
			}
		case "ifnull":
			return "coalesce", 2
		}
		return name, 2
	}
	return "?column?", 0
}

// castColname is the column name PostgreSQL gives a cast of an unnamed
// expression: the type's SQL name.
func castColname(tn string) string {
	t, _ := types.OIDByName(tn)
	switch t {
	case types.Int2:
		return "int2"
	case types.Int4:
		return "int4"
	case types.Int8:
		return "int8"
	case types.Float4:
		return "float4"
	case types.Float8:
		return "float8"
	case types.Bool:
		return "bool"
	case types.Timestamptz:
		return "timestamptz"
	case types.Timestamp:
		return "timestamp"
	case types.Varchar:
		return "varchar"
	case types.BPChar:
		return "bpchar"
	}
	return strings.ToLower(tn)
}
