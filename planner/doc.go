// Package planner turns a parsed statement (TiDB AST, already rewritten by
// sql/pgdialect) into an executable Plan: a tree of operators whose leaves
// are table scans cut into per-shard fragments. It is pure: no context, no
// I/O, no goroutines. Package mpp executes plans.
//
// # Pipeline
//
//	ast.StmtNode ──Build──► logical tree ──pushdown──► physical Plan ──mpp.Run──► rows
//	                 │                         │
//	                 │ names, types,           │ time range, series filter,
//	                 │ params, functions       │ shard pruning, partial aggregates,
//	                 │                         │ lastpoint (Reverse+Limit 1)
//
// Build resolves names against a scope (the FROM row layout), compiles
// expressions into typed Expr trees (expr.go, funcs.go), folds constants
// (now(), current_setting(), parameters when their values are known) and
// assembles operators in SQL order:
//
//	Scan/VirtualScan/Values/Join/UnionAll
//	  → Filter (WHERE; folded into the Scan when FROM is one table)
//	  → Aggregate (GROUP BY, aggregates) → Filter (HAVING)
//	  → Project (select list + hidden ORDER BY / DISTINCT ON keys)
//	  → Distinct | Sort → DistinctOn
//	  → Limit → Project (drop hidden columns)
//
// Row layout: every Node outputs rows of len(Columns()) datums and
// expressions above it read them through ColRef indexes. A Scan outputs the
// table's full row (time, tags, fields in declaration order); fields the
// query never reads stay NULL and are not fetched.
//
// # Pushdown (pushdown.go)
//
// WHERE conjuncts over a table scan are split three ways:
//
//	time col  op  constant       → Scan.MinTime/MaxTime ([min, max)), shard pruning by partition
//	tag-only predicates          → Scan.TagFilter → ScanRequest.SeriesFilter (once per series)
//	everything else              → Scan.Filter, evaluated per point in the fragment
//
// "constant" includes literals, parameters (when bound) and now() ± interval.
// `first tag = v` / `first tag IN (...)` also prunes slot groups: a series
// lives in SlotGroup(Slot(first tag value)).
//
// An Aggregate directly over a Scan is pushed down (Aggregate.Pushed) when
// every GROUP BY item is a tag column or a function of a time bucket, and
// every aggregate is count(*), count(field) or sum/avg/min/max/first/last of
// a float field. Recognised buckets (bucketPattern): time_bucket (origin
// Monday 2000-01-03 UTC, as TimescaleDB), date_bin, date_trunc with a fixed
// unit (UTC), Grafana's floor(extract(epoch from t)/N)*N and the time column
// itself; any expression that reads time only through one such bucket (e.g.
// to_timestamp(floor(...)*N)) qualifies, because its value only depends on
// the bucket start. Fragments keep float partial states per (bucket, tag
// group); the coordinator evaluates the GROUP BY expressions on each bucket
// start, merges states of equal keys and finalises with PostgreSQL's result
// types.
//
// DISTINCT ON (tags) ... ORDER BY tags, time DESC over a scan without a
// point filter becomes Scan.Reverse + Scan.Limit=1 (newest point per series).
//
// # Types and naming
//
// Values are types.Datum. String literals are untyped until context types
// them (a literal compared with a timestamptz column is parsed as
// timestamptz). Numbers follow PostgreSQL: integer literals int4/int8,
// decimals numeric; avg(int) is numeric (PostgreSQL's select_div_scale),
// sum(int4) int8, sum(int8) numeric, count int8. Result column names follow
// PostgreSQL's FigureColname (names.go). ParamTypes reports declared
// parameter types, else types inferred from context (column = $n, time
// bounds, LIMIT), else 0.
//
// # Extending
//
// Scalar functions live in one registry, builtins in funcs.go; aggregates
// in accum.go (generic path) and pushdown.go/mpp (pushed path).
//
// # Testing
//
// testdata/explain holds EXPLAIN goldens (fragments, pushed parts),
// testdata/norm predicate extraction (time range, series filter, shards),
// testdata/columns names/types/parameter types, testdata/eval constant
// expressions. Regenerate with go test ./planner -rewrite.
package planner
