package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/longboatdb/longboat/shard"
)

func testLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openTestDB(t testing.TB, dir string, opts Options) *DB {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger()
	}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// point is one row for tests: series tags, time, float fields by ID.
type point struct {
	tags []string
	t    int64
	f    map[uint16]float64 // missing key = NULL
}

// makeBatch builds a WriteBatch of float fields for table.
func makeBatch(table uint32, fields []uint16, pts []point) *WriteBatch {
	tr := TableRows{TableID: table, FieldIDs: fields}
	idx := map[string]uint32{}
	for _, p := range pts {
		k := fmt.Sprint(p.tags)
		i, ok := idx[k]
		if !ok {
			i = uint32(len(tr.Series))
			idx[k] = i
			tr.Series = append(tr.Series, p.tags)
		}
		tr.SeriesIdx = append(tr.SeriesIdx, i)
		tr.Times = append(tr.Times, p.t)
	}
	for _, f := range fields {
		v := Vector{Type: shard.TypeFloat8, F64: []float64{}}
		var nulls []bool
		anyNull := false
		for _, p := range pts {
			x, ok := p.f[f]
			v.F64 = append(v.F64, x)
			nulls = append(nulls, !ok)
			anyNull = anyNull || !ok
		}
		if anyNull {
			v.Null = nulls
		}
		tr.Fields = append(tr.Fields, v)
	}
	return &WriteBatch{Tables: []TableRows{tr}}
}

// row is a flattened scan result.
type row struct {
	series string
	t      int64
	vals   string
}

func scanAll(t testing.TB, s *Shard, req ScanRequest) ([]row, []BlockStats) {
	t.Helper()
	var rows []row
	var stats []BlockStats
	err := s.Scan(context.Background(), &req, func(b *SeriesBatch) error {
		if b.Stats != nil {
			st := *b.Stats
			st.Cols = append([]ColumnStats(nil), st.Cols...)
			stats = append(stats, st)
			return nil
		}
		for i, tm := range b.Times {
			vals := ""
			for _, f := range b.Fields {
				if f.IsNull(i) {
					vals += " NULL"
				} else {
					switch {
					case f.F64 != nil:
						vals += fmt.Sprintf(" %g", f.F64[i])
					case f.I64 != nil:
						vals += fmt.Sprintf(" %d", f.I64[i])
					case f.Str != nil:
						vals += fmt.Sprintf(" %q", f.Str[i])
					case f.B != nil:
						vals += fmt.Sprintf(" %t", f.B[i])
					}
				}
			}
			rows = append(rows, row{fmt.Sprint(b.Tags), tm, vals})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, stats
}
