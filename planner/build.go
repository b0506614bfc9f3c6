package planner

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/catalog"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// builder turns one statement into a Plan.
type builder struct {
	cat        Catalog
	env        *Env
	db         *shard.Database
	ctes       []map[string]*cteDef
	subqueries []Node
	paramTypes []types.OID
	scans      []*scanUse
}

type cteDef struct {
	node Node
}

// scanUse tracks the columns a query block reads from a table scan, so the
// scan fetches only those fields.
type scanUse struct {
	scan *Scan
	used map[int]bool
	aggs []*BucketAgg
}

// Build plans a SELECT, a set operation or an EXPLAIN.
func Build(stmt ast.StmtNode, cat Catalog, env *Env) (*Plan, error) {
	if env == nil {
		env = &Env{}
	}
	b := &builder{cat: cat, env: env}
	for i, t := range env.ParamTypes {
		for len(b.paramTypes) <= i {
			b.paramTypes = append(b.paramTypes, 0)
		}
		b.paramTypes[i] = t
	}
	explain := false
	if ex, ok := stmt.(*ast.ExplainStmt); ok {
		explain = true
		stmt = ex.Stmt
	}
	rs, ok := stmt.(ast.ResultSetNode)
	if !ok {
		return nil, pgerror.Unsupported("statement " + stmtName(stmt) + " in the query planner")
	}
	root, err := b.query(rs)
	if err != nil {
		return nil, err
	}
	b.finishScans()
	p := &Plan{Root: root, Subqueries: b.subqueries, cols: root.Columns(), paramTypes: b.paramTypes}
	if explain {
		lines := p.Explain()
		rows := make([][]Expr, len(lines))
		for i, l := range lines {
			rows[i] = []Expr{&Const{D: types.NewText(l)}}
		}
		cols := []Column{{Name: "QUERY PLAN", Type: types.Text}}
		return &Plan{Root: &Values{Rows: rows, Cols: cols}, cols: cols, paramTypes: b.paramTypes}, nil
	}
	return p, nil
}

func stmtName(s ast.StmtNode) string {
	switch s.(type) {
	case *ast.InsertStmt:
		return "INSERT"
	case *ast.UpdateStmt:
		return "UPDATE"
	case *ast.DeleteStmt:
		return "DELETE"
	}
	return "of this kind"
}

func (b *builder) database() (*shard.Database, error) {
	if b.db != nil {
		return b.db, nil
	}
	db, ok := b.cat.Database(b.env.Database)
	if !ok {
		return nil, pgerror.Newf(pgerror.CodeInvalidCatalogName, "database %q does not exist", b.env.Database)
	}
	b.db = db
	return db, nil
}

// query plans any result set node.
func (b *builder) query(rs ast.ResultSetNode) (Node, error) {
	switch x := rs.(type) {
	case *ast.SelectStmt:
		return b.selectStmt(x)
	case *ast.SetOprStmt:
		return b.setOpr(x)
	}
	return nil, pgerror.Unsupported("query of this kind")
}

func (b *builder) pushCTEs(w *ast.WithClause) (func(), error) {
	if w == nil {
		return func() {}, nil
	}
	if w.IsRecursive {
		return nil, pgerror.Unsupported("WITH RECURSIVE")
	}
	m := map[string]*cteDef{}
	b.ctes = append(b.ctes, m)
	pop := func() { b.ctes = b.ctes[:len(b.ctes)-1] }
	for _, c := range w.CTEs {
		node, err := b.query(c.Query.Query)
		if err != nil {
			pop()
			return nil, err
		}
		if len(c.ColNameList) > 0 {
			cols := append([]Column(nil), node.Columns()...)
			for i, n := range c.ColNameList {
				if i < len(cols) {
					cols[i].Name = n.O
				}
			}
			node = renameNode(node, cols)
		}
		m[c.Name.O] = &cteDef{node: node}
	}
	return pop, nil
}

