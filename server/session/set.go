package session

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/longboatdb/longboat/server/pgwire"
	"github.com/longboatdb/longboat/sql/pgdialect"
	"github.com/longboatdb/longboat/sql/pgerror"
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

var _ pgwire.StatementTimeouter = (*Session)(nil)

// StatementTimeout is the session's statement_timeout (0: none); pgwire
// applies it to every statement.
func (s *Session) StatementTimeout() time.Duration {
	v, _ := s.setting("statement_timeout")
	d, err := parseTimeoutSetting(v)
	if err != nil {
		return 0 // not reachable: SET and startup validate the value
	}
	return d
}

// parseTimeoutSetting parses a PostgreSQL time setting whose default unit
// is milliseconds: "0", "250", "1.5s", "100ms", "2min", "1h", "1d", "500us".
// Negative values are rejected, as PostgreSQL does for statement_timeout.
func parseTimeoutSetting(v string) (time.Duration, error) {
	s := strings.TrimSpace(strings.Trim(strings.TrimSpace(v), "'"))
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"statement_timeout\": %q", v)
	}
	scale := map[string]time.Duration{"": time.Millisecond, "us": time.Microsecond, "ms": time.Millisecond,
		"s": time.Second, "min": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	u, ok := scale[unit]
	if !ok {
		return 0, pgerror.WithHint(pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"statement_timeout\": %q", v),
			`Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".`)
	}
	if f*float64(u) >= float64(math.MaxInt64) {
		return time.Duration(math.MaxInt64), nil
	}
	return time.Duration(f * float64(u)), nil
}
