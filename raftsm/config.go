package raftsm

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lni/dragonboat/v4/config"

	"github.com/longboatdb/longboat/shard/store"
)

// DefaultDeploymentID is the Dragonboat deployment ID of Longboat clusters
// ("LONGBOAT" in ASCII). NodeHosts with different IDs refuse each other's
// messages; every node of a cluster must use the same one.
const DefaultDeploymentID uint64 = 0x4c4f4e47424f4154

// Config configures a Host. The zero value of every optional field is a sane
// default.
type Config struct {
	// DataDir is the node's data directory; the NodeHost lives in
	// DataDir/raft and the node identity in DataDir/node.json.
	DataDir string
	// RaftAddr is the NodeHost's Raft address, e.g. 127.0.0.1:7100. It is
	// frozen into the data directory.
	RaftAddr string
	// RaftListenAddr is the address the Raft transport listens on when it
	// differs from RaftAddr (e.g. 0.0.0.0:7100 in a container that other
	// nodes reach as node1:7100). Default: RaftAddr.
	RaftListenAddr string
	// NodeID is this node's ID (its replica ID in every Raft group); 1 for a
	// single-node cluster. Frozen into the data directory.
	NodeID uint64
	// Store is the node's storage engine, opened (and closed) by the caller.
	Store *store.DB
	// Storage overrides Store (tests plug in fakes). One of the two is
	// required.
	Storage Storage
	// Logger receives raftsm's logs and Dragonboat's (at DragonboatLogLevel
	// and above). Default slog.Default().
	Logger *slog.Logger
	// DragonboatLogLevel filters Dragonboat's own logs. Default WARN.
	DragonboatLogLevel *slog.Level

	// RTTMillisecond is the NodeHost tick (DESIGN §6). Default 100.
	RTTMillisecond uint64
	// HeartbeatRTT and ElectionRTT are in ticks. Defaults 1 and 10.
	HeartbeatRTT, ElectionRTT uint64
	// DeploymentID defaults to DefaultDeploymentID; frozen into the data dir.
	DeploymentID uint64
	// MetaMembers are the initial members of the meta group (node ID → Raft
	// address), used only the first time the meta replica starts. Default:
	// this node alone (the single-node cluster).
	MetaMembers map[uint64]string

	// SnapshotEntries and CompactionOverhead of data shards. Defaults 200
	// and 20: entries are large batches, and a snapshot of an on-disk state
	// machine is cheap (it lets Dragonboat drop the log).
	SnapshotEntries, CompactionOverhead uint64
	// MetaSnapshotEntries of the meta group. Default 1000.
	MetaSnapshotEntries uint64
	// IdleCompactAfter is how long a local data replica must apply nothing
	// before the idle compactor packs its blocks and snapshots it with a
	// compaction overhead of 0, dropping its whole Raft log (see
	// compaction.go). Default 5s; negative disables.
	IdleCompactAfter time.Duration

	// ReconcileInterval is how often the reconciler re-checks replicas even
	// without a catalog change. Default 1s.
	ReconcileInterval time.Duration
	// TTLCheckInterval is how often the meta leader looks for expired
	// shards. Default 1 minute.
	TTLCheckInterval time.Duration
	// ProposeTimeout bounds a proposal whose context has no deadline
	// (Dragonboat requires one). Default 30s.
	ProposeTimeout time.Duration
	// Now is the wall clock used by the TTL loop (never by state machines).
	// Default time.Now.
	Now func() time.Time

	// LogDB overrides Dragonboat's LogDB tuning. Default: the tiny profile
	// with 2 MiB memtables (see defaultLogDBConfig; the stock default
	// reserves up to 8 GB of memtables).
	LogDB *config.LogDBConfig

	// TransportFactory replaces Dragonboat's TCP transport (tests: an
	// in-memory one such as plugin/chan). Default nil: TCP.
	TransportFactory config.TransportFactory

	// Cluster turns on cluster mode (init, join, node states, replica
	// moves; see cluster.go). Nil: the single-node (or static MetaMembers)
	// behaviour.
	Cluster *ClusterConfig

	// noPreVote turns PreVote off on every group (tests only: a node cut
	// off then campaigns alone and bumps its term, which deposes the
	// leader when it comes back — the chaos test wants those elections).
	noPreVote bool
}

