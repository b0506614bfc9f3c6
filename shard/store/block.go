package store

import (
	"encoding/binary"
	"math"

	"github.com/longboatdb/longboat/shard"
)

// blockHeader is the decoded header of a stored block (see doc.go).
type blockHeader struct {
	typ      byte // blockTypeTime or a shard.ColType
	flags    byte
	count    int // rows, NULLs included
	minTime  int64
	maxTime  int64
	nonNull  int
	min, max float64
	sum      float64
	// Exact stats of integer columns (min, max, first, last above are
	// their float64 conversions).
	imin, imax, ifirst, ilast int64
	first                     float64
	last                      float64
}

func (h *blockHeader) hasStats() bool { return h.flags&blockFlagStats != 0 }

func (h *blockHeader) colStats() ColumnStats {
	cs := ColumnStats{Count: h.nonNull, NonNull: h.nonNull > 0}
	if h.hasStats() && h.nonNull > 0 {
		cs.Min, cs.Max, cs.Sum, cs.First, cs.Last = h.min, h.max, h.sum, h.first, h.last
	}
	return cs
}

func appendHeader(dst []byte, h *blockHeader) []byte {
	dst = append(dst, h.typ, h.flags)
	dst = binary.AppendUvarint(dst, uint64(h.count))
	dst = binary.AppendVarint(dst, h.minTime)
	dst = binary.AppendUvarint(dst, uint64(h.maxTime-h.minTime))
	if h.typ == blockTypeTime {
		return dst
	}
	dst = binary.AppendUvarint(dst, uint64(h.nonNull))
	if h.flags&blockFlagStats == 0 {
		return dst
	}
	switch {
	case physOf(shard.ColType(h.typ)) == physI64:
		// Exact int64 min/max/first/last; the sum as a float64.
		for _, v := range [...]int64{h.imin, h.imax, h.ifirst, h.ilast} {
			dst = binary.AppendVarint(dst, v)
		}
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(h.sum))
	case h.flags&blockFlagIntStats != 0:
		for _, f := range [...]float64{h.min, h.max, h.sum, h.first, h.last} {
			dst = binary.AppendVarint(dst, int64(f))
		}
	default:
		for _, f := range [...]float64{h.min, h.max, h.sum, h.first, h.last} {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
		}
	}
	return dst
}

// exactInt reports whether f is an integer that float64 and int64 both
// represent exactly (so a varint round-trips its bits).
func exactInt(f float64) bool {
	return f > -maxExactInt && f < maxExactInt && math.Float64bits(float64(int64(f))) == math.Float64bits(f)
}

