package store

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Value generators covering the encodings' edge cases.
func genInts(rng *rand.Rand, n int) []int64 {
	v := make([]int64, n)
	switch rng.IntN(7) {
	case 0: // constant
		c := rng.Int64()
		for i := range v {
			v[i] = c
		}
	case 1: // small range
		for i := range v {
			v[i] = rng.Int64N(101)
		}
	case 2: // counter
		x := rng.Int64N(1 << 40)
		for i := range v {
			x += rng.Int64N(5)
			v[i] = x
		}
	case 3: // extremes (wrapping arithmetic)
		for i := range v {
			v[i] = []int64{math.MinInt64, math.MaxInt64, 0, -1, 1}[rng.IntN(5)]
		}
	case 4: // full random
		for i := range v {
			v[i] = int64(rng.Uint64())
		}
	case 5: // negative drift
		x := int64(0)
		for i := range v {
			x -= rng.Int64N(1000)
			v[i] = x
		}
	default:
		for i := range v {
			v[i] = rng.Int64N(1<<20) - 1<<19
		}
	}
	return v
}

func genTimes(rng *rand.Rand, n int) []int64 {
	v := make([]int64, n)
	t := rng.Int64N(1<<50) - 1<<49
	step := rng.Int64N(20_000_000) + 1
	mode := rng.IntN(4)
	for i := range v {
		switch mode {
		case 0:
			t += step
		case 1:
			t += step + rng.Int64N(1000) - 500
		case 2:
			t += rng.Int64N(1 << 30)
		default:
			t = int64(rng.Uint64()) // unsorted garbage must round-trip too
		}
		v[i] = t
	}
	return v
}

func genFloats(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	switch rng.IntN(6) {
	case 0:
		c := rng.Float64()
		for i := range v {
			v[i] = c
		}
	case 1:
		for i := range v {
			v[i] = float64(rng.IntN(101))
		}
	case 2:
		x := 50.0
		for i := range v {
			x += rng.NormFloat64()
			v[i] = math.Round(x*100) / 100
		}
	case 3:
		for i := range v {
			v[i] = []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -5, 1 << 53, math.SmallestNonzeroFloat64}[rng.IntN(9)]
		}
	case 4:
		for i := range v {
			v[i] = math.Float64frombits(rng.Uint64())
		}
	default:
		for i := range v {
			v[i] = float64(rng.Int64N(1<<60) - 1<<59)
		}
	}
	return v
}

func genLen(rng *rand.Rand) int {
	switch rng.IntN(4) {
	case 0:
		return rng.IntN(4)
	case 1:
		return rng.IntN(70)
	default:
		return rng.IntN(3000)
	}
}

func TestIntsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 2000 {
		v := genInts(rng, genLen(rng))
		prefix := []byte("prefix")
		enc := AppendInts(slices.Clone(prefix), v)
		if !bytes.HasPrefix(enc, prefix) {
			t.Fatal("prefix clobbered")
		}
		pre := []int64{42}
		got, rest, err := DecodeInts(append(enc[len(prefix):], 0xAA), pre)
		if err != nil {
			t.Fatalf("decode %v: %v", v, err)
		}
		if !bytes.Equal(rest, []byte{0xAA}) || got[0] != 42 || !slices.Equal(got[1:], v) {
			t.Fatalf("round trip mismatch for %v: got %v", v, got)
		}
	}
}

func TestTimesRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for range 2000 {
		v := genTimes(rng, genLen(rng))
		enc := AppendTimes([]byte{1, 2, 3}, v)
		if !bytes.Equal(enc[:3], []byte{1, 2, 3}) {
			t.Fatal("prefix clobbered")
		}
		got, rest, err := DecodeTimes(append(enc[3:], 7), []int64{-1})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rest, []byte{7}) || got[0] != -1 || !slices.Equal(got[1:], v) {
			t.Fatalf("mismatch")
		}
	}
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func TestFloatsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for range 2000 {
		v := genFloats(rng, genLen(rng))
		enc := AppendFloats([]byte{9}, v)
		if enc[0] != 9 {
			t.Fatal("prefix clobbered")
		}
		got, rest, err := DecodeFloats(append(enc[1:], 5), []float64{1.5})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rest, []byte{5}) || got[0] != 1.5 || !sameFloats(got[1:], v) {
			t.Fatalf("mismatch for %v", v)
		}
	}
}

