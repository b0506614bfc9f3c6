package store

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/longboatdb/longboat/shard"
)

// Encoded SeriesBatch (the payload of the inter-node scan stream; batches
// are appended back to back). Integers are uvarint unless noted; value
// streams are the column codecs of this package, as in a WriteBatch:
//
//	version    byte (SeriesBatchVersion)
//	flags      byte: bit 0 = BlockStats follow
//	seriesID
//	tags       nTags, then per tag: len, bytes
//	[stats]    minTime varint, maxTime varint, rows, nCols, per column:
//	           count, nonNull byte (0|1), min max sum first last as
//	           8-byte little-endian IEEE 754 bits
//	nRows
//	[times]    time stream (AppendTimes), only when nRows > 0
//	nFields,   per field:
//	           type byte (shard.ColType; 0 = a column the series never had,
//	           which must be all NULL), nullFlag byte (0|1),
//	           [NULL bitmap of nRows bits], value stream of the non-NULL
//	           values (AppendFloats, AppendInts, AppendBools or
//	           AppendStrings by type; absent for type 0)
//
// Values at NULL positions are not sent: they decode as zero values.

const batchFlagStats byte = 1 << 0

// SeriesBatchEncoder appends SeriesBatches, reusing its scratch buffers
// between calls. The zero value is ready to use; it is not safe for
// concurrent use.
type SeriesBatchEncoder struct {
	scratch []uint64
	f64     []float64
	i64     []int64
	b       []bool
	str     []string
}

// AppendSeriesBatch appends the encoding of b to dst. b must be well formed
// (ValidateSeriesBatch); batches from Shard.Scan always are.
func AppendSeriesBatch(dst []byte, b *SeriesBatch) []byte {
	var e SeriesBatchEncoder
	return e.Append(dst, b)
}

// Append appends the encoding of b to dst (see AppendSeriesBatch).
func (e *SeriesBatchEncoder) Append(dst []byte, b *SeriesBatch) []byte {
	dst = append(dst, SeriesBatchVersion)
	var flags byte
	if b.Stats != nil {
		flags |= batchFlagStats
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, b.SeriesID)
	dst = appendTags(dst, b.Tags)
	if st := b.Stats; st != nil {
		dst = binary.AppendVarint(dst, st.MinTime)
		dst = binary.AppendVarint(dst, st.MaxTime)
		dst = binary.AppendUvarint(dst, uint64(max(st.Rows, 0)))
		dst = binary.AppendUvarint(dst, uint64(len(st.Cols)))
		for _, c := range st.Cols {
			dst = binary.AppendUvarint(dst, uint64(max(c.Count, 0)))
			dst = appendFlag(dst, c.NonNull)
			for _, f := range [...]float64{c.Min, c.Max, c.Sum, c.First, c.Last} {
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
			}
		}
	}
	n := len(b.Times)
	dst = binary.AppendUvarint(dst, uint64(n))
	if n > 0 {
		dst = appendTimesScratch(dst, b.Times, &e.scratch)
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Fields)))
	for fi := range b.Fields {
		dst = e.appendVector(dst, &b.Fields[fi], n)
	}
	return dst
}

// ValidateSeriesBatch checks that b can be encoded: at most
// MaxSeriesBatchRows points and MaxSeriesBatchValues field values, every field vector of a known type (or type 0,
// a column the series never had) holding exactly len(b.Times) values, and a
// NULL bitmap, if any, of the same length.
func ValidateSeriesBatch(b *SeriesBatch) error {
	n := len(b.Times)
	if n > MaxSeriesBatchRows {
		return fmt.Errorf("longboat/store: series batch of %d points exceeds the limit %d", n, MaxSeriesBatchRows)
	}
	if n > 0 && len(b.Fields) > MaxSeriesBatchValues/n {
		return fmt.Errorf("longboat/store: series batch of %d fields of %d points exceeds the limit of %d values", len(b.Fields), n, MaxSeriesBatchValues)
	}
	for fi := range b.Fields {
		v := &b.Fields[fi]
		var l int
		switch physOf(v.Type) {
		case physF64:
			l = len(v.F64)
		case physI64:
			l = len(v.I64)
		case physBool:
			l = len(v.B)
		case physStr:
			l = len(v.Str)
		default:
			if v.Type != shard.TypeInvalid {
				return fmt.Errorf("longboat/store: series batch field %d: invalid type %d", fi, v.Type)
			}
			l = n
		}
		if l != n || (v.Null != nil && len(v.Null) != n) {
			return fmt.Errorf("longboat/store: series batch field %d: %d values for %d points", fi, l, n)
		}
	}
	return nil
}

