package store

import (
	"fmt"

	"github.com/longboatdb/longboat/shard"
)

// phys is the physical representation of a column type.
type phys uint8

const (
	physNone phys = iota
	physF64
	physI64
	physBool
	physStr
)

func physOf(t shard.ColType) phys {
	switch t {
	case shard.TypeFloat8, shard.TypeFloat4:
		return physF64
	case shard.TypeInt8, shard.TypeInt4, shard.TypeInt2, shard.TypeTimestamp, shard.TypeTimestamptz, shard.TypeDate:
		return physI64
	case shard.TypeBool:
		return physBool
	case shard.TypeText, shard.TypeVarchar, shard.TypeNumeric:
		return physStr
	}
	return physNone
}

// colVec is the internal column vector used by the buffer, the block codecs
// and the scan. Only the slice of its physical type is used. nulls is
// meaningful only when hasNulls (then len(nulls) == length).
type colVec struct {
	typ      shard.ColType
	f64      []float64
	i64      []int64
	b        []bool
	str      []string
	nulls    []bool
	hasNulls bool
}

func (c *colVec) len() int {
	switch physOf(c.typ) {
	case physF64:
		return len(c.f64)
	case physI64:
		return len(c.i64)
	case physBool:
		return len(c.b)
	case physStr:
		return len(c.str)
	}
	return len(c.nulls)
}

// reset empties c keeping capacity; the type becomes unknown.
func (c *colVec) reset() {
	c.typ = shard.TypeInvalid
	c.f64, c.i64, c.b, c.str = c.f64[:0], c.i64[:0], c.b[:0], c.str[:0]
	clear(c.str[:cap(c.str)]) // drop string references
	c.nulls = c.nulls[:0]
	c.hasNulls = false
}

func (c *colVec) isNull(i int) bool { return c.hasNulls && c.nulls[i] }

// ensureNulls switches c to carrying an explicit NULL bitmap.
func (c *colVec) ensureNulls() {
	if c.hasNulls {
		return
	}
	n := c.len()
	c.nulls = c.nulls[:0]
	for range n {
		c.nulls = append(c.nulls, false)
	}
	c.hasNulls = true
}

// setType fixes the type of a typeless (all-NULL so far) vector, padding the
// typed slice with zero values. It fails on a physical type conflict.
func (c *colVec) setType(t shard.ColType) error {
	if c.typ == t {
		return nil
	}
	if c.typ != shard.TypeInvalid {
		if physOf(c.typ) == physOf(t) {
			return nil
		}
		return fmt.Errorf("longboat/store: column type conflict: %d vs %d", c.typ, t)
	}
	n := len(c.nulls)
	c.typ = t
	switch physOf(t) {
	case physF64:
		c.f64 = append(c.f64[:0], make([]float64, n)...)
	case physI64:
		c.i64 = append(c.i64[:0], make([]int64, n)...)
	case physBool:
		c.b = append(c.b[:0], make([]bool, n)...)
	case physStr:
		c.str = append(c.str[:0], make([]string, n)...)
	default:
		return fmt.Errorf("longboat/store: invalid column type %d", t)
	}
	return nil
}

// appendNulls appends n NULLs.
func (c *colVec) appendNulls(n int) {
	if n == 0 {
		return
	}
	if c.typ != shard.TypeInvalid {
		c.ensureNulls()
	} else {
		c.hasNulls = true
	}
	for range n {
		c.nulls = append(c.nulls, true)
	}
	switch physOf(c.typ) {
	case physF64:
		c.f64 = append(c.f64, make([]float64, n)...)
	case physI64:
		c.i64 = append(c.i64, make([]int64, n)...)
	case physBool:
		c.b = append(c.b, make([]bool, n)...)
	case physStr:
		c.str = append(c.str, make([]string, n)...)
	}
}

// appendFrom appends value i of src (same physical type, or src typeless).
func (c *colVec) appendFrom(src *colVec, i int) {
	if src == nil || src.typ == shard.TypeInvalid || src.isNull(i) {
		c.appendNulls(1)
		return
	}
	switch physOf(c.typ) {
	case physF64:
		c.f64 = append(c.f64, src.f64[i])
	case physI64:
		c.i64 = append(c.i64, src.i64[i])
	case physBool:
		c.b = append(c.b, src.b[i])
	case physStr:
		c.str = append(c.str, src.str[i])
	}
	if c.hasNulls {
		c.nulls = append(c.nulls, false)
	}
}

// appendRange appends rows [lo, hi) of src.
func (c *colVec) appendRange(src *colVec, lo, hi int) {
	if src == nil || src.typ == shard.TypeInvalid {
		c.appendNulls(hi - lo)
		return
	}
	switch physOf(c.typ) {
	case physF64:
		c.f64 = append(c.f64, src.f64[lo:hi]...)
	case physI64:
		c.i64 = append(c.i64, src.i64[lo:hi]...)
	case physBool:
		c.b = append(c.b, src.b[lo:hi]...)
	case physStr:
		c.str = append(c.str, src.str[lo:hi]...)
	}
	if src.hasNulls {
		if !c.hasNulls {
			n := c.len() - (hi - lo)
			c.nulls = c.nulls[:0]
			for range n {
				c.nulls = append(c.nulls, false)
			}
			c.hasNulls = true
		}
		c.nulls = append(c.nulls, src.nulls[lo:hi]...)
	} else if c.hasNulls {
		for range hi - lo {
			c.nulls = append(c.nulls, false)
		}
	}
}

// reverse reverses the rows of c in place.
func (c *colVec) reverse() {
	rev(c.f64)
	rev(c.i64)
	rev(c.b)
	rev(c.str)
	if c.hasNulls {
		rev(c.nulls)
	}
}

func rev[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// truncate keeps rows [lo, hi), moving them to the front (capacity stays).
func (c *colVec) truncate(lo, hi int) {
	switch physOf(c.typ) {
	case physF64:
		c.f64 = c.f64[:copy(c.f64, c.f64[lo:hi])]
	case physI64:
		c.i64 = c.i64[:copy(c.i64, c.i64[lo:hi])]
	case physBool:
		c.b = c.b[:copy(c.b, c.b[lo:hi])]
	case physStr:
		c.str = c.str[:copy(c.str, c.str[lo:hi])]
	}
	if c.hasNulls || c.typ == shard.TypeInvalid {
		c.nulls = c.nulls[:copy(c.nulls, c.nulls[lo:hi])]
	}
}

// vector returns the public view of c (sharing memory).
func (c *colVec) vector() Vector {
	v := Vector{Type: c.typ}
	switch physOf(c.typ) {
	case physF64:
		v.F64 = c.f64
	case physI64:
		v.I64 = c.i64
	case physBool:
		v.B = c.b
	case physStr:
		v.Str = c.str
	}
	if c.hasNulls {
		v.Null = c.nulls
	}
	return v
}