func (c *Config) setDefaults() {
	// Dragonboat lower-cases Raft addresses internally (and panics when it
	// sees the same node under two spellings): store them that way.
	c.RaftAddr = normalizeAddr(c.RaftAddr)
	members := make(map[uint64]string, len(c.MetaMembers))
	for id, addr := range c.MetaMembers {
		members[id] = normalizeAddr(addr)
	}
	c.MetaMembers = members
	if c.Storage == nil && c.Store != nil {
		c.Storage = NewStoreStorage(c.Store)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.DragonboatLogLevel == nil {
		l := slog.LevelWarn
		c.DragonboatLogLevel = &l
	}
	if c.RTTMillisecond == 0 {
		c.RTTMillisecond = 100
	}
	if c.HeartbeatRTT == 0 {
		c.HeartbeatRTT = 1
	}
	if c.ElectionRTT == 0 {
		c.ElectionRTT = 10
	}
	if c.DeploymentID == 0 {
		c.DeploymentID = DefaultDeploymentID
	}
	if c.SnapshotEntries == 0 {
		c.SnapshotEntries = 200
	}
	if c.CompactionOverhead == 0 {
		c.CompactionOverhead = 20
	}
	if c.MetaSnapshotEntries == 0 {
		c.MetaSnapshotEntries = 1000
	}
	if c.IdleCompactAfter == 0 {
		c.IdleCompactAfter = 5 * time.Second
	}
	if c.ReconcileInterval == 0 {
		c.ReconcileInterval = time.Second
	}
	if c.TTLCheckInterval == 0 {
		c.TTLCheckInterval = time.Minute
	}
	if c.ProposeTimeout == 0 {
		c.ProposeTimeout = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.MetaMembers) == 0 {
		c.MetaMembers = map[uint64]string{c.NodeID: c.RaftAddr}
	}
}

func normalizeAddr(addr string) string { return strings.ToLower(strings.TrimSpace(addr)) }

func (c *Config) validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("longboat/raftsm: DataDir is required")
	case c.RaftAddr == "":
		return errors.New("longboat/raftsm: RaftAddr is required")
	case c.NodeID == 0:
		return errors.New("longboat/raftsm: NodeID must be >= 1")
	case c.Storage == nil:
		return errors.New("longboat/raftsm: Store is required")
	case c.ElectionRTT <= 2*c.HeartbeatRTT:
		return fmt.Errorf("longboat/raftsm: ElectionRTT %d must exceed twice HeartbeatRTT %d", c.ElectionRTT, c.HeartbeatRTT)
	}
	if addr, ok := c.MetaMembers[c.NodeID]; ok && addr != c.RaftAddr {
		return fmt.Errorf("longboat/raftsm: MetaMembers lists node %d at %q, but RaftAddr is %q", c.NodeID, addr, c.RaftAddr)
	}
	return nil
}

func (c *Config) nodeHostDir() string { return filepath.Join(c.DataDir, "raft") }

// nodeIdentity is what is frozen into a data directory on first start
// (DataDir/node.json). Dragonboat itself freezes the Raft address and
// deployment ID into its LogDB; checking them here first gives a clear
// error instead of a NodeHost failure.
type nodeIdentity struct {
	NodeID       uint64 `json:"node_id"`
	RaftAddr     string `json:"raft_addr"`
	DeploymentID uint64 `json:"deployment_id"`
}

const identityFile = "node.json"