func appendFlag(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// appendVector appends one field vector of n values.
func (e *SeriesBatchEncoder) appendVector(dst []byte, v *Vector, n int) []byte {
	p := physOf(v.Type)
	typ := v.Type
	if p == physNone {
		typ = shard.TypeInvalid
	}
	dst = append(dst, byte(typ))
	hasNull := false
	if v.Null != nil {
		for _, x := range v.Null[:min(n, len(v.Null))] {
			if x {
				hasNull = true
				break
			}
		}
	}
	if p == physNone {
		// A column the series never had: all NULL whatever Null says.
		dst = append(dst, 1)
		for i := 0; i < n; i += 8 {
			m := min(n-i, 8)
			dst = append(dst, byte(1<<m-1))
		}
		return dst
	}
	null := v.Null
	dst = appendFlag(dst, hasNull)
	if hasNull {
		dst = appendBitmap(dst, null[:n])
	}
	switch p {
	case physF64:
		vals := v.F64[:n]
		if hasNull {
			e.f64 = keep(e.f64[:0], vals, null)
			vals = e.f64
		}
		dst = appendFloatsScratch(dst, vals, &e.scratch)
	case physI64:
		vals := v.I64[:n]
		if hasNull {
			e.i64 = keep(e.i64[:0], vals, null)
			vals = e.i64
		}
		dst = appendIntsScratch(dst, vals, &e.scratch)
	case physBool:
		vals := v.B[:n]
		if hasNull {
			e.b = keep(e.b[:0], vals, null)
			vals = e.b
		}
		dst = AppendBools(dst, vals)
	case physStr:
		vals := v.Str[:n]
		if hasNull {
			e.str = keep(e.str[:0], vals, null)
			vals = e.str
		}
		dst = AppendStrings(dst, vals)
		clear(e.str) // do not pin the caller's strings
	}
	return dst
}

// keep appends the values of vals whose null flag is false.
func keep[T any](dst, vals []T, null []bool) []T {
	for i, x := range vals {
		if !null[i] {
			dst = append(dst, x)
		}
	}
	return dst
}

// DecodeSeriesBatch decodes one SeriesBatch from the front of src into b,
// reusing b's slices (and b.Stats), and returns the rest of src. Every
// count, length and type is validated; garbage yields an error, never a
// panic. On error b's contents are unspecified. Values at NULL positions
// decode as zero values; strings are copied out of src.
func DecodeSeriesBatch(src []byte, b *SeriesBatch) ([]byte, error) {
	rest, err := decodeSeriesBatch(src, b)
	if err != nil {
		return nil, fmt.Errorf("longboat/store: cannot decode series batch (%d bytes): %w", len(src), err)
	}
	return rest, nil
}

func decodeSeriesBatch(src []byte, b *SeriesBatch) ([]byte, error) {
	ver, src, err := readByte(src)
	if err != nil {
		return nil, err
	}
	if ver != SeriesBatchVersion {
		return nil, fmt.Errorf("unknown version %d", ver)
	}
	flags, src, err := readByte(src)
	if err != nil {
		return nil, err
	}
	if flags&^batchFlagStats != 0 {
		return nil, fmt.Errorf("unknown flags 0x%02x", flags)
	}
	if b.SeriesID, src, err = readUvarint(src); err != nil {
		return nil, err
	}
	if b.Tags, src, err = decodeTags(src, b.Tags[:0]); err != nil {
		return nil, err
	}
	if flags&batchFlagStats != 0 {
		if src, err = decodeBlockStats(src, b); err != nil {
			return nil, err
		}
	} else {
		b.Stats = nil
	}
	n, src, err := readCount(src, maxDecodeValues)
	if err != nil {
		return nil, err
	}
	b.Times = b.Times[:0]
	if n > 0 {
		if b.Times, src, err = DecodeTimes(src, b.Times); err != nil {
			return nil, err
		}
		if len(b.Times) != n {
			return nil, fmt.Errorf("%d times for %d rows", len(b.Times), n)
		}
	}
	// Each field takes at least 2 bytes.
	nf, src, err := readCount(src, uint64(len(src))/2)
	if err != nil {
		return nil, err
	}
	// Constant streams are a few bytes for any length: bound the output.
	if n > 0 && nf > MaxSeriesBatchValues/n {
		return nil, fmt.Errorf("%d fields of %d points exceed the limit of %d values", nf, n, MaxSeriesBatchValues)
	}
	if cap(b.Fields) >= nf {
		b.Fields = b.Fields[:nf]
	} else {
		b.Fields = append(b.Fields[:cap(b.Fields)], make([]Vector, nf-cap(b.Fields))...)
	}
	for fi := range nf {
		if src, err = decodeBatchVector(src, &b.Fields[fi], n); err != nil {
			return nil, fmt.Errorf("field %d: %w", fi, err)
		}
	}
	return src, nil
}

func decodeBlockStats(src []byte, b *SeriesBatch) ([]byte, error) {
	st := b.Stats
	if st == nil {
		st = &BlockStats{}
	}
	var err error
	if st.MinTime, src, err = readVarint(src); err != nil {
		return nil, err
	}
	if st.MaxTime, src, err = readVarint(src); err != nil {
		return nil, err
	}
	var rows uint64
	if rows, src, err = readUvarint(src); err != nil {
		return nil, err
	}
	if rows > math.MaxInt32 {
		return nil, errCorrupt
	}
	st.Rows = int(rows)
	// Each column takes 42 bytes.
	nc, src, err := readCount(src, uint64(len(src))/42)
	if err != nil {
		return nil, err
	}
	st.Cols = st.Cols[:0]
	for range nc {
		var c ColumnStats
		var cnt uint64
		if cnt, src, err = readUvarint(src); err != nil {
			return nil, err
		}
		if cnt > rows {
			return nil, fmt.Errorf("column count %d exceeds %d rows", cnt, rows)
		}
		c.Count = int(cnt)
		var nn byte
		if nn, src, err = readByte(src); err != nil || nn > 1 {
			return nil, errCorrupt
		}
		c.NonNull = nn == 1
		if len(src) < 40 {
			return nil, errCorrupt
		}
		for _, f := range [...]*float64{&c.Min, &c.Max, &c.Sum, &c.First, &c.Last} {
			*f = math.Float64frombits(binary.LittleEndian.Uint64(src))
			src = src[8:]
		}
		st.Cols = append(st.Cols, c)
	}
	b.Stats = st
	return src, nil
}

// decodeBatchVector decodes one field vector of n values into v.
func decodeBatchVector(src []byte, v *Vector, n int) ([]byte, error) {
	typ, src, err := readByte(src)
	if err != nil {
		return nil, err
	}
	t := shard.ColType(typ)
	if t != shard.TypeInvalid && physOf(t) == physNone {
		return nil, fmt.Errorf("invalid type %d", typ)
	}
	v.Type = t
	if t == shard.TypeInvalid {
		if len(src) == 0 || src[0] != 1 {
			return nil, fmt.Errorf("a column of type 0 must be all NULL")
		}
	}
	if src, err = decodeVector(src, v, n); err != nil {
		return nil, err
	}
	if t == shard.TypeInvalid {
		for _, x := range v.Null {
			if !x {
				return nil, fmt.Errorf("a column of type 0 must be all NULL")
			}
		}
		if len(v.Null) == 0 {
			v.Null = nil // no value is NULL in an empty vector
		}
	}
	return src, nil
}
