package pgdialect

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	// test_driver provides the parser's value expressions.
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Kind says who handles a statement.
type Kind int

const (
	// KindQuery statements were parsed by TiDB: Result.Stmt is set.
	KindQuery Kind = iota
	// KindUtility statements are handled by Longboat itself: Result.Utility
	// holds one of the utility types (*Begin, *Set, *Copy, ...).
	KindUtility
)

// Result is one normalised statement.
type Result struct {
	Kind Kind
	// Stmt is the TiDB AST (KindQuery).
	Stmt ast.StmtNode
	// Utility is one of *Begin, *Commit, *Rollback, *Set, *Show,
	// *ShowTables, *Discard, *Deallocate, *CreateDatabase, *DropDatabase,
	// *DropIndex, *Copy (KindUtility).
	Utility any
	// NumParams is the highest $n seen.
	NumParams int
	// Rewritten is the text handed to TiDB (for debugging and EXPLAIN).
	Rewritten string
	// LimitParams lists, in text order, the PostgreSQL parameter numbers
	// of TiDB's '?' markers. TiDB accepts only literals or '?' in
	// LIMIT/OFFSET, so a $n there becomes '?'; Normalize sets each
	// ParamMarkerExpr's Order to n-1, so $n = Order+1.
	LimitParams []int
	// TableOptions holds CREATE TABLE ... WITH (k = v, ...) options, which
	// TiDB cannot parse and are removed from Rewritten (lower-cased keys,
	// unquoted values). Nil when absent.
	TableOptions map[string]string

	orig string
	segs []segment
}

// MapPos maps a 0-based byte offset in Rewritten back to a 1-based
// character position in the original statement (0 if unknown).
func (r *Result) MapPos(rewrittenOffset int) int {
	if r == nil {
		return 0
	}
	if rewrittenOffset >= len(r.Rewritten) {
		return charPos(r.orig, len(r.orig))
	}
	s, ok := mapOffset(r.segs, rewrittenOffset)
	if !ok {
		return 0
	}
	return charPos(r.orig, s.pos)
}

// sqlMode is the TiDB sql_mode Normalize parses with.
const sqlMode = mysql.ModeANSIQuotes | mysql.ModePipesAsConcat | mysql.ModeNoBackslashEscapes

// parsers caches TiDB parsers, which are expensive to build and not safe
// for concurrent use.
var parsers = sync.Pool{New: func() any {
	p := parser.New()
	p.SetSQLMode(sqlMode)
	return p
}}

