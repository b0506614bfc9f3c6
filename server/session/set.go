package session

import (
	"context"
	"strings"

	"github.com/longboatdb/longboat/server/pgwire"
	"github.com/longboatdb/longboat/sql/pgdialect"
	"github.com/longboatdb/longboat/sql/types"
)

// reportedName returns the spelling under which PostgreSQL reports a
// run-time parameter to the client with ParameterStatus when it changes
// (GUC_REPORT), for a lower-case setting name. The others of PostgreSQL's
// list (DateStyle, TimeZone, client_encoding, ...) never change value in
// Longboat: SET accepts only their one supported value.
func reportedName(name string) (string, bool) {
	switch name {
	case "application_name":
		return "application_name", true
	}
	return "", false
}

// setStmt is SET name = value / SET name TO DEFAULT.
type setStmt struct {
	s *Session
	u *pgdialect.Set
}

func (st *setStmt) Kind() pgwire.StatementKind { return pgwire.KindOther }
func (st *setStmt) ParamTypes() []types.OID    { return nil }
func (st *setStmt) Columns() []pgwire.Column   { return nil }
func (st *setStmt) CopyInfo() pgwire.CopyInfo  { return pgwire.CopyInfo{} }

// Execute applies the setting and, for a reported parameter whose value
// changed, tells pgwire to send ParameterStatus.
func (st *setStmt) Execute(_ context.Context, _ []types.Datum, res pgwire.ResultWriter) error {
	name := strings.ToLower(st.u.Name)
	before, _ := st.s.setting(name)
	if err := st.s.applySet(st.u); err != nil {
		return err
	}
	res.SetTag("SET")
	if wire, ok := reportedName(name); ok {
		after, _ := st.s.setting(name)
		if r, ok := res.(pgwire.ParameterReporter); ok && after != before {
			r.ReportParameter(wire, after)
		}
	}
	return nil
}
