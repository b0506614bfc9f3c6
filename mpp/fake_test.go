package mpp

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
)

// This file holds the test fixtures: a TSBS-shaped cpu table, a generated
// data set cut into shards like the real partition table, and an in-memory
// Scanner that honours every ScanRequest option.

var tsbsTags = []string{"hostname", "region", "datacenter", "rack", "os", "arch", "team", "service", "service_version", "service_environment"}
var tsbsFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

func cpuTable() *shard.Table {
	t := &shard.Table{ID: 7, Database: 1, Name: "cpu"}
	id := uint16(1)
	add := func(name string, ct shard.ColType) {
		t.Columns = append(t.Columns, shard.Column{ID: id, Name: name, Type: ct})
		id++
	}
	add("time", shard.TypeTimestamptz)
	for _, n := range tsbsTags {
		add(n, shard.TypeText)
	}
	for _, n := range tsbsFields {
		add(n, shard.TypeFloat8)
	}
	t.TimeCol = 0
	for i := range tsbsTags {
		t.Tags = append(t.Tags, i+1)
	}
	return t
}

type fakeSeries struct {
	id     uint64
	tags   []string
	times  []int64
	fields map[uint16][]float64
	nulls  map[uint16][]bool
}

type fakeShard struct {
	info      shard.ShardInfo
	table     uint32
	series    []*fakeSeries
	blockSize int
}

type fakeCluster struct {
	db     *shard.Database
	table  *shard.Table
	shards map[uint64]*fakeShard
	infos  []shard.ShardInfo
	rows   int
	// refRows caches allRows for the reference evaluator.
	refRows []refRow
}

type genOptions struct {
	hosts     int
	start     int64 // µs
	points    int
	step      int64 // µs
	partition time.Duration
	groups    int
	nullFrac  float64
	blockSize int
	seed      uint64
}

func tsbsStart() int64 { return time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro() }

// genCluster generates a TSBS cpu-only-like data set: per host a random walk
// of integer values 0..100 per field.
func genCluster(o genOptions) *fakeCluster {
	db := &shard.Database{ID: 1, Name: "benchmark", PartitionInterval: o.partition, SlotGroups: o.groups}
	c := &fakeCluster{db: db, table: cpuTable(), shards: map[uint64]*fakeShard{}}
	rng := rand.New(rand.NewPCG(o.seed, 42))
	type key struct {
		part  int64
		group int
	}
	byKey := map[key]*fakeShard{}
	nextID := uint64(100)
	for h := 0; h < o.hosts; h++ {
		tags := []string{
			fmt.Sprintf("host_%d", h),
			[]string{"eu-west-1", "us-east-1", "ap-south-1"}[h%3],
			fmt.Sprintf("dc_%d", h%5),
			fmt.Sprintf("%d", h%7),
			"Ubuntu16.04LTS",
			[]string{"x64", "x86"}[h%2],
			[]string{"SF", "NYC", "LON", "CHI"}[h%4],
			fmt.Sprintf("%d", h%11),
			fmt.Sprintf("%d", h%2),
			[]string{"production", "staging", "test"}[h%3],
		}
		if h == 3 {
			tags[9] = "" // a NULL tag
		}
		vals := make([]float64, len(tsbsFields))
		for i := range vals {
			vals[i] = float64(rng.IntN(101))
		}
		for p := 0; p < o.points; p++ {
			t := o.start + int64(p)*o.step
			part := shard.PartitionStart(t, o.partition)
			g := shard.SlotGroup(shard.Slot(tags[0]), o.groups)
			fs := byKey[key{part, g}]
			if fs == nil {
				fs = &fakeShard{table: c.table.ID, blockSize: o.blockSize, info: shard.ShardInfo{
					ID: nextID, Database: 1, PartitionStart: part, PartitionEnd: part + o.partition.Microseconds(), SlotGroup: g, SlotGroups: o.groups,
				}}
				nextID++
				byKey[key{part, g}] = fs
				c.shards[fs.info.ID] = fs
				c.infos = append(c.infos, fs.info)
			}
			var se *fakeSeries
			if n := len(fs.series); n > 0 && fs.series[n-1].tags[0] == tags[0] {
				se = fs.series[n-1]
			} else {
				se = &fakeSeries{id: uint64(h + 1), tags: tags, fields: map[uint16][]float64{}, nulls: map[uint16][]bool{}}
				fs.series = append(fs.series, se)
			}
			se.times = append(se.times, t)
			for i := range vals {
				vals[i] += float64(rng.IntN(21) - 10)
				vals[i] = math.Max(0, math.Min(100, vals[i]))
				cid := c.table.Columns[1+len(tsbsTags)+i].ID
				null := o.nullFrac > 0 && i == len(vals)-1 && rng.Float64() < o.nullFrac
				se.fields[cid] = append(se.fields[cid], vals[i])
				se.nulls[cid] = append(se.nulls[cid], null)
			}
			c.rows++
		}
	}
	for _, fs := range c.shards {
		sort.Slice(fs.series, func(i, j int) bool {
			return strings.Join(fs.series[i].tags, "\x00") < strings.Join(fs.series[j].tags, "\x00")
		})
	}
	sort.Slice(c.infos, func(i, j int) bool {
		if c.infos[i].PartitionStart != c.infos[j].PartitionStart {
			return c.infos[i].PartitionStart < c.infos[j].PartitionStart
		}
		return c.infos[i].SlotGroup < c.infos[j].SlotGroup
	})
	return c
}

