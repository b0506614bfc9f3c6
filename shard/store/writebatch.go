package store

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/longboatdb/longboat/shard"
)

// Encoded WriteBatch (the Raft entry payload), all integers uvarint unless
// noted:
//
//	version byte (WriteBatchVersion)
//	nTables
//	per table:
//	  tableID
//	  nFields, then per field: fieldID, type byte (shard.ColType)
//	  nSeries, then per series: nTags, then per tag: len, bytes
//	  nRows
//	  series indexes   int stream (AppendInts)
//	  times            time stream (AppendTimes)
//	  per field:       nullFlag byte (0|1), [NULL bitmap of nRows bits],
//	                   value stream of the non-NULL values (AppendFloats,
//	                   AppendInts, AppendBools or AppendStrings by type)

// AppendWriteBatch appends the encoding of wb to dst. wb must be valid (see
// validateWriteBatch); Apply rejects invalid batches anyway.
func AppendWriteBatch(dst []byte, wb *WriteBatch) []byte {
	dst = append(dst, WriteBatchVersion)
	dst = binary.AppendUvarint(dst, uint64(len(wb.Tables)))
	var ints []int64
	var fbuf []float64
	var ibuf []int64
	var bbuf []bool
	var sbuf []string
	for ti := range wb.Tables {
		t := &wb.Tables[ti]
		dst = binary.AppendUvarint(dst, uint64(t.TableID))
		dst = binary.AppendUvarint(dst, uint64(len(t.FieldIDs)))
		for i, id := range t.FieldIDs {
			dst = binary.AppendUvarint(dst, uint64(id))
			var typ shard.ColType
			if i < len(t.Fields) {
				typ = t.Fields[i].Type
			}
			dst = append(dst, byte(typ))
		}
		dst = binary.AppendUvarint(dst, uint64(len(t.Series)))
		for _, s := range t.Series {
			dst = appendTags(dst, s)
		}
		n := len(t.Times)
		dst = binary.AppendUvarint(dst, uint64(n))
		ints = ints[:0]
		for _, si := range t.SeriesIdx {
			ints = append(ints, int64(si))
		}
		dst = AppendInts(dst, ints)
		dst = AppendTimes(dst, t.Times)
		for fi := range t.FieldIDs {
			v := &t.Fields[fi]
			hasNull := v.Null != nil && slices.Contains(v.Null, true)
			if hasNull {
				dst = append(dst, 1)
				dst = appendBitmap(dst, v.Null)
			} else {
				dst = append(dst, 0)
			}
			switch physOf(v.Type) {
			case physF64:
				vals := v.F64
				if hasNull {
					fbuf = fbuf[:0]
					for i, x := range vals {
						if !v.Null[i] {
							fbuf = append(fbuf, x)
						}
					}
					vals = fbuf
				}
				dst = AppendFloats(dst, vals)
			case physI64:
				vals := v.I64
				if hasNull {
					ibuf = ibuf[:0]
					for i, x := range vals {
						if !v.Null[i] {
							ibuf = append(ibuf, x)
						}
					}
					vals = ibuf
				}
				dst = AppendInts(dst, vals)
			case physBool:
				vals := v.B
				if hasNull {
					bbuf = bbuf[:0]
					for i, x := range vals {
						if !v.Null[i] {
							bbuf = append(bbuf, x)
						}
					}
					vals = bbuf
				}
				dst = AppendBools(dst, vals)
			default:
				vals := v.Str
				if hasNull {
					sbuf = sbuf[:0]
					for i, x := range vals {
						if !v.Null[i] {
							sbuf = append(sbuf, x)
						}
					}
					vals = sbuf
				}
				dst = AppendStrings(dst, vals)
			}
		}
	}
	return dst
}

// DecodeWriteBatch decodes src into wb, reusing wb's slices. Every count,
// length, index and type is validated; garbage yields an error, never a
// panic. On error wb's contents are unspecified.
func DecodeWriteBatch(src []byte, wb *WriteBatch) error {
	if err := decodeWriteBatch(src, wb); err != nil {
		return fmt.Errorf("longboat/store: cannot decode write batch (%d bytes): %w", len(src), err)
	}
	return nil
}

