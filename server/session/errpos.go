package session

import (
	"errors"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/sql/pgdialect"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// withErrorPosition points a 42P01 "relation does not exist" or 42703
// "column does not exist" error from planning at the reference in the
// statement text, as PostgreSQL does (psql underlines it; pgjdbc prints
// "Position: n"; node-postgres sets error.position).
func withErrorPosition(err error, text string) error {
	if err == nil {
		return nil
	}
	pos := 0
	var ur *planner.UndefinedRelationError
	var uc *planner.UndefinedColumnError
	switch {
	case errors.As(err, &ur):
		pos = pgdialect.RelationPosition(text, ur.Schema, ur.Name)
	case errors.As(err, &uc):
		pos = pgdialect.ColumnPosition(text, uc.Table, uc.Name)
	}
	if pos > 0 {
		return pgerror.WithPosition(err, pos)
	}
	return err
}
