package bench

import (
	"math"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	var durs []time.Duration
	for i := 100; i >= 1; i-- { // unsorted input
		durs = append(durs, time.Duration(i)*time.Millisecond)
	}
	s := Summarize("x", durs)
	if s.N != 100 || s.MeanMs != 50.5 || s.MedianMs != 50.5 || s.P95Ms != 95 || s.MinMs != 1 || s.MaxMs != 100 {
		t.Fatalf("bad stats %+v", s)
	}
	if durs[0] != 100*time.Millisecond {
		t.Fatal("Summarize sorted its input")
	}
	s = Summarize("x", []time.Duration{3 * time.Millisecond})
	if s.MeanMs != 3 || s.MedianMs != 3 || s.P95Ms != 3 {
		t.Fatalf("one sample: %+v", s)
	}
	s = Summarize("x", []time.Duration{1 * time.Millisecond, 2 * time.Millisecond, 9 * time.Millisecond})
	if s.MedianMs != 2 || s.P95Ms != 9 || s.MeanMs != 4 {
		t.Fatalf("three samples: %+v", s)
	}
	if s := Summarize("x", nil); s.N != 0 || s.MeanMs != 0 {
		t.Fatalf("empty: %+v", s)
	}
}

func TestRatiosGeoMean(t *testing.T) {
	a := []TypeStats{{Type: "p", N: 1, MeanMs: 2}, {Type: "q", N: 1, MeanMs: 8}, {Type: "r", N: 0}, {Type: "only-a", N: 1, MeanMs: 1}}
	b := []TypeStats{{Type: "p", N: 1, MeanMs: 4}, {Type: "q", N: 1, MeanMs: 2}, {Type: "r", N: 1, MeanMs: 1}}
	rs, g := ratios(a, b)
	if len(rs) != 2 || rs[0] != (Ratio{"p", 0.5}) || rs[1] != (Ratio{"q", 4}) {
		t.Fatalf("ratios %v", rs)
	}
	if math.Abs(g-math.Sqrt(2)) > 1e-12 {
		t.Fatalf("geomean %v", g)
	}
	if GeoMean(nil) != 0 || GeoMean([]float64{0, math.Inf(1)}) != 0 {
		t.Fatal("geomean of nothing should be 0")
	}
}
