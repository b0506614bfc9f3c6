package raftsm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// clusterFile is DataDir/cluster.json: how this node's replicas were
// bootstrapped, which Dragonboat needs again on restart and does not expose.
//
//	{"format":1,"members":{"1":"a:7100",…}}            bootstrapped meta member
//	{"format":1,"join":true,"tag":"…","joined_shards":[17,42]}
//
// Members are the initial meta members given to Bootstrap (frozen: a later
// Bootstrap or init with other members is refused). Join is set when the
// meta replica was started as a joining non-voting member (JoinMeta).
// JoinedShards are the data shards whose local replica was started as a
// joining non-voting member (the target of a replica move).
//
// NB: a replica that joined as non-voting must be restarted with
// config.IsNonVoting set even after its promotion: Dragonboat panics when a
// replica started as a voter replays the entry that added it as non-voting,
// while one started as non-voting becomes a voter again on replaying (or on
// recovering a snapshot holding) its promotion. A replica that was an
// initial member must be restarted as a voter.
type clusterFile struct {
	Format       int               `json:"format"`
	Members      map[uint64]string `json:"members,omitempty"`
	Join         bool              `json:"join,omitempty"`
	Tag          string            `json:"tag,omitempty"`
	JoinedShards []uint64          `json:"joined_shards,omitempty"`
}

const (
	clusterFileName   = "cluster.json"
	clusterFileFormat = 1
)

func clusterFilePath(dataDir string) string { return filepath.Join(dataDir, clusterFileName) }

// loadClusterFile reads DataDir/cluster.json; a missing file is the zero
// value.
func loadClusterFile(dataDir string) (clusterFile, error) {
	path := clusterFilePath(dataDir)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return clusterFile{Format: clusterFileFormat}, nil
	}
	if err != nil {
		return clusterFile{}, fmt.Errorf("longboat/raftsm: cannot read %s: %w", path, err)
	}
	var f clusterFile
	if err := json.Unmarshal(data, &f); err != nil {
		return clusterFile{}, fmt.Errorf("longboat/raftsm: corrupt %s: %w", path, err)
	}
	if f.Format != clusterFileFormat {
		return clusterFile{}, fmt.Errorf("longboat/raftsm: %s has unknown format %d", path, f.Format)
	}
	return f, nil
}

// save writes the file atomically (temp file, fsync, rename).
func (f *clusterFile) save(dataDir string) error {
	f.Format = clusterFileFormat
	slices.Sort(f.JoinedShards)
	f.JoinedShards = slices.Compact(f.JoinedShards)
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	path := clusterFilePath(dataDir)
	tmp := path + ".tmp"
	if err := writeFileSync(tmp, append(data, '\n')); err != nil {
		return fmt.Errorf("longboat/raftsm: cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("longboat/raftsm: cannot write %s: %w", path, err)
	}
	return nil
}

func (f *clusterFile) joinedShard(id uint64) bool {
	_, ok := slices.BinarySearch(f.JoinedShards, id)
	return ok
}

// joinedShard reports whether the local replica of shard id was started as
// a joining non-voting member (single-node mode: never).
func (h *Host) joinedShard(id uint64) bool {
	if h.cl == nil {
		return false
	}
	h.cl.mu.Lock()
	defer h.cl.mu.Unlock()
	return h.cl.mu.file.joinedShard(id)
}

// recordJoinedShard records in cluster.json, before the replica starts,
// that the local replica of shard id joins as a non-voting member.
func (h *Host) recordJoinedShard(id uint64) error {
	h.cl.mu.Lock()
	defer h.cl.mu.Unlock()
	if h.cl.mu.file.joinedShard(id) {
		return nil
	}
	f := h.cl.mu.file
	f.JoinedShards = append(slices.Clone(f.JoinedShards), id)
	if err := f.save(h.cfg.DataDir); err != nil {
		return err
	}
	h.cl.mu.file = f
	return nil
}

// forgetJoinedShard drops shard id from cluster.json once its replica is
// deleted.
func (h *Host) forgetJoinedShard(id uint64) error {
	if h.cl == nil {
		return nil
	}
	h.cl.mu.Lock()
	defer h.cl.mu.Unlock()
	f := h.cl.mu.file
	if !f.joinedShard(id) {
		return nil
	}
	f.JoinedShards = slices.DeleteFunc(slices.Clone(f.JoinedShards), func(x uint64) bool { return x == id })
	if err := f.save(h.cfg.DataDir); err != nil {
		return err
	}
	h.cl.mu.file = f
	return nil
}

// removeSnapshotDir removes Dragonboat's snapshot directory of a replica
// whose data was removed (NodeHostDir/<host>/<deployment>/snapshot-part-N/
// snapshot-<shard>-<replica>, found by name: the layout is Dragonboat's).
func removeSnapshotDir(nodeHostDir string, shardID, replicaID uint64) error {
	name := fmt.Sprintf("snapshot-%d-%d", shardID, replicaID)
	var found []string
	err := filepath.WalkDir(nodeHostDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == name {
			found = append(found, path)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("longboat/raftsm: cannot find the snapshot directory of shard %d replica %d: %w", shardID, replicaID, err)
	}
	for _, dir := range found {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("longboat/raftsm: cannot remove %s: %w", dir, err)
		}
	}
	return nil
}
