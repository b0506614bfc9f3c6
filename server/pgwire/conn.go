package pgwire

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/longboatdb/longboat/sql/pgerror"
)

const (
	startupTimeout   = 30 * time.Second
	shutdownDeadline = 2 * time.Second
	maxStartupTries  = 4 // SSLRequest, GSSENCRequest, then StartupMessage
)

// Transaction status bytes of ReadyForQuery.
const (
	txnIdle    = 'I'
	txnBlock   = 'T'
	txnAborted = 'E'
)

// conn is one client connection. Fields without a lock are owned by the
// executor goroutine (serve); the reader goroutine owns backend after
// startup.
type conn struct {
	srv     *Server
	raw     net.Conn // the accepted socket; nc may wrap it in TLS
	nc      net.Conn
	backend *pgproto3.Backend
	bw      *bufio.Writer
	scratch []byte // encode buffer for single messages
	rowBuf  []byte // encode buffer for DataRows

	cmds       chan command
	readerDone chan struct{}
	readErr    error // terminal command error seen while reading COPY data
	writeErr   error // first write error; the connection is dead after it
	stopping   bool  // a FATAL error was sent; close after flushing

	pid, secret uint32
	user        string
	session     Session

	txn            byte
	ignoreTillSync bool
	reports        [][2]string // ParameterStatus (name, value) to send before ReadyForQuery
	stmts          map[string]*prepared
	portals        map[string]*portal

	mu struct {
		sync.Mutex
		connCancel context.CancelCauseFunc
		stmtCancel context.CancelCauseFunc
		closing    error
	}
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		srv:        s,
		raw:        nc,
		nc:         nc,
		cmds:       make(chan command, cmdQueueLen),
		readerDone: make(chan struct{}),
		txn:        txnIdle,
		stmts:      make(map[string]*prepared),
		portals:    make(map[string]*portal),
	}
	c.backend = pgproto3.NewBackend(nc, io.Discard)
	c.backend.SetMaxBodyLen(s.cfg.MaxMessageSize)
	c.bw = bufio.NewWriterSize(nc, writeBufferSize)
	return c
}

// serve runs the connection to completion.
func (c *conn) serve(ctx context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	c.mu.Lock()
	c.mu.connCancel = cancel
	closing := c.mu.closing
	c.mu.Unlock()
	if closing != nil {
		cancel(closing)
	}
	defer func() {
		cancel(context.Canceled)
		_ = c.nc.Close()
		if c.session != nil {
			c.session.Close()
		}
	}()
	ok, err := c.startup(ctx)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			c.srv.logger.Debug("connection startup failed", "remote", c.nc.RemoteAddr().String(), "err", err)
		}
		return
	}
	if !ok {
		return
	}
	go c.readLoop(ctx)
	c.run(ctx)
	_ = c.nc.Close() // unblocks the reader
	<-c.readerDone
}

// shutdown cancels the connection (and its running statement) with cause
// and bounds any blocked I/O.
func (c *conn) shutdown(cause error) {
	c.mu.Lock()
	c.mu.closing = cause
	cancel := c.mu.connCancel
	c.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
	_ = c.raw.SetDeadline(time.Now().Add(shutdownDeadline))
}