// renameNode wraps node in a projection with new column names.
func renameNode(node Node, cols []Column) Node {
	in := node.Columns()
	exprs := make([]Expr, len(in))
	for i, c := range in {
		exprs[i] = &ColRef{Idx: i, Name: c.Name, T: c.Type}
	}
	return &Project{Input: node, Exprs: exprs, Cols: cols}
}

func (b *builder) lookupCTE(name string) (*cteDef, bool) {
	for i := len(b.ctes) - 1; i >= 0; i-- {
		if c, ok := b.ctes[i][name]; ok {
			return c, true
		}
	}
	return nil, false
}

// subquery plans an uncorrelated subquery used in an expression whose
// row layout is outer (nil at the top of a statement). A column the
// subquery cannot resolve but outer can makes it a correlated subquery,
// which is refused with 0A000 naming the reference.
func (b *builder) subquery(sq *ast.SubqueryExpr, outer *scope) (int, Node, error) {
	node, err := b.query(sq.Query)
	var uc *UndefinedColumnError
	if err != nil && outer != nil && errors.As(err, &uc) {
		if _, rerr := outer.resolve(uc.Table, uc.Name); rerr == nil {
			ref := uc.Name
			if uc.Table != "" {
				ref = uc.Table + "." + uc.Name
			}
			return 0, nil, pgerror.Unsupported(fmt.Sprintf("correlated subquery (the reference to %s of the outer query)", ref))
		}
	}
	if err != nil {
		return 0, nil, err
	}
	b.subqueries = append(b.subqueries, node)
	return len(b.subqueries) - 1, node, nil
}

// from plans a FROM clause.
func (b *builder) from(rs ast.ResultSetNode) (Node, *scope, error) {
	switch x := rs.(type) {
	case *ast.Join:
		if x.Right == nil {
			return b.from(x.Left)
		}
		return b.join(x)
	case *ast.TableSource:
		alias := x.AsName.O
		switch src := x.Source.(type) {
		case *ast.TableName:
			if alias == "" {
				alias = src.Name.O
			}
			return b.table(src, alias)
		case *ast.SelectStmt, *ast.SetOprStmt:
			node, err := b.query(src.(ast.ResultSetNode))
			if err != nil {
				return nil, nil, err
			}
			return node, scopeOf(alias, node.Columns()), nil
		case *ast.Join:
			return b.from(src)
		}
	}
	return nil, nil, pgerror.Unsupported("FROM item of this kind")
}

func (b *builder) table(tn *ast.TableName, alias string) (Node, *scope, error) {
	schema, name := tn.Schema.O, tn.Name.O
	if schema == "" {
		if c, ok := b.lookupCTE(name); ok {
			return c.node, scopeOf(alias, c.node.Columns()), nil
		}
	}
	if schema == "" || schema == "public" {
		if db, err := b.database(); err == nil {
			if t, ok := b.cat.Table(db.ID, name); ok {
				s := b.newScan(db, t)
				return s, scopeOf(alias, s.Cols), nil
			}
		}
	}
	if vt, ok := b.cat.VirtualTable(schema, name); ok {
		cols := vt.Columns()
		return &VirtualScan{Schema: schema, Name: name, Table: vt, Cols: cols}, scopeOf(alias, cols), nil
	}
	return nil, nil, undefinedRelation(schema, name)
}

// UndefinedRelationError is the cause of the 42P01 error for a FROM or
// INSERT INTO reference to a relation that does not exist. The session
// layer uses Schema and Name to point the error's position at the
// reference in the statement text, as PostgreSQL does.
type UndefinedRelationError struct {
	Schema, Name string // as written, case-folded; Schema "" when unqualified
}

func (e *UndefinedRelationError) Error() string {
	full := e.Name
	if e.Schema != "" {
		full = e.Schema + "." + e.Name
	}
	return fmt.Sprintf("relation %q does not exist", full)
}

// UndefinedColumnError is the cause of the 42703 error for a column
// reference that resolves to nothing; the session layer points the error's
// position at the reference, as for UndefinedRelationError.
type UndefinedColumnError struct {
	Table, Name string // Table "" when the reference was unqualified
}

