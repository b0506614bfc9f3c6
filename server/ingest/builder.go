package ingest

import (
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/types"
)

// builder accumulates the rows of one shard column-major. A builder is
// reused (see Pool): reset keeps the capacity of every slice.
type builder struct {
	rows   store.TableRows
	field  []int // table column index of each field
	series map[string]uint32
	key    []byte
	n      int
}

// newBuilder returns an empty builder for the fields of tbl.
func newBuilder(tbl *shard.Table, field []int, fids []uint16) *builder {
	b := &builder{series: make(map[string]uint32)}
	b.reset(tbl, field, fids)
	return b
}

// reset empties b and sets it up for the fields of tbl, keeping capacity.
func (b *builder) reset(tbl *shard.Table, field []int, fids []uint16) {
	b.field = field
	clear(b.series)
	b.n = 0
	r := &b.rows
	r.TableID = tbl.ID
	r.FieldIDs = fids
	r.Series = r.Series[:0] // the tuples' slices are reused by add
	r.SeriesIdx = r.SeriesIdx[:0]
	r.Times = r.Times[:0]
	if cap(r.Fields) < len(field) {
		r.Fields = append(r.Fields[:cap(r.Fields)], make([]store.Vector, len(field)-cap(r.Fields))...)
	}
	r.Fields = r.Fields[:len(field)]
	for i, ci := range field {
		resetVector(&r.Fields[i], tbl.Columns[ci].Type)
	}
}

// resetVector empties v for values of type t. Only the slice of t's
// physical type may be non-nil (store.Vector.Len relies on it); it keeps its
// capacity.
func resetVector(v *store.Vector, t shard.ColType) {
	f64, i64, bs, str := v.F64[:0], v.I64[:0], v.B[:0], v.Str[:0]
	clear(str[:cap(str)]) // drop the references to old values
	*v = store.Vector{Type: t}
	switch t {
	case shard.TypeFloat8, shard.TypeFloat4:
		v.F64 = f64
	case shard.TypeBool:
		v.B = bs
	case shard.TypeText, shard.TypeVarchar, shard.TypeNumeric:
		v.Str = str
	default:
		v.I64 = i64
	}
}

// add appends one row: tags are its tag values (NULL as ""), t its time.
func (b *builder) add(tags []string, t int64, row []types.Datum) {
	b.key = b.key[:0]
	for _, s := range tags {
		b.key = append(b.key, s...)
		b.key = append(b.key, 0)
	}
	idx, ok := b.series[string(b.key)] // NB: no allocation for the lookup
	if !ok {
		k := len(b.rows.Series)
		idx = uint32(k)
		if k < cap(b.rows.Series) {
			b.rows.Series = b.rows.Series[:k+1]
			b.rows.Series[k] = append(b.rows.Series[k][:0], tags...)
		} else {
			b.rows.Series = append(b.rows.Series, append([]string(nil), tags...))
		}
		b.series[string(b.key)] = idx
	}
	b.rows.SeriesIdx = append(b.rows.SeriesIdx, idx)
	b.rows.Times = append(b.rows.Times, t)
	for i, ci := range b.field {
		appendValue(&b.rows.Fields[i], row[ci], b.n)
	}
	b.n++
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

// capRows returns the number of rows b can hold without growing.
func (b *builder) capRows() int { return cap(b.rows.Times) }
