package server_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Real-client compatibility tests. Each test starts a real in-process node,
// runs one client library's program from testdata/clients/ as a subprocess
// against it and compares the program's standard output, line for line,
// with the golden file beside the program. The goldens are the output of
// the same programs against PostgreSQL 15 (see -clients.pg): where Longboat
// and PostgreSQL agree, the golden is PostgreSQL's behaviour.
//
// The clients are Debian packages that `make test` installs
// (scripts/install-deps.sh python java node); a missing client fails the
// test, it is never skipped.
//
// To check the goldens against PostgreSQL (and with -clients.rewrite, to
// regenerate them from it), start a PostgreSQL 15 with a database and a
// superuser named longboat and TimescaleDB's time_bucket as an SQL function:
//
//	scripts/pg-start.sh 5499 /tmp/pgref /dev/null
//	psql -h 127.0.0.1 -p 5499 -U postgres -c 'CREATE ROLE longboat SUPERUSER LOGIN' -c 'CREATE DATABASE longboat OWNER longboat'
//	psql -h 127.0.0.1 -p 5499 -U longboat longboat -c "CREATE FUNCTION time_bucket(i interval, t timestamptz) RETURNS timestamptz
//	  AS \$\$ SELECT date_bin(i, t, '2000-01-03 00:00:00+00') \$\$ LANGUAGE sql IMMUTABLE"
//	go test ./server -run TestClient -clients.pg=127.0.0.1:5499 [-clients.rewrite]
var (
	clientsPG      = flag.String("clients.pg", "", "host:port of a PostgreSQL 15 to run the client programs against as well (goldens must match it too)")
	clientsRewrite = flag.Bool("clients.rewrite", false, "with -clients.pg: rewrite the goldens from PostgreSQL's output")
)

// clientTimeout bounds one client program run (a JVM compiling Main.java on
// a loaded 2-core machine included); the programs take a few seconds.
const clientTimeout = 3 * time.Minute

// clientProgram describes how to run one client's program.
type clientProgram struct {
	dir    string   // under testdata/clients
	golden string   // file name in dir
	check  []string // a command proving the client library is installed
	run    []string // the command; HOST and PORT are substituted
	env    []string // extra environment
	hint   string   // what to install when check fails
}

// TestClientPsycopg2: psycopg2 (client-side %s interpolation, simple
// protocol): executemany, copy_expert CSV, time_bucket aggregates,
// timestamptz and Decimal round trips, NULLs, SyntaxError 42601 and 25P02
// until rollback, SET/SHOW and ParameterStatus, pg_sleep, conn.cancel(),
// statement_timeout.
func TestClientPsycopg2(t *testing.T) {
	runClient(t, clientProgram{
		dir:    "python",
		golden: "psycopg2_flow.out",
		check:  []string{"/usr/bin/python3", "-c", "import psycopg2"},
		run:    []string{"/usr/bin/python3", "psycopg2_flow.py", "HOST", "PORT"},
		env:    []string{"PYTHONDONTWRITEBYTECODE=1"},
		hint:   "scripts/install-deps.sh python (python3-psycopg2, for Debian's /usr/bin/python3)",
	})
}

// TestClientJDBC: pgjdbc with prepareThreshold=1 (server-prepared
// statements, binary results): setTimestamp/setDouble/setString/setObject,
// batches with and without reWriteBatchedInserts, ResultSetMetaData,
// DatabaseMetaData.getTables/getColumns (pg_catalog queries), SQLState
// 42P01/42703, setFetchSize cursors, Statement.cancel().
func TestClientJDBC(t *testing.T) {
	runClient(t, clientProgram{
		dir:    "java",
		golden: "Main.out",
		check:  []string{"sh", "-c", "command -v java && test -r /usr/share/java/postgresql.jar"},
		// Single-file source launch (JDK 11+); C1 only: a short program.
		run:  []string{"java", "-XX:TieredStopAtLevel=1", "-cp", "/usr/share/java/postgresql.jar", "Main.java", "HOST", "PORT"},
		hint: "scripts/install-deps.sh java (default-jdk-headless, libpostgresql-jdbc-java)",
	})
}

// TestClientNodePostgres: node-postgres: parameterized queries, rows as
// objects, timestamptz as Date, int8 as string, named prepared statements,
// rowMode array, multi-statement simple queries, errors with SQLSTATE and
// position, statement_timeout as a connection option.
func TestClientNodePostgres(t *testing.T) {
	runClient(t, clientProgram{
		dir:    "node",
		golden: "pg_flow.out",
		check:  []string{"node", "-e", "require.resolve('pg')"},
		run:    []string{"node", "pg_flow.js", "HOST", "PORT"},
		// Debian's node finds /usr/share/nodejs by itself; NODE_PATH also
		// covers a node binary from elsewhere.
		env:  []string{"NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs"},
		hint: "scripts/install-deps.sh node (nodejs, node-pg)",
	})
}

func runClient(t *testing.T, p clientProgram) {
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "clients", p.dir))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runCommand(t, dir, p.check, p.env); err != nil {
		t.Fatalf("client not installed (%v: %s); install it with %s — make test does", err, out, p.hint)
	}
	golden := filepath.Join(dir, p.golden)
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}

	tn := startNode(t, t.TempDir())
	got := runProgram(t, dir, p, tn.n.PGAddr())
	if d := lineDiff(string(want), got); d != "" {
		t.Errorf("%s against Longboat differs from %s (- want, + got):\n%s", p.run[1], golden, d)
	}

	if *clientsPG != "" {
		pg := runProgram(t, dir, p, *clientsPG)
		if *clientsRewrite {
			if err := os.WriteFile(golden, []byte(pg), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		if d := lineDiff(string(want), pg); d != "" {
			t.Errorf("%s against PostgreSQL (%s) differs from %s (- want, + got):\n%s", p.run[1], *clientsPG, golden, d)
		}
	}
}

// runProgram runs the client program against addr and returns its
// standard output; a failing run fails the test with its standard error.
func runProgram(t *testing.T, dir string, p clientProgram, addr string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	args := make([]string, len(p.run))
	for i, a := range p.run {
		switch a {
		case "HOST":
			a = host
		case "PORT":
			a = port
		}
		args[i] = a
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := osexec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "TZ=UTC", "LC_ALL=C.UTF-8"), p.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func runCommand(t *testing.T, dir string, args, env []string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := osexec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

// lineDiff returns the lines where want and got differ ("" when equal):
// a plain line-by-line comparison, enough for goldens of a few dozen lines.
func lineDiff(want, got string) string {
	if want == got {
		return ""
	}
	w := strings.Split(want, "\n")
	g := strings.Split(got, "\n")
	var sb strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		fmt.Fprintf(&sb, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
	}
	return sb.String()
}
