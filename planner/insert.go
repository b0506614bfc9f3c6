package planner

import (
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Insert is a planned INSERT ... VALUES.
type Insert struct {
	Database *shard.Database
	Table    *shard.Table
	// Rows are in table column order, each value cast to its column's type
	// (NULL for omitted columns). Nil when only describing (Env.Params nil).
	Rows [][]types.Datum
	// ParamTypes are the parameter types inferred from the target columns
	// (or declared by the client).
	ParamTypes []types.OID
}

// BuildInsert plans a multi-row INSERT ... VALUES. Values may be
// expressions over constants, parameters, casts and functions such as now().
func BuildInsert(stmt *ast.InsertStmt, cat Catalog, env *Env) (*Insert, error) {
	if env == nil {
		env = &Env{}
	}
	if stmt.IsReplace || len(stmt.OnDuplicate) > 0 {
		return nil, pgerror.Unsupported("INSERT ... ON CONFLICT")
	}
	if stmt.Select != nil {
		return nil, pgerror.Unsupported("INSERT ... SELECT")
	}
	if stmt.Setlist {
		return nil, pgerror.Unsupported("INSERT ... SET")
	}
	b := &builder{cat: cat, env: env}
	for i, t := range env.ParamTypes {
		for len(b.paramTypes) <= i {
			b.paramTypes = append(b.paramTypes, 0)
		}
		b.paramTypes[i] = t
	}
	tn := insertTarget(stmt)
	if tn == nil {
		return nil, pgerror.Unsupported("INSERT target of this kind")
	}
	db, err := b.database()
	if err != nil {
		return nil, err
	}
	if s := tn.Schema.O; s != "" && s != "public" {
		return nil, pgerror.Newf(pgerror.CodeUndefinedTable, "relation \"%s.%s\" does not exist", s, tn.Name.O)
	}
	t, ok := cat.Table(db.ID, tn.Name.O)
	if !ok {
		return nil, undefinedRelation(tn.Schema.O, tn.Name.O)
	}
	target := make([]int, 0, len(t.Columns))
	if len(stmt.Columns) == 0 {
		for i := range t.Columns {
			target = append(target, i)
		}
	} else {
		seen := map[int]bool{}
		for _, c := range stmt.Columns {
			i := t.ColumnIndex(c.Name.O)
			if i < 0 {
				return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", c.Name.O, t.Name)
			}
			if seen[i] {
				return nil, pgerror.Newf(pgerror.CodeDuplicateColumn, "column %q specified more than once", c.Name.O)
			}
			seen[i] = true
			target = append(target, i)
		}
	}
	ins := &Insert{Database: db, Table: t}
	empty := &scope{}
	describe := env.Params == nil
	for _, list := range stmt.Lists {
		if len(list) > len(target) {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "INSERT has more expressions than target columns")
		}
		if len(list) < len(target) && len(stmt.Columns) > 0 {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "INSERT has more target columns than expressions")
		}
		row := make([]types.Datum, len(t.Columns))
		for i, c := range t.Columns {
			row[i] = types.NullOf(types.OfColType(c.Type))
		}
		for j, x := range list {
			col := target[j]
			ct := types.OfColType(t.Columns[col].Type)
			if _, isDefault := x.(*ast.DefaultExpr); isDefault {
				continue
			}
			e, err := b.expr(x, empty)
			if err != nil {
				return nil, err
			}
			if e, err = b.coerce(e, ct); err != nil {
				return nil, err
			}
			if describe {
				continue
			}
			if !isConstExpr(e) {
				return nil, pgerror.Unsupported("INSERT value that reads columns or subqueries")
			}
			d, err := e.Eval(nil, nil)
			if err != nil {
				return nil, err
			}
			if d, err = assignCast(d, ct); err != nil {
				return nil, pgerror.Wrapf(err, pgerror.Code(err), "column %q", t.Columns[col].Name)
			}
			row[col] = d
		}
		if describe {
			continue
		}
		for i, c := range t.Columns {
			if row[i].Null && (i == t.TimeCol || c.NotNull) {
				return nil, pgerror.Newf(pgerror.CodeNotNullViolation, "null value in column %q of relation %q violates not-null constraint", c.Name, t.Name)
			}
		}
		ins.Rows = append(ins.Rows, row)
	}
	ins.ParamTypes = b.paramTypes
	return ins, nil
}

func insertTarget(stmt *ast.InsertStmt) *ast.TableName {
	if stmt.Table == nil || stmt.Table.TableRefs == nil {
		return nil
	}
	var rs ast.ResultSetNode = stmt.Table.TableRefs
	for {
		switch x := rs.(type) {
		case *ast.Join:
			if x.Right != nil {
				return nil
			}
			rs = x.Left
		case *ast.TableSource:
			tn, _ := x.Source.(*ast.TableName)
			return tn
		default:
			return nil
		}
	}
}

// assignCast converts a value for storage in a column of type to
// (PostgreSQL assignment casts: numbers convert, text parses).
func assignCast(d types.Datum, to types.OID) (types.Datum, error) {
	if d.Null {
		return types.NullOf(to), nil
	}
	if d.T == to {
		return d, nil
	}
	if to == types.Float4 || to == types.Float8 {
		if isNumberType(d.T) {
			return castDatum(d, to)
		}
	}
	return castDatum(d, to)
}
