// Package bench is `longboat bench`: benchmark workloads run against any
// Postgres-wire address, in the spirit of `cockroach workload`. The one
// workload today is TSBS cpu-only (the Time Series Benchmark Suite's devops
// data set at scale 100 over one day: 864,000 rows, 15 query types), read
// from the shared data directory (--data, env LONGBOAT_TSBS_DIR, default
// ../shared/bench/tsbs next to the repository):
//
//	<data>/cpu-only-scale100-1d.csv.gz   header + 864k rows
//	<data>/queries/<type>.sql            100 queries per type, one per line
//	<data>/postgres-setup.sql            table, indexes, time_bucket() for PG
//
// # Commands
//
//	longboat bench tsbs --target NAME=URL ... [--load] [--queries all|t1,t2|none]
//	                    [--queries-per-type N] [--seed S] [--runs N]
//	                    [--workers N] [--query-workers N] [--json FILE]
//	                    [--size NAME=DIR] [--schema NAME=longboat|postgres]
//	longboat bench tsbs diff --a URL --b URL [--seed S] [--queries-per-type N]
//	longboat bench tsbs generate --seed S [--out DIR]
//
// `tsbs` works one target at a time so targets never compete for the CPU:
// first every target is loaded (--load), then every target runs the
// queries. The report gives, per target, load rows/s and elapsed, on-disk
// size (du of --size's directory; pg_total_relation_size('cpu') for postgres
// targets) and per query type n/errors/mean/median/p95 latency; with two or
// more targets, the per-type ratio of the first target's mean latency to the
// second's and the geometric mean of those ratios.
//
// # Load pipeline
//
//	gzip file ──▶ reader goroutine ──▶ chan *loadBatch (cap = workers) ──▶ worker 1 ─ COPY ─▶ target
//	             (decompress, parse                                       ──▶ worker 2 ─ COPY ─▶
//	              CSV, 10k rows/batch)                                    ──▶ ...
//
// Each batch is one COPY statement: binary COPY through pgx CopyFrom (the
// default; typed values, so the target parses no text) or, with
// --copy-format csv, the raw CSV lines through COPY ... (FORMAT csv).
// Connections are opened before the clock starts; the clock stops when the
// last batch is acknowledged. Progress (rows, rows/s) goes to stderr every
// second. The schema is created per target dialect first: LongboatDDL
// (series key + time as primary key) or postgres-setup.sql; postgres
// targets get an untimed VACUUM ANALYZE after the load (--pg-vacuum).
//
// # Queries
//
// Queries come from the files, or, with --seed, from Generator: a
// re-implementation of TSBS's cpu-only generator (TimescaleDB dialect, host
// name in the cpu table) producing the same textual shapes from a seeded
// math/rand/v2 stream: N distinct random hosts out of 100, random windows
// of 1h/8h/12h inside 2016-01-01 at microsecond resolution, literals as
// '2016-01-01 02:17:08.646325 +0000' (trailing zeros trimmed, as TSBS's Go
// format does). Queries are sent with the extended protocol (unnamed
// statement, text results, one round trip) or, with --protocol simple, as
// simple Query messages. Latency runs from sending to reading the last row.
//
// # The differential check
//
// Diff runs each query on both servers (at the same time) and compares
// exactly (CompareResults): column names, column type OIDs, then the values
// in text format. A query without an outermost ORDER BY compares as sorted
// multisets; with one, in order, where rows tied on the ORDER BY keys
// compare as multisets (keys resolved to output columns by name or ordinal;
// an expression key makes the comparison strictly ordered). Errors match
// when both sides fail with the same SQLSTATE. The first differing queries
// are printed with row, column and both values; the command exits non-zero
// on any difference. Repeated identical query texts are compared once.
//
// The Go test tsbs_diff_test.go runs the check for real: PostgreSQL 15 via
// scripts/pg-start.sh (C locale, UTC) loaded with psql \copy, against a
// freshly built `longboat node start` loaded the same way, over all 15 types
// with the shipped queries and with seed 7. TestTSBSDiffPostgresVsPostgres
// checks the harness (and the binary-COPY loader) on PostgreSQL alone.
package bench
