package shard

import "time"

// ColType is the storage-level type of a column. It is part of the on-disk
// catalog format: values only ever get added.
type ColType uint8

// Column types. Each maps to exactly one PostgreSQL type.
const (
	TypeInvalid     ColType = iota
	TypeTimestamptz         // int64 µs since Unix epoch, UTC
	TypeTimestamp           // int64 µs since Unix epoch, no zone
	TypeFloat8              // float64
	TypeFloat4              // float64 holding a float32 value
	TypeInt8                // int64
	TypeInt4                // int64
	TypeInt2                // int64
	TypeBool                // bool
	TypeText                // string
	TypeVarchar             // string (length limit in Column.Width)
	TypeNumeric             // string, canonical decimal text
	TypeDate                // int64 days since 1970-01-01
)

// Database is a storage group: its rows are cut into shards by time partition
// and slot group.
type Database struct {
	ID                uint32        `json:"id"`
	Name              string        `json:"name"`
	Replicas          int           `json:"replicas"`
	PartitionInterval time.Duration `json:"partition_interval"`
	TTL               time.Duration `json:"ttl"` // 0: keep forever
	SlotGroups        int           `json:"slot_groups"`
}

// Column is one column of a table.
type Column struct {
	ID      uint16  `json:"id"` // stable within the table; never reused
	Name    string  `json:"name"`
	Type    ColType `json:"type"`
	Width   int     `json:"width,omitempty"` // varchar(n) length, numeric precision
	Scale   int     `json:"scale,omitempty"` // numeric scale
	NotNull bool    `json:"not_null,omitempty"`
}

// Table is a time-series table: one time column, tag columns (the primary
// key columns other than time, in key order) and field columns.
type Table struct {
	ID       uint32   `json:"id"`
	Database uint32   `json:"database"`
	Name     string   `json:"name"`
	Columns  []Column `json:"columns"`  // in declaration order
	TimeCol  int      `json:"time_col"` // index into Columns
	Tags     []int    `json:"tags"`     // indexes into Columns, in primary-key order
}

// IsTag reports whether column index i is a tag column.
func (t *Table) IsTag(i int) bool {
	for _, j := range t.Tags {
		if j == i {
			return true
		}
	}
	return false
}

// ColumnIndex returns the index of the named column, or -1.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// Fields returns the indexes of the field columns (neither time nor tag), in
// declaration order.
func (t *Table) Fields() []int {
	var out []int
	for i := range t.Columns {
		if i != t.TimeCol && !t.IsTag(i) {
			out = append(out, i)
		}
	}
	return out
}
