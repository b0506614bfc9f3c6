// Package copyin decodes the data stream of COPY ... FROM STDIN in the three
// formats PostgreSQL clients send: text (tab-separated, \N for NULL, backslash
// escapes; psql, lib/pq, psycopg 3), CSV (psql \copy ... CSV, psycopg2
// copy_expert) and binary (PGCOPY; pgx CopyFrom, JDBC CopyManager).
//
// A Reader yields one row at a time into a caller-owned []types.Datum, typed
// by the target columns' OIDs; errors carry SQLSTATE 22P02 (bad value),
// 22P04 (bad COPY file format) or 08P01, and name the line and column as
// PostgreSQL does ("COPY cpu, line 3, column usage_user: ...").
//
// The hot path allocates nothing per row: a binary tuple that is already
// in the read buffer is decoded in place (fields straddling a buffer refill
// take a field-by-field path, checked against the fast one by
// FuzzReaderBinary); text and varchar values are interned per column (a
// bounded table, so that repeated tag values share one string); CSV fields
// are unquoted into a reused arena, and plain decimal float8 values skip
// the generic parser.
package copyin