// parseHeader decodes and validates a block header; it returns the rest
// (NULL bitmap, then payload).
func parseHeader(src []byte, h *blockHeader) ([]byte, error) {
	var err error
	if len(src) < 2 {
		return nil, errCorrupt
	}
	h.typ, h.flags = src[0], src[1]
	src = src[2:]
	if h.flags&^(blockFlagNulls|blockFlagStats|blockFlagIntStats) != 0 {
		return nil, errCorrupt
	}
	if h.count, src, err = readCount(src, maxBlockRows); err != nil {
		return nil, err
	}
	if h.count == 0 {
		return nil, errCorrupt
	}
	if h.minTime, src, err = readVarint(src); err != nil {
		return nil, err
	}
	var span uint64
	if span, src, err = readUvarint(src); err != nil {
		return nil, err
	}
	h.maxTime = h.minTime + int64(span)
	if h.maxTime < h.minTime {
		return nil, errCorrupt
	}
	if h.typ == blockTypeTime {
		if h.flags != 0 {
			return nil, errCorrupt
		}
		h.nonNull = h.count
		return src, nil
	}
	if physOf(shard.ColType(h.typ)) == physNone {
		return nil, errCorrupt
	}
	if h.nonNull, src, err = readCount(src, uint64(h.count)); err != nil {
		return nil, err
	}
	if (h.nonNull < h.count) != (h.flags&blockFlagNulls != 0) {
		return nil, errCorrupt
	}
	if h.flags&blockFlagStats != 0 {
		switch p := physOf(shard.ColType(h.typ)); {
		case p == physI64:
			var v [4]int64
			for i := range v {
				if v[i], src, err = readVarint(src); err != nil {
					return nil, err
				}
			}
			h.imin, h.imax, h.ifirst, h.ilast = v[0], v[1], v[2], v[3]
			h.min, h.max, h.first, h.last = float64(v[0]), float64(v[1]), float64(v[2]), float64(v[3])
			if len(src) < 8 {
				return nil, errCorrupt
			}
			h.sum = math.Float64frombits(binary.LittleEndian.Uint64(src))
			src = src[8:]
			if h.imin > h.imax {
				return nil, errCorrupt
			}
		case p == physF64 && h.flags&blockFlagIntStats != 0:
			var f [5]float64
			for i := range f {
				var v int64
				if v, src, err = readVarint(src); err != nil {
					return nil, err
				}
				f[i] = float64(v)
			}
			h.min, h.max, h.sum, h.first, h.last = f[0], f[1], f[2], f[3], f[4]
		case p == physF64:
			if len(src) < 40 {
				return nil, errCorrupt
			}
			var f [5]float64
			for i := range f {
				f[i] = math.Float64frombits(binary.LittleEndian.Uint64(src[i*8:]))
			}
			h.min, h.max, h.sum, h.first, h.last = f[0], f[1], f[2], f[3], f[4]
			src = src[40:]
		default:
			return nil, errCorrupt // no stats for bool and text
		}
		if h.nonNull == 0 || !(h.min <= h.max) {
			return nil, errCorrupt
		}
	} else if h.flags&blockFlagIntStats != 0 {
		return nil, errCorrupt
	}
	return src, nil
}

// blockEncoder holds scratch for encoding blocks; reused across flushes.
type blockEncoder struct {
	u64 []uint64
	f64 []float64
	i64 []int64
	b   []bool
	str []string
}

// appendTimeBlock encodes sorted, distinct times.
func (e *blockEncoder) appendTimeBlock(dst []byte, ts []int64) []byte {
	h := blockHeader{typ: blockTypeTime, count: len(ts), minTime: ts[0], maxTime: ts[len(ts)-1]}
	dst = appendHeader(dst, &h)
	return appendTimesScratch(dst, ts, &e.u64)
}