func decodeWriteBatch(src []byte, wb *WriteBatch) error {
	ver, src, err := readByte(src)
	if err != nil {
		return err
	}
	if ver != WriteBatchVersion {
		return fmt.Errorf("unknown version %d", ver)
	}
	nt, src, err := readCount(src, uint64(len(src)))
	if err != nil {
		return err
	}
	if cap(wb.Tables) >= nt {
		wb.Tables = wb.Tables[:nt]
	} else {
		wb.Tables = append(wb.Tables[:cap(wb.Tables)], make([]TableRows, nt-cap(wb.Tables))...)
	}
	var ints []int64
	for ti := range nt {
		t := &wb.Tables[ti]
		var id uint64
		if id, src, err = readUvarint(src); err != nil {
			return err
		}
		if id > 1<<32-1 {
			return errCorrupt
		}
		t.TableID = uint32(id)
		var nf int
		if nf, src, err = readCount(src, uint64(len(src))/2); err != nil {
			return err
		}
		t.FieldIDs = t.FieldIDs[:0]
		if cap(t.Fields) >= nf {
			t.Fields = t.Fields[:nf]
		} else {
			t.Fields = append(t.Fields[:cap(t.Fields)], make([]Vector, nf-cap(t.Fields))...)
		}
		for fi := range nf {
			var fid uint64
			if fid, src, err = readUvarint(src); err != nil {
				return err
			}
			if fid > 1<<16-1 {
				return errCorrupt
			}
			var typ byte
			if typ, src, err = readByte(src); err != nil {
				return err
			}
			if physOf(shard.ColType(typ)) == physNone {
				return fmt.Errorf("field %d: invalid type %d", fid, typ)
			}
			t.FieldIDs = append(t.FieldIDs, uint16(fid))
			t.Fields[fi].Type = shard.ColType(typ)
		}
		var ns int
		if ns, src, err = readCount(src, uint64(len(src))); err != nil {
			return err
		}
		if cap(t.Series) >= ns {
			t.Series = t.Series[:ns]
		} else {
			t.Series = append(t.Series[:cap(t.Series)], make([][]string, ns-cap(t.Series))...)
		}
		for si := range ns {
			if t.Series[si], src, err = decodeTags(src, t.Series[si][:0]); err != nil {
				return err
			}
		}
		var nr int
		if nr, src, err = readCount(src, maxWriteRows); err != nil {
			return err
		}
		if ints, src, err = DecodeInts(src, ints[:0]); err != nil {
			return err
		}
		if len(ints) != nr {
			return errCorrupt
		}
		t.SeriesIdx = t.SeriesIdx[:0]
		for _, v := range ints {
			if v < 0 || v >= int64(ns) {
				return fmt.Errorf("series index %d out of range [0,%d)", v, ns)
			}
			t.SeriesIdx = append(t.SeriesIdx, uint32(v))
		}
		if t.Times, src, err = DecodeTimes(src, t.Times[:0]); err != nil {
			return err
		}
		if len(t.Times) != nr {
			return errCorrupt
		}
		for fi := range nf {
			if src, err = decodeVector(src, &t.Fields[fi], nr); err != nil {
				return fmt.Errorf("field %d: %w", t.FieldIDs[fi], err)
			}
		}
	}
	if len(src) != 0 {
		return fmt.Errorf("%d trailing bytes", len(src))
	}
	return validateWriteBatch(wb)
}

// decodeVector decodes one field of n rows into v (whose Type is set).
func decodeVector(src []byte, v *Vector, n int) ([]byte, error) {
	flag, src, err := readByte(src)
	if err != nil || flag > 1 {
		return nil, errCorrupt
	}
	nn := n
	null := v.Null[:0]
	v.Null = nil
	if flag == 1 {
		if null, src, err = decodeBitmap(src, n, null); err != nil {
			return nil, err
		}
		nn = 0
		for _, x := range null {
			if !x {
				nn++
			}
		}
		v.Null = null
	}
	p := physOf(v.Type)
	check := func(got int) error {
		if got != nn {
			return errCorrupt
		}
		return nil
	}
	// Keep only the slice of the vector's type (Len relies on it).
	f64, i64, b, str := v.F64, v.I64, v.B, v.Str
	v.F64, v.I64, v.B, v.Str = nil, nil, nil, nil
	switch p {
	case physF64:
		if f64, src, err = DecodeFloats(src, f64[:0]); err == nil {
			err = check(len(f64))
		}
		if err == nil && v.Null != nil {
			f64 = spread(f64, 0, v.Null)
		}
		v.F64 = nonNil(f64)
	case physI64:
		if i64, src, err = DecodeInts(src, i64[:0]); err == nil {
			err = check(len(i64))
		}
		if err == nil && v.Null != nil {
			i64 = spread(i64, 0, v.Null)
		}
		v.I64 = nonNil(i64)
	case physBool:
		if b, src, err = DecodeBools(src, b[:0]); err == nil {
			err = check(len(b))
		}
		if err == nil && v.Null != nil {
			b = spread(b, 0, v.Null)
		}
		v.B = nonNil(b)
	case physStr:
		if str, src, err = DecodeStrings(src, str[:0]); err == nil {
			err = check(len(str))
		}
		if err == nil && v.Null != nil {
			str = spread(str, 0, v.Null)
		}
		v.Str = nonNil(str)
	}
	if err != nil {
		return nil, err
	}
	return src, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// validateWriteBatch checks the shape of wb (lengths, indexes, types).
func validateWriteBatch(wb *WriteBatch) error {
	for ti := range wb.Tables {
		t := &wb.Tables[ti]
		n := len(t.Times)
		if n > MaxWriteBatchRows {
			return fmt.Errorf("longboat/store: table %d: %d rows exceed the limit %d", t.TableID, n, MaxWriteBatchRows)
		}
		if len(t.SeriesIdx) != n {
			return fmt.Errorf("longboat/store: table %d: %d series indexes for %d rows", t.TableID, len(t.SeriesIdx), n)
		}
		if len(t.Fields) != len(t.FieldIDs) {
			return fmt.Errorf("longboat/store: table %d: %d fields for %d field IDs", t.TableID, len(t.Fields), len(t.FieldIDs))
		}
		for _, si := range t.SeriesIdx {
			if int(si) >= len(t.Series) {
				return fmt.Errorf("longboat/store: table %d: series index %d out of range [0,%d)", t.TableID, si, len(t.Series))
			}
		}
		for fi := range t.Fields {
			v := &t.Fields[fi]
			for fj := range fi {
				if t.FieldIDs[fj] == t.FieldIDs[fi] {
					return fmt.Errorf("longboat/store: table %d: duplicate field %d", t.TableID, t.FieldIDs[fi])
				}
			}
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
				return fmt.Errorf("longboat/store: table %d field %d: invalid type %d", t.TableID, t.FieldIDs[fi], v.Type)
			}
			if l != n || (v.Null != nil && len(v.Null) != n) {
				return fmt.Errorf("longboat/store: table %d field %d: %d values for %d rows", t.TableID, t.FieldIDs[fi], l, n)
			}
		}
	}
	return nil
}