func (c *conn) cancelConnCtx(cause error) {
	c.mu.Lock()
	cancel := c.mu.connCancel
	c.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

// cancelStatement cancels the running statement, if any (CancelRequest).
func (c *conn) cancelStatement() {
	c.mu.Lock()
	cancel := c.mu.stmtCancel
	c.mu.Unlock()
	if cancel != nil {
		cancel(errCancelRequested)
	}
}

// errStatementTimeout is the cause of a statement context that reached the
// session's statement_timeout.
var errStatementTimeout = pgerror.New(pgerror.CodeQueryCanceled, "canceling statement due to statement timeout")

// stmtContext returns the context of one statement execution: cancelled by
// a CancelRequest (cancelStatement) and, when the session has a
// statement_timeout, at that deadline.
func (c *conn) stmtContext(ctx context.Context) (context.Context, func()) {
	stopTimer := func() {}
	if st, ok := c.session.(StatementTimeouter); ok {
		if d := st.StatementTimeout(); d > 0 {
			var cancelT context.CancelFunc
			ctx, cancelT = context.WithTimeoutCause(ctx, d, errStatementTimeout)
			stopTimer = cancelT
		}
	}
	sctx, cancel := context.WithCancelCause(ctx)
	c.mu.Lock()
	c.mu.stmtCancel = cancel
	c.mu.Unlock()
	return sctx, func() {
		c.mu.Lock()
		c.mu.stmtCancel = nil
		c.mu.Unlock()
		cancel(context.Canceled)
		stopTimer()
	}
}

// --- writing ---------------------------------------------------------------

// send encodes msg into the write buffer.
func (c *conn) send(msg pgproto3.BackendMessage) {
	if c.writeErr != nil {
		return
	}
	b, err := msg.Encode(c.scratch[:0])
	if err != nil {
		c.writeErr = fmt.Errorf("cannot encode %T: %w", msg, err)
		return
	}
	c.scratch = b
	c.writeRaw(b)
	if cap(c.scratch) > 64<<10 {
		c.scratch = nil
	}
}

func (c *conn) writeRaw(b []byte) {
	if c.writeErr != nil {
		return
	}
	if _, err := c.bw.Write(b); err != nil {
		c.writeErr = err
	}
}

func (c *conn) flush() {
	if c.writeErr != nil {
		return
	}
	if err := c.bw.Flush(); err != nil {
		c.writeErr = err
	}
}

// sendError writes an ErrorResponse for err (severity ERROR) and moves an
// open transaction block to the aborted state.
func (c *conn) sendError(err error) {
	if errors.Is(err, errServerShutdown) {
		c.sendErrorSeverity(err, "FATAL")
		c.flush()
		c.stopping = true
		return
	}
	c.sendErrorSeverity(err, "ERROR")
	if c.txn == txnBlock {
		c.txn = txnAborted
	}
}

func (c *conn) sendErrorSeverity(err error, severity string) {
	pe := pgerror.Flatten(err)
	if pe.Code == pgerror.CodeInternal {
		c.srv.logger.Error("internal error", "err", err, "pid", c.pid)
	}
	c.send(&pgproto3.ErrorResponse{
		Severity:            severity,
		SeverityUnlocalized: severity,
		Code:                pe.Code,
		Message:             pe.Message,
		Detail:              pe.Detail,
		Hint:                pe.Hint,
		Position:            int32(pe.Position),
	})
}

func (c *conn) readyForQuery() {
	if c.stopping {
		return
	}
	for _, ps := range c.reports {
		c.send(&pgproto3.ParameterStatus{Name: ps[0], Value: ps[1]})
	}
	c.reports = c.reports[:0]
	c.send(&pgproto3.ReadyForQuery{TxStatus: c.txn})
	c.flush()
}

// --- startup -------------------------------------------------------------

// startup runs the startup phase. ok is false when the connection must be
// closed without error (CancelRequest, rejected session).
func (c *conn) startup(ctx context.Context) (ok bool, err error) {
	_ = c.nc.SetDeadline(time.Now().Add(startupTimeout))
	var sm *pgproto3.StartupMessage
	for try := 0; sm == nil; try++ {
		if try >= maxStartupTries {
			return false, errors.New("too many startup negotiation messages")
		}
		msg, err := c.backend.ReceiveStartupMessage()
		if err != nil {
			if errors.Is(classifyReadError(err), io.EOF) {
				return false, io.EOF
			}
			c.sendErrorSeverity(pgerror.Wrapf(err, pgerror.CodeProtocolViolation, "invalid startup packet"), "FATAL")
			c.flush()
			return false, err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if c.srv.cfg.TLS == nil {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return false, err
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return false, err
			}
			tc := tls.Server(c.nc, c.srv.cfg.TLS)
			if err := tc.HandshakeContext(ctx); err != nil {
				return false, fmt.Errorf("TLS handshake: %w", err)
			}
			c.nc = tc
			c.backend = pgproto3.NewBackend(tc, io.Discard)
			c.backend.SetMaxBodyLen(c.srv.cfg.MaxMessageSize)
			c.bw.Reset(tc)
		case *pgproto3.GSSEncRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false, err
			}
		case *pgproto3.CancelRequest:
			c.srv.cancel(m.ProcessID, m.SecretKey)
			return false, nil
		case *pgproto3.StartupMessage:
			sm = m
		default:
			return false, fmt.Errorf("unexpected startup message %T", msg)
		}
	}

	params := make(map[string]string, len(sm.Parameters))
	var unrecognized []string
	for k, v := range sm.Parameters {
		if strings.HasPrefix(k, "_pq_.") {
			unrecognized = append(unrecognized, k)
			continue
		}
		params[k] = v
	}
	if sm.ProtocolVersion != pgproto3.ProtocolVersion30 || len(unrecognized) > 0 {
		c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unrecognized})
	}
	c.user = params["user"]
	if c.user == "" {
		c.sendErrorSeverity(pgerror.New(pgerror.CodeInvalidAuthorization, "no PostgreSQL user name specified in startup packet"), "FATAL")
		c.flush()
		return false, nil
	}
	if params["database"] == "" {
		params["database"] = c.user
	}

	if check := c.srv.cfg.CheckPassword; check != nil {
		c.send(&pgproto3.AuthenticationCleartextPassword{})
		c.flush()
		if err := c.backend.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
			return false, err
		}
		msg, err := c.backend.Receive()
		if err != nil {
			return false, classifyReadError(err)
		}
		pw, isPW := msg.(*pgproto3.PasswordMessage)
		if !isPW {
			c.sendErrorSeverity(pgerror.Newf(pgerror.CodeProtocolViolation, "expected password response, got %T", msg), "FATAL")
			c.flush()
			return false, nil
		}
		if err := check(ctx, c.user, pw.Password); err != nil {
			if pgerror.Code(err) == pgerror.CodeInternal {
				err = pgerror.Newf(pgerror.CodeInvalidPassword, "password authentication failed for user %q", c.user)
			}
			c.sendErrorSeverity(err, "FATAL")
			c.flush()
			return false, nil
		}
	}

	sess, err := c.srv.cfg.Handler.NewSession(ctx, params)
	if err != nil {
		c.sendErrorSeverity(err, "FATAL")
		c.flush()
		return false, nil
	}
	c.session = sess
	c.srv.registerKey(c)

	c.send(&pgproto3.AuthenticationOk{})
	for _, ps := range [][2]string{
		{"application_name", params["application_name"]},
		{"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"},
		{"default_transaction_read_only", "off"},
		{"in_hot_standby", "off"},
		{"integer_datetimes", "on"},
		{"IntervalStyle", "postgres"},
		{"is_superuser", "on"},
		{"server_encoding", "UTF8"},
		{"server_version", c.srv.cfg.ServerVersion},
		{"session_authorization", c.user},
		{"standard_conforming_strings", "on"},
		{"TimeZone", "UTC"},
	} {
		c.send(&pgproto3.ParameterStatus{Name: ps[0], Value: ps[1]})
	}
	var key [4]byte
	key[0], key[1], key[2], key[3] = byte(c.secret>>24), byte(c.secret>>16), byte(c.secret>>8), byte(c.secret)
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: key[:]})
	c.readyForQuery()
	if c.writeErr != nil {
		return false, c.writeErr
	}
	_ = c.nc.SetDeadline(time.Time{})
	return true, nil
}

