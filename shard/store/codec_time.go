package store

import (
	"encoding/binary"
	"slices"
	"unsafe"
)

// AppendTimes appends a timestamp stream: constant delta when the series is
// perfectly regular, else delta-of-delta, zigzag-free frame-of-reference
// bit-packed (dod - minDod). Timestamps need not be sorted.
func AppendTimes(dst []byte, ts []int64) []byte {
	return appendTimesScratch(dst, ts, nil)
}

func appendTimesScratch(dst []byte, ts []int64, scratch *[]uint64) []byte {
	n := len(ts)
	if n <= 2 {
		dst = append(dst, encTimeConstDelta)
		dst = binary.AppendUvarint(dst, uint64(n))
		var first, delta int64
		if n > 0 {
			first = ts[0]
		}
		if n > 1 {
			delta = ts[1] - ts[0]
		}
		dst = binary.AppendVarint(dst, first)
		return binary.AppendVarint(dst, delta)
	}
	d0 := ts[1] - ts[0]
	lo, hi := int64(0), int64(0)
	prev := d0
	for i := 2; i < n; i++ {
		d := ts[i] - ts[i-1]
		dd := d - prev
		prev = d
		if i == 2 {
			lo, hi = dd, dd
		} else {
			lo = min(lo, dd)
			hi = max(hi, dd)
		}
	}
	if lo == 0 && hi == 0 {
		dst = append(dst, encTimeConstDelta)
		dst = binary.AppendUvarint(dst, uint64(n))
		dst = binary.AppendVarint(dst, ts[0])
		return binary.AppendVarint(dst, d0)
	}
	dst = append(dst, encTimeDoD)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.AppendVarint(dst, ts[0])
	dst = binary.AppendVarint(dst, d0)
	dst = binary.AppendVarint(dst, lo)
	w := bitWidth(uint64(hi - lo))
	dst = append(dst, byte(w))
	var buf []uint64
	if scratch != nil {
		buf = (*scratch)[:0]
	}
	buf = slices.Grow(buf, n-2)
	prev = d0
	for i := 2; i < n; i++ {
		d := ts[i] - ts[i-1]
		buf = append(buf, uint64(d-prev-lo))
		prev = d
	}
	dst = appendPacked(dst, buf, w)
	if scratch != nil {
		*scratch = buf
	}
	return dst
}

// DecodeTimes decodes a timestamp stream and appends it to dst.
func DecodeTimes(src []byte, dst []int64) ([]int64, []byte, error) {
	enc, src, err := readByte(src)
	if err != nil {
		return dst, nil, err
	}
	n, src, err := readCount(src, maxDecodeValues)
	if err != nil {
		return dst, nil, err
	}
	first, src, err := readVarint(src)
	if err != nil {
		return dst, nil, err
	}
	d0, src, err := readVarint(src)
	if err != nil {
		return dst, nil, err
	}
	start := len(dst)
	switch enc {
	case encTimeConstDelta:
		dst = slices.Grow(dst, n)
		t := first
		for range n {
			dst = append(dst, t)
			t += d0
		}
		return dst, src, nil
	case encTimeDoD:
		if n < 3 {
			return dst, nil, errCorrupt
		}
		lo, rest, err := readVarint(src)
		if err != nil {
			return dst, nil, err
		}
		w, rest, err := readByte(rest)
		if err != nil || w > 64 {
			return dst, nil, errCorrupt
		}
		l := packedLen(n-2, uint(w))
		if len(rest) < l {
			return dst, nil, errCorrupt
		}
		dst = slices.Grow(dst, n)[:start+n]
		out := dst[start:]
		u := unsafe.Slice((*uint64)(unsafe.Pointer(&out[0])), n)
		unpack(rest[:l], u[2:], uint(w))
		out[0] = first
		out[1] = first + d0
		d := d0
		t := out[1]
		for i := 2; i < n; i++ {
			d += int64(u[i]) + lo
			t += d
			out[i] = t
		}
		return dst, rest[l:], nil
	}
	return dst, nil, errCorrupt
}
