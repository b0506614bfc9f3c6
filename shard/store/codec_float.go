package store

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"unsafe"
)

// maxExactInt bounds the integral floats stored as ints (|v| < 2^53 is exact).
const maxExactInt = 1 << 53

// AppendFloats appends a float64 stream: constant when all values have the
// same bits, an int stream when every value is a small integer (TSBS-style
// gauges pack to ~7 bits/value), else Gorilla XOR.
func AppendFloats(dst []byte, vals []float64) []byte {
	return appendFloatsScratch(dst, vals, nil)
}

func appendFloatsScratch(dst []byte, vals []float64, scratch *[]uint64) []byte {
	n := len(vals)
	if n == 0 {
		dst = append(dst, encFloatConst)
		dst = binary.AppendUvarint(dst, 0)
		return binary.LittleEndian.AppendUint64(dst, 0)
	}
	b0 := math.Float64bits(vals[0])
	allSame, integral := true, true
	for _, v := range vals {
		if math.Float64bits(v) != b0 {
			allSame = false
		}
		if integral {
			if !(v > -maxExactInt && v < maxExactInt) || math.Float64bits(float64(int64(v))) != math.Float64bits(v) {
				integral = false
			}
		}
		if !allSame && !integral {
			break
		}
	}
	if allSame {
		dst = append(dst, encFloatConst)
		dst = binary.AppendUvarint(dst, uint64(n))
		return binary.LittleEndian.AppendUint64(dst, b0)
	}
	if integral {
		var ints []int64
		if scratch != nil {
			buf := slices.Grow((*scratch)[:0], 2*n)
			*scratch = buf
			// Use the upper half of the scratch for the ints, the lower for packing.
			ints = unsafe.Slice((*int64)(unsafe.Pointer(&buf[:2*n][n])), n)
		} else {
			ints = make([]int64, n)
		}
		for i, v := range vals {
			ints[i] = int64(v)
		}
		dst = append(dst, encFloatInt)
		var s2 []uint64
		if scratch != nil {
			s2 = (*scratch)[:0]
		}
		return appendIntsScratch(dst, ints, &s2)
	}
	dst = append(dst, encFloatGorilla)
	dst = binary.AppendUvarint(dst, uint64(n))
	return appendGorilla(dst, vals)
}

// DecodeFloats decodes a float stream and appends the values to dst.
func DecodeFloats(src []byte, dst []float64) ([]float64, []byte, error) {
	enc, src, err := readByte(src)
	if err != nil {
		return dst, nil, err
	}
	if enc == encFloatInt {
		enc, src, err = readByte(src)
		if err != nil {
			return dst, nil, err
		}
		n, src, err := readCount(src, maxDecodeValues)
		if err != nil {
			return dst, nil, err
		}
		start := len(dst)
		dst = slices.Grow(dst, n)[:start+n]
		out := dst[start:]
		if n == 0 {
			rest, err := fillInts(enc, src, nil)
			return dst, rest, err
		}
		ints := unsafe.Slice((*int64)(unsafe.Pointer(&out[0])), n)
		rest, err := fillInts(enc, src, ints)
		if err != nil {
			return dst[:start], nil, err
		}
		for i := range out {
			out[i] = float64(ints[i])
		}
		return dst, rest, nil
	}
	n, src, err := readCount(src, maxDecodeValues)
	if err != nil {
		return dst, nil, err
	}
	switch enc {
	case encFloatConst:
		if len(src) < 8 {
			return dst, nil, errCorrupt
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(src))
		dst = slices.Grow(dst, n)
		for range n {
			dst = append(dst, v)
		}
		return dst, src[8:], nil
	case encFloatGorilla:
		return decodeGorilla(src, n, dst)
	}
	return dst, nil, errCorrupt
}

// bitWriter writes bits MSB-first.
type bitWriter struct {
	dst  []byte
	acc  uint64
	nacc uint // bits in acc (< 64 between calls)
}