// --- the executor loop -----------------------------------------------------

// run is the executor loop: it takes commands from the reader in order and
// executes them until Terminate, a disconnect, a protocol error or shutdown.
func (c *conn) run(ctx context.Context) {
	for c.writeErr == nil && c.readErr == nil && !c.stopping {
		var cmd command
		select {
		case cmd = <-c.cmds:
		case <-ctx.Done():
			c.closeWithCause(ctx)
			return
		}
		if cmd.err != nil {
			c.handleReadError(cmd.err)
			return
		}
		if _, ok := cmd.msg.(*pgproto3.Terminate); ok {
			return
		}
		if c.ignoreTillSync {
			if _, ok := cmd.msg.(*pgproto3.Sync); !ok {
				continue
			}
		}
		c.handle(ctx, cmd.msg)
	}
	if c.writeErr != nil && !errors.Is(c.writeErr, net.ErrClosed) {
		c.srv.logger.Debug("connection write failed", "pid", c.pid, "err", c.writeErr)
	}
}

// closeWithCause tells the client why the connection ends, if the server
// is shutting down.
func (c *conn) closeWithCause(ctx context.Context) {
	if cause := context.Cause(ctx); cause == errServerShutdown && !c.stopping {
		c.sendErrorSeverity(errServerShutdown, "FATAL")
		c.flush()
	}
}

func (c *conn) handleReadError(err error) {
	if isProtocolError(err) {
		c.srv.logger.Info("closing connection after protocol violation", "pid", c.pid, "err", err)
		c.sendErrorSeverity(err, "FATAL")
		c.flush()
	}
}

func (c *conn) handle(ctx context.Context, msg pgproto3.FrontendMessage) {
	switch m := msg.(type) {
	case *pgproto3.Query:
		c.simpleQuery(ctx, m.String)
		c.dropUnnamedPortal()
		c.readyForQuery()
	case *pgproto3.Parse:
		c.extended(c.parse(ctx, m))
	case *pgproto3.Bind:
		c.extended(c.bind(ctx, m))
	case *pgproto3.Describe:
		c.extended(c.describe(m))
	case *pgproto3.Execute:
		c.extended(c.execute(ctx, m))
	case *pgproto3.Close:
		switch m.ObjectType {
		case 'S':
			delete(c.stmts, m.Name)
		case 'P':
			delete(c.portals, m.Name)
		default:
			c.extended(pgerror.Newf(pgerror.CodeProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType))
			return
		}
		c.send(&pgproto3.CloseComplete{})
	case *pgproto3.Sync:
		c.ignoreTillSync = false
		if c.txn == txnIdle {
			// The implicit transaction ends: its portals go with it.
			clear(c.portals)
		}
		c.readyForQuery()
	case *pgproto3.Flush:
		c.flush()
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// Outside COPY (e.g. after a failed COPY whose data the client
		// pipelined) PostgreSQL ignores these.
	case *pgproto3.FunctionCall:
		c.extended(pgerror.New(pgerror.CodeFeatureNotSupported, "fastpath function calls are not supported"))
	default:
		c.handleReadError(pgerror.Newf(pgerror.CodeProtocolViolation, "unexpected message type %T", msg))
		c.readErr = io.EOF
	}
}

// extended reports an extended-protocol error: ErrorResponse, then skip
// until Sync.
func (c *conn) extended(err error) {
	if err == nil {
		return
	}
	c.sendError(err)
	c.ignoreTillSync = true
}
