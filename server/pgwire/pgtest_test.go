package pgwire

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/jackc/pgx/v5/pgproto3"
)

// TestPgTest runs the wire-level scripts in testdata/pgtest. Each file
// starts on a fresh connection after startup. Directives:
//
//	send
//	<MessageType> <JSON body>      one frontend message per line
//	----
//
//	until [ignore=Type,Type]
//	<MessageType>                  wait for these backend messages in order
//	----
//	<every backend message received, as JSON>
//
// The scripts follow CockroachDB's pkg/sql/pgwire/testdata/pgtest format
// and were checked against PostgreSQL 15 where the fake engine allows.
func TestPgTest(t *testing.T) {
	datadriven.Walk(t, "testdata/pgtest", func(t *testing.T, path string) {
		ts := startServer(t)
		rc := dialRaw(t, ts.addr)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "send":
				for _, line := range strings.Split(d.Input, "\n") {
					if strings.TrimSpace(line) == "" {
						continue
					}
					msg, err := frontendFromJSON(line)
					if err != nil {
						d.Fatalf(t, "%s: %v", line, err)
					}
					rc.fe.Send(msg)
				}
				if err := rc.fe.Flush(); err != nil {
					d.Fatalf(t, "flush: %v", err)
				}
				return ""
			case "until":
				ignore := map[string]bool{}
				for _, a := range d.CmdArgs {
					if a.Key == "ignore" {
						for _, v := range a.Vals {
							ignore[v] = true
						}
					}
				}
				var out strings.Builder
				for _, want := range strings.Fields(d.Input) {
					for {
						m := rc.recv()
						name := strings.TrimPrefix(fmt.Sprintf("%T", m), "*pgproto3.")
						if !ignore[name] {
							out.WriteString(backendJSON(m))
							out.WriteByte('\n')
						}
						if name == want {
							break
						}
					}
				}
				return out.String()
			}
			d.Fatalf(t, "unknown directive %s", d.Cmd)
			return ""
		})
	})
}

func frontendFromJSON(line string) (pgproto3.FrontendMessage, error) {
	typ, body, _ := strings.Cut(strings.TrimSpace(line), " ")
	var msg pgproto3.FrontendMessage
	switch typ {
	case "Query":
		msg = &pgproto3.Query{}
	case "Parse":
		msg = &pgproto3.Parse{}
	case "Bind":
		msg = &pgproto3.Bind{}
	case "Describe":
		msg = &pgproto3.Describe{}
	case "Execute":
		msg = &pgproto3.Execute{}
	case "Close":
		msg = &pgproto3.Close{}
	case "Sync":
		msg = &pgproto3.Sync{}
	case "Flush":
		msg = &pgproto3.Flush{}
	case "CopyData":
		msg = &pgproto3.CopyData{}
	case "CopyDone":
		msg = &pgproto3.CopyDone{}
	case "CopyFail":
		msg = &pgproto3.CopyFail{}
	case "Terminate":
		msg = &pgproto3.Terminate{}
	default:
		return nil, fmt.Errorf("unknown message type %q", typ)
	}
	if body = strings.TrimSpace(body); body != "" {
		if err := json.Unmarshal([]byte(body), msg); err != nil {
			return nil, err
		}
	}
	return msg, nil
}

// backendJSON renders a backend message; ErrorResponse and NoticeResponse
// keep only the fields Longboat sets.
func backendJSON(m pgproto3.BackendMessage) string {
	var v any = m
	switch e := m.(type) {
	case *pgproto3.ErrorResponse:
		v = struct {
			Type     string
			Severity string
			Code     string
			Message  string
			Position int32 `json:",omitempty"`
		}{"ErrorResponse", e.Severity, e.Code, e.Message, e.Position}
	case *pgproto3.NoticeResponse:
		v = struct {
			Type     string
			Severity string
			Code     string
			Message  string
		}{"NoticeResponse", e.Severity, e.Code, e.Message}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T: %v", m, err)
	}
	return string(b)
}
