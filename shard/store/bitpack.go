package store

import (
	"encoding/binary"
	"math/bits"
)

// packedLen is the number of bytes of n values of width bits.
func packedLen(n int, width uint) int {
	return int((uint64(n)*uint64(width) + 7) / 8)
}

// bitWidth returns the number of bits needed for v.
func bitWidth(v uint64) uint { return uint(bits.Len64(v)) }

// appendPacked appends vals bit-packed LSB-first, width bits each (0..64).
// Every value must be < 1<<width.
func appendPacked(dst []byte, vals []uint64, width uint) []byte {
	if width == 0 {
		return dst
	}
	var acc uint64
	var n uint // bits held in acc, < 64
	for _, v := range vals {
		acc |= v << n
		if n+width >= 64 {
			dst = binary.LittleEndian.AppendUint64(dst, acc)
			acc = v >> (64 - n) // n == 0 gives v>>64 == 0
			n = n + width - 64
		} else {
			n += width
		}
	}
	for n > 0 {
		dst = append(dst, byte(acc))
		acc >>= 8
		n = n - min(n, 8)
	}
	return dst
}

// unpack decodes len(dst) values of width bits from src, which must hold at
// least packedLen(len(dst), width) bytes (checked by the caller).
func unpack(src []byte, dst []uint64, width uint) {
	if width == 0 {
		clear(dst)
		return
	}
	if width == 64 {
		for i := range dst {
			dst[i] = binary.LittleEndian.Uint64(src[i*8:])
		}
		return
	}
	mask := uint64(1)<<width - 1
	i := 0
	if width <= 56 {
		// Fast path: one unaligned 8-byte load per value while 8 bytes remain.
		for ; i < len(dst); i++ {
			bit := uint64(i) * uint64(width)
			off := bit >> 3
			if off+8 > uint64(len(src)) {
				break
			}
			dst[i] = binary.LittleEndian.Uint64(src[off:]) >> (bit & 7) & mask
		}
	}
	for ; i < len(dst); i++ {
		bit := uint64(i) * uint64(width)
		var v uint64
		for got := uint(0); got < width; {
			off := (bit + uint64(got)) >> 3
			sh := uint((bit + uint64(got)) & 7)
			take := min(8-sh, width-got)
			b := uint64(src[off]>>sh) & (1<<take - 1)
			v |= b << got
			got += take
		}
		dst[i] = v
	}
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// appendBitmap appends a bitmap of b (bit set = true), LSB-first.
func appendBitmap(dst []byte, b []bool) []byte {
	var cur byte
	for i, v := range b {
		if v {
			cur |= 1 << (i & 7)
		}
		if i&7 == 7 {
			dst = append(dst, cur)
			cur = 0
		}
	}
	if len(b)&7 != 0 {
		dst = append(dst, cur)
	}
	return dst
}

// decodeBitmap appends n bools from a bitmap to dst.
func decodeBitmap(src []byte, n int, dst []bool) ([]bool, []byte, error) {
	l := (n + 7) / 8
	if len(src) < l {
		return dst, nil, errCorrupt
	}
	for i := range n {
		dst = append(dst, src[i>>3]&(1<<(i&7)) != 0)
	}
	return dst, src[l:], nil
}