func TestFloatEncodingChoice(t *testing.T) {
	tsbs := make([]float64, 1024)
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range tsbs {
		tsbs[i] = float64(rng.IntN(101))
	}
	enc := AppendFloats(nil, tsbs)
	if enc[0] != encFloatInt || len(enc) > 1024*7/8+16 {
		t.Fatalf("TSBS block: encoding %#x, %d bytes", enc[0], len(enc))
	}
	if enc := AppendFloats(nil, []float64{3, 3, 3}); enc[0] != encFloatConst {
		t.Fatalf("const: %#x", enc[0])
	}
	if enc := AppendFloats(nil, []float64{0.5, 1.25}); enc[0] != encFloatGorilla {
		t.Fatalf("gorilla: %#x", enc[0])
	}
	// -0 is not integral for our purposes: its sign must survive.
	if enc := AppendFloats(nil, []float64{1, math.Copysign(0, -1)}); enc[0] != encFloatGorilla {
		t.Fatalf("-0: %#x", enc[0])
	}
}

func TestBoolsStringsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 1000 {
		n := genLen(rng)
		b := make([]bool, n)
		s := make([]string, n)
		card := rng.IntN(40) + 1
		for i := range n {
			b[i] = rng.IntN(3) == 0
			if rng.IntN(4) == 0 && i > 0 {
				s[i] = s[i-1]
			} else {
				s[i] = string(rune('a'+rng.IntN(card))) + []string{"", "x", "héllo"}[rng.IntN(3)]
			}
		}
		enc := AppendBools([]byte("p"), b)
		gb, rest, err := DecodeBools(append(enc[1:], 1), []bool{true})
		if err != nil || enc[0] != 'p' || !bytes.Equal(rest, []byte{1}) || !gb[0] || !slices.Equal(gb[1:], b) {
			t.Fatalf("bools: %v", err)
		}
		enc = AppendStrings([]byte("p"), s)
		gs, rest, err := DecodeStrings(append(enc[1:], 1), []string{"keep"})
		if err != nil || enc[0] != 'p' || !bytes.Equal(rest, []byte{1}) || gs[0] != "keep" || !slices.Equal(gs[1:], s) {
			t.Fatalf("strings: %v %q vs %q", err, gs, s)
		}
	}
}

func TestBitPack(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for w := uint(0); w <= 64; w++ {
		for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 1000} {
			v := make([]uint64, n)
			for i := range v {
				v[i] = rng.Uint64()
				if w < 64 {
					v[i] &= 1<<w - 1
				}
			}
			enc := appendPacked([]byte{0xEE}, v, w)
			if len(enc)-1 != packedLen(n, w) || enc[0] != 0xEE {
				t.Fatalf("w=%d n=%d: len %d want %d", w, n, len(enc)-1, packedLen(n, w))
			}
			got := make([]uint64, n)
			unpack(enc[1:], got, w)
			if !slices.Equal(got, v) {
				t.Fatalf("w=%d n=%d mismatch", w, n)
			}
		}
	}
}

func TestDecodersRejectTruncation(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	encs := [][]byte{
		AppendInts(nil, genInts(rng, 100)),
		AppendTimes(nil, genTimes(rng, 100)),
		AppendFloats(nil, genFloats(rng, 100)),
		AppendStrings(nil, []string{"a", "b", "b", "c"}),
		AppendBools(nil, []bool{true, false, true}),
	}
	for _, enc := range encs {
		for cut := 0; cut < len(enc); cut++ {
			src := enc[:cut]
			// Must not panic; most cuts must fail.
			_, _, _ = DecodeInts(src, nil)
			_, _, _ = DecodeTimes(src, nil)
			_, _, _ = DecodeFloats(src, nil)
			_, _, _ = DecodeStrings(src, nil)
			_, _, _ = DecodeBools(src, nil)
		}
	}
	if _, _, err := DecodeInts(AppendInts(nil, []int64{1, 5, 9, 100})[:4], nil); err == nil {
		t.Fatal("truncated int stream decoded")
	}
}

func TestDecodeNoAllocSteadyState(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	fenc := AppendFloats(nil, genFloats(rng, 1000))
	ienc := AppendInts(nil, genInts(rng, 1000))
	tenc := AppendTimes(nil, genTimes(rng, 1000))
	fdst := make([]float64, 0, 1000)
	idst := make([]int64, 0, 1000)
	allocs := testing.AllocsPerRun(20, func() {
		fdst, _, _ = DecodeFloats(fenc, fdst[:0])
		idst, _, _ = DecodeInts(ienc, idst[:0])
		idst, _, _ = DecodeTimes(tenc, idst[:0])
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per decode", allocs)
	}
}
