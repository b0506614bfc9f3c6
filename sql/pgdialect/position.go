package pgdialect

// RelationPosition returns the 1-based character position in stmt of the
// reference to relation [schema.]name in a FROM list, a JOIN or INSERT INTO,
// or 0 when none is found. The session layer attaches it to 42P01 errors
// the way PostgreSQL reports the position of the relation name. name and
// schema are as the parser saw them: unquoted identifiers folded to lower
// case, quoted ones verbatim.
func RelationPosition(stmt, schema, name string) int {
	toks := lexAll(stmt)
	isName := func(t token, v string) bool {
		return (t.kind == tkIdent || t.kind == tkQIdent) && t.val == v
	}
	inFrom := false
	for i, t := range toks {
		if t.isWord("from") || t.isWord("into") {
			inFrom = true
		}
		start := i
		if schema != "" {
			if i+2 >= len(toks) || !isName(t, schema) || !toks[i+1].is(tkPunct, ".") || !isName(toks[i+2], name) {
				continue
			}
		} else if !isName(t, name) || (i+1 < len(toks) && toks[i+1].is(tkPunct, ".")) {
			continue
		}
		if start == 0 {
			continue
		}
		prev := toks[start-1]
		switch {
		case prev.isWord("from"), prev.isWord("join"), prev.isWord("into"), prev.isWord("only"), prev.isWord("update"):
			return charPos(stmt, t.pos)
		case inFrom && prev.is(tkPunct, ","):
			return charPos(stmt, t.pos)
		}
	}
	return 0
}

// ColumnPosition returns the 1-based character position in stmt of the
// first reference to column [qualifier.]name outside a FROM list, or 0. For
// a qualified reference it is the position of the qualifier, as PostgreSQL
// reports it. Names are as the parser saw them (see RelationPosition).
func ColumnPosition(stmt, qualifier, name string) int {
	toks := lexAll(stmt)
	isName := func(t token, v string) bool {
		return (t.kind == tkIdent || t.kind == tkQIdent) && t.val == v
	}
	for i, t := range toks {
		if i > 0 && (toks[i-1].isWord("from") || toks[i-1].isWord("join") || toks[i-1].isWord("as")) {
			continue
		}
		if qualifier != "" {
			if i+2 < len(toks) && isName(t, qualifier) && toks[i+1].is(tkPunct, ".") && isName(toks[i+2], name) {
				return charPos(stmt, t.pos)
			}
			continue
		}
		if !isName(t, name) || (i > 0 && toks[i-1].is(tkPunct, ".")) {
			continue
		}
		if i+1 < len(toks) && (toks[i+1].is(tkPunct, ".") || toks[i+1].is(tkPunct, "(")) {
			continue
		}
		return charPos(stmt, t.pos)
	}
	return 0
}

// lexAll returns the tokens of stmt up to the first lexical error.
func lexAll(stmt string) []token {
	var toks []token
	l := lexer{src: stmt}
	for {
		t, ok, err := l.next()
		if err != nil || !ok {
			return toks
		}
		toks = append(toks, t)
	}
}