// Catalog implementation.
func (c *fakeCluster) Database(name string) (*shard.Database, bool) {
	if name == c.db.Name {
		return c.db, true
	}
	return nil, false
}
func (c *fakeCluster) Table(dbID uint32, name string) (*shard.Table, bool) {
	if dbID == c.db.ID && name == c.table.Name {
		return c.table, true
	}
	return nil, false
}
func (c *fakeCluster) Tables(dbID uint32) []shard.Table { return []shard.Table{*c.table} }
func (c *fakeCluster) Shards(dbID uint32, minTime, maxTime int64) []shard.ShardInfo {
	var out []shard.ShardInfo
	for _, s := range c.infos {
		if s.PartitionStart < maxTime && s.PartitionEnd > minTime {
			out = append(out, s)
		}
	}
	return out
}
func (c *fakeCluster) VirtualTable(schema, name string) (planner.VirtualTable, bool) {
	return nil, false
}

// Shards implementation.
func (c *fakeCluster) Scanner(ctx context.Context, id uint64, _ FragmentRef) (Scanner, error) {
	s, ok := c.shards[id]
	if !ok {
		return nil, fmt.Errorf("no shard %d", id)
	}
	return s, nil
}

var _ Shards = (*fakeCluster)(nil)
var _ planner.Catalog = (*fakeCluster)(nil)
var _ Scanner = (*fakeShard)(nil)

func (s *fakeShard) Scan(ctx context.Context, req *store.ScanRequest, fn func(*store.SeriesBatch) error) error {
	if req.TableID != s.table {
		return nil
	}
	for _, se := range s.series {
		if err := ctx.Err(); err != nil {
			return err
		}
		if req.SeriesFilter != nil && !req.SeriesFilter(se.tags) {
			continue
		}
		lo := sort.Search(len(se.times), func(i int) bool { return se.times[i] >= req.MinTime })
		hi := sort.Search(len(se.times), func(i int) bool { return se.times[i] >= req.MaxTime })
		if lo >= hi {
			continue
		}
		bs := s.blockSize
		type piece struct{ a, b int }
		var pieces []piece
		for k := lo / bs * bs; k < hi; k += bs {
			pieces = append(pieces, piece{max(k, lo), min(k+bs, hi)})
		}
		if req.Reverse {
			for i, j := 0, len(pieces)-1; i < j; i, j = i+1, j-1 {
				pieces[i], pieces[j] = pieces[j], pieces[i]
			}
		}
		left := req.Limit
		for _, p := range pieces {
			whole := p.a%bs == 0 && (p.b%bs == 0 || p.b == len(se.times)) && p.b-p.a > 0
			if req.UseStats != nil && whole && !req.Reverse && req.Limit == 0 && req.UseStats(se.times[p.a], se.times[p.b-1]) {
				st := &store.BlockStats{MinTime: se.times[p.a], MaxTime: se.times[p.b-1], Rows: p.b - p.a}
				for _, f := range req.Fields {
					var cs store.ColumnStats
					vals, ok := se.fields[f]
					for k := p.a; ok && k < p.b; k++ {
						if se.nulls[f][k] {
							continue
						}
						v := vals[k]
						if cs.Count == 0 {
							cs.Min, cs.Max, cs.First = v, v, v
						}
						cs.Min, cs.Max = math.Min(cs.Min, v), math.Max(cs.Max, v)
						cs.Sum += v
						cs.Last = v
						cs.Count++
					}
					cs.NonNull = cs.Count > 0
					st.Cols = append(st.Cols, cs)
				}
				if err := fn(&store.SeriesBatch{SeriesID: se.id, Tags: se.tags, Stats: st}); err != nil {
					return err
				}
				continue
			}
			a, e := p.a, p.b
			if req.Limit > 0 {
				if left <= 0 {
					break
				}
				if e-a > left {
					if req.Reverse {
						a = e - left
					} else {
						e = a + left
					}
				}
				left -= e - a
			}
			b := &store.SeriesBatch{SeriesID: se.id, Tags: se.tags, Times: se.times[a:e]}
			for _, f := range req.Fields {
				v := store.Vector{Type: shard.TypeFloat8}
				vals, ok := se.fields[f]
				if !ok {
					v.Null = make([]bool, e-a)
					for i := range v.Null {
						v.Null[i] = true
					}
				} else {
					v.F64 = vals[a:e]
					for _, n := range se.nulls[f][a:e] {
						if n {
							v.Null = se.nulls[f][a:e]
							break
						}
					}
				}
				b.Fields = append(b.Fields, v)
			}
			if req.Reverse {
				b = reversed(b)
			}
			if err := fn(b); err != nil {
				return err
			}
		}
	}
	return nil
}

func reversed(b *store.SeriesBatch) *store.SeriesBatch {
	out := &store.SeriesBatch{SeriesID: b.SeriesID, Tags: b.Tags}
	n := len(b.Times)
	out.Times = make([]int64, n)
	for i, t := range b.Times {
		out.Times[n-1-i] = t
	}
	for _, v := range b.Fields {
		w := store.Vector{Type: v.Type}
		if v.F64 != nil {
			w.F64 = make([]float64, n)
			for i, x := range v.F64 {
				w.F64[n-1-i] = x
			}
		}
		if v.Null != nil {
			w.Null = make([]bool, n)
			for i, x := range v.Null {
				w.Null[n-1-i] = x
			}
		}
		out.Fields = append(out.Fields, w)
	}
	return out
}
