package ingest

import (
	"strings"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/types"
)

// builder accumulates the rows of one shard column-major.
type builder struct {
	rows   store.TableRows
	field  []int
	series map[string]uint32
	key    strings.Builder
	n      int
}

func newBuilder(tbl *shard.Table, field []int, fids []uint16) *builder {
	b := &builder{field: field, series: make(map[string]uint32)}
	b.rows.TableID = tbl.ID
	b.rows.FieldIDs = fids
	b.rows.Fields = make([]store.Vector, len(field))
	for i, ci := range field {
		b.rows.Fields[i].Type = tbl.Columns[ci].Type
	}
	return b
}

func (b *builder) add(tags []string, t int64, row []types.Datum) error {
	b.key.Reset()
	for _, s := range tags {
		b.key.WriteString(s)
		b.key.WriteByte(0)
	}
	idx, ok := b.series[b.key.String()]
	if !ok {
		idx = uint32(len(b.rows.Series))
		b.rows.Series = append(b.rows.Series, append([]string(nil), tags...))
		b.series[b.key.String()] = idx
	}
	b.rows.SeriesIdx = append(b.rows.SeriesIdx, idx)
	b.rows.Times = append(b.rows.Times, t)
	for i, ci := range b.field {
		appendValue(&b.rows.Fields[i], row[ci], b.n)
	}
	b.n++
	return nil
}

// appendValue appends d to v; n is the number of values v already holds.
func appendValue(v *store.Vector, d types.Datum, n int) {
	if d.Null && v.Null == nil {
		v.Null = make([]bool, n, n+1)
	}
	if v.Null != nil {
		v.Null = append(v.Null, d.Null)
	}
	switch v.Type {
	case shard.TypeFloat8, shard.TypeFloat4:
		v.F64 = append(v.F64, d.F)
	case shard.TypeBool:
		v.B = append(v.B, d.I != 0)
	case shard.TypeText, shard.TypeVarchar, shard.TypeNumeric:
		v.Str = append(v.Str, d.S)
	default:
		v.I64 = append(v.I64, d.I)
	}
}