func (e *UndefinedColumnError) Error() string {
	if e.Table != "" {
		return fmt.Sprintf("column %s.%s does not exist", e.Table, e.Name)
	}
	return fmt.Sprintf("column %q does not exist", e.Name)
}

func undefinedRelation(schema, name string) error {
	return pgerror.Wrap(&UndefinedRelationError{Schema: schema, Name: name}, pgerror.CodeUndefinedTable)
}

func (b *builder) newScan(db *shard.Database, t *shard.Table) *Scan {
	s := &Scan{Database: db, Table: t, MinTime: math.MinInt64, MaxTime: math.MaxInt64}
	s.Cols = make([]Column, len(t.Columns))
	for i, c := range t.Columns {
		s.Cols[i] = Column{Name: c.Name, Type: types.OfColType(c.Type), TableOID: catalog.TableOID(t), ColumnNum: int16(i + 1)}
	}
	b.scans = append(b.scans, &scanUse{scan: s, used: map[int]bool{}})
	return s
}

func (b *builder) useOf(s *Scan) *scanUse {
	for _, u := range b.scans {
		if u.scan == s {
			return u
		}
	}
	return nil
}

func (b *builder) join(j *ast.Join) (Node, *scope, error) {
	l, ls, err := b.from(j.Left)
	if err != nil {
		return nil, nil, err
	}
	r, rs, err := b.from(j.Right)
	if err != nil {
		return nil, nil, err
	}
	// A scan under a join reads every column.
	for _, n := range []Node{l, r} {
		if s, ok := n.(*Scan); ok {
			if u := b.useOf(s); u != nil {
				for i := range s.Cols {
					u.used[i] = true
				}
			}
		}
	}
	sc := &scope{cols: append(append([]scopeCol(nil), ls.cols...), rs.cols...)}
	cols := make([]Column, len(sc.cols))
	for i, c := range sc.cols {
		cols[i] = c.col
	}
	node := &Join{Left: l, Right: r, Cols: cols}
	switch j.Tp {
	case ast.LeftJoin:
		node.Kind = JoinLeft
	case ast.RightJoin:
		node.Kind = JoinRight
	default:
		node.Kind = JoinInner
	}
	var conds []Expr
	if j.On != nil {
		on, err := b.expr(j.On.Expr, sc)
		if err != nil {
			return nil, nil, err
		}
		if on, err = b.coerce(on, types.Bool); err != nil {
			return nil, nil, err
		}
		conds = conjuncts(on)
	}
	for _, u := range j.Using {
		li, err := ls.resolve("", u.Name.O)
		if err != nil {
			return nil, nil, err
		}
		ri, err := rs.resolve("", u.Name.O)
		if err != nil {
			return nil, nil, err
		}
		conds = append(conds, &BinOp{Op: OpEQ, L: &ColRef{Idx: li, Name: u.Name.O, T: ls.cols[li].typ}, R: &ColRef{Idx: len(ls.cols) + ri, Name: u.Name.O, T: rs.cols[ri].typ}, T: types.Bool})
	}
	if j.On == nil && len(j.Using) == 0 && node.Kind == JoinInner {
		node.Kind = JoinCross
	}
	// Equality conjuncts between a left and a right column become hash keys.
	nl := len(ls.cols)
	for _, c := range conds {
		bo, ok := c.(*BinOp)
		if !ok || bo.Op != OpEQ {
			continue
		}
		lc, ok1 := bo.L.(*ColRef)
		rc, ok2 := bo.R.(*ColRef)
		if !ok1 || !ok2 {
			continue
		}
		if lc.Idx >= nl && rc.Idx < nl {
			lc, rc = rc, lc
		}
		if lc.Idx < nl && rc.Idx >= nl {
			node.LeftKeys = append(node.LeftKeys, lc.Idx)
			node.RightKeys = append(node.RightKeys, rc.Idx-nl)
		}
	}
	node.On = andOf(conds)
	return node, sc, nil
}

