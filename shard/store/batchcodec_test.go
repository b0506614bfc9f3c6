package store

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/longboatdb/longboat/shard"
)

var batchTypes = []shard.ColType{
	shard.TypeInvalid, shard.TypeTimestamptz, shard.TypeTimestamp, shard.TypeFloat8, shard.TypeFloat4,
	shard.TypeInt8, shard.TypeInt4, shard.TypeInt2, shard.TypeBool, shard.TypeText, shard.TypeVarchar,
	shard.TypeNumeric, shard.TypeDate,
}

// genSeriesBatch returns a random well-formed batch: points, stats or both.
func genSeriesBatch(rng *rand.Rand) *SeriesBatch {
	b := &SeriesBatch{SeriesID: rng.Uint64() >> rng.IntN(64)}
	for range rng.IntN(4) {
		b.Tags = append(b.Tags, []string{"", "host_1", "eu-west-1", "\xff\xfe", strings.Repeat("x", 300)}[rng.IntN(5)])
	}
	if rng.IntN(4) == 0 {
		st := &BlockStats{MinTime: rng.Int64() - math.MaxInt64/2, MaxTime: rng.Int64(), Rows: rng.IntN(5000)}
		for range rng.IntN(4) {
			c := ColumnStats{Count: rng.IntN(st.Rows + 1), NonNull: rng.IntN(2) == 0}
			c.Min, c.Max, c.Sum, c.First, c.Last = rng.NormFloat64(), math.Inf(1), math.NaN(), -0.0, rng.Float64()*1e300
			st.Cols = append(st.Cols, c)
		}
		b.Stats = st
		if rng.IntN(2) == 0 {
			return b
		}
	}
	n := genLen(rng)
	b.Times = genTimes(rng, n)
	if rng.IntN(3) == 0 {
		rev(b.Times)
	}
	for range rng.IntN(5) {
		v := Vector{Type: batchTypes[rng.IntN(len(batchTypes))]}
		switch physOf(v.Type) {
		case physF64:
			v.F64 = genFloats(rng, n)
			if v.Type == shard.TypeFloat4 {
				for i := range v.F64 {
					v.F64[i] = float64(float32(v.F64[i]))
				}
			}
		case physI64:
			v.I64 = genInts(rng, n)
		case physBool:
			v.B = make([]bool, n)
			for i := range v.B {
				v.B[i] = rng.IntN(2) == 0
			}
		case physStr:
			v.Str = make([]string, n)
			for i := range v.Str {
				v.Str[i] = fmt.Sprintf("v%d", rng.IntN(1+rng.IntN(100)))
			}
		}
		if v.Type == shard.TypeInvalid || rng.IntN(3) == 0 {
			v.Null = make([]bool, n)
			for i := range v.Null {
				v.Null[i] = v.Type == shard.TypeInvalid || rng.IntN(4) == 0
			}
		}
		b.Fields = append(b.Fields, v)
	}
	return b
}

// canonical is b as it decodes: zero values at NULL positions, non-nil
// value slices, nil Null when nothing is NULL, nil Times when empty.
func canonical(b *SeriesBatch) *SeriesBatch {
	c := &SeriesBatch{SeriesID: b.SeriesID, Tags: append([]string{}, b.Tags...), Stats: b.Stats}
	if len(b.Times) > 0 {
		c.Times = append([]int64(nil), b.Times...)
	}
	c.Fields = []Vector{}
	for _, v := range b.Fields {
		n := len(b.Times)
		w := Vector{Type: v.Type}
		hasNull := false
		for _, x := range v.Null {
			hasNull = hasNull || x
		}
		if v.Type == shard.TypeInvalid {
			if n > 0 {
				w.Null = make([]bool, n)
				for i := range w.Null {
					w.Null[i] = true
				}
			}
			c.Fields = append(c.Fields, w)
			continue
		}
		if hasNull {
			w.Null = append([]bool(nil), v.Null...)
		}
		null := func(i int) bool { return hasNull && v.Null[i] }
		switch physOf(v.Type) {
		case physF64:
			w.F64 = make([]float64, n)
			for i := range n {
				if !null(i) {
					w.F64[i] = v.F64[i]
				}
			}
		case physI64:
			w.I64 = make([]int64, n)
			for i := range n {
				if !null(i) {
					w.I64[i] = v.I64[i]
				}
			}
		case physBool:
			w.B = make([]bool, n)
			for i := range n {
				w.B[i] = !null(i) && v.B[i]
			}
		case physStr:
			w.Str = make([]string, n)
			for i := range n {
				if !null(i) {
					w.Str[i] = v.Str[i]
				}
			}
		}
		c.Fields = append(c.Fields, w)
	}
	return c
}

