package catalog

import (
	"context"
	"strings"
	"testing"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/types"
)

// fakeView is a View over a fixed catalog: database "metrics" (ID 1) with
// tables cpu (ID 0, OID 16384) and weather (ID 1), and an empty database
// "other" (ID 2).
type fakeView struct {
	settings map[string]string
	pid      int32
}

var _ View = (*fakeView)(nil)
var _ BackendPIDer = (*fakeView)(nil)

func newFakeView() *fakeView {
	return &fakeView{settings: map[string]string{"application_name": "psql"}, pid: 4242}
}

func (f *fakeView) CurrentDatabase() *shard.Database {
	d := f.Databases()[0]
	return &d
}

func (f *fakeView) Databases() []shard.Database {
	return []shard.Database{
		{ID: 1, Name: "metrics", Replicas: 3, SlotGroups: 2},
		{ID: 2, Name: "other", Replicas: 1, SlotGroups: 1},
	}
}

func (f *fakeView) Tables(dbID uint32) []shard.Table {
	if dbID != 1 {
		return nil
	}
	return []shard.Table{
		{
			ID: 1, Database: 1, Name: "weather",
			Columns: []shard.Column{
				{ID: 1, Name: "location", Type: shard.TypeText},
				{ID: 2, Name: "ts", Type: shard.TypeTimestamp, NotNull: true},
				{ID: 3, Name: "temp", Type: shard.TypeFloat4},
				{ID: 4, Name: "ok", Type: shard.TypeBool},
				{ID: 5, Name: "day", Type: shard.TypeDate},
				{ID: 6, Name: "n", Type: shard.TypeInt8},
				{ID: 7, Name: "i4", Type: shard.TypeInt4},
				{ID: 8, Name: "i2", Type: shard.TypeInt2},
				{ID: 9, Name: "price", Type: shard.TypeNumeric},
			},
			TimeCol: 1,
			Tags:    []int{0},
		},
		{
			ID: 0, Database: 1, Name: "cpu",
			Columns: []shard.Column{
				{ID: 1, Name: "time", Type: shard.TypeTimestamptz, NotNull: true},
				{ID: 2, Name: "hostname", Type: shard.TypeText},
				{ID: 3, Name: "region", Type: shard.TypeVarchar, Width: 20},
				{ID: 4, Name: "usage_user", Type: shard.TypeFloat8},
				{ID: 5, Name: "cost", Type: shard.TypeNumeric, Width: 10, Scale: 2},
			},
			TimeCol: 0,
			Tags:    []int{1, 2},
		},
	}
}

func (f *fakeView) User() string { return "alice" }

func (f *fakeView) Setting(name string) (string, bool) {
	v, ok := f.settings[strings.ToLower(name)]
	return v, ok
}

func (f *fakeView) BackendPID() int32 { return f.pid }

// scan returns the rows of schema.name as maps from column name to datum.
func scan(t *testing.T, v View, schema, name string) []map[string]types.Datum {
	t.Helper()
	tbl, ok := Lookup(schema, name)
	if !ok {
		t.Fatalf("Lookup(%q, %q) failed", schema, name)
	}
	rows, err := tbl.Rows(context.Background(), v)
	if err != nil {
		t.Fatalf("%s.%s: %v", schema, name, err)
	}
	out := make([]map[string]types.Datum, len(rows))
	for i, r := range rows {
		m := map[string]types.Datum{}
		for j, c := range tbl.Columns {
			m[c.Name] = r[j]
		}
		out[i] = m
	}
	return out
}

// formatDatum renders a datum as the wire layer will (sql/types.FormatText),
// NULL as "NULL".
func formatDatum(d types.Datum) string {
	if d.Null {
		return "NULL"
	}
	return string(types.FormatText(nil, d))
}
