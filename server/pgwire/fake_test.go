package pgwire

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// fakeHandler is a tiny SQL "engine" for protocol tests. It understands:
//
//	select <item>, ...        items: $n::type or <literal>::type
//	select * from series(N)   N int8 rows named n
//	select * from metrics [where host = $1]
//	sleep                     blocks until its context is cancelled
//	error <SQLSTATE>          fails with that code at position 7
//	internal                  fails with an uncoded error (XX000)
//	begin / commit / rollback, insert ..., notice
//	set <name> = <value>      application_name is reported (ParameterStatus);
//	                          statement_timeout = <ms> bounds later statements
//	copy <t> from stdin [binary]
//	select * from no_such_table ...   42P01 at Prepare
//
// Statements are split on ';'. Comments-only and empty parts are dropped.
type fakeHandler struct {
	prepares atomic.Int64
	sessions atomic.Int64
	closed   atomic.Int64

	sleeping chan struct{} // receives when a sleep statement starts
	woke     chan error    // receives the cause when a sleep statement ends

	mu struct {
		sync.Mutex
		copied [][]string
	}
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{sleeping: make(chan struct{}, 16), woke: make(chan error, 16)}
}

func (h *fakeHandler) copiedRows() [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]string(nil), h.mu.copied...)
}

func (h *fakeHandler) NewSession(ctx context.Context, params map[string]string) (Session, error) {
	if params["database"] == "nodb" {
		return nil, pgerror.Newf(pgerror.CodeInvalidCatalogName, "database %q does not exist", params["database"])
	}
	h.sessions.Add(1)
	return &fakeSession{h: h}, nil
}

type fakeSession struct {
	h       *fakeHandler
	timeout time.Duration // set statement_timeout = <ms>
}

func (s *fakeSession) StatementTimeout() time.Duration { return s.timeout }

func (s *fakeSession) Close() { s.h.closed.Add(1) }