// sameBatch compares decoded batches; floats by bits (NaN, -0).
func sameBatch(a, b *SeriesBatch) bool {
	if a.SeriesID != b.SeriesID || !slices.Equal(a.Tags, b.Tags) || len(a.Times) != len(b.Times) || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Times {
		if a.Times[i] != b.Times[i] {
			return false
		}
	}
	if (a.Stats == nil) != (b.Stats == nil) {
		return false
	}
	if a.Stats != nil {
		x, y := a.Stats, b.Stats
		if x.MinTime != y.MinTime || x.MaxTime != y.MaxTime || x.Rows != y.Rows || len(x.Cols) != len(y.Cols) {
			return false
		}
		for i := range x.Cols {
			p, q := x.Cols[i], y.Cols[i]
			if p.Count != q.Count || p.NonNull != q.NonNull {
				return false
			}
			for _, f := range [][2]float64{{p.Min, q.Min}, {p.Max, q.Max}, {p.Sum, q.Sum}, {p.First, q.First}, {p.Last, q.Last}} {
				if math.Float64bits(f[0]) != math.Float64bits(f[1]) {
					return false
				}
			}
		}
	}
	for i := range a.Fields {
		v, w := a.Fields[i], b.Fields[i]
		// Empty and nil slices are the same; which value slice is used is not.
		if v.Type != w.Type || (v.I64 == nil) != (w.I64 == nil) || (v.B == nil) != (w.B == nil) ||
			(v.Str == nil) != (w.Str == nil) || (v.F64 == nil) != (w.F64 == nil) ||
			!slices.Equal(v.I64, w.I64) || !slices.Equal(v.B, w.B) || !slices.Equal(v.Str, w.Str) ||
			!slices.Equal(v.Null, w.Null) || len(v.F64) != len(w.F64) {
			return false
		}
		for j := range v.F64 {
			if math.Float64bits(v.F64[j]) != math.Float64bits(w.F64[j]) {
				return false
			}
		}
	}
	return true
}

func TestSeriesBatchRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var enc SeriesBatchEncoder
	var buf []byte
	var got SeriesBatch // reused: decoding must not depend on its old contents
	for i := range 2000 {
		b := genSeriesBatch(rng)
		if err := ValidateSeriesBatch(b); err != nil {
			t.Fatalf("case %d: generated batch invalid: %v", i, err)
		}
		// Several batches back to back, as in a scan chunk.
		buf = enc.Append(buf[:0], b)
		buf = enc.Append(buf, b)
		if one := AppendSeriesBatch(nil, b); string(one) != string(buf[:len(buf)/2]) {
			t.Fatalf("case %d: encoder with scratch differs from AppendSeriesBatch", i)
		}
		rest := buf
		for k := range 2 {
			var err error
			rest, err = DecodeSeriesBatch(rest, &got)
			if err != nil {
				t.Fatalf("case %d.%d: %v", i, k, err)
			}
			if want := canonical(b); !sameBatch(&got, want) {
				t.Fatalf("case %d.%d: round trip mismatch\n got %+v\nwant %+v", i, k, got, *want)
			}
		}
		if len(rest) != 0 {
			t.Fatalf("case %d: %d bytes left", i, len(rest))
		}
	}
}

func TestSeriesBatchDecodeRejectsTruncation(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for range 200 {
		b := genSeriesBatch(rng)
		enc := AppendSeriesBatch(nil, b)
		// Every prefix of small encodings; a sample (and the last bytes) of
		// large ones, to keep the test fast.
		lens := make([]int, 0, 80)
		for l := range len(enc) {
			if len(enc) <= 256 || l >= len(enc)-16 || rng.IntN(len(enc)) < 64 {
				lens = append(lens, l)
			}
		}
		for _, l := range lens {
			var got SeriesBatch
			if rest, err := DecodeSeriesBatch(enc[:l], &got); err == nil {
				t.Fatalf("decoded a %d-byte prefix of %d bytes (rest %d)", l, len(enc), len(rest))
			}
		}
	}
}

func TestValidateSeriesBatch(t *testing.T) {
	ok := &SeriesBatch{Times: []int64{1, 2}, Fields: []Vector{{Type: shard.TypeFloat8, F64: []float64{1, 2}}, {Type: shard.TypeInvalid, Null: []bool{true, true}}}}
	if err := ValidateSeriesBatch(ok); err != nil {
		t.Fatal(err)
	}
	bad := []*SeriesBatch{
		{Times: []int64{1, 2}, Fields: []Vector{{Type: shard.TypeFloat8, F64: []float64{1}}}},
		{Times: []int64{1, 2}, Fields: []Vector{{Type: shard.TypeInt8, I64: []int64{1, 2}, Null: []bool{true}}}},
		{Times: []int64{1}, Fields: []Vector{{Type: 200, F64: []float64{1}}}},
		{Times: make([]int64, MaxSeriesBatchRows+1)},
		{Times: make([]int64, 1<<16), Fields: make([]Vector, MaxSeriesBatchValues>>16+1)},
	}
	for i, b := range bad {
		if err := ValidateSeriesBatch(b); err == nil {
			t.Errorf("case %d: invalid batch accepted", i)
		}
	}
}

