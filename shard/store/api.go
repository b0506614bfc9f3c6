package store

import "github.com/longboatdb/longboat/shard"

// This file is the contract between the storage engine and its callers
// (raftsm applies WriteBatches; mpp fragments call Scan). Keep it small.

// Vector is one column of values. Exactly one of the value slices is used,
// chosen by Type (see shard.ColType): F64 for float types, I64 for integer,
// time and date types, B for bool, Str for text, varchar and numeric.
// Null is nil when no value is NULL; otherwise len(Null) equals the length.
type Vector struct {
	Type shard.ColType
	F64  []float64
	I64  []int64
	B    []bool
	Str  []string
	Null []bool
}

// Len returns the number of values.
func (v *Vector) Len() int {
	switch {
	case v.F64 != nil:
		return len(v.F64)
	case v.I64 != nil:
		return len(v.I64)
	case v.B != nil:
		return len(v.B)
	case v.Str != nil:
		return len(v.Str)
	}
	return len(v.Null)
}

// IsNull reports whether value i is NULL.
func (v *Vector) IsNull(i int) bool { return v.Null != nil && v.Null[i] }

// TableRows is the rows of one table in a WriteBatch, column-major.
// Row r belongs to series Series[SeriesIdx[r]] and has time Times[r].
type TableRows struct {
	TableID   uint32
	FieldIDs  []uint16   // column IDs of Fields, in the same order
	Series    [][]string // distinct tag-value tuples (primary-key order); NULL tags are ""
	SeriesIdx []uint32
	Times     []int64 // µs since Unix epoch
	Fields    []Vector
}

// WriteBatch is the unit of a replicated write: one Raft entry applies one
// WriteBatch to one shard. Its encoding is AppendWriteBatch/DecodeWriteBatch.
type WriteBatch struct {
	Tables []TableRows
}

// ScanRequest asks a shard for the points of one table.
type ScanRequest struct {
	TableID uint32
	// MinTime is inclusive and MaxTime exclusive, in µs since the Unix epoch.
	MinTime, MaxTime int64
	// SeriesFilter, if non-nil, is called once per series with its tag values
	// (primary-key order); series for which it returns false are skipped
	// without reading their data.
	SeriesFilter func(tags []string) bool
	// Fields are the field column IDs to return, in this order. A column the
	// series never had comes back as all NULL.
	Fields []uint16
	// Reverse returns each series' points newest first.
	Reverse bool
	// Limit, if > 0, returns at most Limit points per series (the first
	// Limit in scan order): Limit 1 with Reverse is "last point".
	Limit int
	// UseStats, if non-nil, is asked for each stored block whose points do
	// not overlap any other block or buffered point of the series; when it
	// returns true the block is delivered as BlockStats (no decoding)
	// instead of as points. Its arguments are the block's first and last
	// time. Only blocks wholly inside [MinTime, MaxTime) are offered.
	UseStats func(minTime, maxTime int64) bool
}

// ColumnStats summarises one column of one block. For text columns only
// Count and NonNull are meaningful.
type ColumnStats struct {
	Count   int // non-NULL values
	Min     float64
	Max     float64
	Sum     float64
	First   float64 // value at MinTime
	Last    float64 // value at MaxTime
	NonNull bool    // Count > 0
}

// BlockStats is a block delivered as statistics (see ScanRequest.UseStats).
type BlockStats struct {
	MinTime, MaxTime int64
	Rows             int           // points in the block
	Cols             []ColumnStats // aligned with ScanRequest.Fields
}

// SeriesBatch is a run of points of one series, sorted by time (descending
// when Reverse), with duplicates of the same time resolved to the latest write.
// A series may be delivered in several SeriesBatches, each in order and
// not overlapping; Stats blocks and point runs of the same series are
// delivered in time order too.
//
// The slices are owned by the store and valid only during the callback.
type SeriesBatch struct {
	SeriesID uint64
	Tags     []string
	Times    []int64
	Fields   []Vector // aligned with ScanRequest.Fields
	Stats    *BlockStats
}
