// Package copyin decodes the data stream of COPY ... FROM STDIN in the three
// formats PostgreSQL clients send: text (tab-separated, \N for NULL, backslash
// escapes; psql, lib/pq, psycopg 3), CSV (psql \copy ... CSV, psycopg2
// copy_expert) and binary (PGCOPY; pgx CopyFrom, JDBC CopyManager).
//
// A Reader yields one row at a time into a caller-owned []types.Datum, typed
// by the target columns' OIDs; errors carry SQLSTATE 22P02 (bad value),
// 22P04 (bad COPY file format) or 08P01, and name the line and column as
// PostgreSQL does ("COPY cpu, line 3, column usage_user: ...").
package copyin
