package pgwire

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/lib/pq"
)

// testServer runs a Server with a fakeHandler on 127.0.0.1:0.
type testServer struct {
	srv  *Server
	h    *fakeHandler
	addr string
}

func startServer(t testing.TB, mod ...func(*Config)) *testServer {
	t.Helper()
	h := newFakeHandler()
	cfg := Config{
		Handler:       h,
		ServerVersion: "15.0 (Longboat test)",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
		_ = srv.Close()
	})
	return &testServer{srv: srv, h: h, addr: ln.Addr().String()}
}

func (ts *testServer) url(extra string) string {
	return fmt.Sprintf("postgres://tester@%s/db?sslmode=disable%s", ts.addr, extra)
}

func pgxConnect(t testing.TB, ts *testServer, extra string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, ts.url(extra))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestPgxParams(t *testing.T) {
	ts := startServer(t)
	for _, mode := range []string{"", "&default_query_exec_mode=simple_protocol"} {
		t.Run("mode="+mode, func(t *testing.T) {
			conn := pgxConnect(t, ts, mode)
			ctx := testCtx(t)
			tm := time.Date(2024, 5, 1, 6, 0, 0, 123000000, time.UTC)
			for i := 0; i < 3; i++ {
				var (
					i8 int64
					f8 float64
					s  string
					tz time.Time
					b  bool
				)
				err := conn.QueryRow(ctx, "select $1::int8, $2::float8, $3::text, $4::timestamptz, $5::bool",
					int64(41+i), 1.5, "it's", tm, true).Scan(&i8, &f8, &s, &tz, &b)
				if err != nil {
					t.Fatal(err)
				}
				if i8 != int64(41+i) || f8 != 1.5 || s != "it's" || !tz.Equal(tm) || !b {
					t.Fatalf("got %v %v %q %v %v", i8, f8, s, tz, b)
				}
			}
			rows, err := conn.Query(ctx, "select * from metrics where host = $1", "a")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rows.Next() {
				var tm time.Time
				var host string
				var v float64
				if err := rows.Scan(&tm, &host, &v); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s %s %v", tm.UTC().Format(time.RFC3339), host, v))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			want := "2023-11-14T22:13:20Z a 1.5|2023-11-14T22:13:22Z a -3"
			if strings.Join(got, "|") != want {
				t.Fatalf("got %q", got)
			}
			if tag := rows.CommandTag().String(); tag != "SELECT 2" {
				t.Fatalf("tag %q", tag)
			}
			// Empty queries / pings.
			if _, err := conn.Exec(ctx, "-- ping"); err != nil {
				t.Fatal(err)
			}
			if err := conn.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPgxStatementCacheReusesNamedStatements(t *testing.T) {
	ts := startServer(t)
	conn := pgxConnect(t, ts, "")
	ctx := testCtx(t)
	before := ts.h.prepares.Load()
	for i := 0; i < 5; i++ {
		var n int64
		if err := conn.QueryRow(ctx, "select $1::int8", int64(i)).Scan(&n); err != nil || n != int64(i) {
			t.Fatalf("%d: %v %v", i, n, err)
		}
	}
	if got := ts.h.prepares.Load() - before; got != 1 {
		t.Fatalf("Prepare called %d times, want 1 (named statement reused)", got)
	}
}

func TestPgxErrors(t *testing.T) {
	ts := startServer(t)
	conn := pgxConnect(t, ts, "")
	ctx := testCtx(t)
	_, err := conn.Exec(ctx, "error 22012")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "22012" || pe.Position != 7 || pe.Severity != "ERROR" {
		t.Fatalf("err %#v", err)
	}
	_, err = conn.Exec(ctx, "select * from no_such_table where x = $1", 1)
	if !errors.As(err, &pe) || pe.Code != "42P01" || pe.Position != 15 {
		t.Fatalf("err %#v", err)
	}
	_, err = conn.Exec(ctx, "internal")
	if pgCode(err) != "XX000" {
		t.Fatalf("err %v", err)
	}
	_, err = conn.Exec(ctx, "select $1::int4", "not a number")
	if pgCode(err) != "22P02" {
		t.Fatalf("err %v", err)
	}
	// Still usable.
	var n int
	if err := conn.QueryRow(ctx, "select 1").Scan(&n); err != nil || n != 1 {
		t.Fatal(n, err)
	}
}

func TestPgxBatchErrorMidPipeline(t *testing.T) {
	ts := startServer(t)
	conn := pgxConnect(t, ts, "")
	ctx := testCtx(t)
	b := &pgx.Batch{}
	b.Queue("select $1::int4", 1)
	b.Queue("error 23505")
	b.Queue("select $1::text", "x")
	br := conn.SendBatch(ctx, b)
	var n int
	if err := br.QueryRow().Scan(&n); err != nil || n != 1 {
		t.Fatalf("first: %v %v", n, err)
	}
	if _, err := br.Exec(); pgCode(err) != "23505" {
		t.Fatalf("second: %v", err)
	}
	var s string
	if err := br.QueryRow().Scan(&s); err == nil {
		t.Fatalf("third should fail after the error, got %q", s)
	}
	if err := br.Close(); err == nil || pgCode(err) != "23505" {
		t.Logf("batch close: %v", err)
	}
	// Recovery after Sync.
	if err := conn.QueryRow(ctx, "select $1::text", "ok").Scan(&s); err != nil || s != "ok" {
		t.Fatal(s, err)
	}
	if st := conn.PgConn().TxStatus(); st != 'I' {
		t.Fatalf("tx status %c", st)
	}
}

func TestPgxTransactions(t *testing.T) {
	ts := startServer(t)
	conn := pgxConnect(t, ts, "")
	ctx := testCtx(t)
	pc := conn.PgConn()
	if _, err := conn.Exec(ctx, "begin"); err != nil {
		t.Fatal(err)
	}
	if pc.TxStatus() != 'T' {
		t.Fatalf("status %c", pc.TxStatus())
	}
	if _, err := conn.Exec(ctx, "insert into t values (1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "error 22012"); pgCode(err) != "22012" {
		t.Fatal(err)
	}
	if pc.TxStatus() != 'E' {
		t.Fatalf("status %c", pc.TxStatus())
	}
	_, err := conn.Exec(ctx, "select 1")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25P02" || pe.Message != "current transaction is aborted, commands ignored until end of transaction block" {
		t.Fatalf("err %v", err)
	}
	_, err = conn.Exec(ctx, "select $1::int4", 1) // extended protocol too
	if pgCode(err) != "25P02" {
		t.Fatalf("err %v", err)
	}
	tag, err := conn.Exec(ctx, "commit")
	if err != nil || tag.String() != "ROLLBACK" {
		t.Fatalf("commit in E: %q %v", tag, err)
	}
	if pc.TxStatus() != 'I' {
		t.Fatalf("status %c", pc.TxStatus())
	}
	// pgx's Tx API.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "insert into t values (2)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err = conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = tx.Exec(ctx, "error 40001")
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if pc.TxStatus() != 'I' {
		t.Fatalf("status %c", pc.TxStatus())
	}
}

func TestPgxCopyFromBinary(t *testing.T) {
	ts := startServer(t)
	conn := pgxConnect(t, ts, "")
	ctx := testCtx(t)
	rows := [][]any{
		{time.Date(2026, 11, 22, 4, 1, 51, 0, time.UTC), "d", 4.5},
		{time.Date(2026, 11, 22, 4, 1, 52, 0, time.UTC), nil, 5.5},
		{time.Date(2026, 11, 22, 4, 1, 53, 0, time.UTC), "e", nil},
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"metrics"}, []string{"time", "host", "value"}, pgx.CopyFromRows(rows))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("copied %d", n)
	}
	got := ts.h.copiedRows()
	if len(got) != 3 || got[0][1] != "64" || got[1][1] != "NULL" || got[2][2] != "NULL" {
		t.Fatalf("rows %v", got)
	}
	// The connection is in sync afterwards.
	var s string
	if err := conn.QueryRow(ctx, "select $1::text", "after").Scan(&s); err != nil || s != "after" {
		t.Fatal(s, err)
	}
}

func TestPqTextCopyAndParams(t *testing.T) {
	ts := startServer(t)
	db, err := sql.Open("postgres", ts.url(""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := testCtx(t)
	var s string
	var f float64
	if err := db.QueryRowContext(ctx, "select $1::text, $2::float8", "hé", 2.25).Scan(&s, &f); err != nil || s != "hé" || f != 2.25 {
		t.Fatal(s, f, err)
	}
	rows, err := db.QueryContext(ctx, "select * from metrics where host = $1", "b")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var tm time.Time
		var host string
		var v float64
		if err := rows.Scan(&tm, &host, &v); err != nil {
			t.Fatal(err)
		}
		if host != "b" || v != 2.5 || !tm.Equal(time.Unix(1_700_000_001, 0)) {
			t.Fatalf("row %v %v %v", tm, host, v)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != 1 {
		t.Fatal(n, err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.Prepare(pq.CopyIn("metrics", "time", "host", "value"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		var host any = fmt.Sprintf("h%d", i)
		if i == 2 {
			host = nil
		}
		if _, err := stmt.Exec(time.Date(2026, 11, 22, 4, 1, i, 0, time.UTC), host, float64(i)+0.5); err != nil {
			t.Fatal(err)
		}
	}
	res, err := stmt.Exec()
	if err != nil {
		t.Fatal(err)
	}
	if err := stmt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = res
	got := ts.h.copiedRows()
	if len(got) != 4 || got[2][1] != `\N` || got[3][2] != "3.5" {
		t.Fatalf("rows %q", got)
	}
	// lib/pq error with SQLSTATE.
	_, err = db.ExecContext(ctx, "error 42703")
	var pqe *pq.Error
	if !errors.As(err, &pqe) || pqe.Code != "42703" || pqe.Position != "7" {
		t.Fatalf("err %#v", err)
	}
}

func TestStartupErrors(t *testing.T) {
	ts := startServer(t)
	ctx := testCtx(t)
	_, err := pgx.Connect(ctx, fmt.Sprintf("postgres://tester@%s/nodb?sslmode=disable", ts.addr))
	if pgCode(err) != "3D000" {
		t.Fatalf("err %v", err)
	}
	// sslmode=prefer: SSLRequest answered 'N', then plaintext.
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://tester@%s/db?sslmode=prefer", ts.addr))
	if err != nil {
		t.Fatal(err)
	}
	var v string
	if err := c.QueryRow(ctx, "select $1::text", "x").Scan(&v); err != nil || v != "x" {
		t.Fatal(v, err)
	}
	if got := c.PgConn().ParameterStatus("server_version"); got != "15.0 (Longboat test)" {
		t.Fatalf("server_version %q", got)
	}
	for k, want := range map[string]string{"client_encoding": "UTF8", "DateStyle": "ISO, MDY", "TimeZone": "UTC",
		"standard_conforming_strings": "on", "integer_datetimes": "on", "IntervalStyle": "postgres", "session_authorization": "tester"} {
		if got := c.PgConn().ParameterStatus(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	_ = c.Close(ctx)
}

func TestPasswordAuth(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.CheckPassword = func(_ context.Context, user, pw string) error {
			if user == "tester" && pw == "secret" {
				return nil
			}
			return errors.New("nope")
		}
	})
	ctx := testCtx(t)
	_, err := pgx.Connect(ctx, fmt.Sprintf("postgres://tester:wrong@%s/db?sslmode=disable", ts.addr))
	if pgCode(err) != "28P01" {
		t.Fatalf("err %v", err)
	}
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://tester:secret@%s/db?sslmode=disable", ts.addr))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close(ctx)
}

// rawConn is a pgproto3 frontend on a fresh, started-up connection.
type rawConn struct {
	t      testing.TB
	nc     net.Conn
	fe     *pgproto3.Frontend
	pid    uint32
	secret []byte
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	rc := &rawConn{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
	rc.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "tester", "database": "db"}})
	if err := rc.fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		m := rc.recv()
		switch m := m.(type) {
		case *pgproto3.BackendKeyData:
			rc.pid, rc.secret = m.ProcessID, append([]byte(nil), m.SecretKey...)
		case *pgproto3.ReadyForQuery:
			return rc
		case *pgproto3.ErrorResponse:
			t.Fatalf("startup: %+v", m)
		}
	}
}

func (rc *rawConn) recv() pgproto3.BackendMessage {
	rc.t.Helper()
	m, err := rc.fe.Receive()
	if err != nil {
		rc.t.Fatalf("receive: %v", err)
	}
	return m
}

func (rc *rawConn) send(msgs ...pgproto3.FrontendMessage) {
	rc.t.Helper()
	for _, m := range msgs {
		rc.fe.Send(m)
	}
	if err := rc.fe.Flush(); err != nil {
		rc.t.Fatal(err)
	}
}

// until collects messages up to and including the first of type T.
func until[T pgproto3.BackendMessage](rc *rawConn) []pgproto3.BackendMessage {
	rc.t.Helper()
	var out []pgproto3.BackendMessage
	for {
		m := rc.recv()
		out = append(out, m)
		if _, ok := m.(T); ok {
			return out
		}
	}
}

func TestCancelRequest(t *testing.T) {
	ts := startServer(t)
	rc := dialRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: "sleep"})
	<-ts.h.sleeping
	// A wrong key is ignored.
	sendCancel(t, ts.addr, rc.pid, []byte{0, 0, 0, 0})
	select {
	case <-ts.h.woke:
		t.Fatal("statement cancelled by a wrong key")
	case <-time.After(50 * time.Millisecond):
	}
	sendCancel(t, ts.addr, rc.pid, rc.secret)
	select {
	case cause := <-ts.h.woke:
		if !errors.Is(cause, errCancelRequested) {
			t.Fatalf("cause %v", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("statement not cancelled")
	}
	msgs := until[*pgproto3.ReadyForQuery](rc)
	var er *pgproto3.ErrorResponse
	for _, m := range msgs {
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			er = e
		}
	}
	if er == nil || er.Code != "57014" || er.Message != "canceling statement due to user request" {
		t.Fatalf("messages %#v", msgs)
	}
	// The connection still works.
	rc.send(&pgproto3.Query{String: "select 1"})
	msgs = until[*pgproto3.ReadyForQuery](rc)
	if len(msgs) != 4 {
		t.Fatalf("messages %#v", msgs)
	}
}

func sendCancel(t testing.TB, addr string, pid uint32, key []byte) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.CancelRequest{ProcessID: pid, SecretKey: key})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	// The server closes without a reply.
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := nc.Read(make([]byte, 1)); err == nil || n != 0 {
		t.Fatalf("cancel connection: read %d, %v", n, err)
	}
}

func TestPgxContextCancelSendsCancelRequest(t *testing.T) {
	ts := startServer(t)
	conn := pgxConnect(t, ts, "")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-ts.h.sleeping
		cancel()
	}()
	_, err := conn.Exec(ctx, "sleep")
	if err == nil {
		t.Fatal("expected an error")
	}
	select {
	case cause := <-ts.h.woke:
		if !errors.Is(cause, errCancelRequested) && !errors.Is(cause, errClientDisconnected) {
			t.Fatalf("cause %v", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("statement not cancelled")
	}
	t.Logf("pgx error: %v (code %q)", err, pgCode(err))
}

func TestClientDisconnectCancelsStatement(t *testing.T) {
	ts := startServer(t)
	rc := dialRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: "sleep"})
	<-ts.h.sleeping
	_ = rc.nc.Close()
	select {
	case cause := <-ts.h.woke:
		if !errors.Is(cause, errClientDisconnected) {
			t.Fatalf("cause %v", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("statement not cancelled by disconnect")
	}
	waitFor(t, func() bool { return ts.h.closed.Load() == ts.h.sessions.Load() })
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMalformedMessages(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxMessageSize = 1 << 20 })
	for name, raw := range map[string][]byte{
		"oversized":    {'Q', 0x7f, 0xff, 0xff, 0xff},
		"bad length":   {'Q', 0, 0, 0, 2},
		"unknown type": {'z', 0, 0, 0, 4},
		"bad bind":     {'B', 0, 0, 0, 6, 'x', 'y'},
	} {
		t.Run(name, func(t *testing.T) {
			rc := dialRaw(t, ts.addr)
			if _, err := rc.nc.Write(raw); err != nil {
				t.Fatal(err)
			}
			m := rc.recv()
			er, ok := m.(*pgproto3.ErrorResponse)
			if !ok || er.Code != "08P01" {
				t.Fatalf("got %#v", m)
			}
			if _, err := rc.fe.Receive(); err == nil {
				t.Fatal("connection not closed")
			}
			// Others are still served.
			other := dialRaw(t, ts.addr)
			other.send(&pgproto3.Query{String: "select 1"})
			until[*pgproto3.ReadyForQuery](other)
		})
	}
}

func TestServerCloseDrains(t *testing.T) {
	ts := startServer(t)
	rc := dialRaw(t, ts.addr)
	rc.send(&pgproto3.Query{String: "sleep"})
	<-ts.h.sleeping
	done := make(chan error, 1)
	go func() { done <- ts.srv.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	msgs := []pgproto3.BackendMessage{}
	for {
		m, err := rc.fe.Receive()
		if err != nil {
			break
		}
		msgs = append(msgs, m)
	}
	found := false
	for _, m := range msgs {
		if e, ok := m.(*pgproto3.ErrorResponse); ok && e.Code == "57P01" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no 57P01 in %#v", msgs)
	}
}
