package store

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/longboatdb/longboat/shard"
)

var encNames = map[byte]string{
	encTimeConstDelta: "time/const-delta", encTimeDoD: "time/delta-of-delta",
	encIntConst: "int/const", encIntFOR: "int/frame-of-reference", encIntDelta: "int/delta",
	encFloatConst: "float/const", encFloatInt: "float/integral", encFloatGorilla: "float/gorilla",
	encBoolBitmap: "bool/bitmap", encStrDictRLE: "string/dict-rle",
}

func hexDump(b []byte) string {
	var sb strings.Builder
	for off := 0; off < len(b); off += 16 {
		fmt.Fprintf(&sb, "%04x ", off)
		for i := off; i < min(off+16, len(b)); i++ {
			fmt.Fprintf(&sb, " %02x", b[i])
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

func parseFloats(t *testing.T, s string) []float64 {
	var out []float64
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func parseInts(t *testing.T, s string) []int64 {
	var out []int64
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestEncodingGoldens pins the byte-exact encodings (testdata/encodings).
// Regenerate with: go test ./shard/store -run Goldens -rewrite
func TestEncodingGoldens(t *testing.T) {
	datadriven.RunTest(t, "testdata/encodings", func(t *testing.T, d *datadriven.TestData) string {
		var enc []byte
		var sub string
		switch d.Cmd {
		case "ints":
			enc = AppendInts(nil, parseInts(t, d.Input))
		case "times":
			enc = AppendTimes(nil, parseInts(t, d.Input))
		case "floats":
			enc = AppendFloats(nil, parseFloats(t, d.Input))
			if enc[0] == encFloatInt {
				sub = " + " + encNames[enc[1]]
			}
		case "strings":
			enc = AppendStrings(nil, strings.Fields(d.Input))
		case "bools":
			var b []bool
			for _, f := range strings.Fields(d.Input) {
				b = append(b, f == "t")
			}
			enc = AppendBools(nil, b)
		case "block":
			// Input: one "time value" per line; value "null" is NULL.
			var ts []int64
			c := colVec{typ: shard.TypeFloat8}
			for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
				f := strings.Fields(line)
				ts = append(ts, parseInts(t, f[0])[0])
				if f[1] == "null" {
					c.appendNulls(1)
					continue
				}
				c.f64 = append(c.f64, parseFloats(t, f[1])[0])
				if c.hasNulls {
					c.nulls = append(c.nulls, false)
				}
			}
			var e blockEncoder
			tb := e.appendTimeBlock(nil, ts)
			fb := e.appendFieldBlock(nil, &c, ts, 0, len(ts))
			var h blockHeader
			if _, err := parseHeader(fb, &h); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("time block (%d bytes)\n%sfield block (%d bytes) flags=%03b count=%d nonNull=%d min=%g max=%g sum=%g first=%g last=%g\n%s",
				len(tb), hexDump(tb), len(fb), h.flags, h.count, h.nonNull, h.min, h.max, h.sum, h.first, h.last, hexDump(fb))
		default:
			t.Fatalf("unknown command %s", d.Cmd)
		}
		return fmt.Sprintf("%s%s (%d bytes)\n%s", encNames[enc[0]], sub, len(enc), hexDump(enc))
	})
}
