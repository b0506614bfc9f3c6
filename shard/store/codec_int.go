package store

import (
	"encoding/binary"
	"slices"
	"unsafe"
)

// AppendInts appends an int64 stream to dst: the smallest of constant,
// frame-of-reference bit-packing (v - min) and delta bit-packing
// (delta - minDelta). Arithmetic wraps, so every int64 round-trips.
func AppendInts(dst []byte, vals []int64) []byte {
	return appendIntsScratch(dst, vals, nil)
}

// appendIntsScratch is AppendInts with a caller-owned scratch buffer.
func appendIntsScratch(dst []byte, vals []int64, scratch *[]uint64) []byte {
	n := len(vals)
	if n == 0 {
		dst = append(dst, encIntConst)
		dst = binary.AppendUvarint(dst, 0)
		return binary.AppendVarint(dst, 0)
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals[1:] {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if lo == hi {
		dst = append(dst, encIntConst)
		dst = binary.AppendUvarint(dst, uint64(n))
		return binary.AppendVarint(dst, lo)
	}
	forWidth := bitWidth(uint64(hi - lo))
	// Delta candidate.
	dlo, dhi := int64(0), int64(0)
	if n > 1 {
		dlo = vals[1] - vals[0]
		dhi = dlo
		for i := 2; i < n; i++ {
			d := vals[i] - vals[i-1]
			dlo = min(dlo, d)
			dhi = max(dhi, d)
		}
	}
	// Deltas may overflow; only use them when their range is sane.
	deltaWidth := uint(65)
	if n > 1 && !(dlo < 0 && dhi > 0 && dhi-dlo < 0) {
		deltaWidth = bitWidth(uint64(dhi - dlo))
	}
	var buf []uint64
	if scratch != nil {
		buf = (*scratch)[:0]
	}
	buf = slices.Grow(buf, n)[:0]
	// Compare payload bits; the delta form stores n-1 values plus ~10 bytes.
	if deltaWidth <= 64 && uint64(deltaWidth)*uint64(n-1)+80 < uint64(forWidth)*uint64(n) {
		dst = append(dst, encIntDelta)
		dst = binary.AppendUvarint(dst, uint64(n))
		dst = binary.AppendVarint(dst, vals[0])
		dst = binary.AppendVarint(dst, dlo)
		dst = append(dst, byte(deltaWidth))
		for i := 1; i < n; i++ {
			buf = append(buf, uint64(vals[i]-vals[i-1]-dlo))
		}
		dst = appendPacked(dst, buf, deltaWidth)
	} else {
		dst = append(dst, encIntFOR)
		dst = binary.AppendUvarint(dst, uint64(n))
		dst = binary.AppendVarint(dst, lo)
		dst = append(dst, byte(forWidth))
		for _, v := range vals {
			buf = append(buf, uint64(v-lo))
		}
		dst = appendPacked(dst, buf, forWidth)
	}
	if scratch != nil {
		*scratch = buf
	}
	return dst
}

// DecodeInts decodes an int stream from src and appends the values to dst.
// It returns the extended dst and the rest of src.
func DecodeInts(src []byte, dst []int64) ([]int64, []byte, error) {
	enc, src, err := readByte(src)
	if err != nil {
		return dst, nil, err
	}
	n, src, err := readCount(src, maxDecodeValues)
	if err != nil {
		return dst, nil, err
	}
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	rest, err := fillInts(enc, src, dst[start:])
	if err != nil {
		return dst[:start], nil, err
	}
	return dst, rest, nil
}

// fillInts decodes exactly len(out) values of encoding enc.
func fillInts(enc byte, src []byte, out []int64) ([]byte, error) {
	n := len(out)
	switch enc {
	case encIntConst:
		v, rest, err := readVarint(src)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = v
		}
		return rest, nil
	case encIntFOR, encIntDelta:
		base, rest, err := readVarint(src)
		if err != nil {
			return nil, err
		}
		var dmin int64
		if enc == encIntDelta {
			if dmin, rest, err = readVarint(rest); err != nil {
				return nil, err
			}
		}
		w, rest, err := readByte(rest)
		if err != nil || w > 64 {
			return nil, errCorrupt
		}
		m := n
		if enc == encIntDelta {
			m = max(n-1, 0)
		}
		l := packedLen(m, uint(w))
		if len(rest) < l {
			return nil, errCorrupt
		}
		if n == 0 {
			return rest[l:], nil
		}
		u := unsafe.Slice((*uint64)(unsafe.Pointer(&out[0])), n)
		if enc == encIntFOR {
			unpack(rest[:l], u, uint(w))
			for i := range out {
				out[i] = int64(u[i]) + base
			}
			return rest[l:], nil
		}
		unpack(rest[:l], u[1:], uint(w))
		prev := base
		out[0] = base
		for i := 1; i < n; i++ {
			prev += int64(u[i]) + dmin
			out[i] = prev
		}
		return rest[l:], nil
	}
	return nil, errCorrupt
}
