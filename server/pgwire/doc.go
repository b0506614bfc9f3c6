// Package pgwire is Longboat's PostgreSQL wire-protocol (v3.0) server. It
// speaks the protocol only: SQL parsing, planning and execution live behind
// the Handler / Session / Statement interfaces that the SQL layer
// implements; pgwire implements ResultWriter for them.
//
// # Layers
//
//	Server ── accept loop, (pid, secret) registry for CancelRequest, drain
//	  │
//	  └─ conn (one per client) ─────────────────────────────────────────┐
//	       startup: SSLRequest/GSSENCRequest → 'N' (or TLS), Cancel,    │
//	                StartupMessage → [password] → Handler.NewSession →  │
//	                AuthenticationOk, ParameterStatus×13,               │
//	                BackendKeyData, ReadyForQuery                       │
//	                                                                    │
//	       reader goroutine            executor goroutine (conn.run)    │
//	       ────────────────            ─────────────────────────────    │
//	       pgproto3.Backend.Receive    takes commands in order:         │
//	       deep-copies the message ──► Query / Parse / Bind / Describe  │
//	       into the command queue      Execute / Close / Sync / Flush   │
//	       (bounded, 256 entries)      → Session.Prepare,               │
//	                                     Statement.Execute(ctx, …, res) │
//	       on EOF/read error: cancels  → result (ResultWriter) encodes  │
//	       the connection ctx at once    DataRows into a bufio.Writer   │
//	       (client gone ⇒ running      COPY data is pulled from the     │
//	       statement stops)            same queue by copyReader         │
//	─────────────────────────────────────────────────────────────────────┘
//
// The reader never waits for execution (CockroachDB's design, see
// pkg/sql/pgwire/doc.go there): it keeps reading while a statement runs,
// so a client disconnect is seen immediately and cancels the statement's
// context. Only a full queue (a client pipelining 256 messages ahead) makes
// it wait.
//
// # Cancellation
//
// Every statement runs under a context derived from the connection's. It is
// cancelled by a CancelRequest naming the connection's (pid, secret) — the
// error sent is then 57014 "canceling statement due to user request",
// whatever the statement returned —, by a client disconnect, and by server
// shutdown (FATAL 57P01, then the connection closes).
//
// # Simple and extended query
//
// Simple query: Session.Prepare the whole string, then for each statement
// RowDescription (text formats) when Columns() is non-nil, DataRows,
// CommandComplete; EmptyQueryResponse for no/empty statements; stop at the
// first error; one ReadyForQuery.
//
// Extended query: named statements live until Close or disconnect; the
// unnamed one is replaced by each Parse. Parameter types announced in
// ParameterDescription are the client's declaration where it gave one, else
// Statement.ParamTypes (0 = unknown). Bind decodes parameters with
// types.ParseText/ParseBinary by that type, then casts to the statement's
// inferred type when the client declared a different one. Execute with
// MaxRows > 0 runs the statement once, keeps its encoded rows in the portal
// and hands them out in chunks (PortalSuspended after a full chunk, final
// tag "SELECT <rows in last chunk>", as PostgreSQL). After an error
// everything up to Sync is skipped.
//
// # Transaction status
//
// pgwire tracks the ReadyForQuery status from statement kinds: BEGIN → T;
// any error in T → E; in E every statement but COMMIT/ROLLBACK fails with
// 25P02; COMMIT in E reports "ROLLBACK"; COMMIT/ROLLBACK → I. Statements
// still run one by one (implicit commit); a Session that keeps
// transactional state must treat COMMIT after a failure as a rollback.
// Portals are dropped at Sync outside a transaction block and at the end of
// a block.
//
// # COPY FROM STDIN
//
// For KindCopyIn, pgwire sends CopyInResponse (format and column count from
// CopyInfo) and flushes, then Execute reads ResultWriter.CopyData(): EOF at
// CopyDone, 57014 "COPY from stdin failed: <msg>" at CopyFail. pgx's
// CopyFrom sends its data before it has read CopyInResponse; the data simply
// waits in the command queue. CopyData/CopyDone/CopyFail outside COPY are
// ignored (e.g. the pipelined data of a COPY that failed).
//
// # Errors
//
// pgerror.Flatten turns any error into an ErrorResponse (code, message,
// detail, hint, position); errors without a code are XX000 and logged.
// Malformed or oversized messages (Config.MaxMessageSize, 1 GiB default)
// get FATAL 08P01 and that connection is closed.
//
// # Debugging
//
// testdata/pgtest holds wire transcripts (send/until, CockroachDB's pgtest
// format) run by TestPgTest; rewrite with -rewrite and review the diff.
package pgwire
