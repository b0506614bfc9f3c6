package mpp

import (
	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/sql/types"
)

// window streams a Window node: its input arrives sorted by the partition
// columns, then the order columns, so each ranking value depends only on
// the previous row.
//
//	row_number  1, 2, 3, ... within the partition
//	rank        row number of the first row of the current peer group
//	dense_rank  1 + number of peer groups before the current one
func (r *runner) window(x *planner.Window, emit func([]types.Datum) error) error {
	var prev []types.Datum
	var rowNum, rank, dense int64
	return r.exec(x.Input, func(row []types.Datum) error {
		switch {
		case prev == nil || !sameKeys(prev, row, x.Partition):
			rowNum, rank, dense = 1, 1, 1
		default:
			rowNum++
			if !sameKeys(prev, row, x.Order) {
				rank = rowNum
				dense++
			}
		}
		prev = row
		v := rowNum
		switch x.Func {
		case "rank":
			v = rank
		case "dense_rank":
			v = dense
		}
		out := make([]types.Datum, len(row)+1)
		copy(out, row)
		out[len(row)] = types.NewInt(types.Int8, v)
		return emit(out)
	})
}
