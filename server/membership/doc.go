// Package membership is a node's view of the physical topology: which
// Longboat processes exist, where they listen and whether they are alive.
// It runs hashicorp/memberlist (SWIM gossip over UDP, with TCP push/pull
// state syncs) and wraps it in a small API: Start, Members, LocalMeta,
// UpdateMeta, Subscribe, Leave, Close.
//
// The physical topology is advisory. The logical topology (which nodes
// belong to the cluster, in numbered views) lives in the Raft meta group;
// membership only tells the meta group and the reconciler who is reachable
// and where.
//
// # Lifecycle
//
//	Start ──> listening, alive ──(join loop)──> joined (reconnect loop) ──> Leave ──> Close
//	                                       └──────────────────────────────────────────> Close
//
// Start binds the gossip address and returns. With Seeds, a background
// loop resolves them (host names through Config.Resolver, again at every
// attempt, since a DNS name may gain addresses as the cluster starts),
// pushes/pulls state with each address, and retries with exponential
// backoff (Config.JoinRetry) until this node sees another live member,
// either through its own join or because a peer joined it. WaitJoined
// waits for that. Leave broadcasts a leave intent and then memberlist's
// leave message; Close stops gossip. Close without Leave looks like a crash
// to peers: they suspect the node and declare it Dead after the suspicion
// timeout (SuspicionMult × max(1, log10(N)) × ProbeInterval, up to 6× that
// when unconfirmed).
//
// # Reconnect
//
// memberlist only probes and gossips with members it believes alive (and
// with dead ones for GossipToTheDeadTime, 30s, after which it forgets
// them), so once both sides of a network cut have declared each other
// Dead they would never talk again. After the first join a reconnect loop
// therefore runs until Leave or Close: every Config.ReconnectInterval,
// while this node knows a Dead member (never a Left one: a member whose
// leave intent is known is not chased) or sees fewer live members than its
// peak (a member that Left lowers the peak), it pushes/pulls state with
// the dead members' last addresses and the seeds (resolved again). A
// returning member is logged at Info; failed rounds at Debug, and at Warn
// once they have gone on for a minute, then once a minute. A left node
// that still answers reports itself left in its push/pull state, which
// memberlist keeps as left. A node restarted under the same name at a new
// address takes the name over once the old address has been Dead for
// SuspicionMult × ProbeInterval (memberlist's DeadNodeReclaimTime).
//
// # Member status
//
// memberlist tells its delegates only "joined", "updated" and "gone"; it
// does not say whether a node that went away left or failed, and keeps
// suspicion to itself (a suspect node is still Alive here). Leave therefore
// first gossips a leave intent {node name, boot ID}, which every node also
// carries in its push/pull state. A node that goes away is Left if an
// intent for its current run (boot ID, a random number drawn by Start) is
// known, Dead otherwise; an intent that arrives late turns Dead into Left
// (EventDead then EventLeave). The boot ID keeps a stale intent from
// marking the next run of the same node.
//
// # Refusals
//
// Every node gossips its Meta, which includes its cluster tag (empty until
// it joins a cluster). A peer whose tag is set and differs from ours (when
// ours is set) is refused: NotifyMerge cancels a join with its cluster,
// and NotifyAlive ignores its alive messages, so it never enters the
// member table. A peer whose meta does not decode is refused the same way.
// Refusals are logged at Warn, at most once a minute per peer. NB: the
// check happens when a peer announces itself; setting our tag later does
// not evict a peer already accepted with another tag.
//
// # Events
//
// Subscribe returns a channel of Events. The delegate runs on memberlist's
// goroutines, some holding memberlist's node lock, so it never blocks:
// each subscriber has a bounded buffer, and one that falls behind receives
// a single EventResync in place of the events it missed and should re-read
// Members. Events are queued in the order memberlist reports changes.
//
// # Goroutines and locks
//
// The join and reconnect loops are the only goroutines this package
// starts; Close cancels and waits for them (a join in flight can delay
// Close by up to TCPTimeout, since memberlist's Join takes no context).
// memberlist's goroutines stop at Shutdown, called by Close. Lock order is
// memberlist's locks, then Membership.mu; nothing calls into memberlist
// while holding mu. Membership.life (read-held by Leave and UpdateMeta)
// keeps Close from shutting memberlist down under them, since memberlist
// panics on Leave after Shutdown.
//
// # Formats
//
// Node meta (memberlist node metadata, at most 512 bytes):
//
//	+--------+-----------+---------+----------+----------------------------+-----
//	| format | boot ID   | node ID | protocol | 7 strings, each uvarint    | ...
//	| 0x01   | u64 LE    | uvarint | uvarint  | length + bytes             |
//	+--------+-----------+---------+----------+----------------------------+-----
//	strings: RaftAddr, RPCAddr, PGAddr, HTTPAddr, ClusterTag, ProductVersion, State
//
// Bytes after the known fields are ignored, so later versions may append
// fields; a change older nodes cannot skip takes a new format byte, and
// nodes refuse peers whose format they do not read.
//
// Leave-intent broadcast (a memberlist user message):
//
//	0x01 (format) | 0x01 (leave) | uvarint name length | name | boot ID u64 LE
//
// Push/pull state (memberlist LocalState):
//
//	0x01 (format) | uvarint count | count × (uvarint name length | name | boot ID u64 LE)
//
// # Debugging
//
// memberlist's own log lines go to Config.Logger with component=memberlist
// at their level ([DEBUG] → Debug, [WARN] → Warn, [ERR] → Error); enable
// Debug to see every stream connection and probe. This package logs with
// component=membership.
package membership
