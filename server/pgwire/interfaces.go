package pgwire

import (
	"context"
	"io"
	"time"

	"github.com/longboatdb/longboat/sql/types"
)

// StatementKind tells the protocol layer what a statement does to the
// transaction status and whether it reads COPY data.
type StatementKind int

// Statement kinds.
const (
	KindOther StatementKind = iota
	KindBegin
	KindCommit
	KindRollback
	KindCopyIn
	KindEmpty
)

// Column describes one result column for RowDescription.
type Column struct {
	Name      string
	Type      types.OID
	TableOID  uint32
	ColumnNum int16
	// TypeMod is the type modifier; 0 means none (sent as -1).
	TypeMod int32
}

// CopyInfo is what CopyInResponse announces: the overall format and the
// number of columns (all columns use the overall format).
type CopyInfo struct {
	Binary     bool
	NumColumns int
}

// Statement is one prepared SQL statement. The SQL layer implements it.
//
// Concurrency: a Statement belongs to one connection; its methods are
// called from that connection's executor goroutine only. Execute may be
// called many times (once per Bind/Execute or simple-query run).
type Statement interface {
	Kind() StatementKind
	// ParamTypes are the inferred parameter types, 0 where unknown. Its
	// length is the number of parameters the statement takes.
	ParamTypes() []types.OID
	// Columns describes the result; nil means the statement returns no rows
	// (NoData).
	Columns() []Column
	// CopyInfo is consulted only for KindCopyIn.
	CopyInfo() CopyInfo
	// Execute runs the statement. params are already decoded (parameters of
	// unknown type arrive as types.Datum{T: types.Unknown, S: text}); params
	// must not be retained after Execute returns. ctx is cancelled by a
	// CancelRequest, a client disconnect or server shutdown. For KindCopyIn,
	// res.CopyData() returns an io.Reader over the CopyData payloads (EOF at
	// CopyDone; an error with SQLSTATE 57014 "COPY from stdin failed: <msg>"
	// at CopyFail).
	Execute(ctx context.Context, params []types.Datum, res ResultWriter) error
}

// ResultWriter receives a statement's results. pgwire implements it.
type ResultWriter interface {
	// AddRow encodes the row at once with the result formats chosen in Bind;
	// it may flush to the socket. It returns an error if the client went
	// away. The row slice may be reused by the caller after AddRow returns.
	AddRow(row []types.Datum) error
	// SetTag sets the command tag, e.g. "SELECT 5", "INSERT 0 3", "COPY 10",
	// "CREATE TABLE".
	SetTag(tag string)
	// CopyData returns the reader over COPY FROM STDIN data (KindCopyIn
	// only; an empty reader otherwise).
	CopyData() io.Reader
	// Notice sends a NoticeResponse.
	Notice(msg string)
}

// ParameterReporter is an optional capability of the ResultWriter that
// pgwire passes to Statement.Execute (check with a type assertion). A
// statement that changes a run-time parameter PostgreSQL reports to clients
// (GUC_REPORT: application_name, DateStyle, TimeZone, ...) calls
// ReportParameter with the new value; pgwire sends a ParameterStatus message
// just before the next ReadyForQuery, as PostgreSQL does. Clients such as
// libpq (psycopg2) and pgjdbc keep their view of these parameters from it.
type ParameterReporter interface {
	ReportParameter(name, value string)
}

// StatementTimeouter is an optional capability of a Session: the
// statement_timeout in force (0: none). pgwire runs each statement under a
// context with that deadline and reports its expiry as 57014 "canceling
// statement due to statement timeout", as PostgreSQL does.
type StatementTimeouter interface {
	StatementTimeout() time.Duration
}

// Session is the SQL layer's per-connection state.
type Session interface {
	// Prepare parses query (one or more statements; zero statements for
	// "", ";" or "-- ping"). paramTypes are the OIDs the client declared in
	// Parse (0 = infer); nil for simple queries.
	Prepare(ctx context.Context, query string, paramTypes []types.OID) ([]Statement, error)
	// Close releases the session; called once when the connection ends.
	Close()
}

// Handler creates sessions.
type Handler interface {
	// NewSession is called after startup (and authentication). params are
	// the startup parameters (user, database, application_name, ...).
	// Return an error with SQLSTATE 3D000 for an unknown database, 28000
	// etc. for authorization problems.
	NewSession(ctx context.Context, params map[string]string) (Session, error)
}
