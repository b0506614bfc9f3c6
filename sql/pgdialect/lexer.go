package pgdialect

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// tokKind classifies a lexical token of PostgreSQL's SQL dialect.
type tokKind uint8

const (
	tkIdent  tokKind = iota + 1 // unquoted word (keyword or identifier); val is ASCII-lower-cased
	tkQIdent                    // "quoted identifier"; val is the unescaped name
	tkString                    // any character-string literal; val is the decoded content
	tkBitStr                    // B'0101' or X'1F'; val is the digits, prefix in op
	tkNumber                    // numeric literal; val is the source text
	tkParam                     // $n; num is n
	tkOp                        // operator (+, <=, ~*, ||, ...); val is the operator text
	tkPunct                     // ( ) [ ] , ; . : ::
)

// token is one lexical token. pos/end are byte offsets into the statement.
type token struct {
	kind  tokKind
	val   string
	pos   int
	end   int
	num   int  // parameter number for tkParam
	space bool // whitespace or a comment precedes the token
}

func (t token) is(kind tokKind, val string) bool { return t.kind == kind && t.val == val }

// isWord reports whether t is the unquoted word w (w must be lower case).
func (t token) isWord(w string) bool { return t.kind == tkIdent && t.val == w }

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentCont(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isOpChar reports whether c may appear in a PostgreSQL operator.
func isOpChar(c byte) bool {
	switch c {
	case '+', '-', '*', '/', '<', '>', '=', '~', '!', '@', '#', '%', '^', '&', '|', '`', '?':
		return true
	}
	return false
}

// lexer scans one statement (or a whole query string, for Split).
type lexer struct {
	src string
	i   int
}

func syntaxErrAt(src string, pos int, format string, args ...any) error {
	return pgerror.WithPosition(pgerror.Newf(pgerror.CodeSyntaxError, format, args...), charPos(src, pos))
}

// charPos converts a byte offset into a 1-based character position.
func charPos(src string, off int) int {
	if off > len(src) {
		off = len(src)
	}
	if off < 0 {
		off = 0
	}
	return utf8.RuneCountInString(src[:off]) + 1
}

// skipSpace skips whitespace and comments. It reports whether anything was
// skipped; an unterminated block comment is an error.
func (l *lexer) skipSpace() (bool, error) {
	start := l.i
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case isSpace(c):
			l.i++
		case c == '-' && l.i+1 < len(l.src) && l.src[l.i+1] == '-':
			for l.i < len(l.src) && l.src[l.i] != '\n' {
				l.i++
			}
		case c == '/' && l.i+1 < len(l.src) && l.src[l.i+1] == '*':
			cstart := l.i
			depth := 1
			l.i += 2
			for depth > 0 {
				if l.i+1 >= len(l.src) {
					l.i = len(l.src)
					return true, syntaxErrAt(l.src, cstart, "unterminated /* comment at or near %q", l.src[cstart:])
				}
				switch {
				case l.src[l.i] == '/' && l.src[l.i+1] == '*':
					depth++
					l.i += 2
				case l.src[l.i] == '*' && l.src[l.i+1] == '/':
					depth--
					l.i += 2
				default:
					l.i++
				}
			}
		default:
			return l.i > start, nil
		}
	}
	return l.i > start, nil
}

// next returns the next token; ok is false at end of input.
func (l *lexer) next() (tok token, ok bool, err error) {
	sp, err := l.skipSpace()
	if err != nil {
		return token{}, false, err
	}
	if l.i >= len(l.src) {
		return token{}, false, nil
	}
	tok, err = l.scan()
	tok.space = sp
	return tok, err == nil, err
}

