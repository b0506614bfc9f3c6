package pgwire

import (
	"context"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// copyReader is the io.Reader behind ResultWriter.CopyData during COPY FROM
// STDIN. It pulls CopyData messages from the connection's command queue in
// order, so data the client pipelined before it saw CopyInResponse (pgx
// CopyFrom does) is simply waiting in the queue.
type copyReader struct {
	c    *conn
	ctx  context.Context
	cur  []byte
	done bool
	err  error // io.EOF after CopyDone, 57014 after CopyFail, else failure
}

func (r *copyReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.done {
			return 0, r.err
		}
		r.next()
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// next takes the next command and updates the reader's state.
func (r *copyReader) next() {
	var cmd command
	select {
	case cmd = <-r.c.cmds:
	case <-r.ctx.Done():
		r.done, r.err = true, context.Cause(r.ctx)
		return
	}
	if cmd.err != nil {
		// Disconnect or malformed message: the connection ends after this
		// statement.
		r.c.readErr = cmd.err
		r.done, r.err = true, cmd.err
		return
	}
	switch m := cmd.msg.(type) {
	case *pgproto3.CopyData:
		r.cur = m.Data
	case *pgproto3.CopyDone:
		r.done, r.err = true, io.EOF
	case *pgproto3.CopyFail:
		r.done, r.err = true, pgerror.Newf(pgerror.CodeQueryCanceled, "COPY from stdin failed: %s", m.Message)
	case *pgproto3.Flush, *pgproto3.Sync:
		// Allowed and ignored during COPY (extended-protocol clients).
	case *pgproto3.Terminate:
		r.c.readErr = io.EOF
		r.done, r.err = true, pgerror.New(pgerror.CodeQueryCanceled, "COPY from stdin failed: connection terminated")
	default:
		r.done, r.err = true, pgerror.Newf(pgerror.CodeProtocolViolation, "unexpected message type %T during COPY from stdin", m)
	}
}

// drain consumes the rest of the COPY data after a statement that stopped
// reading early; it returns the CopyFail error, if any.
func (r *copyReader) drain() error {
	for !r.done {
		r.cur = nil
		r.next()
	}
	if r.err == io.EOF {
		return nil
	}
	return r.err
}
