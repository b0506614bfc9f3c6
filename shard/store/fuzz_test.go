package store

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/longboatdb/longboat/shard"
)

func seedStreams(f *testing.F, enc func(*rand.Rand) []byte) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 16 {
		f.Add(enc(rng))
	}
	f.Add([]byte{})
	f.Add([]byte{0x12, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x40})
}

func FuzzDecodeInts(f *testing.F) {
	seedStreams(f, func(r *rand.Rand) []byte { return AppendInts(nil, genInts(r, r.IntN(50))) })
	f.Fuzz(func(t *testing.T, src []byte) {
		v, rest, err := DecodeInts(src, nil)
		if err != nil {
			return
		}
		// A decoded stream re-encodes to something that decodes the same.
		v2, _, err := DecodeInts(AppendInts(nil, v), nil)
		if err != nil || !slices.Equal(v, v2) || len(rest) > len(src) {
			t.Fatalf("re-encode mismatch: %v", err)
		}
	})
}

func FuzzDecodeTimes(f *testing.F) {
	seedStreams(f, func(r *rand.Rand) []byte { return AppendTimes(nil, genTimes(r, r.IntN(50))) })
	f.Fuzz(func(t *testing.T, src []byte) {
		v, _, err := DecodeTimes(src, nil)
		if err != nil {
			return
		}
		v2, _, err := DecodeTimes(AppendTimes(nil, v), nil)
		if err != nil || !slices.Equal(v, v2) {
			t.Fatalf("re-encode mismatch: %v", err)
		}
	})
}

func FuzzDecodeFloats(f *testing.F) {
	seedStreams(f, func(r *rand.Rand) []byte { return AppendFloats(nil, genFloats(r, r.IntN(50))) })
	f.Fuzz(func(t *testing.T, src []byte) {
		v, _, err := DecodeFloats(src, nil)
		if err != nil {
			return
		}
		v2, _, err := DecodeFloats(AppendFloats(nil, v), nil)
		if err != nil || !sameFloats(v, v2) {
			t.Fatalf("re-encode mismatch: %v", err)
		}
	})
}

func FuzzDecodeStrings(f *testing.F) {
	seedStreams(f, func(r *rand.Rand) []byte {
		s := make([]string, r.IntN(20))
		for i := range s {
			s[i] = string(rune('a' + r.IntN(3)))
		}
		return AppendStrings(nil, s)
	})
	f.Fuzz(func(t *testing.T, src []byte) {
		v, _, err := DecodeStrings(src, nil)
		if err != nil {
			return
		}
		v2, _, err := DecodeStrings(AppendStrings(nil, v), nil)
		if err != nil || !slices.Equal(v, v2) {
			t.Fatalf("re-encode mismatch: %v", err)
		}
	})
}

func FuzzDecodeBools(f *testing.F) {
	seedStreams(f, func(r *rand.Rand) []byte {
		b := make([]bool, r.IntN(40))
		for i := range b {
			b[i] = r.IntN(2) == 0
		}
		return AppendBools(nil, b)
	})
	f.Fuzz(func(t *testing.T, src []byte) {
		v, _, err := DecodeBools(src, nil)
		if err != nil {
			return
		}
		v2, _, err := DecodeBools(AppendBools(nil, v), nil)
		if err != nil || !slices.Equal(v, v2) {
			t.Fatalf("re-encode mismatch: %v", err)
		}
	})
}

// randomCol builds a column of n rows of type typ with some NULLs.
func randomCol(r *rand.Rand, typ shard.ColType, n int) colVec {
	c := colVec{typ: typ}
	for i := range n {
		if r.IntN(5) == 0 {
			c.appendNulls(1)
			continue
		}
		switch physOf(typ) {
		case physF64:
			c.f64 = append(c.f64, float64(r.IntN(101)))
		case physI64:
			c.i64 = append(c.i64, r.Int64N(1000))
		case physBool:
			c.b = append(c.b, r.IntN(2) == 0)
		case physStr:
			c.str = append(c.str, string(rune('a'+i%3)))
		}
		if c.hasNulls {
			c.nulls = append(c.nulls, false)
		}
	}
	return c
}

func FuzzDecodeBlock(f *testing.F) {
	rng := rand.New(rand.NewPCG(13, 14))
	var e blockEncoder
	for _, typ := range []shard.ColType{shard.TypeFloat8, shard.TypeInt8, shard.TypeBool, shard.TypeText} {
		n := 1 + rng.IntN(30)
		ts := make([]int64, n)
		for i := range ts {
			ts[i] = int64(i) * 10
		}
		c := randomCol(rng, typ, n)
		f.Add(e.appendFieldBlock(nil, &c, ts, 0, n))
		f.Add(e.appendTimeBlock(nil, ts))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		_, _, _ = decodeTimeBlock(src, nil)
		var c colVec
		h, err := decodeFieldBlock(src, &c)
		if err == nil && c.len() != h.count {
			t.Fatalf("decoded %d rows, header says %d", c.len(), h.count)
		}
		if err == nil && c.hasNulls && len(c.nulls) != h.count {
			t.Fatalf("null bitmap length %d, rows %d", len(c.nulls), h.count)
		}
	})
}

func FuzzDecodeWriteBatch(f *testing.F) {
	for _, wb := range tsbsBatchesN(3, 3) {
		f.Add(AppendWriteBatch(nil, wb))
	}
	f.Add(AppendWriteBatch(nil, mixedBatch()))
	f.Add([]byte{WriteBatchVersion, 1, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, src []byte) {
		var wb WriteBatch
		if err := DecodeWriteBatch(src, &wb); err != nil {
			return
		}
		if err := validateWriteBatch(&wb); err != nil {
			t.Fatalf("decoded batch is invalid: %v", err)
		}
		var wb2 WriteBatch
		if err := DecodeWriteBatch(AppendWriteBatch(nil, &wb), &wb2); err != nil {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
	})
}