func (l *lexer) scan() (token, error) {
	s := l.src
	start := l.i
	c := s[start]
	mk := func(kind tokKind, val string) token {
		return token{kind: kind, val: val, pos: start, end: l.i}
	}
	switch {
	case c == '\'':
		v, err := l.scanQuoted(start, false)
		return mk(tkString, v), err
	case (c == 'e' || c == 'E') && start+1 < len(s) && s[start+1] == '\'':
		l.i++
		v, err := l.scanQuoted(start, true)
		return mk(tkString, v), err
	case (c == 'n' || c == 'N') && start+1 < len(s) && s[start+1] == '\'':
		l.i++
		v, err := l.scanQuoted(start, false)
		return mk(tkString, v), err
	case (c == 'b' || c == 'B' || c == 'x' || c == 'X') && start+1 < len(s) && s[start+1] == '\'':
		l.i++
		v, err := l.scanQuoted(start, false)
		t := mk(tkBitStr, v)
		t.num = int(c | 0x20)
		return t, err
	case (c == 'u' || c == 'U') && start+2 < len(s) && s[start+1] == '&' && (s[start+2] == '\'' || s[start+2] == '"'):
		return l.scanUnicode(start)
	case isIdentStart(c):
		l.i++
		for l.i < len(s) && isIdentCont(s[l.i]) {
			l.i++
		}
		return mk(tkIdent, lowerASCII(s[start:l.i])), nil
	case c == '"':
		v, err := l.scanQIdent(start)
		return mk(tkQIdent, v), err
	case isDigit(c) || c == '.' && start+1 < len(s) && isDigit(s[start+1]):
		l.scanNumber()
		return mk(tkNumber, s[start:l.i]), nil
	case c == '$':
		if start+1 < len(s) && isDigit(s[start+1]) {
			l.i++
			for l.i < len(s) && isDigit(s[l.i]) {
				l.i++
			}
			n, err := strconv.Atoi(s[start+1 : l.i])
			if err != nil || n <= 0 || n > 65535 {
				return mk(tkParam, ""), syntaxErrAt(s, start, "invalid parameter reference %q", s[start:l.i])
			}
			t := mk(tkParam, s[start:l.i])
			t.num = n
			return t, nil
		}
		// Dollar quote: $tag$ ... $tag$ with tag an identifier without '$'.
		j := start + 1
		if j < len(s) && isIdentStart(s[j]) {
			j++
			for j < len(s) && isIdentCont(s[j]) && s[j] != '$' {
				j++
			}
		}
		if j < len(s) && s[j] == '$' {
			delim := s[start : j+1]
			body := j + 1
			k := strings.Index(s[body:], delim)
			if k < 0 {
				l.i = len(s)
				return mk(tkString, ""), syntaxErrAt(s, start, "unterminated dollar-quoted string at or near %q", s[start:])
			}
			l.i = body + k + len(delim)
			return mk(tkString, s[body:body+k]), nil
		}
		l.i++
		return mk(tkPunct, "$"), syntaxErrAt(s, start, "syntax error at or near \"$\"")
	case c == '(' || c == ')' || c == '[' || c == ']' || c == ',' || c == ';' || c == '.':
		l.i++
		return mk(tkPunct, s[start:l.i]), nil
	case c == ':':
		l.i++
		if l.i < len(s) && s[l.i] == ':' {
			l.i++
		} else if l.i < len(s) && s[l.i] == '=' {
			l.i++
			return mk(tkOp, ":="), nil
		}
		return mk(tkPunct, s[start:l.i]), nil
	case isOpChar(c):
		return mk(tkOp, l.scanOp()), nil
	}
	_, size := utf8.DecodeRuneInString(s[start:])
	l.i += size
	return mk(tkPunct, s[start:l.i]), syntaxErrAt(s, start, "syntax error at or near %q", s[start:l.i])
}

// scanOp scans an operator following PostgreSQL's rules: the longest run of
// operator characters, cut before "--" or "/*", and with trailing '+'/'-'
// removed unless the operator contains one of ~ ! @ # % ^ & | ` ?.
func (l *lexer) scanOp() string {
	s := l.src
	start := l.i
	j := start
	for j < len(s) && isOpChar(s[j]) {
		if j > start && (s[j] == '-' && s[j-1] == '-' || s[j] == '*' && s[j-1] == '/') {
			j--
			break
		}
		j++
	}
	if j == start { // "--" or "/*" at start never reach here (skipSpace ate them)
		j = start + 1
	}
	op := s[start:j]
	if len(op) > 1 && (op[len(op)-1] == '+' || op[len(op)-1] == '-') && !strings.ContainsAny(op, "~!@#%^&|`?") {
		for len(op) > 1 && (op[len(op)-1] == '+' || op[len(op)-1] == '-') {
			op = op[:len(op)-1]
		}
	}
	l.i = start + len(op)
	return op
}

func (l *lexer) scanNumber() {
	s := l.src
	for l.i < len(s) && isDigit(s[l.i]) {
		l.i++
	}
	if l.i < len(s) && s[l.i] == '.' && !(l.i+1 < len(s) && s[l.i+1] == '.') {
		l.i++
		for l.i < len(s) && isDigit(s[l.i]) {
			l.i++
		}
	}
	if l.i < len(s) && (s[l.i] == 'e' || s[l.i] == 'E') {
		j := l.i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			l.i = j
		}
	}
}

