package pgwire

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// result implements ResultWriter for one execution. Rows are encoded at
// once: straight into the connection's write buffer (streaming), or into
// a portal's row buffer when the client asked for a row limit.
type result struct {
	c       *conn
	cols    []Column
	formats []int16 // per column: 0 text, 1 binary
	tag     string
	rows    int64
	// buffered, when non-nil, collects encoded DataRow messages instead of
	// writing them (portal suspension).
	buffered *rowBuffer
	copy     io.Reader
	err      error // first error from AddRow
}

var (
	_ ResultWriter      = (*result)(nil)
	_ ParameterReporter = (*result)(nil)
)

// rowBuffer holds encoded DataRow messages of a suspended portal.
type rowBuffer struct {
	data []byte
	ends []int // end offset of each message in data
}

func (r *result) AddRow(row []types.Datum) error {
	if r.err != nil {
		return r.err
	}
	if len(row) != len(r.cols) {
		r.err = pgerror.Newf(pgerror.CodeInternal, "row has %d values but the statement describes %d columns", len(row), len(r.cols))
		return r.err
	}
	c := r.c
	b := c.rowBuf[:0]
	b = append(b, 'D', 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(row)))
	for i := range row {
		d := row[i]
		if d.Null {
			b = binary.BigEndian.AppendUint32(b, 0xFFFFFFFF)
			continue
		}
		if ct := r.cols[i].Type; ct != types.Unknown && d.T != ct && needsCast(d.T, ct) {
			cd, err := types.Cast(d, ct)
			if err != nil {
				r.err = fmt.Errorf("cannot encode column %q: %w", r.cols[i].Name, err)
				return r.err
			}
			d = cd
		}
		lenAt := len(b)
		b = append(b, 0, 0, 0, 0)
		if r.formats[i] == 1 {
			b = types.FormatBinary(b, d)
		} else {
			b = types.FormatText(b, d)
		}
		binary.BigEndian.PutUint32(b[lenAt:], uint32(len(b)-lenAt-4))
	}
	binary.BigEndian.PutUint32(b[1:], uint32(len(b)-1))
	r.rows++
	if r.buffered != nil {
		r.buffered.data = append(r.buffered.data, b...)
		r.buffered.ends = append(r.buffered.ends, len(r.buffered.data))
	} else {
		c.writeRaw(b)
		if c.writeErr != nil {
			r.err = fmt.Errorf("cannot send row: %w", c.writeErr)
		}
	}
	if cap(b) > 1<<20 {
		b = nil // do not keep a huge row buffer around
	}
	c.rowBuf = b
	return r.err
}

// needsCast reports whether a datum of type from must be converted before
// being encoded as type to. The string types share their encodings.
func needsCast(from, to types.OID) bool {
	isStr := func(t types.OID) bool {
		switch t {
		case types.Text, types.Varchar, types.Name, types.BPChar, types.Unknown:
			return true
		}
		return false
	}
	return !(isStr(from) && isStr(to))
}

func (r *result) SetTag(tag string) { r.tag = tag }

func (r *result) CopyData() io.Reader {
	if r.copy == nil {
		return strings.NewReader("")
	}
	return r.copy
}

// ReportParameter queues a ParameterStatus for the next ReadyForQuery; a
// later report of the same parameter replaces an earlier one.
func (r *result) ReportParameter(name, value string) {
	c := r.c
	for i := range c.reports {
		if c.reports[i][0] == name {
			c.reports[i][1] = value
			return
		}
	}
	c.reports = append(c.reports, [2]string{name, value})
}

func (r *result) Notice(msg string) {
	r.c.send(&pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE", Code: pgerror.CodeSuccessfulCompletion, Message: msg})
}

// commandTag returns the tag for CommandComplete: the statement's, or a
// default derived from the kind and row count.
func (r *result) commandTag(kind StatementKind) string {
	if r.tag != "" {
		return r.tag
	}
	switch kind {
	case KindBegin:
		return "BEGIN"
	case KindCommit:
		return "COMMIT"
	case KindRollback:
		return "ROLLBACK"
	}
	if r.cols != nil {
		return fmt.Sprintf("SELECT %d", r.rows)
	}
	return ""
}

// rowDescription builds RowDescription for cols with per-column formats
// (nil formats: text).
func rowDescription(cols []Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		mod := col.TypeMod
		if mod == 0 {
			mod = -1
		}
		var f int16
		if formats != nil {
			f = formats[i]
		}
		fields[i] = pgproto3.FieldDescription{
			Name:                 []byte(col.Name),
			TableOID:             col.TableOID,
			TableAttributeNumber: uint16(col.ColumnNum),
			DataTypeOID:          uint32(col.Type),
			DataTypeSize:         types.TypeLen(col.Type),
			TypeModifier:         mod,
			Format:               f,
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}
