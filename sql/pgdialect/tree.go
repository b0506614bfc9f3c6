package pgdialect

import (
	"sort"
	"strconv"
	"strings"
)

// nkind classifies a node of the token tree.
type nkind uint8

const (
	nTok     nkind = iota // a lexer token, emitted as text
	nText                 // synthetic text
	nParen                // ( kids )
	nBracket              // [ kids ]
	nCase                 // CASE kids END
	nSeq                  // synthetic sequence: kids emitted in order (an operand)
)

// node is one element of the token tree: tokens grouped by parentheses,
// brackets and CASE ... END, so that every rewrite works on one nesting
// level at a time and a group is a single operand.
type node struct {
	kind  nkind
	tok   token  // nTok: the token; groups: the opening token
	close token  // groups: the closing token
	text  string // nTok, nText: emitted text
	pos   int    // original byte offset this node maps back to
	end   int    // original end offset (for error messages)
	space bool   // whitespace preceded the node in the original
	param int    // nText "?": the $n it stands for (LIMIT/OFFSET)
	kids  []*node
}

func (n *node) isWord(w string) bool {
	return n.kind == nTok && n.tok.kind == tkIdent && n.tok.val == w
}

func (n *node) isPunct(p string) bool {
	return n.kind == nTok && n.tok.kind == tkPunct && n.tok.val == p
}

func (n *node) isOp(op string) bool {
	return n.kind == nTok && n.tok.kind == tkOp && n.tok.val == op
}

func (n *node) word() string {
	if n.kind == nTok && n.tok.kind == tkIdent {
		return n.tok.val
	}
	return ""
}

func (n *node) isGroup() bool { return n.kind == nParen || n.kind == nBracket || n.kind == nCase }

// text helpers --------------------------------------------------------------

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func tokText(t token) string {
	switch t.kind {
	case tkQIdent:
		return quoteIdent(t.val)
	case tkString:
		return quoteString(t.val)
	case tkParam:
		return "__lb_param(" + strconv.Itoa(t.num) + ")"
	case tkNumber:
		// TiDB's decimal cannot hold long literals (and its test driver
		// panics on them); PostgreSQL types them numeric anyway.
		if len(t.val) > maxTiDBNumberLen {
			return "__lb_cast(" + quoteString(t.val) + ", 'numeric')"
		}
	}
	return t.val
}

// maxTiDBNumberLen is the longest numeric literal handed to TiDB as is.
const maxTiDBNumberLen = 60

func leaf(t token) *node {
	return &node{kind: nTok, tok: t, text: tokText(t), pos: t.pos, end: t.end, space: t.space}
}

func textNode(s string, pos int) *node {
	return &node{kind: nText, text: s, pos: pos, end: pos}
}

// seq builds a synthetic operand from strings (emitted as text mapped to pos)
// and node slices / nodes.
func seq(pos int, parts ...any) *node {
	n := &node{kind: nSeq, pos: pos, end: pos}
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			n.kids = append(n.kids, textNode(v, pos))
		case *node:
			n.kids = append(n.kids, v)
		case []*node:
			n.kids = append(n.kids, v...)
		}
	}
	return n
}

// buildTree groups tokens into parentheses, brackets and CASE ... END.
func buildTree(src string, toks []token) ([]*node, error) {
	type frame struct {
		g      *node
		parent []*node
	}
	var stack []frame
	var cur []*node
	for _, t := range toks {
		switch {
		case t.kind == tkPunct && (t.val == "(" || t.val == "[") || t.kind == tkIdent && t.val == "case":
			k := nParen
			switch t.val {
			case "[":
				k = nBracket
			case "case":
				k = nCase
			}
			g := &node{kind: k, tok: t, pos: t.pos, end: t.end, space: t.space}
			stack = append(stack, frame{g: g, parent: cur})
			cur = nil
		case t.kind == tkPunct && (t.val == ")" || t.val == "]") || t.kind == tkIdent && t.val == "end" && len(stack) > 0 && stack[len(stack)-1].g.kind == nCase:
			want := nParen
			switch t.val {
			case "]":
				want = nBracket
			case "end":
				want = nCase
			}
			if len(stack) == 0 || stack[len(stack)-1].g.kind != want {
				return nil, syntaxErrAt(src, t.pos, "syntax error at or near %q", src[t.pos:t.end])
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			f.g.close = t
			f.g.end = t.end
			f.g.kids = cur
			cur = append(f.parent, f.g)
		default:
			cur = append(cur, leaf(t))
		}
	}
	if len(stack) > 0 {
		return nil, syntaxErrAt(src, len(src), "syntax error at end of input")
	}
	return cur, nil
}

// emitter ---------------------------------------------------------------------

// segment maps an offset in the rewritten text back to the original.
type segment struct {
	out int // byte offset in the rewritten text
	pos int // byte offset in the original statement
	end int
}

type emitter struct {
	b           strings.Builder
	segs        []segment
	limitParams []int
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

func (e *emitter) write(text string, pos, end int, space bool) {
	if text == "" {
		return
	}
	if e.b.Len() > 0 {
		s := e.b.String()
		last := s[len(s)-1]
		first := text[0]
		glue := isWordByte(last) && (isWordByte(first) || first == '\'' || first == '"') ||
			isOpChar(last) && isOpChar(first) ||
			last == '\'' && first == '\'' || last == '"' && first == '"' ||
			last == '.' && isDigit(first)
		switch {
		case glue:
			e.b.WriteByte(' ')
		case !space:
		case last == '(' || last == '[' || last == ' ':
		case first == ')' || first == ']' || first == ',':
		case first == '(' && (isWordByte(last) || last == '"'):
		default:
			e.b.WriteByte(' ')
		}
	}
	e.segs = append(e.segs, segment{out: e.b.Len(), pos: pos, end: end})
	e.b.WriteString(text)
}

func (e *emitter) emit(nodes []*node) {
	for _, n := range nodes {
		e.node(n)
	}
}

func (e *emitter) node(n *node) {
	switch n.kind {
	case nTok, nText:
		if n.text == "?" && n.param > 0 {
			e.limitParams = append(e.limitParams, n.param)
		}
		e.write(n.text, n.pos, n.end, n.space)
	case nParen:
		e.write("(", n.tok.pos, n.tok.end, n.space)
		e.emit(n.kids)
		e.write(")", n.close.pos, n.close.end, n.close.space)
	case nBracket:
		e.write("[", n.tok.pos, n.tok.end, n.space)
		e.emit(n.kids)
		e.write("]", n.close.pos, n.close.end, n.close.space)
	case nCase:
		e.write("CASE", n.tok.pos, n.tok.end, n.space)
		e.emit(n.kids)
		e.write("END", n.close.pos, n.close.end, true)
	case nSeq:
		if n.space && len(n.kids) > 0 {
			// Let the first piece inherit the node's leading space.
			f := n.kids[0]
			if f.kind == nText {
				e.write(f.text, f.pos, f.end, true)
				e.emit(n.kids[1:])
				return
			}
		}
		e.emit(n.kids)
	}
}

// mapOffset returns the original byte range of the segment covering out.
func mapOffset(segs []segment, out int) (segment, bool) {
	if len(segs) == 0 {
		return segment{}, false
	}
	i := sort.Search(len(segs), func(i int) bool { return segs[i].out > out }) - 1
	if i < 0 {
		i = 0
	}
	return segs[i], true
}
