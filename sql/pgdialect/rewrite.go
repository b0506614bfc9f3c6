package pgdialect

import (
	"strconv"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// PostgreSQL operator precedence (gram.y), higher binds tighter.
const (
	precStop    = 0
	precOr      = 1
	precAnd     = 2
	precNot     = 3
	precIs      = 4
	precCmp     = 5
	precLike    = 6
	precOp      = 7 // any other operator, including || and ~
	precAdd     = 8
	precMul     = 9
	precPow     = 10
	precUnary   = 11
	precCollate = 12
	precAt      = 13
)

// boundaryWords are keywords that end an operand: clause keywords,
// logical and predicate operators and other structural words.
var boundaryWords = map[string]bool{
	"select": true, "from": true, "where": true, "group": true, "by": true, "having": true,
	"order": true, "limit": true, "offset": true, "fetch": true, "as": true, "on": true,
	"using": true, "join": true, "inner": true, "left": true, "right": true, "full": true,
	"outer": true, "cross": true, "natural": true, "union": true, "intersect": true,
	"except": true, "when": true, "then": true, "else": true, "end": true, "and": true,
	"or": true, "not": true, "is": true, "isnull": true, "notnull": true, "between": true,
	"in": true, "like": true, "ilike": true, "similar": true, "escape": true, "asc": true,
	"desc": true, "nulls": true, "window": true, "over": true, "filter": true, "within": true,
	"values": true, "set": true, "returning": true, "into": true, "distinct": true,
	"all": true, "any": true, "some": true, "exists": true, "with": true, "recursive": true,
	"lateral": true, "only": true, "for": true, "to": true, "do": true, "at": true,
	"collate": true, "case": true, "array": true, "symmetric": true, "asymmetric": true,
	"partition": true, "rows": true, "range": true, "groups": true, "default": true,
	"primary": true, "references": true, "check": true, "unique": true, "constraint": true,
	"create": true, "table": true, "insert": true, "update": true, "delete": true,
	"explain": true, "analyze": true, "verbose": true, "ordinality": true, "of": true,
}

func isBoundaryWord(w string) bool { return boundaryWords[w] }

// quoteWords are TiDB reserved words that PostgreSQL accepts as plain
// identifiers; they are emitted double-quoted when used as names.
var quoteWords = map[string]bool{
	"key": true, "keys": true, "index": true, "usage": true, "range": true, "rank": true,
	"read": true, "write": true, "lock": true, "load": true, "release": true, "groups": true,
	"match": true, "option": true, "sql": true, "ssl": true, "database": true,
	"databases": true, "describe": true, "div": true, "mod": true, "regexp": true,
	"rlike": true, "xor": true, "show": true, "long": true, "lines": true, "linear": true,
	"optimize": true, "kill": true, "if": true, "ignore": true, "force": true, "exit": true,
	"leave": true, "until": true, "while": true, "repeat": true, "require": true,
	"spatial": true, "starting": true, "stored": true, "terminated": true, "virtual": true,
	"zerofill": true, "delayed": true, "enclosed": true, "escaped": true, "infile": true,
	"outfile": true, "dual": true, "change": true, "call": true, "cursor": true,
	"continue": true, "convert": true, "inout": true, "out": true, "sqlstate": true,
	"unlock": true, "unsigned": true, "use": true, "iterate": true, "elseif": true,
	"fulltext": true, "maxvalue": true, "tablesample": true, "straight_join": true,
	"high_priority": true, "low_priority": true, "sqlexception": true, "sqlwarning": true,
	"rename": true, "trigger": true, "procedure": true, "optionally": true,
	"distinctrow": true, "no_write_to_binlog": true, "utc_date": true, "utc_time": true,
	"utc_timestamp": true, "int1": true, "int2": true, "int3": true, "int4": true,
	"int8": true, "float4": true, "float8": true, "tinyblob": true, "tinytext": true,
	"mediumblob": true, "mediumtext": true, "longblob": true, "longtext": true,
	"mediumint": true, "middleint": true, "tinyint": true, "varbinary": true,
	"varcharacter": true, "day_hour": true, "day_microsecond": true, "day_minute": true,
	"day_second": true, "hour_microsecond": true, "hour_minute": true, "hour_second": true,
	"minute_microsecond": true, "minute_second": true, "second_microsecond": true,
	"year_month": true, "cume_dist": true, "dense_rank": true, "first_value": true,
	"last_value": true, "lag": true, "lead": true, "nth_value": true, "ntile": true,
	"percent_rank": true, "row_number": true, "sql_big_result": true,
	"sql_calc_found_rows": true, "sql_small_result": true, "tidb_current_tso": true,
	"generated": true, "accessible": true, "blob": true, "binary": true, "interval": true,
}

// tidbCallable are TiDB reserved words that TiDB still parses as function
// calls when followed by '('; other reserved words are quoted there too
// ("div"(a, b) is a generic call).
var tidbCallable = map[string]bool{
	"mod": true, "repeat": true, "replace": true, "convert": true, "left": true, "right": true,
	"char": true, "if": true, "lag": true, "lead": true, "rank": true, "dense_rank": true,
	"row_number": true, "first_value": true, "last_value": true, "nth_value": true, "ntile": true,
	"cume_dist": true, "percent_rank": true, "database": true, "utc_date": true, "utc_time": true,
	"utc_timestamp": true, "insert": true, "interval": true,
}

// clauseEnd are words that end a LIMIT/OFFSET/FROM region.
var clauseEnd = map[string]bool{
	"where": true, "group": true, "having": true, "order": true, "limit": true,
	"offset": true, "fetch": true, "window": true, "union": true, "intersect": true,
	"except": true, "for": true, "returning": true, "on": false,
}

type clsKind uint8

const (
	cStop clsKind = iota
	cOperand
	cBinop
	cPrefix
)

// rewriter rewrites one statement's token tree into TiDB-parsable form.
type rewriter struct {
	src string
}

func (rw *rewriter) errAt(n *node, code, format string, args ...any) error {
	return pgerror.WithPosition(pgerror.Newf(code, format, args...), charPos(rw.src, n.pos))
}

func (rw *rewriter) unsupported(n *node, what string) error {
	return pgerror.WithPosition(pgerror.Unsupported(what), charPos(rw.src, n.pos))
}

func (rw *rewriter) syntaxErr(n *node) error {
	if n == nil {
		return syntaxErrAt(rw.src, len(rw.src), "syntax error at end of input")
	}
	return syntaxErrAt(rw.src, n.pos, "syntax error at or near %q", rw.src[n.pos:max(n.end, n.pos)])
}

func opPrec(op string) int {
	switch op {
	case "+", "-":
		return precAdd
	case "*", "/", "%":
		return precMul
	case "^":
		return precPow
	case "<", ">", "=", "<=", ">=", "<>", "!=":
		return precCmp
	case ":=", "=>":
		return precStop
	}
	return precOp
}

// endsOperand reports whether n can be the last node of an operand.
func endsOperand(n *node) bool {
	switch n.kind {
	case nParen, nBracket, nCase, nSeq, nText:
		return true
	}
	switch n.tok.kind {
	case tkString, tkNumber, tkParam, tkQIdent, tkBitStr:
		return true
	case tkIdent:
		return !isBoundaryWord(n.tok.val)
	}
	return false
}

func next(ns []*node, i int) *node {
	if i >= 0 && i < len(ns) {
		return ns[i]
	}
	return nil
}

func isFuncWord(n *node) bool {
	return n != nil && n.kind == nTok && (n.tok.kind == tkQIdent || n.tok.kind == tkIdent && (!isBoundaryWord(n.tok.val) ||
		n.tok.val == "left" || n.tok.val == "right" || n.tok.val == "exists" || n.tok.val == "any" ||
		n.tok.val == "all" || n.tok.val == "some" || n.tok.val == "array" || n.tok.val == "values"))
}

// classify returns the syntactic role of ns[i] and, for operators, its
// binary precedence. btw marks AND words that belong to BETWEEN.
func classify(ns []*node, i int, btw []bool) (clsKind, int) {
	n := ns[i]
	switch n.kind {
	case nParen, nBracket, nCase, nSeq, nText:
		return cOperand, 0
	}
	prevOperand := i > 0 && endsOperand(ns[i-1])
	switch n.tok.kind {
	case tkString, tkNumber, tkParam, tkQIdent, tkBitStr:
		return cOperand, 0
	case tkPunct:
		if n.tok.val == "." {
			return cOperand, 0
		}
		return cStop, 0
	case tkOp:
		if n.tok.val == "*" && (i == 0 || ns[i-1].isPunct(".") || !prevOperand) {
			return cOperand, 0
		}
		p := opPrec(n.tok.val)
		if p == precStop {
			return cStop, 0
		}
		if !prevOperand {
			return cPrefix, precUnary
		}
		return cBinop, p
	}
	w := n.tok.val
	switch w {
	case "and":
		if btw != nil && btw[i] {
			return cBinop, precLike
		}
		return cBinop, precAnd
	case "or":
		return cBinop, precOr
	case "not":
		if prevOperand {
			return cBinop, precLike
		}
		return cPrefix, precNot
	case "is", "isnull", "notnull":
		return cBinop, precIs
	case "between", "in", "like", "ilike", "similar", "escape":
		return cBinop, precLike
	case "at":
		if next(ns, i+1) != nil && ns[i+1].isWord("time") && next(ns, i+2) != nil && ns[i+2].isWord("zone") {
			return cBinop, precAt
		}
		return cStop, 0
	case "left", "right", "exists", "any", "all", "some", "array", "values":
		if nx := next(ns, i+1); nx != nil && (nx.kind == nParen || nx.kind == nBracket && w == "array") {
			return cOperand, 0
		}
		return cStop, 0
	}
	if isBoundaryWord(w) {
		return cStop, 0
	}
	return cOperand, 0
}

// betweenAnds marks the AND of each BETWEEN ... AND at this level.
func betweenAnds(ns []*node) []bool {
	var btw []bool
	pending := 0
	for i, n := range ns {
		if n.isWord("between") {
			pending++
		} else if n.isWord("and") && pending > 0 {
			if btw == nil {
				btw = make([]bool, len(ns))
			}
			btw[i] = true
			pending--
		}
	}
	return btw
}

// primaryStart returns the first index of the primary expression ending at i:
// qualified names, function calls (with OVER/FILTER), subscripts.
func primaryStart(ns []*node, i int) int {
	for i > 0 {
		cur, prev := ns[i], ns[i-1]
		switch {
		case prev.isPunct(".") && i >= 2:
			i -= 2
		case cur.isPunct(".") && i >= 1:
			i--
		case cur.kind == nParen && isFuncWord(prev):
			i--
		case cur.kind == nBracket && endsOperand(prev):
			i--
		case cur.kind == nParen && (prev.isWord("over") || prev.isWord("filter")) && i >= 2 && ns[i-2].kind == nParen:
			i -= 2
		case cur.kind == nTok && cur.tok.kind == tkIdent && (prev.isWord("over")) && i >= 2 && ns[i-2].kind == nParen:
			i -= 2
		default:
			return i
		}
	}
	return i
}

// primaryEnd returns the last index of the primary expression starting at i.
func primaryEnd(ns []*node, i int) int {
	for i+1 < len(ns) {
		cur, nx := ns[i], ns[i+1]
		switch {
		case nx.isPunct(".") && i+2 < len(ns):
			i += 2
		case nx.kind == nParen && isFuncWord(cur) && cur.kind == nTok:
			i++
		case nx.kind == nBracket && endsOperand(cur):
			i++
		case cur.kind == nParen && (nx.isWord("over") || nx.isWord("filter")) && i+2 < len(ns) &&
			(ns[i+2].kind == nParen || nx.isWord("over") && ns[i+2].kind == nTok && ns[i+2].tok.kind == tkIdent && !isBoundaryWord(ns[i+2].tok.val)):
			i += 2
		default:
			return i
		}
	}
	return i
}

// scanLeft returns the start index of the left operand of the binary
// operator at k with precedence p (left-associative).
func scanLeft(ns []*node, k, p int, btw []bool) int {
	start := k
	j := k - 1
	needOperand := true
	for j >= 0 {
		c, cp := classify(ns, j, btw)
		if needOperand {
			if c != cOperand {
				break
			}
			s := primaryStart(ns, j)
			start = s
			j = s - 1
			needOperand = false
			continue
		}
		switch {
		case c == cBinop && cp >= p:
			j--
			needOperand = true
		case c == cPrefix && cp >= p:
			start = j
			j--
		default:
			return start
		}
	}
	return start
}

// scanRight returns the end index (exclusive) of the right operand of the
// binary operator whose last node is at k, with precedence p.
func scanRight(ns []*node, k, p int, btw []bool) int {
	end := k + 1
	j := k + 1
	needOperand := true
	for j < len(ns) {
		c, cp := classify(ns, j, btw)
		if needOperand {
			switch {
			case c == cPrefix && cp > p:
				j++
			case c == cOperand:
				e := primaryEnd(ns, j)
				end = e + 1
				j = e + 1
				needOperand = false
			default:
				return end
			}
			continue
		}
		if (c == cBinop || c == cPrefix && ns[j].isWord("not")) && cp > p {
			j++
			needOperand = true
			continue
		}
		return end
	}
	return end
}

// splice replaces ns[a:b] with repl.
func splice(ns []*node, a, b int, repl ...*node) []*node {
	out := make([]*node, 0, len(ns)-(b-a)+len(repl))
	out = append(out, ns[:a]...)
	out = append(out, repl...)
	out = append(out, ns[b:]...)
	return out
}

// wrap returns nodes parenthesised unless they are a single primary.
func wrap(pos int, nodes []*node) []*node {
	if len(nodes) == 1 || primaryStart(nodes, len(nodes)-1) == 0 {
		return nodes
	}
	return []*node{textNode("(", pos), seq(pos, nodes), textNode(")", pos)}
}

func cloneNodes(ns []*node) []*node { return append([]*node(nil), ns...) }

// splitCommas splits ns at top-level commas.
func splitCommas(ns []*node) [][]*node {
	var out [][]*node
	start := 0
	for i, n := range ns {
		if n.isPunct(",") {
			out = append(out, ns[start:i])
			start = i + 1
		}
	}
	if len(ns) > 0 {
		out = append(out, ns[start:])
	}
	return out
}

// joinCommas joins node lists with synthetic commas.
func joinCommas(pos int, parts [][]*node) []*node {
	var out []*node
	for i, p := range parts {
		if i > 0 {
			out = append(out, textNode(",", pos))
		}
		out = append(out, p...)
	}
	return out
}

func isSubquery(g *node) bool {
	if g.kind != nParen || len(g.kids) == 0 {
		return false
	}
	f := g.kids[0]
	for f.kind == nParen && len(f.kids) > 0 { // ((SELECT ...) UNION ...)
		f = f.kids[0]
	}
	return f.isWord("select") || f.isWord("with") || f.isWord("values") || f.isWord("table")
}

// level rewrites one nesting level (after its groups) and returns it.
func (rw *rewriter) level(ns []*node) ([]*node, error) {
	ns, err := rw.prefixPass(ns)
	if err != nil {
		return nil, err
	}
	for _, f := range []func([]*node) ([]*node, error){
		rw.distinctOnPass, rw.postfixPass, rw.atTimeZonePass, rw.powPass, rw.genericOpPass,
		rw.anyPass, rw.isDistinctPass, rw.nullsPass, rw.limitPass, rw.fromFuncPass,
	} {
		if ns, err = f(ns); err != nil {
			return nil, err
		}
	}
	rw.quotePass(ns)
	return ns, nil
}

// prefixPass recurses into groups and rewrites constructs introduced by a
// word: CAST, EXTRACT, date_part, ARRAY, OPERATOR(), typed literals,
// current_user & co., COLLATE, ISNULL/NOTNULL.
func (rw *rewriter) prefixPass(ns []*node) ([]*node, error) {
	for i := 0; i < len(ns); i++ {
		n := ns[i]
		if n.isGroup() {
			if n.kind == nParen && i > 0 && isFuncWord(ns[i-1]) && ns[i-1].kind == nTok && !ns[i-1].isWord("values") && !isSubquery(n) {
				for _, k := range n.kids {
					if k.isWord("order") {
						return nil, rw.unsupported(k, "ORDER BY in aggregate arguments")
					}
				}
			}
			kids, err := rw.level(n.kids)
			if err != nil {
				return nil, err
			}
			n.kids = kids
			if n.kind == nBracket && (i == 0 || !endsOperand(ns[i-1])) {
				// A bare [..] (nested ARRAY[[1,2],[3,4]]) is an array constructor.
				if i > 0 && ns[i-1].isPunct("::") {
					continue
				}
				ns[i] = seq(n.pos, "__lb_array(", n.kids, ")")
				ns[i].space = n.space
			}
			continue
		}
		if n.kind != nTok {
			continue
		}
		if n.tok.kind == tkBitStr {
			return nil, rw.unsupported(n, "bit-string literal")
		}
		if n.tok.kind == tkOp && (n.tok.val == "`" || strings.ContainsRune(n.tok.val, '`')) {
			return nil, rw.syntaxErr(n)
		}
		if n.tok.kind == tkPunct && n.tok.val == ":" {
			return nil, rw.unsupported(n, "array slice")
		}
		if n.tok.kind != tkIdent {
			continue
		}
		prevDot := i > 0 && ns[i-1].isPunct(".")
		nextDot := i+1 < len(ns) && ns[i+1].isPunct(".")
		nx := next(ns, i+1)
		nextParen := nx != nil && nx.kind == nParen
		if prevDot {
			continue
		}
		w := n.tok.val
		var repl *node
		consumed := 1
		var err error
		switch w {
		case "cast":
			if nextParen {
				repl, err = rw.castCall(n, nx)
				consumed = 2
			}
		case "extract":
			if nextParen {
				repl, err = rw.extractCall(n, nx)
				consumed = 2
			}
		case "date_part":
			if nextParen {
				repl, err = rw.datePartCall(n, nx)
				consumed = 2
			}
		case "array":
			if nx != nil && nx.kind == nBracket {
				kids, err := rw.level(nx.kids)
				if err != nil {
					return nil, err
				}
				repl = seq(n.pos, "__lb_array(", kids, ")")
				consumed = 2
			} else if nextParen && isSubquery(nx) {
				kids, err := rw.level(nx.kids)
				if err != nil {
					return nil, err
				}
				nx.kids = kids
				repl = seq(n.pos, "__lb_array_subquery(", nx, ")")
				consumed = 2
			}
		case "operator":
			if nextParen {
				op := ""
				for _, k := range nx.kids {
					if k.kind == nTok && k.tok.kind == tkOp {
						op = k.tok.val
					}
				}
				if op == "" {
					return nil, rw.syntaxErr(nx)
				}
				t := token{kind: tkOp, val: op, pos: n.pos, end: nx.end, space: n.space}
				repl = leaf(t)
				consumed = 2
			}
		case "user", "current_user", "session_user", "current_role":
			if !nextParen && !nextDot {
				repl = seq(n.pos, "__lb_current_user()")
			}
		case "current_schema":
			if !nextParen && !nextDot {
				repl = seq(n.pos, "current_schema()")
			}
		case "current_catalog":
			if !nextParen && !nextDot {
				repl = seq(n.pos, "current_database()")
			}
		case "collate":
			// COLLATE "x" / COLLATE pg_catalog.default: dropped.
			j := i + 1
			if j < len(ns) && ns[j].kind == nTok && (ns[j].tok.kind == tkIdent || ns[j].tok.kind == tkQIdent) {
				j++
				for j+1 < len(ns) && ns[j].isPunct(".") && ns[j+1].kind == nTok && (ns[j+1].tok.kind == tkIdent || ns[j+1].tok.kind == tkQIdent) {
					j += 2
				}
				ns = splice(ns, i, j)
				i--
				continue
			}
			return nil, rw.syntaxErr(next(ns, i+1))
		case "isnull":
			ns = splice(ns, i, i+1, textNode("IS", n.pos), textNode("NULL", n.pos))
			ns[i].space = true
			ns[i+1].space = true
			i++
			continue
		case "notnull":
			ns = splice(ns, i, i+1, textNode("IS", n.pos), textNode("NOT", n.pos), textNode("NULL", n.pos))
			for k := i; k < i+3; k++ {
				ns[k].space = true
			}
			i += 2
			continue
		case "returning":
			return nil, rw.unsupported(n, "RETURNING")
		case "on":
			if nx != nil && nx.isWord("conflict") {
				return nil, rw.unsupported(n, "INSERT ... ON CONFLICT")
			}
		case "first", "last":
			// TimescaleDB's first(value, time) / last(value, time).
			if nextParen && !(i > 0 && (ns[i-1].isWord("fetch") || ns[i-1].isWord("nulls"))) {
				kids, err := rw.level(nx.kids)
				if err != nil {
					return nil, err
				}
				nx.kids = kids
				repl = seq(n.pos, "__lb_"+w, nx)
				consumed = 2
			}
		case "values":
			if i == 0 && nextParen {
				out, err := rw.valuesList(ns)
				if err != nil {
					return nil, err
				}
				return out, nil
			}
		case "filter":
			if nextParen && i > 0 && ns[i-1].kind == nParen {
				return nil, rw.unsupported(n, "aggregate FILTER")
			}
		case "within":
			if nx != nil && nx.isWord("group") {
				return nil, rw.unsupported(n, "WITHIN GROUP")
			}
		case "similar":
			if nx != nil && nx.isWord("to") {
				return nil, rw.unsupported(n, "SIMILAR TO")
			}
		}
		if err != nil {
			return nil, err
		}
		if repl == nil && !nextDot && !(i > 0 && ns[i-1].isPunct("::")) {
			// Typed literal: type 'string'.
			if t, j, ok := parseType(ns, i, false); ok && j < len(ns) && ns[j].kind == nTok && ns[j].tok.kind == tkString {
				if _, known := typeAliases[w]; known || w == "double" || w == "character" || w == "char" || w == "national" || w == "bit" {
					lit := leaf(ns[j].tok)
					consumed = j - i + 1
					if t.name == "interval" {
						// interval '2' hour: a bare number counts in the
						// (last) field named after the literal.
						last := ""
						for k := j + 1; k < len(ns) && (isIntervalField(ns[k].word()) || ns[k].isWord("to")); k++ {
							if w := ns[k].word(); w != "to" {
								last = w
							}
							consumed++
						}
						if _, err := strconv.ParseFloat(strings.TrimSpace(ns[j].tok.val), 64); err == nil && last != "" {
							lit.text = quoteString(strings.TrimSpace(ns[j].tok.val) + " " + last)
						}
					}
					repl = seq(n.pos, "__lb_cast(", lit, ", "+quoteString(t.String())+")")
				}
			}
		}
		if repl != nil {
			repl.space = n.space
			ns = splice(ns, i, i+consumed, repl)
		}
	}
	return ns, nil
}

// valuesList rewrites a statement-level VALUES list, which TiDB cannot
// parse, into SELECT ... UNION ALL SELECT ... with PostgreSQL's column
// names column1, column2, ...
func (rw *rewriter) valuesList(ns []*node) ([]*node, error) {
	var out []*node
	i := 1
	row := 0
	for i < len(ns) && ns[i].kind == nParen {
		g := ns[i]
		kids, err := rw.level(g.kids)
		if err != nil {
			return nil, err
		}
		items := splitCommas(kids)
		word := func(s string) {
			t := textNode(s, g.pos)
			t.space = true
			out = append(out, t)
		}
		if row > 0 {
			word("UNION ALL")
		}
		word("SELECT")
		for k, it := range items {
			if k > 0 {
				out = append(out, textNode(",", g.pos))
			}
			if len(it) > 0 {
				it[0].space = true
			}
			out = append(out, it...)
			if row == 0 {
				word("AS column" + strconv.Itoa(k+1))
			}
		}
		row++
		i++
		if i < len(ns) && ns[i].isPunct(",") {
			i++
			continue
		}
		break
	}
	if i < len(ns) {
		// ORDER BY / LIMIT after the list apply to the whole UNION.
		rest, err := rw.level(cloneNodes(ns[i:]))
		if err != nil {
			return nil, err
		}
		out = append(out, rest...)
	}
	return out, nil
}

// castCall rewrites CAST(expr AS type).
func (rw *rewriter) castCall(kw, g *node) (*node, error) {
	as := -1
	for k := len(g.kids) - 1; k >= 0; k-- {
		if g.kids[k].isWord("as") {
			as = k
			break
		}
	}
	if as <= 0 {
		return nil, rw.syntaxErr(g)
	}
	t, j, ok := parseType(g.kids, as+1, true)
	if !ok || j != len(g.kids) {
		return nil, rw.syntaxErr(next(g.kids, j))
	}
	expr, err := rw.level(cloneNodes(g.kids[:as]))
	if err != nil {
		return nil, err
	}
	return seq(kw.pos, "__lb_cast(", expr, ", "+quoteString(t.String())+")"), nil
}

// extractCall rewrites EXTRACT(field FROM expr).
func (rw *rewriter) extractCall(kw, g *node) (*node, error) {
	if len(g.kids) < 3 || !g.kids[1].isWord("from") {
		return nil, rw.syntaxErr(next(g.kids, 1))
	}
	f := g.kids[0]
	var field string
	switch {
	case f.kind == nTok && (f.tok.kind == tkIdent || f.tok.kind == tkString || f.tok.kind == tkQIdent):
		field = strings.ToLower(f.tok.val)
	default:
		return nil, rw.syntaxErr(f)
	}
	expr, err := rw.level(cloneNodes(g.kids[2:]))
	if err != nil {
		return nil, err
	}
	return seq(kw.pos, "__lb_extract("+quoteString(field)+", ", expr, ")"), nil
}

// datePartCall rewrites date_part('field', expr).
func (rw *rewriter) datePartCall(kw, g *node) (*node, error) {
	kids, err := rw.level(g.kids)
	if err != nil {
		return nil, err
	}
	args := splitCommas(kids)
	if len(args) != 2 || len(args[0]) == 0 || len(args[1]) == 0 {
		// Leave oddities to the planner as a plain call.
		g.kids = kids
		return seq(kw.pos, leaf(kw.tok), g), nil
	}
	first := args[0]
	if len(first) == 1 && first[0].kind == nTok && first[0].tok.kind == tkString {
		first = []*node{textNode(quoteString(strings.ToLower(first[0].tok.val)), first[0].pos)}
	}
	return seq(kw.pos, "__lb_extract(", first, ", ", args[1], ")"), nil
}

// distinctOnPass: SELECT DISTINCT ON (a, b) rest → SELECT DISTINCT __lb_distinct_on(a, b), rest.
func (rw *rewriter) distinctOnPass(ns []*node) ([]*node, error) {
	for i := 0; i+2 < len(ns); i++ {
		if ns[i].isWord("distinct") && ns[i+1].isWord("on") && ns[i+2].kind == nParen {
			if len(ns[i+2].kids) == 0 {
				return nil, rw.syntaxErr(ns[i+2])
			}
			repl := seq(ns[i+1].pos, "__lb_distinct_on(", ns[i+2].kids, "),")
			repl.space = true
			ns = splice(ns, i+1, i+3, repl)
		}
	}
	return ns, nil
}

// postfixPass rewrites x::type and x[i] left to right (tightest binding).
func (rw *rewriter) postfixPass(ns []*node) ([]*node, error) {
	for i := 0; i < len(ns); i++ {
		n := ns[i]
		switch {
		case n.isPunct("::"):
			if i == 0 || !endsOperand(ns[i-1]) {
				return nil, rw.syntaxErr(n)
			}
			s := primaryStart(ns, i-1)
			t, j, ok := parseType(ns, i+1, true)
			if !ok {
				return nil, rw.syntaxErr(next(ns, i+1))
			}
			repl := seq(ns[s].pos, "__lb_cast(", cloneNodes(ns[s:i]), ", "+quoteString(t.String())+")")
			repl.space = ns[s].space
			ns = splice(ns, s, j, repl)
			i = s
		case n.kind == nBracket && i > 0 && endsOperand(ns[i-1]) && !ns[i-1].isPunct("::"):
			s := primaryStart(ns, i-1)
			for _, k := range n.kids {
				if k.kind == nTok && k.tok.kind == tkPunct && k.tok.val == ":" {
					return nil, rw.unsupported(k, "array slice")
				}
			}
			repl := seq(ns[s].pos, "__lb_subscript(", cloneNodes(ns[s:i]), ", ", n.kids, ")")
			repl.space = ns[s].space
			ns = splice(ns, s, i+1, repl)
			i = s
		}
	}
	return ns, nil
}

// atTimeZonePass: x AT TIME ZONE z → __lb_at_time_zone(x, z).
func (rw *rewriter) atTimeZonePass(ns []*node) ([]*node, error) {
	for i := 0; i+2 < len(ns); i++ {
		if !(ns[i].isWord("at") && ns[i+1].isWord("time") && ns[i+2].isWord("zone")) {
			continue
		}
		btw := betweenAnds(ns)
		s := scanLeft(ns, i, precAt, btw)
		e := scanRight(ns, i+2, precAt, btw)
		if s == i || e == i+3 {
			return nil, rw.syntaxErr(next(ns, i+3))
		}
		repl := seq(ns[s].pos, "__lb_at_time_zone(", cloneNodes(ns[s:i]), ", ", cloneNodes(ns[i+3:e]), ")")
		repl.space = ns[s].space
		ns = splice(ns, s, e, repl)
		i = s
	}
	return ns, nil
}

// powPass: a ^ b → power(a, b) (PostgreSQL ^ is exponentiation; TiDB's is XOR).
func (rw *rewriter) powPass(ns []*node) ([]*node, error) {
	for i := 1; i < len(ns); i++ {
		if !ns[i].isOp("^") {
			continue
		}
		btw := betweenAnds(ns)
		if c, _ := classify(ns, i, btw); c != cBinop {
			return nil, rw.syntaxErr(ns[i])
		}
		s := scanLeft(ns, i, precPow, btw)
		e := scanRight(ns, i, precPow, btw)
		if e == i+1 {
			return nil, rw.syntaxErr(next(ns, i+1))
		}
		repl := seq(ns[s].pos, "power(", cloneNodes(ns[s:i]), ", ", cloneNodes(ns[i+1:e]), ")")
		repl.space = ns[s].space
		ns = splice(ns, s, e, repl)
		i = s
	}
	return ns, nil
}

// genericOpPass rewrites operators of PostgreSQL's "any other operator"
// precedence class: regex matches, ||, bitwise operators and unknown ones.
func (rw *rewriter) genericOpPass(ns []*node) ([]*node, error) {
	for i := 0; i < len(ns); i++ {
		n := ns[i]
		if n.kind != nTok || n.tok.kind != tkOp || opPrec(n.tok.val) != precOp {
			continue
		}
		op := n.tok.val
		btw := betweenAnds(ns)
		c, _ := classify(ns, i, btw)
		if c != cBinop {
			if op == "~" {
				continue // bitwise NOT: same in TiDB
			}
			return nil, rw.unsupported(n, "prefix operator "+op)
		}
		s := scanLeft(ns, i, precOp, btw)
		e := scanRight(ns, i, precOp, btw)
		if e == i+1 {
			return nil, rw.syntaxErr(next(ns, i+1))
		}
		l, r := cloneNodes(ns[s:i]), cloneNodes(ns[i+1:e])
		var repl *node
		switch op {
		case "~", "~*", "!~", "!~*":
			repl = seq(n.pos, "__lb_regex(", l, ", "+quoteString(op)+", ", r, ")")
		case "~~", "~~*", "!~~", "!~~*":
			kw := " LIKE "
			if strings.HasSuffix(op, "*") {
				kw = " ILIKE "
			}
			if strings.HasPrefix(op, "!") {
				kw = " NOT" + kw
			}
			repl = seq(n.pos, "(", wrap(n.pos, l), kw, wrap(n.pos, r), ")")
		case "||", "&", "|", "<<", ">>":
			repl = seq(n.pos, "(", wrap(n.pos, l), " "+op+" ", wrap(n.pos, r), ")")
		case "#":
			repl = seq(n.pos, "(", wrap(n.pos, l), " ^ ", wrap(n.pos, r), ")")
		default:
			repl = seq(n.pos, "__lb_op(", l, ", "+quoteString(op)+", ", r, ")")
		}
		repl.space = ns[s].space
		ns = splice(ns, s, e, repl)
		i = s
	}
	return ns, nil
}

// anyPass: x op ANY|SOME|ALL (array) → __lb_any(x, 'op', array) / __lb_all(...).
// Subqueries (x = ANY (SELECT ...)) are left to TiDB.
func (rw *rewriter) anyPass(ns []*node) ([]*node, error) {
	for i := 1; i+2 < len(ns); i++ {
		op := ns[i]
		if op.kind != nTok || op.tok.kind != tkOp || opPrec(op.tok.val) != precCmp {
			continue
		}
		w := ns[i+1].word()
		if (w != "any" && w != "some" && w != "all") || ns[i+2].kind != nParen || isSubquery(ns[i+2]) {
			continue
		}
		btw := betweenAnds(ns)
		s := scanLeft(ns, i, precCmp, btw)
		if s == i {
			return nil, rw.syntaxErr(op)
		}
		fn := "__lb_any("
		if w == "all" {
			fn = "__lb_all("
		}
		repl := seq(ns[s].pos, fn, cloneNodes(ns[s:i]), ", "+quoteString(op.tok.val)+", ", ns[i+2].kids, ")")
		repl.space = ns[s].space
		ns = splice(ns, s, i+3, repl)
		i = s
	}
	return ns, nil
}

// isDistinctPass: a IS [NOT] DISTINCT FROM b → __lb_is_distinct(a, b),
// (NOT __lb_is_distinct(a, b)).
func (rw *rewriter) isDistinctPass(ns []*node) ([]*node, error) {
	for i := 1; i < len(ns); i++ {
		if !ns[i].isWord("is") {
			continue
		}
		j := i + 1
		neg := false
		if next(ns, j) != nil && ns[j].isWord("not") {
			neg = true
			j++
		}
		if !(next(ns, j) != nil && ns[j].isWord("distinct") && next(ns, j+1) != nil && ns[j+1].isWord("from")) {
			continue
		}
		btw := betweenAnds(ns)
		s := scanLeft(ns, i, precIs, btw)
		e := scanRight(ns, j+1, precIs, btw)
		if s == i || e == j+2 {
			return nil, rw.syntaxErr(next(ns, j+2))
		}
		l, r := cloneNodes(ns[s:i]), cloneNodes(ns[j+2:e])
		var repl *node
		if neg {
			repl = seq(ns[i].pos, "(NOT __lb_is_distinct(", l, ", ", r, "))")
		} else {
			repl = seq(ns[i].pos, "__lb_is_distinct(", l, ", ", r, ")")
		}
		repl.space = ns[s].space
		ns = splice(ns, s, e, repl)
		i = s
	}
	return ns, nil
}

// nullsPass: ORDER BY expr [ASC|DESC] NULLS FIRST|LAST → __lb_nulls(expr, 'first') [ASC|DESC].
func (rw *rewriter) nullsPass(ns []*node) ([]*node, error) {
	for i := 1; i+1 < len(ns); i++ {
		if !ns[i].isWord("nulls") || !(ns[i+1].isWord("first") || ns[i+1].isWord("last")) {
			continue
		}
		end := i
		var dir *node
		if ns[i-1].isWord("asc") || ns[i-1].isWord("desc") {
			dir = ns[i-1]
			end = i - 1
		}
		s := end
		for s > 0 && !ns[s-1].isPunct(",") && !ns[s-1].isWord("by") {
			s--
		}
		if s == end {
			return nil, rw.syntaxErr(ns[i])
		}
		repl := seq(ns[s].pos, "__lb_nulls(", cloneNodes(ns[s:end]), ", "+quoteString(ns[i+1].tok.val)+")")
		repl.space = ns[s].space
		r := []*node{repl}
		if dir != nil {
			r = append(r, dir)
		}
		ns = splice(ns, s, i+2, r...)
		i = s
	}
	return ns, nil
}

// maxLimit is the LIMIT TiDB is given for OFFSET without LIMIT.
const maxLimit = "18446744073709551615"

// limitPass normalises LIMIT/OFFSET/FETCH into TiDB's LIMIT n OFFSET m.
func (rw *rewriter) limitPass(ns []*node) ([]*node, error) {
	first := -1
	for i, n := range ns {
		if n.isWord("limit") || n.isWord("offset") || n.isWord("fetch") {
			first = i
			break
		}
	}
	if first < 0 {
		return ns, nil
	}
	var limit, offset []*node
	var limitKW, offsetKW *node
	noLimit := false
	i := first
	stop := len(ns)
	regionEnd := func(j int) int {
		for j < len(ns) {
			if w := ns[j].word(); w == "limit" || w == "offset" || w == "fetch" || w == "for" || clauseEnd[w] {
				return j
			}
			j++
		}
		return j
	}
	for i < len(ns) {
		n := ns[i]
		switch {
		case n.isWord("limit"):
			e := regionEnd(i + 1)
			if limitKW != nil || e == i+1 {
				return nil, rw.syntaxErr(next(ns, i+1))
			}
			limitKW = n
			limit = ns[i+1 : e]
			if len(limit) == 1 && (limit[0].isWord("all") || limit[0].isWord("null")) {
				noLimit = true
				limit = nil
			}
			i = e
		case n.isWord("offset"):
			e := regionEnd(i + 1)
			if offsetKW != nil || e == i+1 {
				return nil, rw.syntaxErr(next(ns, i+1))
			}
			offsetKW = n
			offset = ns[i+1 : e]
			if l := len(offset); l > 1 && (offset[l-1].isWord("row") || offset[l-1].isWord("rows")) {
				offset = offset[:l-1]
			}
			i = e
		case n.isWord("fetch"):
			if limitKW != nil {
				return nil, rw.syntaxErr(n)
			}
			j := i + 1
			if !(next(ns, j) != nil && (ns[j].isWord("first") || ns[j].isWord("next"))) {
				return nil, rw.syntaxErr(next(ns, j))
			}
			j++
			vs := j
			for j < len(ns) && !ns[j].isWord("row") && !ns[j].isWord("rows") {
				j++
			}
			if j >= len(ns) {
				return nil, rw.syntaxErr(nil)
			}
			val := ns[vs:j]
			j++
			switch {
			case next(ns, j) != nil && ns[j].isWord("only"):
				j++
			case next(ns, j) != nil && ns[j].isWord("with"):
				return nil, rw.unsupported(ns[j], "FETCH ... WITH TIES")
			default:
				return nil, rw.syntaxErr(next(ns, j))
			}
			limitKW = n
			limit = val
			if len(limit) == 0 {
				limit = []*node{textNode("1", n.pos)}
			}
			i = j
		default:
			stop = i
			i = len(ns)
		}
	}
	param := func(v []*node) []*node {
		if len(v) == 1 && v[0].kind == nTok && v[0].tok.kind == tkParam {
			t := textNode("?", v[0].pos)
			t.param = v[0].tok.num
			t.space = true
			return []*node{t}
		}
		return v
	}
	var out []*node
	kw := func(s string, at *node) {
		t := textNode(s, at.pos)
		t.space = true
		out = append(out, t)
	}
	switch {
	case limit != nil:
		kw("LIMIT", limitKW)
		out = append(out, param(limit)...)
	case offset != nil || noLimit && offsetKW != nil:
		kw("LIMIT", ns[first])
		kw(maxLimit, ns[first])
	}
	if offset != nil {
		kw("OFFSET", offsetKW)
		out = append(out, param(offset)...)
	}
	return splice(ns, first, stop, out...), nil
}

// fromFuncPass rewrites set-returning functions in FROM:
//
//	FROM generate_series(a, b) AS i  →  FROM (SELECT __lb_srf('generate_series', a, b) AS "i") AS "i"
func (rw *rewriter) fromFuncPass(ns []*node) ([]*node, error) {
	inFrom, sawSelect := false, false
	for i := 0; i < len(ns); i++ {
		n := ns[i]
		if w := n.word(); w == "select" || w == "delete" {
			sawSelect = true
		} else if w == "from" {
			// Only a SELECT/DELETE's FROM: not substring(a FROM f(x)).
			inFrom = sawSelect
			continue
		} else if clauseEnd[w] || n.isPunct(";") {
			inFrom = false
			continue
		}
		if !inFrom {
			continue
		}
		if i == 0 || !(ns[i-1].isWord("from") || ns[i-1].isPunct(",") || ns[i-1].isWord("join") || ns[i-1].isWord("lateral")) {
			continue
		}
		if n.kind != nTok || (n.tok.kind != tkIdent && n.tok.kind != tkQIdent) || n.tok.kind == tkIdent && isBoundaryWord(n.tok.val) {
			continue
		}
		j := i
		for j+2 < len(ns) && ns[j+1].isPunct(".") && ns[j+2].kind == nTok && (ns[j+2].tok.kind == tkIdent || ns[j+2].tok.kind == tkQIdent) {
			j += 2
		}
		if j+1 >= len(ns) || ns[j+1].kind != nParen {
			continue
		}
		fname := ns[j].tok.val
		args := ns[j+1].kids
		k := j + 2
		if next(ns, k) != nil && ns[k].isWord("with") && next(ns, k+1) != nil && ns[k+1].isWord("ordinality") {
			return nil, rw.unsupported(ns[k], "WITH ORDINALITY")
		}
		alias, col := fname, ""
		if next(ns, k) != nil && ns[k].isWord("as") {
			k++
		}
		if a := next(ns, k); a != nil && a.kind == nTok && (a.tok.kind == tkQIdent || a.tok.kind == tkIdent && !isBoundaryWord(a.tok.val) && !clauseEnd[a.tok.val]) {
			alias = a.tok.val
			k++
			if c := next(ns, k); c != nil && c.kind == nParen {
				cols := splitCommas(c.kids)
				if len(cols) != 1 || len(cols[0]) != 1 || cols[0][0].kind != nTok {
					return nil, rw.unsupported(c, "column alias list for a table function")
				}
				col = cols[0][0].tok.val
				k++
			}
		}
		if col == "" {
			col = alias
		}
		parts := []any{"(SELECT __lb_srf(" + quoteString(fname)}
		if len(args) > 0 {
			parts = append(parts, ", ", args)
		}
		parts = append(parts, ") AS "+quoteIdent(col)+") AS "+quoteIdent(alias))
		repl := seq(n.pos, parts...)
		repl.space = n.space
		ns = splice(ns, i, k, repl)
	}
	return ns, nil
}

// quotePass double-quotes words that TiDB reserves but PostgreSQL treats as
// ordinary identifiers in this position.
func (rw *rewriter) quotePass(ns []*node) {
	for i, n := range ns {
		if n.kind != nTok || n.tok.kind != tkIdent || !quoteWords[n.tok.val] || n.text != n.tok.val {
			continue
		}
		nx := next(ns, i+1)
		pw := ""
		if i > 0 {
			pw = ns[i-1].word()
		}
		nw := ""
		if nx != nil {
			nw = nx.word()
		}
		if nx != nil && nx.kind == nParen && !(i > 0 && ns[i-1].isPunct(".")) && tidbCallable[n.tok.val] {
			continue // a function TiDB knows by this name
		}
		switch n.tok.val {
		case "key":
			if pw == "primary" || pw == "foreign" {
				continue
			}
		case "index":
			if pw == "create" || pw == "unique" || pw == "drop" || pw == "alter" {
				continue
			}
		case "if":
			if nw == "not" || nw == "exists" {
				continue
			}
		case "range", "groups":
			if nw == "between" || nw == "unbounded" || nw == "current" {
				continue
			}
		case "match":
			if nw == "full" || nw == "partial" || nw == "simple" {
				continue
			}
		}
		n.text = quoteIdent(n.tok.val)
	}
}

// itoa is strconv.Itoa, kept short for the many call sites.
func itoa(i int) string { return strconv.Itoa(i) }
