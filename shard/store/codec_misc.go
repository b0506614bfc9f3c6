package store

import (
	"encoding/binary"
	"slices"
)

// AppendBools appends a bool stream (a bitmap).
func AppendBools(dst []byte, vals []bool) []byte {
	dst = append(dst, encBoolBitmap)
	dst = binary.AppendUvarint(dst, uint64(len(vals)))
	return appendBitmap(dst, vals)
}

// DecodeBools decodes a bool stream and appends the values to dst.
func DecodeBools(src []byte, dst []bool) ([]bool, []byte, error) {
	enc, src, err := readByte(src)
	if err != nil || enc != encBoolBitmap {
		return dst, nil, errCorrupt
	}
	n, src, err := readCount(src, maxDecodeValues)
	if err != nil {
		return dst, nil, err
	}
	if len(src) < (n+7)/8 {
		return dst, nil, errCorrupt
	}
	dst = slices.Grow(dst, n)
	return decodeBitmap(src, n, dst)
}

// AppendStrings appends a string stream: a dictionary of the distinct values
// in first-seen order, then runs of (dictionary index, run length).
func AppendStrings(dst []byte, vals []string) []byte {
	dst = append(dst, encStrDictRLE)
	dst = binary.AppendUvarint(dst, uint64(len(vals)))
	// Dictionary: linear probing over a small slice keeps the common
	// low-cardinality case allocation-light; a map takes over when large.
	var dict []string
	var index map[string]int
	lookup := func(s string) int {
		if index != nil {
			if i, ok := index[s]; ok {
				return i
			}
		} else {
			for i, d := range dict {
				if d == s {
					return i
				}
			}
		}
		dict = append(dict, s)
		if index == nil && len(dict) > 16 {
			index = make(map[string]int, 64)
			for i, d := range dict {
				index[d] = i
			}
		} else if index != nil {
			index[s] = len(dict) - 1
		}
		return len(dict) - 1
	}
	type run struct{ idx, n int }
	var runs []run
	for i, v := range vals {
		if i > 0 && v == vals[i-1] {
			runs[len(runs)-1].n++
			continue
		}
		runs = append(runs, run{lookup(v), 1})
	}
	dst = binary.AppendUvarint(dst, uint64(len(dict)))
	for _, d := range dict {
		dst = binary.AppendUvarint(dst, uint64(len(d)))
		dst = append(dst, d...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(runs)))
	for _, r := range runs {
		dst = binary.AppendUvarint(dst, uint64(r.idx))
		dst = binary.AppendUvarint(dst, uint64(r.n))
	}
	return dst
}

// DecodeStrings decodes a string stream and appends the values to dst. Each
// dictionary entry is allocated once; repeated values share it.
func DecodeStrings(src []byte, dst []string) ([]string, []byte, error) {
	enc, src, err := readByte(src)
	if err != nil || enc != encStrDictRLE {
		return dst, nil, errCorrupt
	}
	n, src, err := readCount(src, maxDecodeValues)
	if err != nil {
		return dst, nil, err
	}
	nd, src, err := readCount(src, uint64(len(src)))
	if err != nil {
		return dst, nil, err
	}
	if nd > n {
		return dst, nil, errCorrupt
	}
	// The dictionary is kept in the tail capacity of dst to avoid a
	// separate allocation: decode it into dst, then expand runs after it.
	start := len(dst)
	for range nd {
		var l uint64
		if l, src, err = readUvarint(src); err != nil {
			return dst[:start], nil, err
		}
		if l > uint64(len(src)) {
			return dst[:start], nil, errCorrupt
		}
		dst = append(dst, string(src[:l]))
		src = src[l:]
	}
	nr, src, err := readCount(src, uint64(n))
	if err != nil {
		return dst[:start], nil, err
	}
	// Values are appended after the dictionary, then moved down over it.
	dst = slices.Grow(dst, n)
	total := 0
	for range nr {
		var idx, rl uint64
		if idx, src, err = readUvarint(src); err != nil {
			return dst[:start], nil, err
		}
		if rl, src, err = readUvarint(src); err != nil {
			return dst[:start], nil, err
		}
		if idx >= uint64(nd) || rl == 0 || rl > uint64(n-total) {
			return dst[:start], nil, errCorrupt
		}
		d := dst[start+int(idx)]
		for range rl {
			dst = append(dst, d)
		}
		total += int(rl)
	}
	if total != n {
		return dst[:start], nil, errCorrupt
	}
	copy(dst[start:], dst[start+nd:])
	clear(dst[start+n:])
	return dst[:start+n], src, nil
}