// checkIdentity creates DataDir/node.json on first start and refuses to
// start with another identity afterwards.
func checkIdentity(c *Config) error {
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return fmt.Errorf("longboat/raftsm: cannot create data dir: %w", err)
	}
	want := nodeIdentity{NodeID: c.NodeID, RaftAddr: c.RaftAddr, DeploymentID: c.DeploymentID}
	path := filepath.Join(c.DataDir, identityFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		data, err := json.MarshalIndent(&want, "", "  ")
		if err != nil {
			return err
		}
		tmp := path + ".tmp"
		if err := writeFileSync(tmp, append(data, '\n')); err != nil {
			return fmt.Errorf("longboat/raftsm: cannot write %s: %w", path, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("longboat/raftsm: cannot write %s: %w", path, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("longboat/raftsm: cannot read %s: %w", path, err)
	}
	var got nodeIdentity
	if err := json.Unmarshal(data, &got); err != nil {
		return fmt.Errorf("longboat/raftsm: corrupt %s: %w", path, err)
	}
	if got != want {
		return fmt.Errorf("longboat/raftsm: data dir %s belongs to node %d at %s (deployment %#x); refusing to start as node %d at %s (deployment %#x)",
			c.DataDir, got.NodeID, got.RaftAddr, got.DeploymentID, want.NodeID, want.RaftAddr, want.DeploymentID)
	}
	return nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func (c *Config) nodeHostConfig() config.NodeHostConfig {
	logdb := defaultLogDBConfig()
	if c.LogDB != nil {
		logdb = *c.LogDB
	}
	return config.NodeHostConfig{
		DeploymentID:   c.DeploymentID,
		NodeHostDir:    c.nodeHostDir(),
		RTTMillisecond: c.RTTMillisecond,
		RaftAddress:    c.RaftAddr,
		ListenAddress:  c.RaftListenAddr,
		Expert: config.ExpertConfig{
			LogDB:            logdb,
			TransportFactory: c.TransportFactory,
		},
	}
}

// defaultLogDBConfig is Dragonboat's tiny LogDB profile with 2 MiB
// memtables instead of 4: at most 2 MiB × 4 memtables × 16 LogDB shards =
// 128 MiB of memory. The memtable size also sets the disk cost of an idle
// LogDB shard: Pebble preallocates every WAL segment in steps of 110% of
// it, so each of the 16 LogDB shards that has been written since start
// holds at least 2.2 MiB of WAL on disk however little it logged (4.4 MiB
// with the stock tiny profile).
func defaultLogDBConfig() config.LogDBConfig {
	cfg := config.GetTinyMemLogDBConfig()
	cfg.KVWriteBufferSize = 2 << 20
	return cfg
}

// Every group runs with CheckQuorum (a leader that loses its quorum steps
// down) and PreVote (Raft thesis §9.6: a node cut off from its group does not
// bump the term while it campaigns alone, so when it comes back it does not
// depose the leader that kept serving).
func (c *Config) metaConfig() config.Config {
	return config.Config{
		ShardID:            MetaShardID,
		ReplicaID:          c.NodeID,
		ElectionRTT:        c.ElectionRTT,
		HeartbeatRTT:       c.HeartbeatRTT,
		CheckQuorum:        true,
		PreVote:            !c.noPreVote,
		SnapshotEntries:    c.MetaSnapshotEntries,
		CompactionOverhead: c.MetaSnapshotEntries / 10,
	}
}

func (c *Config) dataConfig(shardID uint64) config.Config {
	return config.Config{
		ShardID:              shardID,
		ReplicaID:            c.NodeID,
		ElectionRTT:          c.ElectionRTT,
		HeartbeatRTT:         c.HeartbeatRTT,
		CheckQuorum:          true,
		PreVote:              !c.noPreVote,
		SnapshotEntries:      c.SnapshotEntries,
		CompactionOverhead:   c.CompactionOverhead,
		Quiesce:              true,
		EntryCompressionType: config.Snappy,
	}
}
