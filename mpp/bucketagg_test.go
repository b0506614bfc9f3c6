package mpp

import (
	"testing"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/types"
)

// TestCountNonFloatField checks count(field) over the vector kinds that carry
// no F64 values (text, numeric as text, integers, bools): only non-NULL values
// count, with and without a residual filter mask, and a column the series
// never had counts nothing.
func TestCountNonFloatField(t *testing.T) {
	f := func(name string, v store.Vector, mask []bool, want int64) {
		t.Helper()
		ba := &planner.BucketAgg{Aggs: []planner.PushedAgg{
			{Kind: planner.AggCount, Col: 1, Field: 0, T: types.Int8},
			{Kind: planner.AggCountStar, Col: -1, Field: -1, T: types.Int8},
		}}
		a := newFragAgg(ba)
		b := &store.SeriesBatch{SeriesID: 1, Times: []int64{10, 20, 30, 40}, Fields: []store.Vector{v}}
		states := a.group(a.tagGroup(b), 0)
		for k := range ba.Aggs {
			a.addRun(&ba.Aggs[k], &states[k], b, 0, len(b.Times), mask)
		}
		if got := finalize(&ba.Aggs[0], &states[0]); got.I != want || got.T != types.Int8 {
			t.Errorf("%s: count(field) = %+v, want %d", name, got, want)
		}
		wantStar := int64(len(b.Times))
		if mask != nil {
			wantStar = 0
			for _, m := range mask {
				if m {
					wantStar++
				}
			}
		}
		if got := finalize(&ba.Aggs[1], &states[1]); got.I != wantStar {
			t.Errorf("%s: count(*) = %d, want %d", name, got.I, wantStar)
		}
	}
	nulls := []bool{false, true, false, true}
	f("text", store.Vector{Type: shard.TypeText, Str: []string{"a", "", "", "d"}, Null: nulls}, nil, 2)
	f("text no nulls", store.Vector{Type: shard.TypeText, Str: []string{"a", "", "c", "d"}}, nil, 4)
	f("numeric", store.Vector{Type: shard.TypeNumeric, Str: []string{"1.5", "", "2", ""}, Null: nulls}, nil, 2)
	f("int", store.Vector{Type: shard.TypeInt8, I64: []int64{1, 0, 3, 0}, Null: nulls}, nil, 2)
	f("bool", store.Vector{Type: shard.TypeBool, B: []bool{true, false, false, false}, Null: []bool{false, false, false, true}}, nil, 3)
	f("text masked", store.Vector{Type: shard.TypeText, Str: []string{"a", "", "c", "d"}, Null: nulls}, []bool{false, true, true, true}, 1)
	f("absent column", store.Vector{}, nil, 0)
	f("float", store.Vector{Type: shard.TypeFloat8, F64: []float64{1, 0, 3, 0}, Null: nulls}, nil, 2)
}