// scanQuoted scans a '...' literal whose opening quote is at l.i. With esc,
// backslash escapes are processed as in E'...' strings. Adjacent literals
// separated by whitespace containing a newline are concatenated (SQL standard).
func (l *lexer) scanQuoted(tokStart int, esc bool) (string, error) {
	s := l.src
	var b strings.Builder
	for {
		l.i++ // opening quote
		segStart := l.i
		for {
			if l.i >= len(s) {
				return b.String(), syntaxErrAt(s, tokStart, "unterminated quoted string at or near %q", s[tokStart:])
			}
			c := s[l.i]
			if c == '\'' {
				if l.i+1 < len(s) && s[l.i+1] == '\'' {
					b.WriteString(s[segStart : l.i+1])
					l.i += 2
					segStart = l.i
					continue
				}
				b.WriteString(s[segStart:l.i])
				l.i++
				break
			}
			if esc && c == '\\' {
				b.WriteString(s[segStart:l.i])
				if err := l.scanEscape(&b, tokStart); err != nil {
					return b.String(), err
				}
				segStart = l.i
				continue
			}
			l.i++
		}
		// Continuation: whitespace with at least one newline, then a quote.
		j := l.i
		nl := false
		for j < len(s) && isSpace(s[j]) {
			if s[j] == '\n' || s[j] == '\r' {
				nl = true
			}
			j++
		}
		if !nl || j >= len(s) || s[j] != '\'' {
			break
		}
		l.i = j
	}
	v := b.String()
	if esc {
		if !utf8.ValidString(v) {
			return v, pgerror.WithPosition(pgerror.New("22021", "invalid byte sequence for encoding \"UTF8\""), charPos(s, tokStart))
		}
	}
	if strings.IndexByte(v, 0) >= 0 {
		return v, pgerror.WithPosition(pgerror.New("22021", "invalid byte sequence for encoding \"UTF8\": 0x00"), charPos(s, tokStart))
	}
	return v, nil
}

