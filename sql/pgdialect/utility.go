package pgdialect

import (
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// Utility statements: parsed from tokens by this package, executed by the
// session layer.

// Begin is BEGIN / START TRANSACTION [modes].
type Begin struct {
	// Isolation is the requested level ("serializable", "repeatable read",
	// "read committed", "read uncommitted") or "" if none was given.
	Isolation string
	// ReadOnly is set by READ ONLY.
	ReadOnly bool
}

// Commit is COMMIT, END, COMMIT TRANSACTION.
type Commit struct{}

// Rollback is ROLLBACK, ABORT.
type Rollback struct{}

// Set is SET [SESSION|LOCAL] name {TO|=} value, SET TIME ZONE z,
// SET name TO DEFAULT, RESET name (Default) and the SET TRANSACTION forms
// (Name "transaction_isolation" / "transaction_read_only").
type Set struct {
	Name    string // lower-cased; SET TIME ZONE → "timezone"
	Value   string // unquoted value text; lists joined with ", "
	Local   bool
	Default bool
}

// Show is SHOW name, SHOW ALL ("all"), SHOW TIME ZONE ("timezone"),
// SHOW TRANSACTION ISOLATION LEVEL ("transaction_isolation").
type Show struct{ Name string }

// ShowTables is SHOW TABLES (a utility, not a TiDB statement).
type ShowTables struct{}

// Discard is DISCARD ALL | PLANS | SEQUENCES | TEMP ("all", "plans", ...).
type Discard struct{ What string }

// Deallocate is DEALLOCATE [PREPARE] name | ALL.
type Deallocate struct {
	Name string
	All  bool
}

// CreateDatabase is CREATE DATABASE name [WITH] options. Options come
// either as Longboat's WITH (k = v, ...) or PostgreSQL's k [=] v ...; keys
// are lower-cased ("connection limit" → "connection_limit"), values
// unquoted.
type CreateDatabase struct {
	Name        string
	IfNotExists bool
	Options     map[string]string
}

// DropDatabase is DROP DATABASE [IF EXISTS] name [[WITH] (FORCE)].
type DropDatabase struct {
	Name     string
	IfExists bool
}

// DropIndex is DROP INDEX [CONCURRENTLY] [IF EXISTS] [schema.]name
// [CASCADE|RESTRICT]: PostgreSQL names no table, which TiDB requires.
type DropIndex struct {
	Schema   string
	Name     string
	IfExists bool
}

// Copy is COPY table [(cols)] FROM STDIN with options. Unset options get
// PostgreSQL's defaults for the format: text uses Delimiter "\t" and Null
// `\N`; csv uses Delimiter ",", Null "", Quote `"` and Escape = Quote.
// HasNull reports that NULL was given explicitly.
type Copy struct {
	Table     string
	Schema    string
	Columns   []string
	Format    string // "text", "csv", "binary"
	Header    bool
	Delimiter string
	Null      string
	Quote     string
	Escape    string
	HasNull   bool
}

// ucursor walks the tokens of a utility statement.
type ucursor struct {
	src  string
	toks []token
	i    int
}

func (c *ucursor) peek() token {
	if c.i < len(c.toks) {
		return c.toks[c.i]
	}
	return token{pos: len(c.src), end: len(c.src)}
}

func (c *ucursor) peekWord(w string) bool { return c.peek().isWord(w) }

func (c *ucursor) peekWordAt(k int, w string) bool {
	return c.i+k < len(c.toks) && c.toks[c.i+k].isWord(w)
}

func (c *ucursor) acceptWord(ws ...string) bool {
	for _, w := range ws {
		if c.peekWord(w) {
			c.i++
			return true
		}
	}
	return false
}

func (c *ucursor) done() bool { return c.i >= len(c.toks) }

func (c *ucursor) errHere() error {
	if c.done() {
		return syntaxErrAt(c.src, len(c.src), "syntax error at end of input")
	}
	t := c.peek()
	return syntaxErrAt(c.src, t.pos, "syntax error at or near %q", c.src[t.pos:t.end])
}

func (c *ucursor) expectEnd() error {
	if !c.done() {
		return c.errHere()
	}
	return nil
}

func (c *ucursor) unsupported(what string) error {
	return pgerror.WithPosition(pgerror.Unsupported(what), charPos(c.src, c.peek().pos))
}

// name reads an identifier (unquoted folded, quoted verbatim).
func (c *ucursor) name() (string, error) {
	t := c.peek()
	if t.kind == tkIdent || t.kind == tkQIdent {
		c.i++
		return t.val, nil
	}
	return "", c.errHere()
}

// value reads one SET/option value: identifier, string, number (with a
// leading sign), or keyword.
func (c *ucursor) value() (string, error) {
	t := c.peek()
	switch t.kind {
	case tkIdent, tkQIdent, tkString, tkNumber:
		c.i++
		return t.val, nil
	case tkOp:
		if t.val == "-" || t.val == "+" {
			c.i++
			n := c.peek()
			if n.kind != tkNumber {
				return "", c.errHere()
			}
			c.i++
			if t.val == "-" {
				return "-" + n.val, nil
			}
			return n.val, nil
		}
	}
	return "", c.errHere()
}

// parseUtility recognises statements handled by Longboat itself. isUtil is
// false for statements that go to the TiDB parser.
func parseUtility(src string, toks []token) (u any, isUtil bool, err error) {
	c := &ucursor{src: src, toks: toks}
	first := c.peek()
	if first.kind != tkIdent {
		return nil, false, nil
	}
	switch first.val {
	case "begin", "start":
		c.i++
		if first.val == "start" {
			if !c.acceptWord("transaction") {
				return nil, true, c.errHere()
			}
		} else {
			c.acceptWord("transaction", "work")
		}
		b := &Begin{}
		if err := c.transactionModes(&b.Isolation, &b.ReadOnly); err != nil {
			return nil, true, err
		}
		return b, true, nil
	case "commit", "end":
		c.i++
		if first.val == "commit" && c.peekWord("prepared") {
			return nil, true, c.unsupported("COMMIT PREPARED")
		}
		c.acceptWord("transaction", "work")
		if err := c.chain(); err != nil {
			return nil, true, err
		}
		return &Commit{}, true, c.expectEnd()
	case "rollback", "abort":
		c.i++
		if first.val == "rollback" && c.peekWord("prepared") {
			return nil, true, c.unsupported("ROLLBACK PREPARED")
		}
		c.acceptWord("transaction", "work")
		if c.peekWord("to") {
			return nil, true, c.unsupported("savepoints")
		}
		if err := c.chain(); err != nil {
			return nil, true, err
		}
		return &Rollback{}, true, c.expectEnd()
	case "savepoint", "release":
		return nil, true, c.unsupported("savepoints")
	case "prepare":
		if c.peekWordAt(1, "transaction") {
			return nil, true, c.unsupported("PREPARE TRANSACTION")
		}
		return nil, true, c.unsupported("SQL-level PREPARE")
	case "execute":
		return nil, true, c.unsupported("SQL-level EXECUTE")
	case "listen", "unlisten", "notify":
		return nil, true, c.unsupported(strings.ToUpper(first.val))
	case "set":
		c.i++
		s, err := c.set()
		return s, true, err
	case "reset":
		c.i++
		if c.acceptWord("all") {
			return &Set{Name: "all", Default: true}, true, c.expectEnd()
		}
		name, err := c.settingName()
		if err != nil {
			return nil, true, err
		}
		return &Set{Name: name, Default: true}, true, c.expectEnd()
	case "show":
		c.i++
		s, err := c.show()
		return s, true, err
	case "discard":
		c.i++
		t := c.peek()
		if t.kind != tkIdent {
			return nil, true, c.errHere()
		}
		what := t.val
		switch what {
		case "all", "plans", "sequences", "temp":
		case "temporary":
			what = "temp"
		default:
			return nil, true, c.errHere()
		}
		c.i++
		return &Discard{What: what}, true, c.expectEnd()
	case "deallocate":
		c.i++
		c.acceptWord("prepare")
		if c.acceptWord("all") {
			return &Deallocate{All: true}, true, c.expectEnd()
		}
		name, err := c.name()
		if err != nil {
			return nil, true, err
		}
		return &Deallocate{Name: name}, true, c.expectEnd()
	case "create":
		if c.peekWordAt(1, "database") {
			c.i += 2
			d, err := c.createDatabase()
			return d, true, err
		}
	case "drop":
		if c.peekWordAt(1, "index") {
			c.i += 2
			d := &DropIndex{}
			c.acceptWord("concurrently")
			if c.peekWord("if") && c.peekWordAt(1, "exists") {
				c.i += 2
				d.IfExists = true
			}
			n, err := c.name()
			if err != nil {
				return nil, true, err
			}
			d.Name = n
			if c.peek().is(tkPunct, ".") {
				c.i++
				m, err := c.name()
				if err != nil {
					return nil, true, err
				}
				d.Schema, d.Name = n, m
			}
			if c.peek().is(tkPunct, ",") {
				return nil, true, c.unsupported("DROP INDEX of several indexes")
			}
			c.acceptWord("cascade", "restrict")
			return d, true, c.expectEnd()
		}
		if c.peekWordAt(1, "database") {
			c.i += 2
			d := &DropDatabase{}
			if c.peekWord("if") && c.peekWordAt(1, "exists") {
				c.i += 2
				d.IfExists = true
			}
			name, err := c.name()
			if err != nil {
				return nil, true, err
			}
			d.Name = name
			c.acceptWord("with")
			if c.peek().is(tkPunct, "(") {
				for !c.done() && !c.peek().is(tkPunct, ")") {
					c.i++
				}
				c.i++
			}
			return d, true, c.expectEnd()
		}
	case "copy":
		c.i++
		cp, err := c.copyStmt()
		return cp, true, err
	}
	return nil, false, nil
}

// chain accepts AND [NO] CHAIN; AND CHAIN is unsupported.
func (c *ucursor) chain() error {
	if !c.acceptWord("and") {
		return nil
	}
	no := c.acceptWord("no")
	if !c.acceptWord("chain") {
		return c.errHere()
	}
	if !no {
		return c.unsupported("AND CHAIN")
	}
	return nil
}

// transactionModes parses [ISOLATION LEVEL x | READ WRITE | READ ONLY |
// [NOT] DEFERRABLE] [, ...] up to the end of the statement.
func (c *ucursor) transactionModes(iso *string, readOnly *bool) error {
	for !c.done() {
		switch {
		case c.acceptWord("isolation"):
			if !c.acceptWord("level") {
				return c.errHere()
			}
			switch {
			case c.acceptWord("serializable"):
				*iso = "serializable"
			case c.acceptWord("repeatable"):
				if !c.acceptWord("read") {
					return c.errHere()
				}
				*iso = "repeatable read"
			case c.acceptWord("read"):
				switch {
				case c.acceptWord("committed"):
					*iso = "read committed"
				case c.acceptWord("uncommitted"):
					*iso = "read uncommitted"
				default:
					return c.errHere()
				}
			default:
				return c.errHere()
			}
		case c.acceptWord("read"):
			switch {
			case c.acceptWord("write"):
				*readOnly = false
			case c.acceptWord("only"):
				*readOnly = true
			default:
				return c.errHere()
			}
		case c.acceptWord("not"):
			if !c.acceptWord("deferrable") {
				return c.errHere()
			}
		case c.acceptWord("deferrable"):
		default:
			return c.errHere()
		}
		if c.peek().is(tkPunct, ",") {
			c.i++
			if c.done() {
				return c.errHere()
			}
		}
	}
	return nil
}

// settingName reads a possibly dotted configuration parameter name.
func (c *ucursor) settingName() (string, error) {
	n, err := c.name()
	if err != nil {
		return "", err
	}
	for c.peek().is(tkPunct, ".") {
		c.i++
		m, err := c.name()
		if err != nil {
			return "", err
		}
		n += "." + m
	}
	return strings.ToLower(n), nil
}

func (c *ucursor) set() (*Set, error) {
	s := &Set{}
	if c.acceptWord("local") {
		s.Local = true
	} else if c.peekWord("session") && !c.peekWordAt(1, "authorization") && !c.peekWordAt(1, "characteristics") {
		c.i++
	}
	switch {
	case c.peekWord("time") && c.peekWordAt(1, "zone"):
		c.i += 2
		s.Name = "timezone"
		if c.acceptWord("local", "default") {
			s.Default = true
			return s, c.expectEnd()
		}
		if c.acceptWord("interval") {
			v, err := c.value()
			if err != nil {
				return nil, err
			}
			s.Value = v
			for !c.done() { // HOUR TO MINUTE qualifiers
				c.i++
			}
			return s, nil
		}
		v, err := c.value()
		if err != nil {
			return nil, err
		}
		s.Value = v
		return s, c.expectEnd()
	case c.peekWord("transaction"):
		c.i++
		return c.setTransaction(s)
	case c.peekWord("session") && c.peekWordAt(1, "characteristics"):
		c.i += 2
		if !c.acceptWord("as") || !c.acceptWord("transaction") {
			return nil, c.errHere()
		}
		set, err := c.setTransaction(s)
		if err != nil {
			return nil, err
		}
		set.Name = "default_" + set.Name
		return set, nil
	case c.peekWord("session") && c.peekWordAt(1, "authorization"):
		c.i += 2
		s.Name = "session_authorization"
	case c.peekWord("names"):
		c.i++
		s.Name = "client_encoding"
	case c.peekWord("schema"):
		c.i++
		s.Name = "search_path"
	case c.peekWord("role"):
		c.i++
		s.Name = "role"
	default:
		n, err := c.settingName()
		if err != nil {
			return nil, err
		}
		s.Name = n
		if !c.acceptWord("to") {
			if !c.peek().is(tkOp, "=") {
				return nil, c.errHere()
			}
			c.i++
		}
	}
	if c.acceptWord("default") {
		s.Default = true
		return s, c.expectEnd()
	}
	var vals []string
	for {
		v, err := c.value()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		if !c.peek().is(tkPunct, ",") {
			break
		}
		c.i++
	}
	s.Value = strings.Join(vals, ", ")
	return s, c.expectEnd()
}

func (c *ucursor) setTransaction(s *Set) (*Set, error) {
	var iso string
	ro := false
	start := c.i
	if err := c.transactionModes(&iso, &ro); err != nil {
		return nil, err
	}
	if iso != "" {
		s.Name, s.Value = "transaction_isolation", iso
		return s, nil
	}
	for _, t := range c.toks[start:] {
		if t.isWord("read") {
			s.Name = "transaction_read_only"
			s.Value = "off"
			if ro {
				s.Value = "on"
			}
			return s, nil
		}
	}
	s.Name, s.Value = "transaction_deferrable", "on"
	return s, nil
}

func (c *ucursor) show() (any, error) {
	switch {
	case c.acceptWord("all"):
		return &Show{Name: "all"}, c.expectEnd()
	case c.peekWord("tables") && c.i+1 == len(c.toks):
		c.i++
		return &ShowTables{}, nil
	case c.peekWord("time") && c.peekWordAt(1, "zone"):
		c.i += 2
		return &Show{Name: "timezone"}, c.expectEnd()
	case c.peekWord("transaction") && c.peekWordAt(1, "isolation"):
		c.i += 2
		if !c.acceptWord("level") {
			return nil, c.errHere()
		}
		return &Show{Name: "transaction_isolation"}, c.expectEnd()
	case c.peekWord("session") && c.peekWordAt(1, "authorization"):
		c.i += 2
		return &Show{Name: "session_authorization"}, c.expectEnd()
	}
	n, err := c.settingName()
	if err != nil {
		return nil, err
	}
	return &Show{Name: n}, c.expectEnd()
}

func (c *ucursor) createDatabase() (*CreateDatabase, error) {
	d := &CreateDatabase{Options: map[string]string{}}
	if c.peekWord("if") && c.peekWordAt(1, "not") && c.peekWordAt(2, "exists") {
		c.i += 3
		d.IfNotExists = true
	}
	name, err := c.name()
	if err != nil {
		return nil, err
	}
	d.Name = name
	c.acceptWord("with")
	if c.peek().is(tkPunct, "(") {
		// Longboat style: WITH (k = v, ...).
		c.i++
		for {
			k, err := c.optionKey()
			if err != nil {
				return nil, err
			}
			if !c.peek().is(tkOp, "=") {
				return nil, c.errHere()
			}
			c.i++
			v, err := c.value()
			if err != nil {
				return nil, err
			}
			d.Options[k] = v
			if c.peek().is(tkPunct, ",") {
				c.i++
				continue
			}
			if !c.peek().is(tkPunct, ")") {
				return nil, c.errHere()
			}
			c.i++
			break
		}
		return d, c.expectEnd()
	}
	// PostgreSQL style: k [=] v ...
	for !c.done() {
		k, err := c.optionKey()
		if err != nil {
			return nil, err
		}
		if c.peek().is(tkOp, "=") {
			c.i++
		}
		v, err := c.value()
		if err != nil {
			return nil, err
		}
		d.Options[k] = v
	}
	return d, nil
}

func (c *ucursor) optionKey() (string, error) {
	t := c.peek()
	if t.kind != tkIdent && t.kind != tkQIdent {
		return "", c.errHere()
	}
	c.i++
	k := strings.ToLower(t.val)
	if k == "connection" && c.acceptWord("limit") {
		k = "connection_limit"
	}
	return k, nil
}

func (c *ucursor) copyStmt() (*Copy, error) {
	cp := &Copy{Format: "text"}
	if c.acceptWord("binary") { // pre-7.3 COPY BINARY t
		cp.Format = "binary"
	}
	if c.peek().is(tkPunct, "(") {
		return nil, c.unsupported("COPY (query) TO")
	}
	n, err := c.name()
	if err != nil {
		return nil, err
	}
	cp.Table = n
	if c.peek().is(tkPunct, ".") {
		c.i++
		m, err := c.name()
		if err != nil {
			return nil, err
		}
		cp.Schema, cp.Table = n, m
	}
	if c.peek().is(tkPunct, "(") {
		c.i++
		for {
			col, err := c.name()
			if err != nil {
				return nil, err
			}
			cp.Columns = append(cp.Columns, col)
			if c.peek().is(tkPunct, ",") {
				c.i++
				continue
			}
			if !c.peek().is(tkPunct, ")") {
				return nil, c.errHere()
			}
			c.i++
			break
		}
	}
	switch {
	case c.acceptWord("from"):
	case c.acceptWord("to"):
		return nil, c.unsupported("COPY ... TO")
	default:
		return nil, c.errHere()
	}
	if !c.acceptWord("stdin") {
		if c.peekWord("program") || c.peek().kind == tkString {
			return nil, c.unsupported("COPY FROM a file or program")
		}
		return nil, c.errHere()
	}
	var delim, null, quote, escape *string
	set := func(p **string, v string) { *p = &v }
	c.acceptWord("with")
	if c.peek().is(tkPunct, "(") {
		c.i++
		for {
			k, err := c.name()
			if err != nil {
				return nil, err
			}
			switch strings.ToLower(k) {
			case "format":
				v, err := c.value()
				if err != nil {
					return nil, err
				}
				cp.Format = strings.ToLower(v)
			case "header":
				cp.Header = true
				if t := c.peek(); !t.is(tkPunct, ",") && !t.is(tkPunct, ")") {
					v, err := c.value()
					if err != nil {
						return nil, err
					}
					switch strings.ToLower(v) {
					case "true", "on", "1":
					case "false", "off", "0":
						cp.Header = false
					case "match":
						return nil, c.unsupported("HEADER MATCH")
					default:
						return nil, pgerror.Newf(pgerror.CodeSyntaxError, "header requires a Boolean value or \"match\"")
					}
				}
			case "delimiter", "null", "quote", "escape", "encoding":
				v, err := c.value()
				if err != nil {
					return nil, err
				}
				switch strings.ToLower(k) {
				case "delimiter":
					set(&delim, v)
				case "null":
					set(&null, v)
				case "quote":
					set(&quote, v)
				case "escape":
					set(&escape, v)
				case "encoding":
					if e := strings.ToLower(strings.ReplaceAll(v, "-", "")); e != "utf8" {
						return nil, c.unsupported("COPY encoding " + v)
					}
				}
			case "freeze":
				if t := c.peek(); !t.is(tkPunct, ",") && !t.is(tkPunct, ")") {
					c.i++
				}
			case "force_not_null", "force_null", "force_quote":
				return nil, c.unsupported(strings.ToUpper(k))
			default:
				return nil, pgerror.WithPosition(pgerror.Newf(pgerror.CodeSyntaxError, "option %q not recognized", k), charPos(c.src, c.toks[c.i-1].pos))
			}
			if c.peek().is(tkPunct, ",") {
				c.i++
				continue
			}
			if !c.peek().is(tkPunct, ")") {
				return nil, c.errHere()
			}
			c.i++
			break
		}
	} else {
		// Pre-9.0 syntax.
		for !c.done() {
			switch {
			case c.acceptWord("binary"):
				cp.Format = "binary"
			case c.acceptWord("csv"):
				cp.Format = "csv"
			case c.acceptWord("header"):
				cp.Header = true
			case c.acceptWord("delimiter", "null", "quote", "escape"):
				k := c.toks[c.i-1].val
				c.acceptWord("as")
				t := c.peek()
				if t.kind != tkString {
					return nil, c.errHere()
				}
				c.i++
				switch k {
				case "delimiter":
					set(&delim, t.val)
				case "null":
					set(&null, t.val)
				case "quote":
					set(&quote, t.val)
				case "escape":
					set(&escape, t.val)
				}
			case c.peekWord("force"):
				return nil, c.unsupported("COPY ... FORCE")
			default:
				return nil, c.errHere()
			}
		}
	}
	if err := c.expectEnd(); err != nil {
		return nil, err
	}
	switch cp.Format {
	case "text":
		cp.Delimiter, cp.Null = "\t", `\N`
	case "csv":
		cp.Delimiter, cp.Null, cp.Quote = ",", "", `"`
	case "binary":
		if delim != nil || null != nil || quote != nil || escape != nil || cp.Header {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "cannot specify DELIMITER, NULL, QUOTE, ESCAPE or HEADER in BINARY mode")
		}
		return cp, nil
	default:
		return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "COPY format %q not recognized", cp.Format)
	}
	if delim != nil {
		cp.Delimiter = *delim
	}
	if null != nil {
		cp.Null, cp.HasNull = *null, true
	}
	if cp.Format == "csv" {
		if quote != nil {
			cp.Quote = *quote
		}
		cp.Escape = cp.Quote
		if escape != nil {
			cp.Escape = *escape
		}
	} else if quote != nil || escape != nil {
		return nil, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY quote and escape are available only in CSV mode")
	}
	if len(cp.Delimiter) != 1 {
		return nil, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY delimiter must be a single one-byte character")
	}
	if cp.Format == "csv" && (len(cp.Quote) != 1 || len(cp.Escape) != 1) {
		return nil, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY quote and escape must be a single one-byte character")
	}
	if strings.Contains(cp.Null, cp.Delimiter) {
		return nil, pgerror.New(pgerror.CodeInvalidParameterValue, "COPY delimiter must not appear in the NULL specification")
	}
	return cp, nil
}