func (w *bitWriter) write(v uint64, n uint) {
	if n == 0 {
		return
	}
	if n < 64 {
		v &= 1<<n - 1
	}
	free := 64 - w.nacc
	if n <= free {
		if n == 64 {
			w.acc = v
		} else {
			w.acc = w.acc<<n | v
		}
		w.nacc += n
		if w.nacc == 64 {
			w.dst = binary.BigEndian.AppendUint64(w.dst, w.acc)
			w.acc, w.nacc = 0, 0
		}
		return
	}
	// Split: high part fills acc.
	hi := n - free
	w.acc = w.acc<<free | v>>hi
	w.dst = binary.BigEndian.AppendUint64(w.dst, w.acc)
	w.acc = v & (1<<hi - 1)
	w.nacc = hi
}

func (w *bitWriter) flush() []byte {
	for w.nacc > 0 {
		take := min(w.nacc, 8)
		w.dst = append(w.dst, byte(w.acc>>(w.nacc-take))<<(8-take))
		w.nacc -= take
	}
	w.acc = 0
	return w.dst
}

// bitReader reads bits MSB-first; reads past the end set err.
type bitReader struct {
	src []byte
	pos uint64 // bit position
	bad bool
}

func (r *bitReader) read(n uint) uint64 {
	if n == 0 {
		return 0
	}
	end := r.pos + uint64(n)
	if end > uint64(len(r.src))*8 {
		r.bad = true
		return 0
	}
	off := r.pos >> 3
	sh := uint(r.pos & 7)
	var v uint64
	if off+8 <= uint64(len(r.src)) {
		v = binary.BigEndian.Uint64(r.src[off:]) << sh
		if n+sh > 64 {
			v |= uint64(r.src[off+8]) >> (8 - sh)
		}
	} else {
		var b [9]byte
		copy(b[:], r.src[off:])
		v = binary.BigEndian.Uint64(b[:])<<sh | uint64(b[8])>>(8-sh)
	}
	r.pos = end
	return v >> (64 - n)
}

func appendGorilla(dst []byte, vals []float64) []byte {
	w := bitWriter{dst: dst}
	prev := math.Float64bits(vals[0])
	w.write(prev, 64)
	prevLead, prevTrail := uint(65), uint(0)
	for _, f := range vals[1:] {
		cur := math.Float64bits(f)
		x := cur ^ prev
		prev = cur
		if x == 0 {
			w.write(0, 1)
			continue
		}
		lead := uint(bits.LeadingZeros64(x))
		trail := uint(bits.TrailingZeros64(x))
		if lead > 31 {
			lead = 31
		}
		if prevLead <= 64 && lead >= prevLead && trail >= prevTrail {
			w.write(0b10, 2)
			w.write(x>>prevTrail, 64-prevLead-prevTrail)
			continue
		}
		sig := 64 - lead - trail
		w.write(0b11, 2)
		w.write(uint64(lead), 5)
		w.write(uint64(sig&63), 6) // 64 is stored as 0
		w.write(x>>trail, sig)
		prevLead, prevTrail = lead, trail
	}
	return w.flush()
}

func decodeGorilla(src []byte, n int, dst []float64) ([]float64, []byte, error) {
	if n == 0 {
		return dst, src, nil
	}
	r := bitReader{src: src}
	start := len(dst)
	dst = slices.Grow(dst, n)
	prev := r.read(64)
	dst = append(dst, math.Float64frombits(prev))
	lead, trail := uint(65), uint(0)
	for i := 1; i < n && !r.bad; i++ {
		if r.read(1) == 0 {
			dst = append(dst, math.Float64frombits(prev))
			continue
		}
		if r.read(1) == 0 {
			if lead > 64 {
				return dst[:start], nil, errCorrupt
			}
			x := r.read(64-lead-trail) << trail
			prev ^= x
		} else {
			lead = uint(r.read(5))
			sig := uint(r.read(6))
			if sig == 0 {
				sig = 64
			}
			if lead+sig > 64 {
				return dst[:start], nil, errCorrupt
			}
			trail = 64 - lead - sig
			prev ^= r.read(sig) << trail
		}
		dst = append(dst, math.Float64frombits(prev))
	}
	if r.bad {
		return dst[:start], nil, errCorrupt
	}
	used := (r.pos + 7) / 8
	return dst, src[used:], nil
}