// scanEscape decodes one backslash escape of an E'...' string at l.i.
func (l *lexer) scanEscape(b *strings.Builder, tokStart int) error {
	s := l.src
	l.i++ // backslash
	if l.i >= len(s) {
		return syntaxErrAt(s, tokStart, "unterminated quoted string at or near %q", s[tokStart:])
	}
	c := s[l.i]
	switch c {
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := 0
		n := 0
		for n < 3 && l.i < len(s) && s[l.i] >= '0' && s[l.i] <= '7' {
			v = v*8 + int(s[l.i]-'0')
			l.i++
			n++
		}
		b.WriteByte(byte(v))
		return nil
	case 'x':
		v := 0
		n := 0
		j := l.i + 1
		for n < 2 && j < len(s) && hexVal(s[j]) >= 0 {
			v = v*16 + hexVal(s[j])
			j++
			n++
		}
		if n == 0 {
			b.WriteByte('x')
			l.i++
			return nil
		}
		b.WriteByte(byte(v))
		l.i = j
		return nil
	case 'u', 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		if l.i+n >= len(s) {
			return pgerror.WithPosition(pgerror.New("22025", "invalid Unicode escape"), charPos(s, l.i-1))
		}
		v := 0
		for k := 1; k <= n; k++ {
			h := hexVal(s[l.i+k])
			if h < 0 {
				return pgerror.WithPosition(pgerror.New("22025", "invalid Unicode escape"), charPos(s, l.i-1))
			}
			v = v*16 + h
		}
		if v == 0 || v > utf8.MaxRune || v >= 0xD800 && v <= 0xDFFF {
			return pgerror.WithPosition(pgerror.New("22025", "invalid Unicode escape value"), charPos(s, l.i-1))
		}
		b.WriteRune(rune(v))
		l.i += n + 1
		return nil
	default:
		// Any other character stands for itself (\\, \', ...). Copy a whole
		// UTF-8 sequence so multi-byte characters survive.
		_, size := utf8.DecodeRuneInString(s[l.i:])
		b.WriteString(s[l.i : l.i+size])
		l.i += size
		return nil
	}
	l.i++
	return nil
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// scanQIdent scans a "quoted identifier" starting at l.i.
func (l *lexer) scanQIdent(tokStart int) (string, error) {
	s := l.src
	var b strings.Builder
	l.i++
	segStart := l.i
	for {
		if l.i >= len(s) {
			return b.String(), syntaxErrAt(s, tokStart, "unterminated quoted identifier at or near %q", s[tokStart:])
		}
		if s[l.i] == '"' {
			if l.i+1 < len(s) && s[l.i+1] == '"' {
				b.WriteString(s[segStart : l.i+1])
				l.i += 2
				segStart = l.i
				continue
			}
			b.WriteString(s[segStart:l.i])
			l.i++
			break
		}
		l.i++
	}
	v := b.String()
	if v == "" {
		return v, syntaxErrAt(s, tokStart, "zero-length delimited identifier at or near \"\"\"\"")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return v, syntaxErrAt(s, tokStart, "invalid identifier")
	}
	return v, nil
}

// scanUnicode scans U&'...' and U&"..." with an optional UESCAPE 'c' clause.
func (l *lexer) scanUnicode(start int) (token, error) {
	s := l.src
	l.i = start + 2
	quoted := s[l.i] == '"'
	var raw string
	var err error
	if quoted {
		raw, err = l.scanQIdent(start)
	} else {
		raw, err = l.scanQuoted(start, false)
	}
	kind := tkString
	if quoted {
		kind = tkQIdent
	}
	tok := token{kind: kind, pos: start}
	if err != nil {
		tok.end = l.i
		return tok, err
	}
	escape := byte('\\')
	// Optional UESCAPE 'x'.
	save := l.i
	if _, err := l.skipSpace(); err == nil && l.i+7 <= len(s) && strings.EqualFold(s[l.i:l.i+7], "uescape") {
		l.i += 7
		if _, err := l.skipSpace(); err == nil && l.i+3 <= len(s) && s[l.i] == '\'' && s[l.i+2] == '\'' {
			escape = s[l.i+1]
			l.i += 3
		} else {
			tok.end = l.i
			return tok, syntaxErrAt(s, start, "invalid Unicode escape character")
		}
	} else {
		l.i = save
	}
	tok.end = l.i
	var b strings.Builder
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != escape {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 < len(raw) && raw[i+1] == escape {
			b.WriteByte(escape)
			i += 2
			continue
		}
		n, skip := 4, 1
		if i+1 < len(raw) && raw[i+1] == '+' {
			n, skip = 6, 2
		}
		if i+skip+n > len(raw) {
			return tok, pgerror.WithPosition(pgerror.New("22025", "invalid Unicode escape"), charPos(s, start))
		}
		v := 0
		for k := 0; k < n; k++ {
			h := hexVal(raw[i+skip+k])
			if h < 0 {
				return tok, pgerror.WithPosition(pgerror.New("22025", "invalid Unicode escape"), charPos(s, start))
			}
			v = v*16 + h
		}
		if v == 0 || v > utf8.MaxRune || v >= 0xD800 && v <= 0xDFFF {
			return tok, pgerror.WithPosition(pgerror.New("22025", "invalid Unicode escape value"), charPos(s, start))
		}
		b.WriteRune(rune(v))
		i += skip + n
	}
	tok.val = b.String()
	return tok, nil
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// tokenize lexes a whole statement.
func tokenize(src string) ([]token, error) {
	l := lexer{src: src}
	toks := make([]token, 0, len(src)/4+4)
	for {
		t, ok, err := l.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return toks, nil
		}
		toks = append(toks, t)
	}
}

// Split cuts a simple-protocol query string into statements at top-level
// semicolons, respecting '..', E'..', $$..$$ / $tag$..$tag$, "..", -- and
// nested /* */ comments. Each statement is returned without its semicolon
// and with surrounding whitespace trimmed; statements that are empty or only
// comments are dropped, so "-- ping" yields no statements. Input that fails
// to lex (an unterminated quote, say) ends in one final statement holding
// the rest of the text, for Normalize to report.
func Split(sql string) []string {
	var out []string
	l := lexer{src: sql}
	stmtStart := 0
	hasTok := false
	for {
		t, ok, err := l.next()
		if err != nil {
			rest := strings.TrimSpace(sql[stmtStart:])
			if rest != "" {
				out = append(out, rest)
			}
			return out
		}
		if !ok {
			break
		}
		if t.kind == tkPunct && t.val == ";" {
			if hasTok {
				out = append(out, strings.TrimSpace(sql[stmtStart:t.pos]))
			}
			stmtStart = t.end
			hasTok = false
			continue
		}
		hasTok = true
	}
	if hasTok {
		out = append(out, strings.TrimSpace(sql[stmtStart:]))
	}
	return out
}
