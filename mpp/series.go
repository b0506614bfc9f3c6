package mpp

import (
	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// generateSeries emits start, start+step, ... while the value has not
// passed stop (in the step's direction), as PostgreSQL's generate_series;
// NULL bounds or step give no rows, a zero step fails with 22023.
func (r *runner) generateSeries(x *planner.GenerateSeries, emit func([]types.Datum) error) error {
	start, err := x.Start.Eval(r.ec, nil)
	if err != nil {
		return err
	}
	stop, err := x.Stop.Eval(r.ec, nil)
	if err != nil {
		return err
	}
	step, err := x.Step.Eval(r.ec, nil)
	if err != nil {
		return err
	}
	if start.Null || stop.Null || step.Null {
		return nil
	}
	second, err := x.Next(start, step)
	if err != nil {
		return err
	}
	dir := x.Compare(second, start)
	if dir == 0 {
		return pgerror.New(pgerror.CodeInvalidParameterValue, "step size cannot equal zero")
	}
	for n, cur := 0, start; dir*x.Compare(cur, stop) <= 0; n++ {
		if n%1024 == 0 && r.ctx.Err() != nil {
			return canceled(r.ctx)
		}
		if err := emit([]types.Datum{cur}); err != nil {
			return err
		}
		next, err := x.Next(cur, step)
		if err != nil {
			// Overflow past the type's range ends the series, as the
			// next value would be beyond stop anyway.
			if pgerror.Code(err) == pgerror.CodeNumericOutOfRange {
				return nil
			}
			return err
		}
		if x.Compare(next, cur) != dir {
			return nil
		}
		cur = next
	}
	return nil
}
