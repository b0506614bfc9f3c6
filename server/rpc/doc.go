// Package rpc is Longboat's inter-node RPC: a gRPC service (Node, defined
// in longboatpb/longboat.proto) that every node serves on its RPC address,
// and the Client other nodes call it with.
//
// # Calls
//
//	Write  (unary)   coordinator → shard leader: one shard's WriteBatch,
//	                 answered after quorum commit and apply
//	Scan   (stream)  coordinator → replica: one scan fragment; the replica
//	                 streams the fragment's SeriesBatches back in chunks
//	Init, Join, Status (unary)   CLI or joining node → any node
//
// The node implements Handlers (WriteHandler, ScanHandler, AdminHandler);
// NewServer wraps them in a *grpc.Server. On the calling side Client keeps
// one *grpc.ClientConn per node address and offers ForwardWrite, Scan,
// Init, Join and Status; RemoteScanner adapts Client.Scan to mpp.Scanner.
//
// # Errors
//
// Business outcomes travel in the reply as a Fault; gRPC status codes are
// kept for transport failures, cancellation and refused peers. Each fault
// maps to a typed Go error on both sides (a handler returns it, the caller
// gets it back, with a SQLSTATE attached so it is still meaningful if it
// reaches a client unhandled):
//
//	*NotLeaderError{ShardID, LeaderNodeID, LeaderAddr}  40001  retry at the hint
//	*WrongNodeError{ShardID, PartitionVersion}           40001  refresh the partition table, retry
//	*BusyError{RetryAfter}                               53000  back off
//	*CatalogBehindError{Have, Want}                      40001  retry shortly or elsewhere
//	*UnavailableError{Addr, Err}                         57P03  node unreachable or call cut off
//	any other error                                      its own SQLSTATE (sql/pgerror),
//	                                                     message, detail, hint and position
//
// IsRetryable tells the first five from the rest. A cancelled caller gets a
// 57014 error wrapping ctx.Err(); a peer of another protocol version or
// cluster gets an error wrapping ErrIncompatible (08P01).
//
// # Scan fragments
//
// A fragment is not shipped as a plan: the callee re-plans the statement
// from what both sides can rebuild deterministically (ScanFragment:
// database, SQL text, parameters with their OIDs, statement timestamp,
// user, settings, materialised subqueries, the ordinal of the Scan node,
// the shard, the catalog version and the read consistency). The store
// request's plain fields (table, time range, fields, Reverse, Limit) are
// sent as the coordinator computed them; SeriesFilter and UseStats are
// functions and never cross the wire — the callee rebuilds them from its
// own plan. The callee waits briefly for its catalog to reach the caller's
// version (else *CatalogBehindError) and takes a ReadIndex barrier as the
// read consistency requires.
//
// Batches are encoded with shard/store's SeriesBatch codec
// (store.AppendSeriesBatch) and packed into chunks of at most
// ServerOptions.ChunkBytes (1 MiB by default; only a single point larger
// than that makes a larger chunk). A batch longer than 65,536 points or
// over the chunk size is split into consecutive batches of the same series,
// which the store's Scan contract allows. gRPC flow control bounds what is
// in flight; cancelling the caller's ctx, or returning an error from its
// callback, cancels the stream and the callee's handler sees its ctx end.
// Retryable faults are retryable only before any batch was delivered; after
// that Client.Scan reports a plain 40001 statement error.
//
// # Connections
//
// Client dials lazily (grpc.NewClient) with a DialTimeout-bounded connect
// (3s), reconnect backoff capped at 3s, keepalive pings every 10s
// (dropping a connection unanswered for 5s), a default deadline for unary
// calls whose ctx has none (30s; the callee sees the caller's deadline),
// and closes connections unused for IdleTimeout (5m). Calls never wait for
// a connection to become ready: a node that is down fails the call at once
// with *UnavailableError.
//
// Every call carries the protocol version, the caller's cluster tag and
// node ID in its metadata; the server refuses another protocol version, and
// another cluster's tag except for Init and Join (which check tags in the
// handler, with a clear reason). Handlers that panic are recovered and
// answered with XX000.
//
// # Security
//
// Transport is plaintext (insecure credentials): run the RPC port on
// loopback or a trusted LAN. TLS between nodes is future work; both
// ServerOptions.GRPC and ClientOptions.GRPC accept credentials options.
//
// # Regenerating
//
// scripts/gen-proto.sh regenerates longboatpb with protoc (Debian's
// protobuf-compiler) and pinned protoc-gen-go / protoc-gen-go-grpc; the
// generated code is committed, so building never needs it.
package rpc
