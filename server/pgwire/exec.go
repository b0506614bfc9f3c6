package pgwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// prepared is a statement created by Parse. stmt is nil for an empty query.
type prepared struct {
	name     string
	stmt     Statement
	declared []types.OID // parameter types declared by the client in Parse
}

// paramTypes are the types announced in ParameterDescription and used to
// decode Bind parameters: the client's declaration where it made one, else
// the statement's inference (0 where unknown).
func (p *prepared) paramTypes() []types.OID {
	var inferred []types.OID
	if p.stmt != nil {
		inferred = p.stmt.ParamTypes()
	}
	n := max(len(inferred), len(p.declared))
	out := make([]types.OID, n)
	for i := range out {
		if i < len(p.declared) && p.declared[i] != 0 {
			out[i] = p.declared[i]
		} else if i < len(inferred) {
			out[i] = inferred[i]
		}
	}
	return out
}

// portal is a bound statement. A portal executed with a row limit runs its
// statement once, keeps the encoded rows and hands them out in chunks.
type portal struct {
	prep    *prepared
	params  []types.Datum
	formats []int16 // per result column

	started  bool
	finished bool
	buf      *rowBuffer
	next     int // next row of buf to send
	tag      string
	kind     StatementKind
}

// isTxnExit reports whether stmt may run in an aborted transaction.
func isTxnExit(stmt Statement) bool {
	if stmt == nil {
		return false
	}
	k := stmt.Kind()
	return k == KindCommit || k == KindRollback
}

var errInFailedTxn = pgerror.New(pgerror.CodeInFailedTransaction, "current transaction is aborted, commands ignored until end of transaction block")

// --- simple query ----------------------------------------------------------

func (c *conn) simpleQuery(ctx context.Context, query string) {
	pctx, done := c.stmtContext(ctx)
	stmts, err := c.session.Prepare(pctx, query, nil)
	done()
	if err != nil {
		c.sendError(c.mapCancel(pctx, err))
		return
	}
	if len(stmts) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
		return
	}
	for _, stmt := range stmts {
		if stmt.Kind() == KindEmpty {
			c.send(&pgproto3.EmptyQueryResponse{})
			continue
		}
		if c.txn == txnAborted && !isTxnExit(stmt) {
			c.sendError(errInFailedTxn)
			return
		}
		if n := len(stmt.ParamTypes()); n > 0 {
			c.sendError(pgerror.Newf(pgerror.CodeUndefinedParameter, "there is no parameter $%d", 1))
			return
		}
		cols := stmt.Columns()
		if cols != nil && stmt.Kind() != KindCopyIn {
			c.send(rowDescription(cols, nil))
		}
		res := &result{c: c, cols: cols, formats: make([]int16, len(cols))}
		if err := c.execStmt(ctx, stmt, nil, res); err != nil {
			c.sendError(err)
			return
		}
		c.send(&pgproto3.CommandComplete{CommandTag: []byte(res.commandTag(stmt.Kind()))})
		if c.writeErr != nil || c.readErr != nil {
			return
		}
	}
}

// execStmt runs one statement with transaction-status bookkeeping, COPY
// set-up and cancellation mapping. The caller reports a returned error.
func (c *conn) execStmt(ctx context.Context, stmt Statement, params []types.Datum, res *result) error {
	kind := stmt.Kind()
	if c.txn == txnAborted && !isTxnExit(stmt) {
		return errInFailedTxn
	}
	sctx, done := c.stmtContext(ctx)
	defer done()
	var cr *copyReader
	if kind == KindCopyIn {
		info := stmt.CopyInfo()
		var f byte
		if info.Binary {
			f = 1
		}
		colFormats := make([]uint16, info.NumColumns)
		for i := range colFormats {
			colFormats[i] = uint16(f)
		}
		c.send(&pgproto3.CopyInResponse{OverallFormat: f, ColumnFormatCodes: colFormats})
		c.flush()
		cr = &copyReader{c: c, ctx: sctx}
		res.copy = cr
	}
	err := stmt.Execute(sctx, params, res)
	if err == nil && res.err != nil {
		err = res.err
	}
	if err == nil && cr != nil {
		err = cr.drain()
	}
	if err == nil && c.writeErr != nil {
		err = c.writeErr
	}
	if err != nil {
		return c.mapCancel(sctx, err)
	}
	switch kind {
	case KindBegin:
		if c.txn == txnIdle {
			c.txn = txnBlock
		}
	case KindCommit:
		if c.txn == txnAborted {
			res.tag = "ROLLBACK"
		}
		c.txn = txnIdle
		c.dropPortalsAtTxnEnd()
	case KindRollback:
		c.txn = txnIdle
		c.dropPortalsAtTxnEnd()
	}
	return nil
}

