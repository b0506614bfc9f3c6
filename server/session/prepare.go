package session

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/server/pgwire"
	"github.com/longboatdb/longboat/sql/pgdialect"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// Prepare implements pgwire.Session.
func (s *Session) Prepare(ctx context.Context, query string, paramTypes []types.OID) ([]pgwire.Statement, error) {
	texts := pgdialect.Split(query)
	out := make([]pgwire.Statement, 0, len(texts))
	for _, text := range texts {
		res, err := pgdialect.Normalize(text)
		if err != nil {
			return nil, err
		}
		st, err := s.newStatement(text, res, paramTypes)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if len(out) == 1 {
		// Extended protocol (or a single simple statement): plan now so that
		// Parse reports errors and Describe knows the types.
		if q, ok := out[0].(*queryStmt); ok {
			if err := q.describe(); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (s *Session) newStatement(text string, res *pgdialect.Result, paramTypes []types.OID) (pgwire.Statement, error) {
	if res.Kind == pgdialect.KindUtility {
		return s.utilityStatement(res)
	}
	switch n := res.Stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt, *ast.ExplainStmt:
		return &queryStmt{s: s, text: text, res: res, declared: paramTypes}, nil
	case *ast.InsertStmt:
		return s.insertStatement(text, res, n, paramTypes)
	case *ast.CreateTableStmt:
		return &funcStmt{run: func(ctx context.Context) (string, error) { return s.createTable(ctx, n) }}, nil
	case *ast.DropTableStmt:
		return &funcStmt{run: func(ctx context.Context) (string, error) { return s.dropTable(ctx, n) }}, nil
	case *ast.ShowStmt:
		if n.Tp == ast.ShowTables {
			return s.showTables(), nil
		}
		return nil, pgerror.Unsupported("SHOW statement")
	case *ast.UpdateStmt:
		return nil, pgerror.Unsupported("UPDATE (rows are immutable; write the same series and time again to overwrite)")
	case *ast.DeleteStmt:
		return nil, pgerror.Unsupported("DELETE (data expires by the database ttl; DROP TABLE removes a table)")
	}
	return nil, pgerror.Unsupported(fmt.Sprintf("statement %T", res.Stmt))
}

// env returns the planner environment for one execution.
func (s *Session) env(params []types.Datum, declared []types.OID) *planner.Env {
	return &planner.Env{
		Database:   s.database,
		Params:     params,
		ParamTypes: declared,
		Now:        time.Now().UnixMicro(),
		User:       s.user,
		Setting:    s.setting,
	}
}

// queryStmt is a SELECT, set operation or EXPLAIN.
type queryStmt struct {
	s        *Session
	text     string
	res      *pgdialect.Result
	declared []types.OID
	plan     *planner.Plan // from describe: no parameter values
	planErr  error
	planned  bool
}

func (q *queryStmt) describe() error {
	if !q.planned {
		q.planned = true
		q.plan, q.planErr = planner.Build(q.res.Stmt, q.s.catalog(), q.s.env(nil, q.declared))
		q.planErr = withErrorPosition(q.planErr, q.text)
	}
	return q.planErr
}

func (q *queryStmt) Kind() pgwire.StatementKind { return pgwire.KindOther }
func (q *queryStmt) CopyInfo() pgwire.CopyInfo  { return pgwire.CopyInfo{} }

func (q *queryStmt) ParamTypes() []types.OID {
	if q.describe() != nil {
		return make([]types.OID, q.res.NumParams)
	}
	return q.plan.ParamTypes()
}

func (q *queryStmt) Columns() []pgwire.Column {
	if q.describe() != nil {
		return nil
	}
	return wireColumns(q.plan.Columns())
}

func (q *queryStmt) Execute(ctx context.Context, params []types.Datum, res pgwire.ResultWriter) error {
	if err := q.describe(); err != nil {
		return err
	}
	// Plan again for every execution: the partition table (new shards),
	// the statement timestamp (now()) and the parameters change between
	// executions of a prepared statement.
	cat := q.s.catalog()
	env := q.s.env(params, q.declared)
	if env.Params == nil {
		env.Params = []types.Datum{}
	}
	plan, err := planner.Build(q.res.Stmt, cat, env)
	if err != nil {
		return withErrorPosition(err, q.text)
	}
	var n int64
	err = runPlan(ctx, q.s, plan, q.text, env, cat.cat.Version, func(row []types.Datum) error {
		n++
		return res.AddRow(row)
	})
	if err != nil {
		return err
	}
	if _, ok := q.res.Stmt.(*ast.ExplainStmt); ok {
		res.SetTag("EXPLAIN")
		return nil
	}
	res.SetTag(fmt.Sprintf("SELECT %d", n))
	return nil
}

func wireColumns(cols []planner.Column) []pgwire.Column {
	out := make([]pgwire.Column, len(cols))
	for i, c := range cols {
		out[i] = pgwire.Column{Name: c.Name, Type: c.Type, TableOID: c.TableOID, ColumnNum: c.ColumnNum, TypeMod: -1}
	}
	return out
}

// funcStmt is a statement without rows or parameters whose work is one call.
type funcStmt struct {
	kind pgwire.StatementKind
	run  func(ctx context.Context) (string, error)
}

func (f *funcStmt) Kind() pgwire.StatementKind { return f.kind }
func (f *funcStmt) ParamTypes() []types.OID    { return nil }
func (f *funcStmt) Columns() []pgwire.Column   { return nil }
func (f *funcStmt) CopyInfo() pgwire.CopyInfo  { return pgwire.CopyInfo{} }
func (f *funcStmt) Execute(ctx context.Context, _ []types.Datum, res pgwire.ResultWriter) error {
	tag, err := f.run(ctx)
	if err != nil {
		return err
	}
	res.SetTag(tag)
	return nil
}

// rowsStmt returns fixed rows computed at execution time.
type rowsStmt struct {
	cols []pgwire.Column
	rows func(ctx context.Context) ([][]types.Datum, error)
	tag  func(n int) string
}

func (r *rowsStmt) Kind() pgwire.StatementKind { return pgwire.KindOther }
func (r *rowsStmt) ParamTypes() []types.OID    { return nil }
func (r *rowsStmt) Columns() []pgwire.Column   { return r.cols }
func (r *rowsStmt) CopyInfo() pgwire.CopyInfo  { return pgwire.CopyInfo{} }
func (r *rowsStmt) Execute(ctx context.Context, _ []types.Datum, res pgwire.ResultWriter) error {
	rows, err := r.rows(ctx)
	if err != nil {
		return err
	}
	for _, row := range rows {
		if err := res.AddRow(row); err != nil {
			return err
		}
	}
	if r.tag != nil {
		res.SetTag(r.tag(len(rows)))
	} else {
		res.SetTag(fmt.Sprintf("SELECT %d", len(rows)))
	}
	return nil
}

func textCol(name string) pgwire.Column {
	return pgwire.Column{Name: name, Type: types.Text, TypeMod: -1}
}

func lower(s string) string { return strings.ToLower(s) }