func (s *fakeSession) Prepare(ctx context.Context, query string, paramTypes []types.OID) ([]Statement, error) {
	s.h.prepares.Add(1)
	var out []Statement
	for _, part := range splitStatements(query) {
		st, err := s.prepareOne(part, paramTypes)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// splitStatements splits on ';' outside single quotes and drops comment-only parts.
func splitStatements(q string) []string {
	var parts []string
	inStr := false
	start := 0
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '\'':
			inStr = !inStr
		case ';':
			if !inStr {
				parts = append(parts, q[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, q[start:])
	var out []string
	for _, p := range parts {
		var lines []string
		for _, l := range strings.Split(p, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				lines = append(lines, t)
			}
		}
		if len(lines) > 0 {
			out = append(out, strings.Join(lines, " "))
		}
	}
	return out
}

type fakeStmt struct {
	kind    StatementKind
	params  []types.OID
	cols    []Column
	copy    CopyInfo
	exec    func(ctx context.Context, params []types.Datum, res ResultWriter) error
	prepErr error
}

func (f *fakeStmt) Kind() StatementKind     { return f.kind }
func (f *fakeStmt) ParamTypes() []types.OID { return f.params }
func (f *fakeStmt) Columns() []Column       { return f.cols }
func (f *fakeStmt) CopyInfo() CopyInfo      { return f.copy }
func (f *fakeStmt) Execute(ctx context.Context, params []types.Datum, res ResultWriter) error {
	return f.exec(ctx, params, res)
}

func tagOnly(tag string) func(context.Context, []types.Datum, ResultWriter) error {
	return func(_ context.Context, _ []types.Datum, res ResultWriter) error {
		res.SetTag(tag)
		return nil
	}
}

var metricsRows = [][]types.Datum{
	{types.NewTimestamptz(1_700_000_000_000_000), types.NewText("a"), types.NewFloat8(1.5)},
	{types.NewTimestamptz(1_700_000_001_000_000), types.NewText("b"), types.NewFloat8(2.5)},
	{types.NewTimestamptz(1_700_000_002_000_000), types.NewText("a"), types.NewFloat8(-3)},
}

func (s *fakeSession) prepareOne(q string, declared []types.OID) (Statement, error) {
	lq := strings.ToLower(q)
	switch {
	case lq == "begin" || strings.HasPrefix(lq, "begin ") || lq == "start transaction":
		return &fakeStmt{kind: KindBegin, exec: tagOnly("BEGIN")}, nil
	case lq == "commit" || lq == "end":
		return &fakeStmt{kind: KindCommit, exec: tagOnly("COMMIT")}, nil
	case lq == "rollback" || lq == "abort":
		return &fakeStmt{kind: KindRollback, exec: tagOnly("ROLLBACK")}, nil
	case strings.HasPrefix(lq, "insert"):
		return &fakeStmt{exec: tagOnly("INSERT 0 1")}, nil
	case strings.HasPrefix(lq, "set "):
		// set application_name = v reports the new value, like PostgreSQL.
		name, value, _ := strings.Cut(q[4:], "=")
		name, value = strings.TrimSpace(name), strings.Trim(strings.TrimSpace(value), "'")
		return &fakeStmt{exec: func(_ context.Context, _ []types.Datum, res ResultWriter) error {
			if strings.EqualFold(name, "application_name") {
				res.(ParameterReporter).ReportParameter("application_name", value)
			}
			if strings.EqualFold(name, "statement_timeout") {
				ms, err := strconv.Atoi(value)
				if err != nil {
					return pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"statement_timeout\": %q", value)
				}
				s.timeout = time.Duration(ms) * time.Millisecond
			}
			res.SetTag("SET")
			return nil
		}}, nil
	case lq == "notice":
		return &fakeStmt{exec: func(_ context.Context, _ []types.Datum, res ResultWriter) error {
			res.Notice("hello from the fake")
			res.SetTag("DO")
			return nil
		}}, nil
	case lq == "sleep":
		return &fakeStmt{cols: []Column{{Name: "sleep", Type: types.Int4}}, exec: func(ctx context.Context, _ []types.Datum, res ResultWriter) error {
			s.h.sleeping <- struct{}{}
			<-ctx.Done()
			s.h.woke <- context.Cause(ctx)
			return ctx.Err()
		}}, nil
	case strings.HasPrefix(lq, "error "):
		code := strings.TrimSpace(q[6:])
		return &fakeStmt{exec: func(context.Context, []types.Datum, ResultWriter) error {
			return pgerror.WithPosition(pgerror.Newf(code, "fake error %s", code), 7)
		}}, nil
	case lq == "internal":
		return &fakeStmt{exec: func(context.Context, []types.Datum, ResultWriter) error {
			return errors.New("boom")
		}}, nil
	case strings.HasPrefix(lq, "select * from no_such_table"):
		return nil, pgerror.WithPosition(pgerror.New(pgerror.CodeUndefinedTable, `relation "no_such_table" does not exist`), 15)
	case strings.HasPrefix(lq, "select * from series("):
		n, err := strconv.Atoi(strings.TrimSuffix(lq[len("select * from series("):], ")"))
		if err != nil {
			return nil, pgerror.New(pgerror.CodeSyntaxError, "bad series")
		}
		return &fakeStmt{cols: []Column{{Name: "n", Type: types.Int8}}, exec: func(ctx context.Context, _ []types.Datum, res ResultWriter) error {
			for i := 1; i <= n; i++ {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := res.AddRow([]types.Datum{types.NewInt(types.Int8, int64(i))}); err != nil {
					return err
				}
			}
			res.SetTag(fmt.Sprintf("SELECT %d", n))
			return nil
		}}, nil
	case strings.HasPrefix(lq, "select * from metrics") || strings.HasPrefix(lq, `select "time", "host", "value" from "metrics"`):
		st := &fakeStmt{cols: []Column{
			{Name: "time", Type: types.Timestamptz, TableOID: 16384, ColumnNum: 1},
			{Name: "host", Type: types.Text, TableOID: 16384, ColumnNum: 2},
			{Name: "value", Type: types.Float8, TableOID: 16384, ColumnNum: 3},
		}}
		filter := strings.Contains(lq, "where host = $1")
		if filter {
			st.params = []types.OID{types.Text}
		}
		literal := ""
		if k := strings.Index(lq, "where host ="); k >= 0 && !filter {
			literal = strings.Trim(strings.TrimSpace(q[k+len("where host ="):]), "'")
		}
		st.exec = func(ctx context.Context, params []types.Datum, res ResultWriter) error {
			n := 0
			for _, r := range metricsRows {
				if (filter && r[1].S != params[0].S) || (literal != "" && r[1].S != literal) {
					continue
				}
				if err := res.AddRow(r); err != nil {
					return err
				}
				n++
			}
			res.SetTag(fmt.Sprintf("SELECT %d", n))
			return nil
		}
		return st, nil
	case strings.HasPrefix(lq, "copy "):
		binaryFmt := strings.HasSuffix(lq, " binary") || strings.Contains(lq, "format binary")
		return &fakeStmt{kind: KindCopyIn, copy: CopyInfo{Binary: binaryFmt, NumColumns: 3}, exec: func(ctx context.Context, _ []types.Datum, res ResultWriter) error {
			var rows [][]string
			var err error
			if binaryFmt {
				rows, err = readBinaryCopy(res.CopyData())
			} else {
				rows, err = readTextCopy(res.CopyData())
			}
			if err != nil {
				return err
			}
			s.h.mu.Lock()
			s.h.mu.copied = append(s.h.mu.copied, rows...)
			s.h.mu.Unlock()
			res.SetTag(fmt.Sprintf("COPY %d", len(rows)))
			return nil
		}}, nil
	case strings.HasPrefix(lq, "select "):
		return s.prepareSelectList(q[len("select "):], declared)
	}
	return nil, pgerror.WithPosition(pgerror.Newf(pgerror.CodeSyntaxError, "syntax error at or near %q", strings.Fields(q)[0]), 1)
}

// prepareSelectList handles "select a::t, $2::u, 1".
func (s *fakeSession) prepareSelectList(list string, declared []types.OID) (Statement, error) {
	st := &fakeStmt{}
	type item struct {
		param int // 1-based, 0 for a literal
		lit   types.Datum
		typ   types.OID
	}
	var items []item
	for _, raw := range splitTopLevel(list) {
		raw = strings.TrimSpace(raw)
		expr, typName := raw, ""
		if k := strings.LastIndex(raw, "::"); k >= 0 {
			expr, typName = strings.TrimSpace(raw[:k]), strings.TrimSpace(raw[k+2:])
		}
		var it item
		if typName != "" {
			t, ok := types.OIDByName(typName)
			if !ok {
				return nil, pgerror.Newf(pgerror.CodeUndefinedObject, "type %q does not exist", typName)
			}
			it.typ = t
		}
		if strings.HasPrefix(expr, "$") {
			n, err := strconv.Atoi(expr[1:])
			if err != nil || n < 1 {
				return nil, pgerror.Newf(pgerror.CodeSyntaxError, "bad parameter %s", expr)
			}
			it.param = n
			for len(st.params) < n {
				st.params = append(st.params, types.Unknown)
			}
			if it.typ == types.Unknown && n <= len(declared) {
				it.typ = declared[n-1]
			}
			st.params[n-1] = it.typ
		} else {
			lit := expr
			if strings.HasPrefix(lit, "'") && strings.HasSuffix(lit, "'") && len(lit) >= 2 {
				lit = strings.ReplaceAll(lit[1:len(lit)-1], "''", "'")
				if it.typ == types.Unknown {
					it.typ = types.Text
				}
			} else if it.typ == types.Unknown {
				it.typ = types.Int4
				if strings.ContainsAny(lit, ".eE") {
					it.typ = types.Numeric
				}
				if lit == "true" || lit == "false" {
					it.typ = types.Bool
				}
			}
			lit = strings.Trim(lit, "() ")
			d, err := types.ParseText(it.typ, lit)
			if err != nil {
				return nil, err
			}
			it.lit = d
		}
		name := "?column?"
		if typName != "" {
			name = strings.Fields(typName)[0]
		}
		st.cols = append(st.cols, Column{Name: name, Type: it.typ})
		items = append(items, it)
	}
	st.exec = func(ctx context.Context, params []types.Datum, res ResultWriter) error {
		row := make([]types.Datum, len(items))
		for i, it := range items {
			if it.param > 0 {
				d := params[it.param-1]
				if !d.Null && d.T != it.typ && it.typ != types.Unknown {
					cd, err := types.Cast(d, it.typ)
					if err != nil {
						return err
					}
					d = cd
				}
				row[i] = d
			} else {
				row[i] = it.lit
			}
		}
		if err := res.AddRow(row); err != nil {
			return err
		}
		res.SetTag("SELECT 1")
		return nil
	}
	return st, nil
}

func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	inStr := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			inStr = !inStr
		case '(':
			if !inStr {
				depth++
			}
		case ')':
			if !inStr {
				depth--
			}
		case ',':
			if !inStr && depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// readTextCopy reads COPY text format: tab-separated, \N for NULL.
func readTextCopy(r io.Reader) ([][]string, error) {
	var rows [][]string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == `\.` {
			break
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows, sc.Err()
}

// readBinaryCopy reads PGCOPY binary data; fields are rendered as hex.
func readBinaryCopy(r io.Reader) ([][]string, error) {
	br := bufio.NewReader(r)
	hdr := make([]byte, 19)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return nil, fmt.Errorf("copy header: %w", err)
	}
	if string(hdr[:11]) != "PGCOPY\n\xff\r\n\x00" {
		return nil, pgerror.New("22P04", "COPY file signature not recognized")
	}
	ext := binary.BigEndian.Uint32(hdr[15:])
	if _, err := br.Discard(int(ext)); err != nil {
		return nil, err
	}
	var rows [][]string
	for {
		var nb [2]byte
		if _, err := io.ReadFull(br, nb[:]); err != nil {
			if err == io.EOF {
				return rows, nil // pgx omits the trailer
			}
			return nil, fmt.Errorf("copy tuple: %w", err)
		}
		n := int16(binary.BigEndian.Uint16(nb[:]))
		if n == -1 {
			// Trailer: the rest must be EOF.
			if _, err := io.Copy(io.Discard, br); err != nil {
				return nil, err
			}
			return rows, nil
		}
		row := make([]string, n)
		for i := range row {
			var lb [4]byte
			if _, err := io.ReadFull(br, lb[:]); err != nil {
				return nil, err
			}
			l := int32(binary.BigEndian.Uint32(lb[:]))
			if l < 0 {
				row[i] = "NULL"
				continue
			}
			b := make([]byte, l)
			if _, err := io.ReadFull(br, b); err != nil {
				return nil, err
			}
			row[i] = fmt.Sprintf("%x", b)
		}
		rows = append(rows, row)
	}
}