// dropPortalsAtTxnEnd drops the portals of a finished transaction block.
// The portal being executed stays usable until its command completes.
func (c *conn) dropPortalsAtTxnEnd() {
	for name, p := range c.portals {
		if p.finished || !p.started {
			delete(c.portals, name)
		}
	}
}

func (c *conn) dropUnnamedPortal() { delete(c.portals, "") }

// mapCancel turns the error of a cancelled statement into 57014 (cancel
// request) or 57P01 (shutdown), whatever the statement returned.
func (c *conn) mapCancel(sctx context.Context, err error) error {
	if sctx.Err() == nil {
		return err
	}
	switch cause := context.Cause(sctx); {
	case errors.Is(cause, errCancelRequested):
		return errCancelRequested
	case errors.Is(cause, errStatementTimeout):
		return errStatementTimeout
	case errors.Is(cause, errServerShutdown):
		return errServerShutdown
	case errors.Is(cause, errClientDisconnected):
		return pgerror.Wrap(err, pgerror.CodeQueryCanceled)
	}
	if pgerror.Code(err) == pgerror.CodeInternal {
		return errCancelRequested
	}
	return err
}

// --- extended query --------------------------------------------------------

func (c *conn) parse(ctx context.Context, m *pgproto3.Parse) error {
	if m.Name != "" {
		if _, exists := c.stmts[m.Name]; exists {
			return pgerror.Newf(pgerror.CodeDuplicatePreparedStmt, "prepared statement %q already exists", m.Name)
		}
	}
	declared := make([]types.OID, len(m.ParameterOIDs))
	for i, o := range m.ParameterOIDs {
		declared[i] = types.OID(o)
	}
	pctx, done := c.stmtContext(ctx)
	stmts, err := c.session.Prepare(pctx, m.Query, declared)
	done()
	if err != nil {
		return c.mapCancel(pctx, err)
	}
	var nonEmpty []Statement
	for _, s := range stmts {
		if s.Kind() != KindEmpty {
			nonEmpty = append(nonEmpty, s)
		}
	}
	if len(nonEmpty) > 1 {
		return pgerror.New(pgerror.CodeSyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	p := &prepared{name: m.Name, declared: declared}
	if len(nonEmpty) == 1 {
		p.stmt = nonEmpty[0]
	}
	if c.txn == txnAborted && !isTxnExit(p.stmt) {
		return errInFailedTxn
	}
	c.stmts[m.Name] = p
	c.send(&pgproto3.ParseComplete{})
	return nil
}

// expandFormats turns Bind's format code list (none, one for all, or one
// each) into one code per item.
func expandFormats(codes []int16, n int, what string) ([]int16, error) {
	out := make([]int16, n)
	switch len(codes) {
	case 0:
	case 1:
		for i := range out {
			out[i] = codes[0]
		}
	case n:
		copy(out, codes)
	default:
		if what == "result" {
			return nil, pgerror.Newf(pgerror.CodeProtocolViolation, "bind message has %d result formats but query has %d columns", len(codes), n)
		}
		return nil, pgerror.Newf(pgerror.CodeProtocolViolation, "bind message has %d parameter formats but %d parameters", len(codes), n)
	}
	for _, f := range out {
		if f != 0 && f != 1 {
			return nil, pgerror.Newf(pgerror.CodeInvalidParameterValue, "unsupported format code: %d", f)
		}
	}
	return out, nil
}

func (c *conn) bind(ctx context.Context, m *pgproto3.Bind) error {
	p, ok := c.stmts[m.PreparedStatement]
	if !ok {
		return pgerror.Newf(pgerror.CodeInvalidSQLStatementNm, "prepared statement %q does not exist", m.PreparedStatement)
	}
	if c.txn == txnAborted && !isTxnExit(p.stmt) {
		return errInFailedTxn
	}
	ptypes := p.paramTypes()
	if len(m.Parameters) != len(ptypes) {
		return pgerror.Newf(pgerror.CodeProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d", len(m.Parameters), m.PreparedStatement, len(ptypes))
	}
	pformats, err := expandFormats(m.ParameterFormatCodes, len(ptypes), "parameter")
	if err != nil {
		return err
	}
	var inferred []types.OID
	var cols []Column
	if p.stmt != nil {
		inferred = p.stmt.ParamTypes()
		cols = p.stmt.Columns()
	}
	params := make([]types.Datum, len(ptypes))
	for i, raw := range m.Parameters {
		t := ptypes[i]
		if raw == nil {
			params[i] = types.NullOf(t)
			continue
		}
		var d types.Datum
		var err error
		if pformats[i] == 1 {
			d, err = types.ParseBinary(t, raw)
			if err != nil {
				return pgerror.Wrapf(err, pgerror.Code(err), "incorrect binary data format in bind parameter %d", i+1)
			}
		} else {
			d, err = types.ParseText(t, string(raw))
			if err != nil {
				return err
			}
		}
		// The client's declared type wins for decoding; convert to the type
		// the statement inferred (JDBC sends varchar for everything).
		if i < len(inferred) && inferred[i] != types.Unknown && inferred[i] != d.T {
			cd, err := types.Cast(d, inferred[i])
			if err != nil {
				return err
			}
			d = cd
		}
		params[i] = d
	}
	rformats, err := expandFormats(m.ResultFormatCodes, len(cols), "result")
	if err != nil {
		return err
	}
	if m.DestinationPortal != "" {
		if _, exists := c.portals[m.DestinationPortal]; exists {
			return pgerror.Newf("42P03", "cursor %q already exists", m.DestinationPortal)
		}
	}
	c.portals[m.DestinationPortal] = &portal{prep: p, params: params, formats: rformats}
	c.send(&pgproto3.BindComplete{})
	return nil
}

func (c *conn) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		p, ok := c.stmts[m.Name]
		if !ok {
			return pgerror.Newf(pgerror.CodeInvalidSQLStatementNm, "prepared statement %q does not exist", m.Name)
		}
		pt := p.paramTypes()
		oids := make([]uint32, len(pt))
		for i, t := range pt {
			oids[i] = uint32(t)
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: oids})
		c.sendDescription(p.stmt, nil)
	case 'P':
		pt, ok := c.portals[m.Name]
		if !ok {
			return pgerror.Newf(pgerror.CodeInvalidCursorName, "portal %q does not exist", m.Name)
		}
		c.sendDescription(pt.prep.stmt, pt.formats)
	default:
		return pgerror.Newf(pgerror.CodeProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType)
	}
	return nil
}

