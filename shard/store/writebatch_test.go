package store

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/longboatdb/longboat/shard"
)

// mixedBatch has every physical type, NULLs, two tables and odd series.
func mixedBatch() *WriteBatch {
	return &WriteBatch{Tables: []TableRows{
		{
			TableID:   3,
			FieldIDs:  []uint16{1, 2, 3, 4, 9},
			Series:    [][]string{{"a", "x"}, {"", "y"}, {}},
			SeriesIdx: []uint32{0, 1, 0, 2},
			Times:     []int64{100, 100, 90, -5},
			Fields: []Vector{
				{Type: shard.TypeFloat8, F64: []float64{1.5, 2, 0, 4}, Null: []bool{false, false, true, false}},
				{Type: shard.TypeInt8, I64: []int64{-1, 1 << 62, 3, 4}},
				{Type: shard.TypeBool, B: []bool{true, false, false, true}, Null: []bool{false, false, false, true}},
				{Type: shard.TypeText, Str: []string{"p", "q", "", "p"}, Null: []bool{false, false, true, false}},
				{Type: shard.TypeTimestamptz, I64: []int64{5, 6, 7, 8}},
			},
		},
		{
			TableID:   4,
			Series:    [][]string{{"only-time"}},
			SeriesIdx: []uint32{0},
			Times:     []int64{1},
		},
	}}
}

func TestWriteBatchRoundTrip(t *testing.T) {
	want := mixedBatch()
	enc := AppendWriteBatch([]byte("hdr"), want)
	if string(enc[:3]) != "hdr" || enc[3] != WriteBatchVersion {
		t.Fatalf("bad prefix/version: %x", enc[:4])
	}
	var got WriteBatch
	if err := DecodeWriteBatch(enc[3:], &got); err != nil {
		t.Fatal(err)
	}
	// The decoded form has zero values under NULLs and nil empty tag tuples.
	want.Tables[0].Fields[2].B[3] = false
	want.Tables[0].Series[2] = nil
	if !reflect.DeepEqual(&got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
	// Decoding into the same batch again (slice reuse) with different data.
	tsbs := tsbsBatchesN(5, 5)[0]
	if err := DecodeWriteBatch(AppendWriteBatch(nil, tsbs), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Tables[0].Times, tsbs.Tables[0].Times) || !reflect.DeepEqual(got.Tables[0].Fields, tsbs.Tables[0].Fields) ||
		len(got.Tables) != 1 || !reflect.DeepEqual(got.Tables[0].Series, tsbs.Tables[0].Series) {
		t.Fatal("reused decode mismatch")
	}
}

func TestWriteBatchGarbage(t *testing.T) {
	enc := AppendWriteBatch(nil, mixedBatch())
	var wb WriteBatch
	for cut := range len(enc) {
		if err := DecodeWriteBatch(enc[:cut], &wb); err == nil {
			t.Fatalf("truncation at %d decoded", cut)
		}
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for range 20000 {
		b := append([]byte(nil), enc...)
		for range 1 + rng.IntN(4) {
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		}
		if DecodeWriteBatch(b, &wb) == nil {
			if err := validateWriteBatch(&wb); err != nil {
				t.Fatalf("decoded invalid batch: %v", err)
			}
		}
	}
	if err := DecodeWriteBatch([]byte{99}, &wb); err == nil {
		t.Fatal("unknown version accepted")
	}
}

func TestValidateWriteBatch(t *testing.T) {
	bad := []func(*WriteBatch){
		func(wb *WriteBatch) { wb.Tables[0].SeriesIdx[0] = 7 },
		func(wb *WriteBatch) { wb.Tables[0].Times = wb.Tables[0].Times[:2] },
		func(wb *WriteBatch) { wb.Tables[0].Fields[0].F64 = nil },
		func(wb *WriteBatch) { wb.Tables[0].Fields[0].Null = []bool{true} },
		func(wb *WriteBatch) { wb.Tables[0].FieldIDs[1] = 1 },
		func(wb *WriteBatch) { wb.Tables[0].Fields[1].Type = shard.TypeInvalid },
		func(wb *WriteBatch) { wb.Tables[0].FieldIDs = wb.Tables[0].FieldIDs[:1] },
	}
	for i, mut := range bad {
		wb := mixedBatch()
		mut(wb)
		if validateWriteBatch(wb) == nil {
			t.Errorf("case %d: invalid batch accepted", i)
		}
	}
	if err := validateWriteBatch(mixedBatch()); err != nil {
		t.Fatal(err)
	}
}
