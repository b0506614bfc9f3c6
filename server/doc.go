// Package server assembles a Longboat node: it opens the node's storage,
// starts the Raft host (meta group and data shards), the PostgreSQL listener
// and the HTTP endpoint (/health, /metrics), and stops them in reverse order.
//
// Node states: INITIALIZING (opening storage and Raft) → HEALTHY (serving
// SQL). GET /health answers 503 with the state until the node serves, then
// 200. A node started with no cluster configuration is a complete
// single-node cluster: the meta group bootstraps itself on first start and
// the database "longboat" exists from the beginning.
package server
