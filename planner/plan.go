package planner

import (
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/types"
)

// Node is one operator of a plan tree. The executor (package mpp) interprets
// the concrete types below; every Node is immutable after Build.
//
// Row layout: every node outputs rows of len(Columns()) datums. Expressions
// above a node read its output with ColRef indexes into that layout.
type Node interface {
	Columns() []Column
}

// Scan reads one time-series table from its shards. Its output row is the
// table's full row in column order; columns the plan never reads (fields not
// in FieldCols) are NULL.
type Scan struct {
	Database *shard.Database
	Table    *shard.Table
	Cols     []Column
	// Shards left after pruning by time range and slot group.
	Shards []shard.ShardInfo
	// MinTime (inclusive) and MaxTime (exclusive) bound the time column.
	MinTime, MaxTime int64
	// TagFilter, if non-nil, is evaluated once per series over a row that
	// holds only the tag values (a row of the table layout). It becomes
	// ScanRequest.SeriesFilter.
	TagFilter Expr
	// Filter is the residual per-point predicate over the table row.
	Filter Expr
	// FieldCols are the table column indexes of the fields to fetch.
	FieldCols []int
	// Reverse and Limit push "newest point per series" down (lastpoint).
	Reverse bool
	Limit   int
	// SlotValues are the constant values of the first tag the shards were
	// pruned by (nil: not pruned by slot group); for EXPLAIN.
	SlotValues []string
}

func (n *Scan) Columns() []Column { return n.Cols }

// VirtualScan reads a catalog emulation table.
type VirtualScan struct {
	Schema, Name string
	Table        VirtualTable
	Cols         []Column
}

func (n *VirtualScan) Columns() []Column { return n.Cols }

// Values produces constant rows (SELECT without FROM: one empty row).
type Values struct {
	Rows [][]Expr
	Cols []Column
}

func (n *Values) Columns() []Column { return n.Cols }

// Filter keeps the rows for which Cond is true.
type Filter struct {
	Input Node
	Cond  Expr
}

func (n *Filter) Columns() []Column { return n.Input.Columns() }

// Project computes Exprs over each input row.
type Project struct {
	Input Node
	Exprs []Expr
	Cols  []Column
}

func (n *Project) Columns() []Column { return n.Cols }

// Aggregate groups its input by GroupBy and computes Aggs. Output row:
// GroupBy values followed by Aggs results. With no GroupBy it outputs
// exactly one row (also over empty input).
type Aggregate struct {
	Input   Node
	GroupBy []Expr
	Aggs    []*AggCall
	Cols    []Column
	// Pushed, if non-nil, says the aggregate runs as partial aggregates per
	// time bucket in the scan fragments (Input is then a *Scan) and is
	// merged and finalised by the coordinator.
	Pushed *BucketAgg
}

func (n *Aggregate) Columns() []Column { return n.Cols }

// GroupKind says what a pushed-down group key is.
type GroupKind uint8

// Group key kinds.
const (
	GroupTimeBucket GroupKind = iota // a function of the time bucket start
	GroupTag                         // a tag column
)

// BucketGroup is one GROUP BY expression of a pushed aggregate.
type BucketGroup struct {
	Kind GroupKind
	Tag  int  // GroupTag: index into Table.Tags
	Expr Expr // GroupTimeBucket: evaluated over a table row whose time is the bucket start
}

// AggKind is a pushable aggregate function.
type AggKind uint8

// Pushable aggregate kinds.
const (
	AggCountStar AggKind = iota
	AggCount
	AggSum
	AggAvg
	AggMin
	AggMax
	AggFirst
	AggLast
)

var aggKindNames = [...]string{"count(*)", "count", "sum", "avg", "min", "max", "first", "last"}

func (k AggKind) String() string { return aggKindNames[k] }

// PushedAgg is one aggregate computed in the fragments.
type PushedAgg struct {
	Kind AggKind
	// Col is the table column index of the argument (-1 for count(*)).
	Col int
	// Field is the position of Col in Scan.FieldCols, or -1 when Col is not
	// a field (count of the time column or of a tag).
	Field int
	T     types.OID // result type
}

// BucketAgg describes partial aggregation per (time bucket, tag group).
type BucketAgg struct {
	// Width and Origin define the time buckets (µs); Width 0: one bucket.
	Width, Origin int64
	Groups        []BucketGroup
	Aggs          []PushedAgg
	// StatsOK: a block whose points fall into one bucket may be consumed
	// as BlockStats (no residual filter, no first/last).
	StatsOK bool
}

// SortKey orders by input column Idx.
type SortKey struct {
	Idx        int
	Desc       bool
	NullsFirst bool
}

// Sort orders its input.
type Sort struct {
	Input Node
	Keys  []SortKey
	// TopN, if > 0, says only the first TopN rows will be read (a Limit
	// above): the executor may keep a bounded heap.
	TopN int64
}

func (n *Sort) Columns() []Column { return n.Input.Columns() }

// Limit skips Offset rows and passes at most Count (Count < 0: all).
type Limit struct {
	Input  Node
	Count  int64
	Offset int64
}

func (n *Limit) Columns() []Column { return n.Input.Columns() }

// Distinct removes duplicate rows (over the first NumCols columns).
type Distinct struct {
	Input   Node
	NumCols int
}

func (n *Distinct) Columns() []Column { return n.Input.Columns() }

// DistinctOn keeps the first row of each run of equal Keys (input sorted).
type DistinctOn struct {
	Input Node
	Keys  []int
}

func (n *DistinctOn) Columns() []Column { return n.Input.Columns() }

// JoinKind is the kind of a join.
type JoinKind uint8

// Join kinds.
const (
	JoinInner JoinKind = iota
	JoinLeft
	JoinRight
	JoinCross
)

// Join joins two inputs; output row = left row ++ right row. When
// LeftKeys/RightKeys are set the executor hashes the right input on them;
// On is evaluated over the combined row in every case.
type Join struct {
	Left, Right         Node
	Kind                JoinKind
	On                  Expr
	LeftKeys, RightKeys []int
	Cols                []Column
}

func (n *Join) Columns() []Column { return n.Cols }

// UnionAll concatenates its inputs (same column count).
type UnionAll struct {
	Inputs []Node
	Cols   []Column
}

func (n *UnionAll) Columns() []Column { return n.Cols }

// Plan is an executable plan. It is immutable and safe to Run many times,
// also concurrently.
type Plan struct {
	// Root produces the result rows (exactly len(Columns()) datums each).
	Root Node
	// Subqueries are uncorrelated subqueries; the executor runs them
	// first and stores their results in EvalContext.Subqueries by index.
	Subqueries []Node
	cols       []Column
	paramTypes []types.OID
}

// Columns returns the result columns.
func (p *Plan) Columns() []Column { return p.cols }

// ParamTypes returns the parameter types: declared by the client, else
// inferred from context, else 0 (unknown).
func (p *Plan) ParamTypes() []types.OID { return p.paramTypes }
