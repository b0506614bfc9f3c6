// Package session executes SQL for one client connection: it implements the
// pgwire Handler/Session/Statement interfaces over the normalizer
// (sql/pgdialect), the planner and MPP executor, the catalog emulation
// (sql/catalog) and the Raft layer (raftsm).
//
// Statement lifecycle. Prepare splits and normalizes the text; a
// single-statement Prepare (every extended-protocol Parse) also plans at once
// so that Parse reports unknown tables and columns and Describe can answer
// parameter and result types. In a multi-statement simple query, planning is
// deferred to just before each statement runs, because an earlier statement
// may create what a later one uses. Execute plans again with the bound
// parameter values (pruning and constant folding use them).
//
// Transactions. BEGIN/COMMIT/ROLLBACK are accepted and tracked by pgwire for
// the ReadyForQuery status, but every statement commits on its own as soon
// as it succeeds: there are no multi-statement transactions over data.
package session
