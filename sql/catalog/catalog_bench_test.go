package catalog

import (
	"context"
	"fmt"
	"testing"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/types"
)

// wideView is a database with n tables of 20 columns each.
type wideView struct {
	fakeView
	tables []shard.Table
}

func newWideView(n int) *wideView {
	w := &wideView{fakeView: *newFakeView()}
	for i := 0; i < n; i++ {
		t := shard.Table{ID: uint32(i), Database: 1, Name: fmt.Sprintf("t%d", i), TimeCol: 0, Tags: []int{1, 2}}
		t.Columns = append(t.Columns, shard.Column{Name: "time", Type: shard.TypeTimestamptz, NotNull: true})
		for c := 1; c < 20; c++ {
			ct := shard.TypeFloat8
			if c < 3 {
				ct = shard.TypeText
			}
			t.Columns = append(t.Columns, shard.Column{ID: uint16(c), Name: fmt.Sprintf("c%d", c), Type: ct})
		}
		w.tables = append(w.tables, t)
	}
	return w
}

func (w *wideView) Tables(uint32) []shard.Table { return w.tables }

var benchSink int

func BenchmarkRows(b *testing.B) {
	for _, n := range []int{10, 100} {
		v := newWideView(n)
		for _, rel := range []string{"pg_class", "pg_attribute", "information_schema.columns", "pg_type"} {
			tbl, ok := Lookup("", rel)
			if !ok {
				b.Fatal(rel)
			}
			b.Run(fmt.Sprintf("%s/tables=%d", rel, n), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					rows, err := tbl.Rows(context.Background(), v)
					if err != nil {
						b.Fatal(err)
					}
					benchSink += len(rows)
				}
			})
		}
	}
}

func BenchmarkFormatType(b *testing.B) {
	f := Functions()["format_type"]
	args := []types.Datum{dOID(1043), dInt4(24)}
	v := newFakeView()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d, err := f(context.Background(), v, args)
		if err != nil {
			b.Fatal(err)
		}
		benchSink += len(d.S)
	}
}
