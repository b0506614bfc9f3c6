package server_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/lib/pq"

	"github.com/longboatdb/longboat/server"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type testNode struct {
	t   *testing.T
	cfg server.Config
	n   *server.Node
}

func startNode(t *testing.T, dir string) *testNode {
	t.Helper()
	tn := &testNode{t: t, cfg: server.Config{
		DataDir:            dir,
		PGAddr:             freeAddr(t),
		HTTPAddr:           freeAddr(t),
		RaftAddr:           freeAddr(t),
		RaftRTTMillisecond: 10,
	}}
	tn.start()
	t.Cleanup(tn.stop)
	return tn
}

func (tn *testNode) start() {
	tn.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := server.Start(ctx, tn.cfg)
	if err != nil {
		tn.t.Fatalf("start node: %v", err)
	}
	tn.n = n
}

func (tn *testNode) stop() {
	if tn.n != nil {
		tn.n.Close()
		tn.n = nil
	}
}

func (tn *testNode) url() string {
	return fmt.Sprintf("postgres://longboat@%s/longboat?sslmode=disable", tn.n.PGAddr())
}

func (tn *testNode) conn(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, tn.url())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func exec(t *testing.T, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

const cpuDDL = `CREATE TABLE cpu (time timestamptz NOT NULL, hostname text, region text,
  usage_user double precision, usage_system double precision,
  PRIMARY KEY (hostname, region, time))`

func TestHealth(t *testing.T) {
	tn := startNode(t, t.TempDir())
	resp, err := http.Get("http://" + tn.n.HTTPAddr() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health: %d", resp.StatusCode)
	}
}

func TestEndToEndPgx(t *testing.T) {
	tn := startNode(t, t.TempDir())
	c := tn.conn(t)
	ctx := context.Background()
	exec(t, c, cpuDDL)
	exec(t, c, `INSERT INTO cpu VALUES ('2024-05-01T00:00:00Z', 'host_0', 'eu', 58, 2),
		('2024-05-01T00:00:10Z', 'host_0', 'eu', 61, 3), ('2024-05-01T00:01:10Z', 'host_1', 'us', 10, 1)`)
	// Parameters in the extended protocol, inferred types.
	exec(t, c, `INSERT INTO cpu (time, hostname, region, usage_user, usage_system) VALUES ($1, $2, $3, $4, $5)`,
		time.Date(2024, 5, 1, 0, 2, 0, 0, time.UTC), "host_1", "us", 12.5, 2)

	var n int64
	if err := c.QueryRow(ctx, `SELECT count(*) FROM cpu`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("count: %d %v", n, err)
	}
	rows, err := c.Query(ctx, `SELECT time_bucket('60 seconds', time) AS minute, max(usage_user) FROM cpu
		WHERE hostname IN ('host_0', 'host_1') AND time >= $1 AND time < '2024-05-01T01:00:00Z'
		GROUP BY minute ORDER BY minute`, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var ts time.Time
		var m float64
		if err := rows.Scan(&ts, &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s=%g", ts.UTC().Format("15:04"), m))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "00:00=61 00:01=10 00:02=12.5"; strings.Join(got, " ") != want {
		t.Fatalf("got %v want %s", got, want)
	}
	// Overwrite: same series and time, later write wins.
	exec(t, c, `INSERT INTO cpu VALUES ('2024-05-01T00:00:00Z', 'host_0', 'eu', 99, 9)`)
	var u float64
	if err := c.QueryRow(ctx, `SELECT usage_user FROM cpu WHERE hostname = 'host_0' AND time = '2024-05-01T00:00:00Z'`).Scan(&u); err != nil || u != 99 {
		t.Fatalf("overwrite: %v %v", u, err)
	}
	if err := c.QueryRow(ctx, `SELECT count(*) FROM cpu`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("count after overwrite: %d %v", n, err)
	}
}

func TestErrors(t *testing.T) {
	tn := startNode(t, t.TempDir())
	c := tn.conn(t)
	ctx := context.Background()
	exec(t, c, cpuDDL)
	for _, tc := range []struct{ sql, code string }{
		{"SELEC 1", "42601"},
		{"SELECT * FROM nosuch", "42P01"},
		{"SELECT nosuch FROM cpu", "42703"},
		{"INSERT INTO cpu (time, hostname, region, usage_user) VALUES ('2024-05-01', 'h', 'r', 'abc')", "22P02"},
		{"INSERT INTO cpu (time, hostname) VALUES ('not a time', 'h')", "22007"},
		{"CREATE TABLE cpu (time timestamptz, PRIMARY KEY (time))", "42P07"},
		{"UPDATE cpu SET usage_user = 1", "0A000"},
	} {
		_, err := c.Exec(ctx, tc.sql)
		if got := pgCode(err); got != tc.code {
			t.Errorf("%s: code %q (%v), want %s", tc.sql, got, err, tc.code)
		}
	}
	_, err := c.Exec(ctx, "SELECT 1 FROM cpu WHERE")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42601" || pe.Position == 0 {
		t.Fatalf("syntax error position: %#v", err)
	}
	// The connection still works after errors.
	var one int
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("after errors: %v", err)
	}
}

func TestCopyAndRestart(t *testing.T) {
	dir := t.TempDir()
	tn := startNode(t, dir)
	c := tn.conn(t)
	ctx := context.Background()
	exec(t, c, cpuDDL)
	const rows = 20000
	src := make([][]any, rows)
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range src {
		src[i] = []any{base.Add(time.Duration(i/10) * 10 * time.Second), fmt.Sprintf("host_%d", i%10), "eu", float64(i % 100), float64(i % 7)}
	}
	n, err := c.CopyFrom(ctx, pgx.Identifier{"cpu"}, []string{"time", "hostname", "region", "usage_user", "usage_system"}, pgx.CopyFromRows(src))
	if err != nil || n != rows {
		t.Fatalf("copy: %d %v", n, err)
	}
	// lib/pq text COPY.
	db, err := sql.Open("postgres", tn.url())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO cpu VALUES ('2030-01-01T00:00:00Z', 'pq', 'x', 1, 2)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	want := sum(t, c)
	tn.stop()
	tn.start()
	c2 := tn.conn(t)
	if got := sum(t, c2); got != want {
		t.Fatalf("after restart: %s, want %s", got, want)
	}
}

func sum(t *testing.T, c *pgx.Conn) string {
	t.Helper()
	var n int64
	var s float64
	if err := c.QueryRow(context.Background(), `SELECT count(*), sum(usage_user) FROM cpu`).Scan(&n, &s); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d/%g", n, s)
}

func TestCancel(t *testing.T) {
	tn := startNode(t, t.TempDir())
	c := tn.conn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// pg_sleep blocks on the statement context; cancelling sends a CancelRequest.
	_, err := c.Exec(ctx, "SELECT pg_sleep(30)")
	if err == nil {
		t.Fatal("expected cancel")
	}
	c2 := tn.conn(t)
	var one int
	if err := c2.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}