func TestSeriesBatchDecodeRejectsBadInput(t *testing.T) {
	base := AppendSeriesBatch(nil, &SeriesBatch{SeriesID: 7, Tags: []string{"a"}, Times: []int64{10, 20},
		Fields: []Vector{{Type: shard.TypeInvalid, Null: []bool{true, true}}}})
	cases := map[string][]byte{
		"version":           append([]byte{9}, base[1:]...),
		"flags":             append([]byte{SeriesBatchVersion, 0x80}, base[2:]...),
		"type 0 not null":   append(append([]byte{}, base[:len(base)-2]...), 0, 0),
		"type 0 some false": append(append([]byte{}, base[:len(base)-1]...), 0x01),
		"bad type":          append(append([]byte{}, base[:len(base)-3]...), 99, 0),
	}
	for name, src := range cases {
		var b SeriesBatch
		if _, err := DecodeSeriesBatch(src, &b); err == nil {
			t.Errorf("%s: accepted % x", name, src)
		}
	}
	var b SeriesBatch
	if _, err := DecodeSeriesBatch(base, &b); err != nil {
		t.Fatalf("base case: %v", err)
	}
}

func FuzzDecodeSeriesBatch(f *testing.F) {
	rng := rand.New(rand.NewPCG(25, 26))
	for range 32 {
		f.Add(AppendSeriesBatch(nil, genSeriesBatch(rng)))
	}
	f.Add([]byte{})
	f.Add([]byte{SeriesBatchVersion, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, src []byte) {
		var b SeriesBatch
		rest, err := DecodeSeriesBatch(src, &b)
		if err != nil {
			return
		}
		if len(rest) > len(src) {
			t.Fatalf("rest longer than input")
		}
		// A decoded batch is well formed and re-encodes to something that
		// decodes the same.
		if err := ValidateSeriesBatch(&b); err != nil {
			t.Fatalf("decoded batch invalid: %v", err)
		}
		var b2 SeriesBatch
		if _, err := DecodeSeriesBatch(AppendSeriesBatch(nil, &b), &b2); err != nil || !sameBatch(canonical(&b), &b2) {
			t.Fatalf("re-encode mismatch: %v", err)
		}
	})
}

// TestSeriesBatchGoldens pins the byte-exact encoding (testdata/seriesbatch).
// Regenerate with: go test ./shard/store -run SeriesBatchGoldens -rewrite
//
// Input: one line per part: "series <id> <tag>...", "times <t>...",
// "stats <min> <max> <rows>", "col <count> <nonnull> <min> <max> <sum> <first> <last>",
// "f64|i64|bool|str <type> <v>..." where a value "null" is NULL.
func TestSeriesBatchGoldens(t *testing.T) {
	datadriven.RunTest(t, "testdata/seriesbatch", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "batch" {
			t.Fatalf("unknown command %q", d.Cmd)
		}
		b := parseGoldenBatch(t, d.Input)
		enc := AppendSeriesBatch(nil, b)
		var got SeriesBatch
		if rest, err := DecodeSeriesBatch(enc, &got); err != nil || len(rest) != 0 || !sameBatch(&got, canonical(b)) {
			t.Fatalf("round trip failed: %v", err)
		}
		return fmt.Sprintf("%d bytes\n%s", len(enc), hexDump(enc))
	})
}

func parseGoldenBatch(t *testing.T, input string) *SeriesBatch {
	b := &SeriesBatch{}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, line := range strings.Split(strings.TrimSpace(input), "\n") {
		f := strings.Fields(line)
		switch f[0] {
		case "series":
			b.SeriesID = uint64(num(f[1]))
			b.Tags = f[2:]
		case "times":
			b.Times = parseInts(t, strings.Join(f[1:], " "))
		case "stats":
			b.Stats = &BlockStats{MinTime: int64(num(f[1])), MaxTime: int64(num(f[2])), Rows: int(num(f[3]))}
		case "col":
			b.Stats.Cols = append(b.Stats.Cols, ColumnStats{Count: int(num(f[1])), NonNull: f[2] == "t",
				Min: num(f[3]), Max: num(f[4]), Sum: num(f[5]), First: num(f[6]), Last: num(f[7])})
		case "f64", "i64", "bool", "str", "none":
			v := Vector{Type: shard.ColType(num(f[1]))}
			vals := f[2:]
			for i, s := range vals {
				if s == "null" {
					if v.Null == nil {
						v.Null = make([]bool, len(vals))
					}
					v.Null[i] = true
					s = "0"
				}
				switch f[0] {
				case "f64":
					v.F64 = append(v.F64, num(s))
				case "i64":
					v.I64 = append(v.I64, int64(num(s)))
				case "bool":
					v.B = append(v.B, s == "t")
				case "str":
					v.Str = append(v.Str, s)
				}
			}
			b.Fields = append(b.Fields, v)
		default:
			t.Fatalf("unknown line %q", line)
		}
	}
	if err := ValidateSeriesBatch(b); err != nil {
		t.Fatal(err)
	}
	return b
}
