package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Protocol selects how queries are sent.
type Protocol string

const (
	// ProtocolExtended sends Parse/Bind/Describe/Execute/Sync with the unnamed
	// statement and text results (one round trip), like most drivers.
	ProtocolExtended Protocol = "extended"
	// ProtocolSimple sends a simple Query message.
	ProtocolSimple Protocol = "simple"
)

func parseProtocol(s string) (Protocol, error) {
	switch Protocol(s) {
	case ProtocolExtended, ProtocolSimple:
		return Protocol(s), nil
	}
	return "", fmt.Errorf("unknown protocol %q (extended|simple)", s)
}

// Column is a result column as described by RowDescription.
type Column struct {
	Name string
	OID  uint32
}

// Cell is one value in text format.
type Cell struct {
	Text string
	Null bool
}

func (c Cell) String() string {
	if c.Null {
		return "NULL"
	}
	return fmt.Sprintf("%q", c.Text)
}

func compareCells(a, b Cell) int {
	switch {
	case a.Null && b.Null:
		return 0
	case a.Null:
		return -1
	case b.Null:
		return 1
	}
	return strings.Compare(a.Text, b.Text)
}

func compareRows(a, b []Cell) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := compareCells(a[i], b[i]); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// Result is a query's outcome: columns and text rows, or a server error.
type Result struct {
	Columns []Column
	Rows    [][]Cell
	// NRows counts rows even when they were not kept.
	NRows int
	// Err is a server-reported error (SQLSTATE in Code); transport errors are
	// returned separately by runQuery.
	Err *pgconn.PgError
}

// runQuery runs sql on conn and reads every row. With keep, rows are copied
// into the result; otherwise only counted (benchmark mode). A server error is
// returned in Result.Err; a non-nil error means the connection is unusable or
// the context ended.
func runQuery(ctx context.Context, conn *pgconn.PgConn, sql string, proto Protocol, keep bool) (*Result, error) {
	res := &Result{}
	var err error
	switch proto {
	case ProtocolSimple:
		mrr := conn.Exec(ctx, sql)
		first := true
		for mrr.NextResult() {
			rr := mrr.ResultReader()
			if first {
				readRows(rr, res, keep)
				first = false
			}
			if _, cerr := rr.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
		if cerr := mrr.Close(); cerr != nil && err == nil {
			err = cerr
		}
	default:
		rr := conn.ExecParams(ctx, sql, nil, nil, nil, nil)
		readRows(rr, res, keep)
		_, err = rr.Close()
	}
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && !conn.IsClosed() {
			res.Err = pgErr
			res.Rows = nil
			return res, nil
		}
		return nil, fmt.Errorf("cannot run query: %w", err)
	}
	return res, nil
}

func readRows(rr *pgconn.ResultReader, res *Result, keep bool) {
	fds := rr.FieldDescriptions()
	res.Columns = make([]Column, len(fds))
	for i, fd := range fds {
		res.Columns[i] = Column{Name: fd.Name, OID: fd.DataTypeOID}
	}
	for rr.NextRow() {
		res.NRows++
		if !keep {
			continue
		}
		vals := rr.Values()
		row := make([]Cell, len(vals))
		for i, v := range vals {
			if v == nil {
				row[i] = Cell{Null: true}
			} else {
				row[i] = Cell{Text: string(v)}
			}
		}
		res.Rows = append(res.Rows, row)
	}
}
