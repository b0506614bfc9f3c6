package session

import (
	"context"
	"fmt"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/server/ingest"
	"github.com/longboatdb/longboat/server/pgwire"
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/copyin"
	"github.com/longboatdb/longboat/sql/pgdialect"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// committer adapts the Raft host to ingest.Committer.
type committer struct{ s *Session }

func (c committer) Partitions() *shard.PartitionTable {
	return &c.s.h.Host.Catalog().Partitions
}

func (c committer) EnsureShards(ctx context.Context, dbID uint32, starts []int64) ([]shard.ShardInfo, error) {
	return c.s.h.Host.EnsureShards(ctx, dbID, starts)
}

func (c committer) Write(ctx context.Context, shardID uint64, wb *store.WriteBatch) error {
	return c.s.h.write(ctx, shardID, wb)
}

func (s *Session) newWriter(ctx context.Context, db *shard.Database, t *shard.Table) *ingest.Writer {
	return ingest.NewWriter(ctx, committer{s}, db, t, ingest.Options{Pool: &s.h.ingestPool})
}

// checkWidth enforces the column type modifiers and NOT NULL: varchar(n)
// lengths, and numeric(p,s), whose values it rounds in row to the column's
// scale (22003 when they exceed the precision), as PostgreSQL stores them.
func checkWidth(t *shard.Table, row []types.Datum) error {
	for i := range t.Columns {
		c := &t.Columns[i]
		if c.Width > 0 && c.Type == shard.TypeVarchar && !row[i].Null && len([]rune(row[i].S)) > c.Width {
			return pgerror.Newf(pgerror.CodeStringDataRightTrunc, "value too long for type character varying(%d)", c.Width)
		}
		if c.Width > 0 && c.Type == shard.TypeNumeric && !row[i].Null {
			// Scale < 0: numeric(p) stored by catalogs before it meant 0.
			v, err := types.NumericTypmod(row[i].S, c.Width, max(c.Scale, 0))
			if err != nil {
				return err
			}
			row[i].S = v
		}
		if c.NotNull && row[i].Null {
			return pgerror.Newf(pgerror.CodeNotNullViolation, "null value in column %q of relation %q violates not-null constraint", c.Name, t.Name)
		}
	}
	return nil
}

// insertStmt is INSERT ... VALUES.
type insertStmt struct {
	s        *Session
	text     string
	res      *pgdialect.Result
	n        *ast.InsertStmt
	declared []types.OID
	params   []types.OID
}

func (s *Session) insertStatement(text string, res *pgdialect.Result, n *ast.InsertStmt, declared []types.OID) (pgwire.Statement, error) {
	st := &insertStmt{s: s, text: text, res: res, n: n, declared: declared}
	st.params = s.insertParamTypes(n, res.NumParams, declared)
	return st, nil
}

// insertParamTypes infers $n types from the target columns of VALUES.
func (s *Session) insertParamTypes(n *ast.InsertStmt, num int, declared []types.OID) []types.OID {
	out := make([]types.OID, num)
	copy(out, declared)
	tn, ok := n.Table.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return out
	}
	name, ok := tn.Source.(*ast.TableName)
	if !ok {
		return out
	}
	cat := s.h.Host.Catalog()
	db, ok := cat.Database(s.database)
	if !ok {
		return out
	}
	t, ok := cat.Table(db.ID, name.Name.O)
	if !ok {
		return out
	}
	cols := make([]int, 0, len(t.Columns))
	if len(n.Columns) == 0 {
		for i := range t.Columns {
			cols = append(cols, i)
		}
	} else {
		for _, c := range n.Columns {
			cols = append(cols, t.ColumnIndex(c.Name.O))
		}
	}
	for _, list := range n.Lists {
		for i, e := range list {
			if i >= len(cols) || cols[i] < 0 {
				continue
			}
			if p, ok := paramIndex(e); ok && p >= 1 && p <= num && out[p-1] == 0 {
				out[p-1] = types.OfColType(t.Columns[cols[i]].Type)
			}
		}
	}
	return out
}

// paramIndex recognises __lb_param(n).
func paramIndex(e ast.ExprNode) (int, bool) {
	f, ok := e.(*ast.FuncCallExpr)
	if !ok || f.FnName.L != "__lb_param" || len(f.Args) != 1 {
		return 0, false
	}
	v, ok := f.Args[0].(ast.ValueExpr)
	if !ok {
		return 0, false
	}
	switch x := v.GetValue().(type) {
	case int64:
		return int(x), true
	case uint64:
		return int(x), true
	}
	return 0, false
}

func (st *insertStmt) Kind() pgwire.StatementKind { return pgwire.KindOther }
func (st *insertStmt) ParamTypes() []types.OID    { return st.params }
func (st *insertStmt) Columns() []pgwire.Column   { return nil }
func (st *insertStmt) CopyInfo() pgwire.CopyInfo  { return pgwire.CopyInfo{} }

