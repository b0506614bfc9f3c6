package session

import (
	"errors"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/sql/pgdialect"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// withRelationPosition points a 42P01 "relation does not exist" error from
// planning at the relation's reference in the statement text, as
// PostgreSQL does (psql underlines it; pgjdbc prints "Position: n").
func withRelationPosition(err error, text string) error {
	var ur *planner.UndefinedRelationError
	if err == nil || !errors.As(err, &ur) {
		return err
	}
	if pos := pgdialect.RelationPosition(text, ur.Schema, ur.Name); pos > 0 {
		return pgerror.WithPosition(err, pos)
	}
	return err
}
