package raftsm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/longboatdb/longboat/shard"
)

// TestMeta drives the meta state machine with JSON commands
// (testdata/meta/*):
//
//	apply                 one JSON command per line; prints each result
//	catalog               prints the published catalog
//	snapshot-roundtrip    saves, recovers into a fresh SM, compares
func TestMeta(t *testing.T) {
	datadriven.Walk(t, "testdata/meta", func(t *testing.T, path string) {
		var published *Catalog
		m := newMetaSM(func(c *Catalog) { published = c })
		var index uint64
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "apply":
				var out strings.Builder
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					index++
					res, err := m.Update(sm.Entry{Index: index, Cmd: []byte(line)})
					if err != nil {
						t.Fatalf("Update returned an error: %v", err)
					}
					out.WriteString(formatMetaResult(res))
					out.WriteByte('\n')
				}
				return out.String()
			case "catalog":
				return formatCatalog(published)
			case "snapshot-roundtrip":
				var buf bytes.Buffer
				if err := m.SaveSnapshot(&buf, nil, nil); err != nil {
					t.Fatal(err)
				}
				var got *Catalog
				m2 := newMetaSM(func(c *Catalog) { got = c })
				if err := m2.RecoverFromSnapshot(bytes.NewReader(buf.Bytes()), nil, nil); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, published) {
					return fmt.Sprintf("MISMATCH\n%s\n%s", formatCatalog(got), formatCatalog(published))
				}
				var buf2 bytes.Buffer
				if err := m2.SaveSnapshot(&buf2, nil, nil); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
					return "snapshot not deterministic"
				}
				return "ok"
			default:
				t.Fatalf("unknown command %q", d.Cmd)
				return ""
			}
		})
	})
}

func formatMetaResult(r sm.Result) string {
	if r.Value != metaOK {
		return "error " + string(r.Data)
	}
	var res metaResult
	if err := json.Unmarshal(r.Data, &res); err != nil {
		return "bad result " + string(r.Data)
	}
	var parts []string
	if res.ID != 0 {
		parts = append(parts, fmt.Sprintf("id=%d", res.ID))
	}
	for _, s := range res.Shards {
		parts = append(parts, fmt.Sprintf("shard=%d@%d/%d%v", s.ID, s.PartitionStart, s.SlotGroup, s.Replicas))
	}
	if len(res.Dropped) > 0 {
		parts = append(parts, fmt.Sprintf("dropped=%v", res.Dropped))
	}
	if len(res.Tables) > 0 {
		parts = append(parts, fmt.Sprintf("tables=%v", res.Tables))
	}
	if res.Table != nil {
		parts = append(parts, "table="+formatTableCols(res.Table.Columns))
	}
	if res.View != 0 {
		parts = append(parts, fmt.Sprintf("view=%d", res.View))
	}
	if res.Cluster != nil {
		parts = append(parts, fmt.Sprintf("cluster=%s/%s/%d", res.Cluster.Tag, res.Cluster.ProductVersion, res.Cluster.ProtocolVersion))
	}
	if res.AlreadyInitialized {
		parts = append(parts, "already-initialized")
	}
	return strings.TrimSpace("ok " + strings.Join(parts, " "))
}

func formatTableCols(cols []shard.Column) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d:%s", c.ID, c.Name)
	}
	return b.String()
}

func formatCatalog(c *Catalog) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version=%d initialized=%t partitions=v%d next: db=%d table=%d shard=%d\n",
		c.Version, c.Initialized, c.Partitions.Version, c.NextIDs.Database, c.NextIDs.Table, c.NextIDs.Shard)
	if c.View != 0 || c.Cluster != (ClusterInfo{}) {
		fmt.Fprintf(&b, "view=%d cluster=%s/%s/%d\n", c.View, c.Cluster.Tag, c.Cluster.ProductVersion, c.Cluster.ProtocolVersion)
	}
	for _, n := range c.Nodes {
		fmt.Fprintf(&b, "node %d %s", n.ID, n.RaftAddr)
		if n.State != "" {
			fmt.Fprintf(&b, " %s joined=v%d rpc=%s pg=%s version=%s", n.State, n.JoinedView, n.RPCAddr, n.PGAddr, n.ProductVersion)
		}
		b.WriteByte('\n')
	}
	for _, d := range c.Databases {
		fmt.Fprintf(&b, "db %d %s replicas=%d interval=%s ttl=%s slot_groups=%d\n", d.ID, d.Name, d.Replicas, d.PartitionInterval, d.TTL, d.SlotGroups)
	}
	for _, t := range c.TableList {
		fmt.Fprintf(&b, "table %d db=%d %s cols=[%s] time=%d tags=%v\n", t.ID, t.Database, t.Name, formatTableCols(t.Columns), t.TimeCol, t.Tags)
	}
	for _, s := range c.Partitions.Shards {
		fmt.Fprintf(&b, "shard %d db=%d [%d,%d) group=%d/%d replicas=%v\n", s.ID, s.Database, s.PartitionStart, s.PartitionEnd, s.SlotGroup, s.SlotGroups, s.Replicas)
	}
	for _, m := range c.Moves {
		fmt.Fprintf(&b, "move shard=%d from=%d to=%d %s\n", m.ShardID, m.From, m.To, m.Phase)
	}
	for _, r := range c.Retired {
		fmt.Fprintf(&b, "retired shard=%d node=%d\n", r.ShardID, r.NodeID)
	}
	return b.String()
}