func (c *conn) sendDescription(stmt Statement, formats []int16) {
	if stmt == nil || stmt.Kind() == KindCopyIn {
		c.send(&pgproto3.NoData{})
		return
	}
	cols := stmt.Columns()
	if cols == nil {
		c.send(&pgproto3.NoData{})
		return
	}
	c.send(rowDescription(cols, formats))
}

func (c *conn) execute(ctx context.Context, m *pgproto3.Execute) error {
	pt, ok := c.portals[m.Portal]
	if !ok {
		return pgerror.Newf(pgerror.CodeInvalidCursorName, "portal %q does not exist", m.Portal)
	}
	stmt := pt.prep.stmt
	if stmt == nil {
		c.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if pt.finished {
		// Re-executing a completed portal yields no more rows.
		c.send(&pgproto3.CommandComplete{CommandTag: []byte(retag(pt.tag, 0))})
		return nil
	}
	if !pt.started {
		pt.started = true
		pt.kind = stmt.Kind()
		res := &result{c: c, cols: stmt.Columns(), formats: pt.formats}
		if m.MaxRows > 0 && res.cols != nil {
			pt.buf = &rowBuffer{}
			res.buffered = pt.buf
		}
		if err := c.execStmt(ctx, stmt, pt.params, res); err != nil {
			pt.finished = true
			return err
		}
		pt.tag = res.commandTag(pt.kind)
		if pt.buf == nil {
			pt.finished = true
			c.send(&pgproto3.CommandComplete{CommandTag: []byte(pt.tag)})
			return nil
		}
	}
	// Hand out the next chunk of a materialised portal.
	b := pt.buf
	sent := 0
	start := 0
	if pt.next > 0 {
		start = b.ends[pt.next-1]
	}
	for pt.next < len(b.ends) && (m.MaxRows == 0 || sent < int(m.MaxRows)) {
		end := b.ends[pt.next]
		c.writeRaw(b.data[start:end])
		start = end
		pt.next++
		sent++
	}
	if m.MaxRows > 0 && sent == int(m.MaxRows) {
		// As PostgreSQL: a full chunk suspends even if no rows remain.
		c.send(&pgproto3.PortalSuspended{})
		c.flush()
		return nil
	}
	pt.finished = true
	pt.buf = nil
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(retag(pt.tag, sent))})
	return nil
}

// retag replaces the row count of a "SELECT n" or "FETCH n" tag with the
// rows sent by the final Execute of a suspended portal, as PostgreSQL.
func retag(tag string, n int) string {
	for _, prefix := range []string{"SELECT ", "FETCH "} {
		if strings.HasPrefix(tag, prefix) {
			if _, err := strconv.Atoi(tag[len(prefix):]); err == nil {
				return prefix + strconv.Itoa(n)
			}
		}
	}
	return tag
}

// compile-time check that the copy reader is an io.Reader.
var _ io.Reader = (*copyReader)(nil)

// String helps debugging.
func (p *portal) String() string {
	return fmt.Sprintf("portal(started=%v finished=%v next=%d)", p.started, p.finished, p.next)
}