// appendFieldBlock encodes rows [lo, hi) of c, whose times are ts[lo:hi].
func (e *blockEncoder) appendFieldBlock(dst []byte, c *colVec, ts []int64, lo, hi int) []byte {
	h := blockHeader{typ: byte(c.typ), count: hi - lo, minTime: ts[lo], maxTime: ts[hi-1]}
	var nulls []bool
	if c.hasNulls {
		nulls = c.nulls[lo:hi]
		for _, n := range nulls {
			if n {
				h.flags |= blockFlagNulls
				break
			}
		}
	}
	if h.flags&blockFlagNulls == 0 {
		nulls = nil
	}
	p := physOf(c.typ)
	// Gather the non-NULL values (a view when there are no NULLs).
	switch p {
	case physF64:
		vals := c.f64[lo:hi]
		if nulls != nil {
			e.f64 = e.f64[:0]
			for i, v := range vals {
				if !nulls[i] {
					e.f64 = append(e.f64, v)
				}
			}
			vals = e.f64
		}
		h.nonNull = len(vals)
		if len(vals) > 0 {
			h.flags |= blockFlagStats
			mn, mx, sum := vals[0], vals[0], 0.0
			for _, v := range vals {
				if v < mn {
					mn = v
				}
				if v > mx {
					mx = v
				}
				sum += v
			}
			h.min, h.max, h.sum, h.first, h.last = mn, mx, sum, vals[0], vals[len(vals)-1]
			if math.IsNaN(h.sum) { // any NaN (or +Inf and -Inf) poisons the stats
				h.flags &^= blockFlagStats // stats must stay ordered; NaN blocks are decoded
			} else if exactInt(h.min) && exactInt(h.max) && exactInt(h.sum) && exactInt(h.first) && exactInt(h.last) {
				h.flags |= blockFlagIntStats
			}
		}
		dst = appendHeader(dst, &h)
		if nulls != nil {
			dst = appendBitmap(dst, nulls)
		}
		return appendFloatsScratch(dst, vals, &e.u64)
	case physI64:
		vals := c.i64[lo:hi]
		if nulls != nil {
			e.i64 = e.i64[:0]
			for i, v := range vals {
				if !nulls[i] {
					e.i64 = append(e.i64, v)
				}
			}
			vals = e.i64
		}
		h.nonNull = len(vals)
		if len(vals) > 0 {
			h.flags |= blockFlagStats
			mn, mx := vals[0], vals[0]
			for _, v := range vals {
				mn, mx = min(mn, v), max(mx, v)
				h.sum += float64(v)
			}
			h.imin, h.imax, h.ifirst, h.ilast = mn, mx, vals[0], vals[len(vals)-1]
		}
		dst = appendHeader(dst, &h)
		if nulls != nil {
			dst = appendBitmap(dst, nulls)
		}
		return appendIntsScratch(dst, vals, &e.u64)
	case physBool:
		vals := c.b[lo:hi]
		if nulls != nil {
			e.b = e.b[:0]
			for i, v := range vals {
				if !nulls[i] {
					e.b = append(e.b, v)
				}
			}
			vals = e.b
		}
		h.nonNull = len(vals)
		dst = appendHeader(dst, &h)
		if nulls != nil {
			dst = appendBitmap(dst, nulls)
		}
		return AppendBools(dst, vals)
	default: // physStr
		vals := c.str[lo:hi]
		if nulls != nil {
			e.str = e.str[:0]
			for i, v := range vals {
				if !nulls[i] {
					e.str = append(e.str, v)
				}
			}
			vals = e.str
		}
		h.nonNull = len(vals)
		dst = appendHeader(dst, &h)
		if nulls != nil {
			dst = appendBitmap(dst, nulls)
		}
		return AppendStrings(dst, vals)
	}
}

// decodeTimeBlock appends the times of a time block to dst.
func decodeTimeBlock(src []byte, dst []int64) ([]int64, *blockHeader, error) {
	var h blockHeader
	rest, err := parseHeader(src, &h)
	if err != nil {
		return dst, nil, err
	}
	if h.typ != blockTypeTime {
		return dst, nil, errCorrupt
	}
	start := len(dst)
	dst, rest, err = DecodeTimes(rest, dst)
	if err != nil {
		return dst[:start], nil, err
	}
	if len(rest) != 0 || len(dst)-start != h.count || dst[start] != h.minTime || dst[len(dst)-1] != h.maxTime {
		return dst[:start], nil, errCorrupt
	}
	return dst, &h, nil
}

