package pgwire

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// command is one decoded frontend message (deep-copied: pgproto3 reuses its
// flyweights) or a reader failure. Exactly one field is set.
type command struct {
	msg pgproto3.FrontendMessage
	// err ends the command stream: io.EOF for a clean disconnect, a
	// *pgerror.Error (08P01) for a malformed message, else a read error.
	err error
}

// readLoop is the connection's reader goroutine. It never blocks on
// execution beyond the bounded queue: it decodes messages and hands them to
// the executor through c.cmds. On a read error it cancels the running
// statement at once (client disconnect), then reports the error in order.
func (c *conn) readLoop(ctx context.Context) {
	defer close(c.readerDone)
	for {
		msg, err := c.backend.Receive()
		if err != nil {
			cmdErr := classifyReadError(err)
			if !isProtocolError(cmdErr) {
				// The client went away: stop whatever it was waiting for.
				c.cancelConnCtx(errClientDisconnected)
			}
			select {
			case c.cmds <- command{err: cmdErr}:
			case <-ctx.Done():
			}
			return
		}
		cp := copyMessage(msg)
		select {
		case c.cmds <- command{msg: cp}:
		case <-ctx.Done():
			return
		}
		if _, ok := cp.(*pgproto3.Terminate); ok {
			return
		}
	}
}

var (
	errClientDisconnected = errors.New("longboat/pgwire: client disconnected")
	errServerShutdown     = pgerror.New(pgerror.CodeAdminShutdown, "terminating connection due to administrator command")
	errCancelRequested    = pgerror.New(pgerror.CodeQueryCanceled, "canceling statement due to user request")
)

func isProtocolError(err error) bool {
	return pgerror.Code(err) == pgerror.CodeProtocolViolation
}

// classifyReadError maps a pgproto3 read error to io.EOF (disconnect), an
// 08P01 error (malformed or oversized message) or the I/O error itself.
func classifyReadError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return io.EOF
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return err
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return err
	}
	var tooBig *pgproto3.ExceededMaxBodyLenErr
	if errors.As(err, &tooBig) {
		return pgerror.Newf(pgerror.CodeProtocolViolation, "invalid message length: %d bytes exceeds the maximum of %d", tooBig.ActualBodyLen, tooBig.MaxExpectedBodyLen)
	}
	return pgerror.Wrapf(err, pgerror.CodeProtocolViolation, "invalid frontend message")
}

// copyMessage deep-copies the parts of a flyweight message that alias the
// reader's buffer.
func copyMessage(m pgproto3.FrontendMessage) pgproto3.FrontendMessage {
	switch m := m.(type) {
	case *pgproto3.Query:
		cp := *m
		return &cp
	case *pgproto3.Parse:
		cp := *m
		cp.ParameterOIDs = append([]uint32(nil), m.ParameterOIDs...)
		return &cp
	case *pgproto3.Bind:
		cp := *m
		cp.ParameterFormatCodes = append([]int16(nil), m.ParameterFormatCodes...)
		cp.ResultFormatCodes = append([]int16(nil), m.ResultFormatCodes...)
		total := 0
		for _, p := range m.Parameters {
			total += len(p)
		}
		buf := make([]byte, 0, total)
		cp.Parameters = make([][]byte, len(m.Parameters))
		for i, p := range m.Parameters {
			if p == nil {
				continue
			}
			start := len(buf)
			buf = append(buf, p...)
			cp.Parameters[i] = buf[start:len(buf):len(buf)]
		}
		return &cp
	case *pgproto3.Describe:
		cp := *m
		return &cp
	case *pgproto3.Execute:
		cp := *m
		return &cp
	case *pgproto3.Close:
		cp := *m
		return &cp
	case *pgproto3.Sync:
		return &pgproto3.Sync{}
	case *pgproto3.Flush:
		return &pgproto3.Flush{}
	case *pgproto3.Terminate:
		return &pgproto3.Terminate{}
	case *pgproto3.CopyData:
		return &pgproto3.CopyData{Data: append([]byte(nil), m.Data...)}
	case *pgproto3.CopyDone:
		return &pgproto3.CopyDone{}
	case *pgproto3.CopyFail:
		cp := *m
		return &cp
	case *pgproto3.FunctionCall:
		return &pgproto3.FunctionCall{Function: m.Function}
	}
	// Password/SASL messages outside authentication and anything else: keep
	// the type only; the executor rejects them.
	return m
}