// Normalize rewrites and parses ONE statement (a trailing semicolon is
// allowed). Errors carry a SQLSTATE: 42601 with the 1-based character
// position in stmt for syntax errors, 0A000 naming unsupported constructs.
func Normalize(stmt string) (*Result, error) {
	toks, err := tokenize(stmt)
	if err != nil {
		return nil, err
	}
	for len(toks) > 0 && toks[len(toks)-1].is(tkPunct, ";") {
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 {
		return nil, pgerror.New(pgerror.CodeSyntaxError, "empty query")
	}
	res := &Result{orig: stmt}
	for _, t := range toks {
		if t.kind == tkParam && t.num > res.NumParams {
			res.NumParams = t.num
		}
		if t.is(tkPunct, ";") {
			return nil, pgerror.WithPosition(pgerror.New(pgerror.CodeSyntaxError,
				"cannot insert multiple commands into a prepared statement"), charPos(stmt, t.pos))
		}
	}
	u, isUtil, err := parseUtility(stmt, toks)
	if err != nil {
		return nil, err
	}
	if isUtil {
		res.Kind = KindUtility
		res.Utility = u
		return res, nil
	}
	nodes, err := buildTree(stmt, toks)
	if err != nil {
		return nil, err
	}
	rw := &rewriter{src: stmt}
	nodes, opts, err := rw.statement(nodes)
	if err != nil {
		return nil, err
	}
	res.TableOptions = opts
	var e emitter
	e.emit(nodes)
	res.Rewritten = e.b.String()
	res.segs = e.segs
	res.LimitParams = e.limitParams
	stmts, perr := tidbParse(res.Rewritten)
	if perr != nil {
		return nil, res.parseError(perr)
	}
	if len(stmts) != 1 {
		return nil, pgerror.New(pgerror.CodeSyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	res.Stmt = stmts[0]
	res.Kind = KindQuery
	if len(res.LimitParams) > 0 {
		v := &markerVisitor{}
		res.Stmt.Accept(v)
		sort.Slice(v.markers, func(i, j int) bool { return v.markers[i].Offset < v.markers[j].Offset })
		if len(v.markers) != len(res.LimitParams) {
			return nil, pgerror.Newf(pgerror.CodeInternal, "pgdialect: %d parameter markers for %d LIMIT/OFFSET parameters", len(v.markers), len(res.LimitParams))
		}
		for i, m := range v.markers {
			m.SetOrder(res.LimitParams[i] - 1)
		}
	}
	return res, nil
}

// markerVisitor collects the '?' markers of a statement.
type markerVisitor struct {
	markers []*test_driver.ParamMarkerExpr
}

func (v *markerVisitor) Enter(n ast.Node) (ast.Node, bool) {
	if m, ok := n.(*test_driver.ParamMarkerExpr); ok {
		v.markers = append(v.markers, m)
	}
	return n, false
}

func (v *markerVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// tidbParse parses with a pooled TiDB parser. The TiDB parser (and its
// test_driver value package) panics on a few inputs; a panic becomes a
// 42601 error and the parser is not returned to the pool.
func tidbParse(sql string) (stmts []ast.StmtNode, err error) {
	p := parsers.Get().(*parser.Parser)
	defer func() {
		if r := recover(); r != nil {
			stmts, err = nil, pgerror.Newf(pgerror.CodeSyntaxError, "syntax error: parser failure: %v", r)
			return
		}
		parsers.Put(p)
	}()
	res, _, err := p.Parse(sql, "", "")
	// NB: the returned slice is the parser's own buffer, reused by its next
	// Parse; copy it before the parser goes back to the pool.
	return append([]ast.StmtNode(nil), res...), err
}

// parseError converts a TiDB parse error into a 42601 with the original
// position. TiDB reports `line L column C near "<rest of input>"`; the
// length of the rest locates the offending token.
func (r *Result) parseError(err error) error {
	msg := err.Error()
	off := -1
	if i := strings.Index(msg, ` near "`); i >= 0 {
		rest := msg[i+len(` near "`):]
		if j := strings.LastIndex(rest, `(total length `); j >= 0 {
			if n, e := strconv.Atoi(strings.TrimRight(rest[j+len(`(total length `):], ") ")); e == nil {
				off = len(r.Rewritten) - n
			}
		} else if j := strings.LastIndexByte(rest, '"'); j >= 0 {
			off = len(r.Rewritten) - len(rest[:j])
		}
	}
	if off < 0 || off > len(r.Rewritten) {
		return pgerror.Wrapf(err, pgerror.CodeSyntaxError, "syntax error")
	}
	if off >= len(strings.TrimRight(r.Rewritten, " ")) {
		return pgerror.WithPosition(pgerror.New(pgerror.CodeSyntaxError, "syntax error at end of input"), charPos(r.orig, len(r.orig)))
	}
	s, ok := mapOffset(r.segs, off)
	if !ok {
		return pgerror.Wrapf(err, pgerror.CodeSyntaxError, "syntax error")
	}
	near := r.orig[s.pos:max(s.end, s.pos)]
	if near == "" {
		near = strings.Fields(r.Rewritten[off:] + " ")[0]
	}
	return pgerror.WithPosition(pgerror.Newf(pgerror.CodeSyntaxError, "syntax error at or near %q", near), charPos(r.orig, s.pos))
}

// statement applies statement-level handling (CREATE TABLE, CREATE INDEX)
// and then the generic expression rewrites.
func (rw *rewriter) statement(ns []*node) ([]*node, map[string]string, error) {
	if len(ns) >= 2 && ns[0].isWord("create") {
		j := 1
		for j < len(ns) && (ns[j].isWord("unlogged") || ns[j].isWord("temp") || ns[j].isWord("temporary") || ns[j].isWord("global") || ns[j].isWord("local")) {
			if !ns[j].isWord("unlogged") {
				return nil, nil, rw.unsupported(ns[j], "temporary tables")
			}
			j++
		}
		if j < len(ns) && ns[j].isWord("table") {
			return rw.createTable(append(ns[:1:1], ns[j:]...))
		}
		if j < len(ns) && (ns[j].isWord("index") || ns[j].isWord("unique") && next(ns, j+1) != nil && ns[j+1].isWord("index")) {
			out, err := rw.createIndex(ns)
			return out, nil, err
		}
	}
	out, err := rw.level(ns)
	return out, nil, err
}

// createTable rewrites column types of CREATE TABLE and drops storage
// options. ns starts with CREATE TABLE.
func (rw *rewriter) createTable(ns []*node) ([]*node, map[string]string, error) {
	i := 2
	if next(ns, i) != nil && ns[i].isWord("if") {
		i += 3 // IF NOT EXISTS
	}
	// Table name (possibly qualified).
	for i < len(ns) && (ns[i].kind == nTok && (ns[i].tok.kind == tkIdent || ns[i].tok.kind == tkQIdent) || ns[i].isPunct(".")) {
		i++
	}
	if i >= len(ns) || ns[i].kind != nParen {
		out, err := rw.level(ns) // CREATE TABLE ... AS SELECT and oddities
		return out, nil, err
	}
	cols := ns[i]
	var elems [][]*node
	for _, el := range splitCommas(cols.kids) {
		if len(el) == 0 {
			return nil, nil, rw.syntaxErr(cols)
		}
		switch el[0].word() {
		case "constraint", "primary", "unique", "check", "foreign":
			out, err := rw.level(el)
			if err != nil {
				return nil, nil, err
			}
			elems = append(elems, out)
			continue
		case "exclude", "like":
			return nil, nil, rw.unsupported(el[0], strings.ToUpper(el[0].word())+" in CREATE TABLE")
		}
		name := el[0]
		if name.kind != nTok || (name.tok.kind != tkIdent && name.tok.kind != tkQIdent) {
			return nil, nil, rw.syntaxErr(name)
		}
		t, j, ok := parseType(el, 1, true)
		if !ok {
			return nil, nil, rw.syntaxErr(next(el, 1))
		}
		tt, err := ddlType(t)
		if err != nil {
			return nil, nil, pgerror.WithPosition(err, charPos(rw.src, el[1].pos))
		}
		rest := cloneNodes(el[j:])
		for k := 0; k < len(rest); k++ {
			switch rest[k].word() {
			case "generated":
				return nil, nil, rw.unsupported(rest[k], "generated columns")
			case "collate":
				// dropped by the prefix pass
			}
		}
		rest, err = rw.level(rest)
		if err != nil {
			return nil, nil, err
		}
		nameNode := leaf(name.tok)
		rw.quotePass([]*node{nameNode})
		typeNode := textNode(tt, el[1].pos)
		typeNode.space = true
		typeNode.end = el[j-1].end
		elems = append(elems, append([]*node{nameNode, typeNode}, rest...))
	}
	cols.kids = joinCommas(cols.pos, elems)
	head, err := rw.level(cloneNodes(ns[:i]))
	if err != nil {
		return nil, nil, err
	}
	out := append(head, cols)
	var opts map[string]string
	for k := i + 1; k < len(ns); k++ {
		switch {
		case ns[k].isWord("with") && next(ns, k+1) != nil && ns[k+1].kind == nParen:
			if opts == nil {
				opts = map[string]string{}
			}
			for _, o := range splitCommas(ns[k+1].kids) {
				if len(o) == 0 {
					continue
				}
				key := strings.ToLower(o[0].tok.val)
				val := "true"
				if len(o) >= 3 && o[1].isOp("=") {
					val = optionValue(o[2:])
				} else if len(o) >= 2 && !o[1].isOp("=") {
					val = optionValue(o[1:])
				}
				opts[key] = val
			}
			k++
		case ns[k].isWord("without") && next(ns, k+1) != nil && ns[k+1].isWord("oids"):
			k++
		case ns[k].isWord("tablespace") && k+1 < len(ns):
			k++
		case ns[k].isWord("partition") || ns[k].isWord("inherits") || ns[k].isWord("on") || ns[k].isWord("using"):
			return nil, nil, rw.unsupported(ns[k], "CREATE TABLE ... "+strings.ToUpper(ns[k].word()))
		default:
			return nil, nil, rw.syntaxErr(ns[k])
		}
	}
	return out, opts, nil
}

// optionValue renders an option value: strings and identifiers unquoted,
// a leading sign kept.
func optionValue(ns []*node) string {
	var b strings.Builder
	for _, n := range ns {
		if n.kind != nTok {
			continue
		}
		b.WriteString(n.tok.val)
	}
	return b.String()
}

// createIndex rewrites CREATE [UNIQUE] INDEX: PostgreSQL's optional index
// name is synthesised as PostgreSQL would (table_col1_col2_idx), and
// CONCURRENTLY / ONLY / USING method / WITH (...) are dropped.
func (rw *rewriter) createIndex(ns []*node) ([]*node, error) {
	var out []*node
	i := 0
	unique := false
	for i < len(ns) && !ns[i].isWord("index") {
		if ns[i].isWord("unique") {
			unique = true
		}
		out = append(out, ns[i])
		i++
	}
	out = append(out, ns[i]) // INDEX
	i++
	if next(ns, i) != nil && ns[i].isWord("concurrently") {
		i++
	}
	named := false
	for i < len(ns) && !ns[i].isWord("on") {
		out = append(out, ns[i])
		if !ns[i].isWord("if") && !ns[i].isWord("not") && !ns[i].isWord("exists") {
			named = true
		}
		i++
	}
	if i >= len(ns) {
		return nil, rw.syntaxErr(nil)
	}
	onNode := ns[i]
	i++
	if next(ns, i) != nil && ns[i].isWord("only") {
		i++
	}
	tstart := i
	for i < len(ns) && (ns[i].kind == nTok && (ns[i].tok.kind == tkIdent || ns[i].tok.kind == tkQIdent) && !ns[i].isWord("using") || ns[i].isPunct(".")) {
		i++
	}
	table := ns[tstart:i]
	if len(table) == 0 {
		return nil, rw.syntaxErr(next(ns, i))
	}
	if next(ns, i) != nil && ns[i].isWord("using") {
		i += 2
	}
	if i >= len(ns) || ns[i].kind != nParen {
		return nil, rw.syntaxErr(next(ns, i))
	}
	cols := ns[i]
	i++
	elems := splitCommas(cols.kids)
	if !named {
		name := table[len(table)-1].tok.val
		for _, el := range elems {
			if len(el) > 0 && el[0].kind == nTok && (el[0].tok.kind == tkIdent || el[0].tok.kind == tkQIdent) {
				name += "_" + el[0].tok.val
			} else {
				name += "_expr"
			}
		}
		if unique {
			name += "_key"
		} else {
			name += "_idx"
		}
		if len(name) > 63 {
			name = name[:63]
		}
		t := textNode(quoteIdent(name), onNode.pos)
		t.space = true
		out = append(out, t)
	}
	out = append(out, onNode)
	out = append(out, table...)
	// TiDB wants expression key parts in their own parentheses.
	var parts [][]*node
	for _, el := range elems {
		el, err := rw.level(cloneNodes(el))
		if err != nil {
			return nil, err
		}
		if len(el) > 0 && el[0].kind != nParen && !(el[0].kind == nTok && (el[0].tok.kind == tkIdent || el[0].tok.kind == tkQIdent) && (len(el) == 1 || el[1].kind == nTok && el[1].tok.kind == tkIdent)) {
			e := 0
			for e < len(el) && !el[e].isWord("asc") && !el[e].isWord("desc") {
				e++
			}
			el = append([]*node{seq(el[0].pos, "(", el[:e], ")")}, el[e:]...)
		}
		parts = append(parts, el)
	}
	cols.kids = joinCommas(cols.pos, parts)
	out = append(out, cols)
	for i < len(ns) {
		switch {
		case ns[i].isWord("with") && next(ns, i+1) != nil && ns[i+1].kind == nParen:
			i += 2
		case ns[i].isWord("tablespace"):
			i += 2
		case ns[i].isWord("include") || ns[i].isWord("where") || ns[i].isWord("nulls"):
			return nil, rw.unsupported(ns[i], "CREATE INDEX ... "+strings.ToUpper(ns[i].word()))
		default:
			return nil, rw.syntaxErr(ns[i])
		}
	}
	rw.quotePass(out)
	return out, nil
}

// errUnsupported reports whether err is a 0A000 error.
func errUnsupported(err error) bool {
	var pe *pgerror.Error
	return errors.As(err, &pe) && pe.Code == pgerror.CodeFeatureNotSupported
}