func (st *insertStmt) Execute(ctx context.Context, params []types.Datum, res pgwire.ResultWriter) error {
	if params == nil {
		params = []types.Datum{} // nil means describe-only to the planner
	}
	env := st.s.env(params, st.params)
	ins, err := planner.BuildInsert(st.n, st.s.catalog(), env)
	if err != nil {
		return withErrorPosition(err, st.text)
	}
	w := st.s.newWriter(ctx, ins.Database, ins.Table)
	for _, row := range ins.Rows {
		if err := checkWidth(ins.Table, row); err != nil {
			_ = w.Close()
			return err
		}
		if err := w.Add(row); err != nil {
			_ = w.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	res.SetTag(fmt.Sprintf("INSERT 0 %d", len(ins.Rows)))
	return nil
}

// copyStmt is COPY t FROM STDIN.
type copyStmt struct {
	s      *Session
	u      *pgdialect.Copy
	db     *shard.Database
	t      *shard.Table
	cols   []int // table column index per COPY column
	format copyin.Format
}

func (s *Session) copyStatement(u *pgdialect.Copy) (pgwire.Statement, error) {
	if u.Schema != "" && u.Schema != "public" {
		return nil, pgerror.Newf(pgerror.CodeUndefinedTable, "relation \"%s.%s\" does not exist", u.Schema, u.Table)
	}
	db, err := s.currentDB()
	if err != nil {
		return nil, err
	}
	t, ok := s.h.Host.Catalog().Table(db.ID, u.Table)
	if !ok {
		return nil, pgerror.Newf(pgerror.CodeUndefinedTable, "relation %q does not exist", u.Table)
	}
	f, err := copyin.ParseFormat(u.Format)
	if err != nil {
		return nil, err
	}
	st := &copyStmt{s: s, u: u, db: db, t: t, format: f}
	if len(u.Columns) == 0 {
		for i := range t.Columns {
			st.cols = append(st.cols, i)
		}
	} else {
		seen := map[int]bool{}
		for _, c := range u.Columns {
			i := t.ColumnIndex(c)
			if i < 0 {
				return nil, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q of relation %q does not exist", c, t.Name)
			}
			if seen[i] {
				return nil, pgerror.Newf(pgerror.CodeDuplicateColumn, "column %q specified more than once", c)
			}
			seen[i] = true
			st.cols = append(st.cols, i)
		}
	}
	return st, nil
}

func (st *copyStmt) Kind() pgwire.StatementKind { return pgwire.KindCopyIn }
func (st *copyStmt) ParamTypes() []types.OID    { return nil }
func (st *copyStmt) Columns() []pgwire.Column   { return nil }
func (st *copyStmt) CopyInfo() pgwire.CopyInfo {
	return pgwire.CopyInfo{Binary: st.format == copyin.Binary, NumColumns: len(st.cols)}
}

func (st *copyStmt) Execute(ctx context.Context, _ []types.Datum, res pgwire.ResultWriter) error {
	oids := make([]types.OID, len(st.cols))
	names := make([]string, len(st.cols))
	for i, ci := range st.cols {
		oids[i] = types.OfColType(st.t.Columns[ci].Type)
		names[i] = st.t.Columns[ci].Name
	}
	rd, err := copyin.NewReader(res.CopyData(), oids, copyin.Options{
		Format: st.format, Header: st.u.Header, Delimiter: st.u.Delimiter, Null: st.u.Null, HasNull: st.u.HasNull,
		Quote: st.u.Quote, Escape: st.u.Escape, Table: st.t.Name, Columns: names,
	})
	if err != nil {
		return err
	}
	w := st.s.newWriter(ctx, st.db, st.t)
	// The reader decodes straight into the table row when the COPY lists
	// every column in table order; otherwise columns are placed (and the
	// missing ones set NULL) row by row.
	row := make([]types.Datum, len(st.t.Columns))
	in := row
	direct := len(st.cols) == len(row)
	for i, ci := range st.cols {
		direct = direct && ci == i
	}
	if !direct {
		in = make([]types.Datum, len(st.cols))
	}
	var n int64
	for {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				_ = w.Close()
				return pgerror.Wrap(err, pgerror.CodeQueryCanceled)
			}
		}
		ok, err := rd.Next(in)
		if err != nil {
			_ = w.Close()
			return err
		}
		if !ok {
			break
		}
		if !direct {
			for i := range row {
				row[i] = types.NullOf(types.OfColType(st.t.Columns[i].Type))
			}
			for i, ci := range st.cols {
				row[ci] = in[i]
			}
		}
		if err := checkWidth(st.t, row); err != nil {
			_ = w.Close()
			return pgerror.WithDetail(err, fmt.Sprintf("COPY %s, line %d", st.t.Name, rd.Line()))
		}
		if err := w.Add(row); err != nil {
			_ = w.Close()
			return err
		}
		n++
	}
	if err := w.Close(); err != nil {
		return err
	}
	res.SetTag(fmt.Sprintf("COPY %d", n))
	return nil
}