// decodeFieldBlock appends the rows of a field block to c. If c is typeless
// it takes the block's type; a physical type conflict is an error.
func decodeFieldBlock(src []byte, c *colVec) (blockHeader, error) {
	var h blockHeader
	rest, err := parseHeader(src, &h)
	if err != nil {
		return h, err
	}
	if h.typ == blockTypeTime {
		return h, errCorrupt
	}
	if err := c.setType(shard.ColType(h.typ)); err != nil {
		return h, err
	}
	startLen := c.len()
	var nulls []bool
	if h.flags&blockFlagNulls != 0 {
		c.ensureNulls()
		nstart := len(c.nulls)
		if c.nulls, rest, err = decodeBitmap(rest, h.count, c.nulls); err != nil {
			c.nulls = c.nulls[:nstart]
			return h, err
		}
		nulls = c.nulls[nstart:]
		cnt := 0
		for _, n := range nulls {
			if !n {
				cnt++
			}
		}
		if cnt != h.nonNull {
			c.nulls = c.nulls[:nstart]
			return h, errCorrupt
		}
	}
	fail := func(err error) (blockHeader, error) {
		c.truncate(0, startLen)
		if c.hasNulls {
			c.nulls = c.nulls[:startLen]
		}
		return h, err
	}
	switch physOf(shard.ColType(h.typ)) {
	case physF64:
		c.f64, rest, err = DecodeFloats(rest, c.f64)
		if err == nil {
			err = checkDecoded(len(c.f64)-startLen, &h, rest)
		}
		if err != nil {
			return fail(err)
		}
		if nulls != nil {
			c.f64 = spread(c.f64, startLen, nulls)
		}
		if h.hasStats() {
			err = checkStats(&h, c.f64[startLen:], nulls)
		}
	case physI64:
		c.i64, rest, err = DecodeInts(rest, c.i64)
		if err == nil {
			err = checkDecoded(len(c.i64)-startLen, &h, rest)
		}
		if err != nil {
			return fail(err)
		}
		if nulls != nil {
			c.i64 = spread(c.i64, startLen, nulls)
		}
		if h.hasStats() {
			err = checkIntStats(&h, c.i64[startLen:], nulls)
		}
	case physBool:
		c.b, rest, err = DecodeBools(rest, c.b)
		if err == nil {
			err = checkDecoded(len(c.b)-startLen, &h, rest)
		}
		if err != nil {
			return fail(err)
		}
		if nulls != nil {
			c.b = spread(c.b, startLen, nulls)
		}
	case physStr:
		c.str, rest, err = DecodeStrings(rest, c.str)
		if err == nil {
			err = checkDecoded(len(c.str)-startLen, &h, rest)
		}
		if err != nil {
			return fail(err)
		}
		if nulls != nil {
			c.str = spread(c.str, startLen, nulls)
		}
	}
	if err != nil {
		return fail(err)
	}
	if c.hasNulls && nulls == nil {
		for range h.count {
			c.nulls = append(c.nulls, false)
		}
	}
	return h, nil
}

func checkDecoded(n int, h *blockHeader, rest []byte) error {
	if n != h.nonNull || len(rest) != 0 {
		return errCorrupt
	}
	return nil
}

// edgeRows returns the first and last non-NULL rows of n (-1 if none).
func edgeRows(n int, nulls []bool) (first, last int) {
	if nulls == nil {
		if n == 0 {
			return -1, -1
		}
		return 0, n - 1
	}
	first, last = -1, -1
	for i, isNull := range nulls {
		if !isNull {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// checkStats validates the cheap-to-check stats of a float block.
func checkStats(h *blockHeader, vals []float64, nulls []bool) error {
	first, last := edgeRows(len(vals), nulls)
	if first >= 0 && (math.Float64bits(vals[first]) != math.Float64bits(h.first) || math.Float64bits(vals[last]) != math.Float64bits(h.last)) {
		return errCorrupt
	}
	return nil
}

func checkIntStats(h *blockHeader, vals []int64, nulls []bool) error {
	first, last := edgeRows(len(vals), nulls)
	if first >= 0 && (vals[first] != h.ifirst || vals[last] != h.ilast) {
		return errCorrupt
	}
	return nil
}

// spread moves the nonNull values appended at s[start:] to the non-NULL
// positions of nulls, extending s to start+len(nulls).
func spread[T any](s []T, start int, nulls []bool) []T {
	nn := len(s) - start
	var zero T
	for range len(nulls) - nn {
		s = append(s, zero)
	}
	j := start + nn - 1
	for i := len(nulls) - 1; i >= 0; i-- {
		if nulls[i] {
			s[start+i] = zero
			continue
		}
		s[start+i] = s[j]
		j--
	}
	return s
}
