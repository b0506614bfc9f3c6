package store

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/longboatdb/longboat/shard"
)

// randomBatch returns a batch of n rows over `series` series with one field
// of each physical type, random NULLs, and times drawn from a small range
// (so the same series and time recurs, within and across batches).
func randomBatch(rng *rand.Rand, series, n int) *WriteBatch {
	tr := TableRows{TableID: 1, FieldIDs: []uint16{1, 2, 3, 4}}
	perm := rng.Perm(series) // tuples in a random order
	for _, h := range perm {
		tr.Series = append(tr.Series, []string{fmt.Sprintf("h%d", h), "dc"})
	}
	tr.Fields = []Vector{
		{Type: shard.TypeFloat8, F64: []float64{}},
		{Type: shard.TypeInt8, I64: []int64{}},
		{Type: shard.TypeText, Str: []string{}},
		{Type: shard.TypeBool, B: []bool{}},
	}
	nullable := rng.IntN(2) == 0
	for fi := range tr.Fields {
		if nullable && fi != 1 {
			tr.Fields[fi].Null = []bool{}
		}
	}
	for range n {
		tr.SeriesIdx = append(tr.SeriesIdx, uint32(rng.IntN(series)))
		tr.Times = append(tr.Times, int64(rng.IntN(50)))
		v := rng.Int64N(1000)
		f := &tr.Fields
		(*f)[0].F64 = append((*f)[0].F64, float64(v)/4)
		(*f)[1].I64 = append((*f)[1].I64, v)
		(*f)[2].Str = append((*f)[2].Str, fmt.Sprintf("s%d", v%7))
		(*f)[3].B = append((*f)[3].B, v%2 == 0)
		for fi := range *f {
			if (*f)[fi].Null != nil {
				(*f)[fi].Null = append((*f)[fi].Null, rng.IntN(5) == 0)
			}
		}
	}
	return &WriteBatch{Tables: []TableRows{tr}}
}

// withAlias returns wb with one more tag tuple equal to the first one and
// half of that series' rows moved to it: both resolve to one series, so
// Apply must keep their rows interleaved in row order (the row-major path).
func withAlias(wb *WriteBatch) *WriteBatch {
	tr := wb.Tables[0]
	tr.Series = append(slices.Clone(tr.Series), slices.Clone(tr.Series[0]))
	alias := uint32(len(tr.Series) - 1)
	tr.SeriesIdx = slices.Clone(tr.SeriesIdx)
	k := 0
	for r, si := range tr.SeriesIdx {
		if si == 0 {
			if k%2 == 1 {
				tr.SeriesIdx[r] = alias
			}
			k++
		}
	}
	return &WriteBatch{Tables: []TableRows{tr}}
}

// TestApplySeriesMajorMatchesRowMajor applies the same random batches to two
// shards, one of them always through the row-major path (each batch has an
// aliased tag tuple), and compares full scans, buffered and after flushes:
// the series-major path must keep each series' rows in row order, NULLs
// included, so the later write of a (series, time) wins in both.
func TestApplySeriesMajorMatchesRowMajor(t *testing.T) {
	db := openTestDB(t, t.TempDir(), Options{})
	defer db.Close()
	a, err := db.OpenShard(1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.OpenShard(2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 9))
	req := ScanRequest{TableID: 1, MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: []uint16{1, 2, 3, 4}}
	for i := range 40 {
		wb := randomBatch(rng, 1+rng.IntN(12), 1+rng.IntN(300))
		if err := a.Apply(uint64(i+1), wb); err != nil {
			t.Fatal(err)
		}
		if err := b.Apply(uint64(i+1), withAlias(wb)); err != nil {
			t.Fatal(err)
		}
		if i%13 == 12 {
			for _, s := range []*Shard{a, b} {
				if err := s.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
		ra, _ := scanAll(t, a, req)
		rb, _ := scanAll(t, b, req)
		if !slices.Equal(ra, rb) {
			t.Fatalf("batch %d: series-major scan (%d rows) differs from row-major (%d rows)", i, len(ra), len(rb))
		}
	}
}