// selectItem is one output column of a query block.
type selectItem struct {
	expr   Expr // over the input scope (before aggregation)
	name   string
	hidden bool
}

func (b *builder) selectStmt(sel *ast.SelectStmt) (Node, error) {
	if sel.Kind == ast.SelectStmtKindValues {
		return b.valuesStmt(sel)
	}
	pop, err := b.pushCTEs(sel.With)
	if err != nil {
		return nil, err
	}
	defer pop()
	if sel.LockInfo != nil && sel.LockInfo.LockType != ast.SelectLockNone {
		return nil, pgerror.Unsupported("SELECT ... FOR UPDATE")
	}
	if len(sel.WindowSpecs) > 0 {
		return nil, pgerror.Unsupported("named windows")
	}
	if n, ok, err := b.srfSelect(sel); ok || err != nil {
		return n, err
	}

	// FROM
	var in Node
	sc := &scope{}
	if sel.From == nil {
		in = &Values{Rows: [][]Expr{{}}}
	} else if in, sc, err = b.from(sel.From.TableRefs); err != nil {
		return nil, err
	}
	scan, _ := in.(*Scan)

	// WHERE
	var where Expr
	if sel.Where != nil {
		if where, err = b.expr(sel.Where, sc); err != nil {
			return nil, err
		}
		if hasAgg(where) {
			return nil, pgerror.New(pgerror.CodeGroupingError, "aggregate functions are not allowed in WHERE")
		}
		if hasWin(where) {
			return nil, pgerror.New(pgerror.CodeWindowingError, "window functions are not allowed in WHERE")
		}
		if where, err = b.coerce(where, types.Bool); err != nil {
			return nil, err
		}
	}

	// Select list (DISTINCT ON arrives as a first item __lb_distinct_on(...)).
	var distinctOn []Expr
	fields := sel.Fields.Fields
	if len(fields) > 0 && fields[0].Expr != nil {
		if f, ok := fields[0].Expr.(*ast.FuncCallExpr); ok && strings.EqualFold(f.FnName.O, "__lb_distinct_on") {
			for _, a := range f.Args {
				e, err := b.expr(a, sc)
				if err != nil {
					return nil, err
				}
				distinctOn = append(distinctOn, e)
			}
			fields = fields[1:]
		}
	}
	var items []selectItem
	for _, f := range fields {
		if f.WildCard != nil {
			n := 0
			for i, c := range sc.cols {
				if c.hidden || (f.WildCard.Table.O != "" && c.table != f.WildCard.Table.O) {
					continue
				}
				items = append(items, selectItem{expr: &ColRef{Idx: i, Name: c.name, T: c.typ}, name: c.name})
				n++
			}
			if n == 0 && f.WildCard.Table.O != "" {
				return nil, pgerror.Newf(pgerror.CodeUndefinedTable, "missing FROM-clause entry for table %q", f.WildCard.Table.O)
			}
			continue
		}
		e, err := b.expr(f.Expr, sc)
		if err != nil {
			return nil, err
		}
		if untyped(e) {
			if e, err = b.coerce(e, types.Text); err != nil {
				return nil, err
			}
		}
		name := f.AsName.O
		if name == "" {
			name = figureColname(f.Expr)
		}
		items = append(items, selectItem{expr: e, name: name})
	}
	nVisible := len(items)

	// GROUP BY
	var groupBy []Expr
	if sel.GroupBy != nil {
		if sel.GroupBy.Rollup {
			return nil, pgerror.Unsupported("GROUP BY ROLLUP")
		}
		for _, it := range sel.GroupBy.Items {
			e, err := b.groupItem(it.Expr, sc, items[:nVisible])
			if err != nil {
				return nil, err
			}
			if hasAgg(e) {
				return nil, pgerror.New(pgerror.CodeGroupingError, "aggregate functions are not allowed in GROUP BY")
			}
			groupBy = append(groupBy, e)
		}
	}

	// HAVING
	var having Expr
	if sel.Having != nil {
		if having, err = b.expr(sel.Having.Expr, sc); err != nil {
			return nil, err
		}
		if having, err = b.coerce(having, types.Bool); err != nil {
			return nil, err
		}
	}

	// ORDER BY: resolve to item indexes, appending hidden items.
	var keys []SortKey
	if sel.OrderBy != nil {
		for _, it := range sel.OrderBy.Items {
			expr, nullsFirst, hasNulls := unwrapNulls(it.Expr)
			idx, err := b.orderItem(expr, sc, &items, nVisible)
			if err != nil {
				return nil, err
			}
			k := SortKey{Idx: idx, Desc: it.Desc, NullsFirst: it.Desc}
			if hasNulls {
				k.NullsFirst = nullsFirst
			}
			keys = append(keys, k)
		}
	}

	// DISTINCT ON expressions map to items too.
	var donKeys []int
	for _, e := range distinctOn {
		idx := findItem(items, e)
		if idx < 0 {
			items = append(items, selectItem{expr: e, name: "?column?", hidden: true})
			idx = len(items) - 1
		}
		donKeys = append(donKeys, idx)
	}

	// Record the columns read from a scan.
	if scan != nil {
		u := b.useOf(scan)
		for _, e := range append(append(append([]Expr{where, having}, groupBy...), distinctOn...), itemExprs(items)...) {
			if e != nil {
				colsUsed(e, u.used)
			}
		}
	}

	// Push WHERE into the scan, or filter.
	if where != nil {
		if scan != nil {
			if err := b.pushFilter(scan, where); err != nil {
				return nil, err
			}
		} else {
			in = &Filter{Input: in, Cond: where}
		}
	}

	// Aggregation.
	grouped := len(groupBy) > 0 || having != nil
	for _, it := range items {
		if hasAgg(it.expr) {
			grouped = true
		}
	}
	exprs := itemExprs(items)
	if grouped {
		agg := &Aggregate{Input: in, GroupBy: groupBy}
		var aggKeys []string
		collect := func(e Expr) {
			walkExpr(e, func(x Expr) bool {
				if a, ok := x.(*AggCall); ok {
					k := a.String()
					for _, s := range aggKeys {
						if s == k {
							return false
						}
					}
					aggKeys = append(aggKeys, k)
					agg.Aggs = append(agg.Aggs, a)
					return false
				}
				return true
			})
		}
		for _, e := range exprs {
			collect(e)
		}
		collect(having)
		ng := len(groupBy)
		gKeys := make([]string, ng)
		for i, g := range groupBy {
			gKeys[i] = g.String()
			agg.Cols = append(agg.Cols, Column{Name: "?group?", Type: g.Type()})
		}
		for _, a := range agg.Aggs {
			agg.Cols = append(agg.Cols, Column{Name: a.Name, Type: a.T})
		}
		post := func(e Expr) (Expr, error) {
			return mapExpr(e, func(x Expr) (Expr, error) {
				k := x.String()
				if _, isConst := x.(*Const); !isConst {
					for i, g := range gKeys {
						if g == k {
							return &ColRef{Idx: i, Name: k, T: x.Type()}, nil
						}
					}
				}
				switch y := x.(type) {
				case *AggCall:
					for i, s := range aggKeys {
						if s == k {
							return &ColRef{Idx: ng + i, Name: k, T: y.T}, nil
						}
					}
				case *ColRef:
					return nil, pgerror.Newf(pgerror.CodeGroupingError, "column %q must appear in the GROUP BY clause or be used in an aggregate function", y.Name)
				}
				return nil, nil
			})
		}
		for i := range exprs {
			if exprs[i], err = post(exprs[i]); err != nil {
				return nil, err
			}
		}
		b.pushAggregate(agg)
		in = agg
		if having != nil {
			h, err := post(having)
			if err != nil {
				return nil, err
			}
			in = &Filter{Input: in, Cond: h}
		}
	}

	// Window functions, over the rows of the FROM (or the groups).
	windowed := false
	for _, e := range append(append([]Expr{having}, groupBy...), distinctOn...) {
		if e != nil && hasWin(e) {
			return nil, pgerror.New(pgerror.CodeWindowingError, "window functions are not allowed here")
		}
	}
	for _, e := range exprs {
		windowed = windowed || hasWin(e)
	}
	if windowed {
		if grouped {
			return nil, pgerror.Unsupported("window functions together with GROUP BY or aggregates")
		}
		if in, exprs, err = b.planWindows(in, exprs); err != nil {
			return nil, err
		}
	}

	// Projection (visible items first, then hidden sort/distinct keys).
	proj := &Project{Input: in, Exprs: exprs}
	for i, it := range items {
		c := Column{Name: it.name, Type: exprs[i].Type()}
		if c.Type == types.Unknown || c.Type == types.UnknownLit {
			c.Type = types.Text // an unknown-typed parameter in the select list
		}
		if cr, ok := items[i].expr.(*ColRef); ok && !grouped && cr.Idx < len(sc.cols) {
			c.TableOID, c.ColumnNum = sc.cols[cr.Idx].col.TableOID, sc.cols[cr.Idx].col.ColumnNum
		}
		proj.Cols = append(proj.Cols, c)
	}
	var out Node = proj
	if !grouped && where == nil && scan == nil {
		// nothing
		_ = out
	}

	// DISTINCT / DISTINCT ON / ORDER BY / LIMIT.
	switch {
	case len(distinctOn) > 0:
		if len(keys) > 0 {
			if len(keys) < len(donKeys) || !sameKeySet(keys[:len(donKeys)], donKeys) {
				return nil, pgerror.New(pgerror.CodeInvalidColumnRef, "SELECT DISTINCT ON expressions must match initial ORDER BY expressions")
			}
		} else {
			for _, k := range donKeys {
				keys = append(keys, SortKey{Idx: k})
			}
		}
		b.pushLastPoint(proj, keys, donKeys)
		out = &Sort{Input: out, Keys: keys}
		out = &DistinctOn{Input: out, Keys: donKeys}
	case sel.Distinct:
		for _, k := range keys {
			if k.Idx >= nVisible {
				return nil, pgerror.New(pgerror.CodeInvalidColumnRef, "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
			}
		}
		out = &Distinct{Input: out, NumCols: nVisible}
		if len(keys) > 0 {
			out = &Sort{Input: out, Keys: keys}
		}
	case len(keys) > 0:
		out = &Sort{Input: out, Keys: keys}
	}
	if out, err = b.limit(out, sel.Limit); err != nil {
		return nil, err
	}
	if len(items) > nVisible {
		out = trimNode(out, nVisible)
	}
	return out, nil
}

func itemExprs(items []selectItem) []Expr {
	out := make([]Expr, len(items))
	for i, it := range items {
		out[i] = it.expr
	}
	return out
}

func findItem(items []selectItem, e Expr) int {
	k := e.String()
	for i, it := range items {
		if it.expr.String() == k {
			return i
		}
	}
	return -1
}

func sameKeySet(keys []SortKey, idx []int) bool {
	for _, k := range keys {
		found := false
		for _, i := range idx {
			if i == k.Idx {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// trimNode drops hidden trailing columns.
func trimNode(n Node, keep int) Node {
	cols := n.Columns()[:keep]
	exprs := make([]Expr, keep)
	for i, c := range cols {
		exprs[i] = &ColRef{Idx: i, Name: c.Name, T: c.Type}
	}
	return &Project{Input: n, Exprs: exprs, Cols: cols}
}

func unwrapNulls(e ast.ExprNode) (inner ast.ExprNode, first, ok bool) {
	if f, isF := e.(*ast.FuncCallExpr); isF && strings.EqualFold(f.FnName.O, "__lb_nulls") && len(f.Args) == 2 {
		if s, isS := constText(f.Args[1]); isS {
			return f.Args[0], strings.EqualFold(s, "first"), true
		}
	}
	return e, false, false
}

// positionOf returns the 1-based position an ORDER BY / GROUP BY item
// names, if it is an integer literal.
func positionOf(e ast.ExprNode) (int, bool) {
	switch x := e.(type) {
	case *ast.PositionExpr:
		return x.N, true
	case *test_driver.ValueExpr:
		if x.Kind() == test_driver.KindInt64 {
			return int(x.GetInt64()), true
		}
		if x.Kind() == test_driver.KindUint64 {
			return int(x.GetUint64()), true
		}
	}
	return 0, false
}

func (b *builder) groupItem(e ast.ExprNode, sc *scope, items []selectItem) (Expr, error) {
	if n, ok := positionOf(e); ok {
		if n < 1 || n > len(items) {
			return nil, pgerror.Newf(pgerror.CodeInvalidColumnRef, "GROUP BY position %d is not in select list", n)
		}
		return items[n-1].expr, nil
	}
	if c, ok := e.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" && !sc.has(c.Name.Name.O) {
		for _, it := range items {
			if it.name == c.Name.Name.O {
				return it.expr, nil
			}
		}
	}
	return b.expr(e, sc)
}

func (b *builder) orderItem(e ast.ExprNode, sc *scope, items *[]selectItem, nVisible int) (int, error) {
	if n, ok := positionOf(e); ok {
		if n < 1 || n > nVisible {
			return 0, pgerror.Newf(pgerror.CodeInvalidColumnRef, "ORDER BY position %d is not in select list", n)
		}
		return n - 1, nil
	}
	if c, ok := e.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
		found := -1
		for i := 0; i < nVisible; i++ {
			if (*items)[i].name == c.Name.Name.O {
				if found >= 0 && (*items)[found].expr.String() != (*items)[i].expr.String() {
					return 0, pgerror.Newf(pgerror.CodeAmbiguousColumn, "ORDER BY %q is ambiguous", c.Name.Name.O)
				}
				if found < 0 {
					found = i
				}
			}
		}
		if found >= 0 {
			return found, nil
		}
	}
	x, err := b.expr(e, sc)
	if err != nil {
		return 0, err
	}
	if i := findItem(*items, x); i >= 0 {
		return i, nil
	}
	*items = append(*items, selectItem{expr: x, name: "?column?", hidden: true})
	return len(*items) - 1, nil
}

// limit wraps n in a Limit for a LIMIT/OFFSET clause.
func (b *builder) limit(n Node, l *ast.Limit) (Node, error) {
	if l == nil {
		return n, nil
	}
	count, offset := int64(-1), int64(0)
	eval := func(x ast.ExprNode) (int64, bool, error) {
		e, err := b.expr(x, &scope{})
		if err != nil {
			return 0, false, err
		}
		if e, err = b.coerce(e, types.Int8); err != nil {
			return 0, false, err
		}
		if _, ok := e.(*ParamRef); ok {
			return 0, false, nil
		}
		if !isConstExpr(e) {
			return 0, false, pgerror.New(pgerror.CodeSyntaxError, "argument of LIMIT must not contain variables")
		}
		d, err := e.Eval(nil, nil)
		if err != nil {
			return 0, false, err
		}
		if d.Null {
			return 0, false, nil
		}
		d, err = castDatum(d, types.Int8)
		if err != nil {
			return 0, false, err
		}
		if d.I < 0 {
			return 0, false, pgerror.New(pgerror.CodeInvalidParameterValue, "LIMIT must not be negative")
		}
		return d.I, true, nil
	}
	if l.Count != nil {
		v, ok, err := eval(l.Count)
		if err != nil {
			return nil, err
		}
		if ok {
			count = v
		}
	}
	if l.Offset != nil {
		v, ok, err := eval(l.Offset)
		if err != nil {
			return nil, err
		}
		if ok {
			offset = v
		}
	}
	if count < 0 && offset == 0 {
		return n, nil
	}
	if s, ok := n.(*Sort); ok && count >= 0 {
		s.TopN = count + offset
	}
	return &Limit{Input: n, Count: count, Offset: offset}, nil
}

func (b *builder) valuesStmt(sel *ast.SelectStmt) (Node, error) {
	v := &Values{}
	for ri, row := range sel.Lists {
		var exprs []Expr
		for _, x := range row.Values {
			e, err := b.expr(x, &scope{})
			if err != nil {
				return nil, err
			}
			if untyped(e) {
				if e, err = b.coerce(e, types.Text); err != nil {
					return nil, err
				}
			}
			exprs = append(exprs, e)
		}
		if ri == 0 {
			for i, e := range exprs {
				v.Cols = append(v.Cols, Column{Name: "column" + itoa(i+1), Type: e.Type()})
			}
		} else if len(exprs) != len(v.Cols) {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "VALUES lists must all be the same length")
		}
		v.Rows = append(v.Rows, exprs)
	}
	return v, nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// setOpr plans UNION [ALL] (EXCEPT / INTERSECT are not supported).
func (b *builder) setOpr(s *ast.SetOprStmt) (Node, error) {
	pop, err := b.pushCTEs(s.With)
	if err != nil {
		return nil, err
	}
	defer pop()
	node, err := b.setList(s.SelectList)
	if err != nil {
		return nil, err
	}
	cols := node.Columns()
	if s.OrderBy != nil {
		var keys []SortKey
		for _, it := range s.OrderBy.Items {
			expr, nf, hasNulls := unwrapNulls(it.Expr)
			idx := -1
			if n, ok := positionOf(expr); ok {
				idx = n - 1
			} else if c, ok := expr.(*ast.ColumnNameExpr); ok {
				for i, col := range cols {
					if col.Name == c.Name.Name.O {
						idx = i
						break
					}
				}
			}
			if idx < 0 || idx >= len(cols) {
				return nil, pgerror.New(pgerror.CodeFeatureNotSupported, "ORDER BY on a UNION result must name a result column")
			}
			k := SortKey{Idx: idx, Desc: it.Desc, NullsFirst: it.Desc}
			if hasNulls {
				k.NullsFirst = nf
			}
			keys = append(keys, k)
		}
		node = &Sort{Input: node, Keys: keys}
	}
	return b.limit(node, s.Limit)
}

func (b *builder) setList(l *ast.SetOprSelectList) (Node, error) {
	pop, err := b.pushCTEs(l.With)
	if err != nil {
		return nil, err
	}
	defer pop()
	var acc Node
	for i, sel := range l.Selects {
		var node Node
		var op *ast.SetOprType
		switch x := sel.(type) {
		case *ast.SelectStmt:
			node, err = b.selectStmt(x)
			op = x.AfterSetOperator
		case *ast.SetOprSelectList:
			node, err = b.setList(x)
			op = x.AfterSetOperator
		default:
			return nil, pgerror.Unsupported("set operation operand")
		}
		if err != nil {
			return nil, err
		}
		if i == 0 {
			acc = node
			continue
		}
		if len(node.Columns()) != len(acc.Columns()) {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "each UNION query must have the same number of columns")
		}
		cols := append([]Column(nil), acc.Columns()...)
		for j := range cols {
			cols[j].Type = commonType([]types.OID{cols[j].Type, node.Columns()[j].Type})
			cols[j].TableOID, cols[j].ColumnNum = 0, 0
		}
		t := ast.UnionAll
		if op != nil {
			t = *op
		}
		switch t {
		case ast.UnionAll:
			if u, ok := acc.(*UnionAll); ok {
				u.Inputs = append(u.Inputs, node)
				u.Cols = cols
			} else {
				acc = &UnionAll{Inputs: []Node{acc, node}, Cols: cols}
			}
		case ast.Union:
			acc = &Distinct{Input: &UnionAll{Inputs: []Node{acc, node}, Cols: cols}, NumCols: len(cols)}
		default:
			return nil, pgerror.Unsupported("EXCEPT / INTERSECT")
		}
	}
	if l.OrderBy != nil || l.Limit != nil {
		return nil, pgerror.Unsupported("ORDER BY / LIMIT inside a parenthesised set operation")
	}
	return acc, nil
}
