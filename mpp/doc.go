// Package mpp executes planner.Plans: it runs scan fragments on shard
// replicas in parallel, merges their partial results and runs the
// row-at-a-time operators above them.
//
// # Execution model
//
// Operators are push-based: exec(node, emit) calls emit once per output
// row; blocking operators (Sort, hash Aggregate, Join build side) buffer.
// A LIMIT stops its producer with a private sentinel error. Rows handed to
// emit belong to the receiver.
//
//	              coordinator (Run)
//	┌──────────── Sort / Limit / Project ... ─────────────┐
//	│           merge partial aggregates, or            │
//	│           stream row chunks from fragments        │
//	└────▲──────────────▲───────────────────▲───────────┘
//	     │ chunks /     │                   │   at most 2×GOMAXPROCS
//	     │ partials     │                   │   fragments at once
//	fragment(shard 1) fragment(shard 2) ... fragment(shard n)
//	     │ ScanRequest{time range, SeriesFilter, Fields,
//	     │             Reverse, Limit, UseStats}
//	Scanner.Scan (local store today, RPC later)
//
// Plain scans: each fragment converts SeriesBatches to rows (one slab
// allocation per 256 rows), applies the point filter (simple
// "float field op constant" conjuncts are checked on the vectors before a
// row is built) and sends chunks over a channel; the coordinator goroutine
// calls emit, so operators above never run concurrently.
//
// Pushed aggregates (bucketagg.go): each fragment folds every batch run of
// one (bucket, tag group) with tight loops over the []float64 vectors, and
// consumes whole blocks as BlockStats when they fall into one bucket and no
// point filter or first/last applies. Partial states are merged on the
// coordinator by final GROUP BY values and finalised.
//
// # Cancellation
//
// Every loop over batches checks ctx; the first fragment error cancels the
// others. A cancelled statement returns pgerror 57014.
//
// # Testing
//
// fake_test.go generates a TSBS cpu-only shaped data set into an in-memory
// Scanner that honours every ScanRequest option; tsbs_test.go checks every
// TSBS query type against a naive reference evaluator; property_test.go
// compares random pushed-down queries with the generic path;
// run_bench_test.go benchmarks plan+run over 864k rows.
package mpp
