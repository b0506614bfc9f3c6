package bench

// The differential TSBS test: the same data set and queries on Longboat and
// on PostgreSQL 15, results compared exactly (see CompareResults).
//
//   TestTSBSDiffLongboatVsPostgres  builds ./cmd/longboat, starts a node,
//                                   loads it with psql \copy and diffs it
//                                   against PostgreSQL.
//   TestTSBSDiffPostgresVsPostgres  PostgreSQL loaded by psql \copy against
//                                   PostgreSQL loaded by the bench loader
//                                   (binary COPY); checks the harness itself
//                                   and the bench CLI end to end.
//
// Both need PostgreSQL 15 (scripts/install-deps.sh); without it they fail,
// except under -short, where they are skipped. One PostgreSQL cluster,
// started with scripts/pg-start.sh and loaded once, serves both tests.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const tsbsRows = 864000

func pgBin() string {
	if d := os.Getenv("PGBIN"); d != "" {
		return d
	}
	return "/usr/lib/postgresql/15/bin"
}

// requireIntegration skips under -short and fails when PostgreSQL 15 or the
// data set is missing.
func requireIntegration(t *testing.T) (root, data string) {
	t.Helper()
	_, pgErr := os.Stat(filepath.Join(pgBin(), "pg_ctl"))
	if testing.Short() {
		reason := "integration test skipped in -short mode"
		if pgErr != nil {
			reason = "PostgreSQL 15 is not installed (no " + pgBin() + "/pg_ctl): run scripts/install-deps.sh"
		}
		t.Skip(reason)
	}
	if pgErr != nil {
		t.Fatalf("PostgreSQL 15 is not installed (no %s/pg_ctl): run scripts/install-deps.sh (as root) first", pgBin())
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, ok := findModuleRoot(wd)
	if !ok {
		t.Fatalf("cannot find the module root above %s", wd)
	}
	data = testDataDir(t)
	if _, err := os.Stat(filepath.Join(data, DataFile)); err != nil {
		t.Fatalf("TSBS data set not found (set LONGBOAT_TSBS_DIR): %v", err)
	}
	return root, data
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// psql runs psql against 127.0.0.1:port with ON_ERROR_STOP.
func psql(ctx context.Context, port int, user, db string, args ...string) ([]byte, error) {
	base := []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", fmt.Sprint(port), "-U", user, "-d", db}
	cmd := exec.CommandContext(ctx, filepath.Join(pgBin(), "psql"), append(base, args...)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("psql %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

// psqlCopy loads the data set with psql's \copy CSV path.
func psqlCopy(ctx context.Context, port int, user, db, data string) error {
	file := filepath.Join(data, DataFile)
	if strings.ContainsRune(file, '\'') {
		return fmt.Errorf("data path %q contains a quote", file)
	}
	_, err := psql(ctx, port, user, db, "-c",
		fmt.Sprintf(`\copy cpu FROM PROGRAM 'zcat %s' WITH (FORMAT csv, HEADER true)`, file))
	return err
}

// pgFixture is one PostgreSQL cluster shared by the tests of this package:
// database tsbs, loaded by psql \copy. TestMain stops it.
type pgFixture struct {
	once sync.Once
	err  error
	root string
	dir  string
	port int
}

// sharedPG is test-only state: the cluster outlives single tests so the data
// set is loaded once.
var sharedPG pgFixture

func TestMain(m *testing.M) {
	code := m.Run()
	sharedPG.stop()
	os.Exit(code)
}

func (f *pgFixture) stop() {
	if f.dir == "" {
		return
	}
	cmd := exec.Command(filepath.Join(f.root, "scripts", "pg-stop.sh"), filepath.Join(f.dir, "pg"))
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "pg-stop: %v\n%s", err, out)
	}
	os.RemoveAll(f.dir)
}

// get starts and loads the cluster on first use.
func (f *pgFixture) get(t *testing.T, root, data string) int {
	t.Helper()
	f.once.Do(func() {
		f.root = root
		f.err = f.start(t, root, data)
	})
	if f.err != nil {
		t.Fatalf("PostgreSQL fixture: %v", f.err)
	}
	return f.port
}

func (f *pgFixture) start(t *testing.T, root, data string) error {
	// NB: not t.TempDir(): the cluster outlives the first test, and when run
	// as root the postgres user must be able to traverse the parent (0755).
	dir, err := os.MkdirTemp("", "longboat-tsbs-pg-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	f.dir = dir
	f.port = freePort(t)
	t0 := time.Now()
	cmd := exec.Command(filepath.Join(root, "scripts", "pg-start.sh"), fmt.Sprint(f.port), filepath.Join(dir, "pg"))
	cmd.Env = append(os.Environ(), "LONGBOAT_TSBS_DIR="+data, "PGBIN="+pgBin())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("scripts/pg-start.sh: %w\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t1 := time.Now()
	if err := psqlCopy(ctx, f.port, "postgres", "tsbs", data); err != nil {
		return err
	}
	if _, err := psql(ctx, f.port, "postgres", "tsbs", "-c", "VACUUM ANALYZE cpu"); err != nil {
		return err
	}
	t.Logf("PostgreSQL on port %d: started in %.1fs, loaded by psql \\copy in %.1fs",
		f.port, t1.Sub(t0).Seconds(), time.Since(t1).Seconds())
	return nil
}

func pgURL(port int, user, db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", user, port, db)
}

func connector(t *testing.T, url string) Connector {
	cfg, err := parseConnConfig(url, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context) (*pgconn.PgConn, error) {
		return pgconn.ConnectConfig(ctx, &cfg.Copy().Config)
	}
}

func countRows(ctx context.Context, t *testing.T, url string) int {
	t.Helper()
	c, err := connector(t, url)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	res, err := runQuery(ctx, c, "SELECT count(*) FROM cpu", ProtocolSimple, true)
	if err != nil || res.Err != nil || len(res.Rows) != 1 {
		t.Fatalf("count(*): %v %v", err, res)
	}
	var n int
	fmt.Sscan(res.Rows[0][0].Text, &n)
	return n
}

// runDiffs diffs a against b with the shipped queries (shipped per type) and
// generated ones (seed 7, generated per type); it fails the test on any
// difference.
func runDiffs(ctx context.Context, t *testing.T, data string, a, b Connector, shipped, generated int) {
	t.Helper()
	fileSets, err := LoadQuerySets(data, QueryTypes(), shipped)
	if err != nil {
		t.Fatal(err)
	}
	genSets, err := GenerateQuerySets(QueryTypes(), 7, generated)
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		name string
		sets []QuerySet
	}{{"shipped queries", fileSets}, {"generated queries, seed 7", genSets}} {
		var out bytes.Buffer
		t0 := time.Now()
		sum, err := Diff(ctx, a, b, run.sets, DiffOptions{Timeout: 2 * time.Minute, Out: &out})
		t.Logf("%s (%.1fs):\n%s", run.name, time.Since(t0).Seconds(), out.String())
		if err != nil {
			t.Fatalf("%s: %v", run.name, err)
		}
		if sum.Differ > 0 {
			t.Errorf("%s: %d of %d queries differ (see above)", run.name, sum.Differ, sum.Queries)
		}
	}
}

// TestTSBSDiffPostgresVsPostgres checks the harness on PostgreSQL alone: a
// database loaded by psql \copy and one loaded by the bench loader (pgx
// binary COPY, 2 workers) must give identical results; then the bench CLI
// runs end to end.
func TestTSBSDiffPostgresVsPostgres(t *testing.T) {
	root, data := requireIntegration(t)
	port := sharedPG.get(t, root, data)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	if _, err := psql(ctx, port, "postgres", "postgres", "-c", "DROP DATABASE IF EXISTS tsbs_loader", "-c", "CREATE DATABASE tsbs_loader"); err != nil {
		t.Fatal(err)
	}
	loaderURL := pgURL(port, "postgres", "tsbs_loader")
	cfg, err := parseConnConfig(loaderURL, "")
	if err != nil {
		t.Fatal(err)
	}
	connect := func(ctx context.Context) (*pgx.Conn, error) { return pgx.ConnectConfig(ctx, cfg.Copy()) }
	c, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateSchema(ctx, c, SchemaPostgres, data, nil); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	st, err := Load(ctx, connect, LoadOptions{File: filepath.Join(data, DataFile), Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bench loader: %d rows in %.2fs = %.0f rows/s", st.Rows, st.ElapsedSec, st.RowsPerSec)
	if st.Rows != tsbsRows || countRows(ctx, t, loaderURL) != tsbsRows || countRows(ctx, t, pgURL(port, "postgres", "tsbs")) != tsbsRows {
		t.Fatalf("want %d rows on both sides (loader reported %d)", tsbsRows, st.Rows)
	}

	if _, err := psql(ctx, port, "postgres", "tsbs_loader", "-c", "VACUUM ANALYZE cpu"); err != nil {
		t.Fatal(err)
	}
	// Fewer queries than the Longboat test: this one checks the harness.
	runDiffs(ctx, t, data, connector(t, pgURL(port, "postgres", "tsbs")), connector(t, loaderURL), 3, 2)

	// The CLI end to end: one query per type on both databases, JSON out.
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	var stdout, stderr bytes.Buffer
	cmd := NewCommand()
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"tsbs", "--data", data, "--queries-per-type", "1", "--json", jsonPath,
		"--target", "postgres=" + pgURL(port, "postgres", "tsbs"),
		"--target", "postgres-loader=" + loaderURL})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("bench tsbs: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("bench tsbs:\n%s", stdout.String())
	var rep Report
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Targets) != 2 || len(rep.Targets[0].Queries) != 15 || len(rep.Ratios) != 15 || rep.GeoMeanRatio <= 0 ||
		rep.Targets[0].RelationSizeBytes == nil || *rep.Targets[0].RelationSizeBytes < 100<<20 {
		t.Fatalf("unexpected report: %s", b)
	}
	for _, q := range rep.Targets[1].Queries {
		if q.N != 1 || q.Errors != 0 || q.Rows == 0 {
			t.Fatalf("%s: %+v", q.Type, q)
		}
	}

	// The diff subcommand fails on a difference and names it.
	if _, err := psql(ctx, port, "postgres", "tsbs_loader", "-c",
		"UPDATE cpu SET usage_user = 1000 WHERE hostname = 'host_49' AND time = '2016-01-01 02:30:00+00'"); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	cmd = NewCommand()
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"tsbs", "diff", "--data", data, "--queries", "single-groupby-1-1-1", "--queries-per-type", "1",
		"--a", pgURL(port, "postgres", "tsbs"), "--b", loaderURL})
	err = cmd.ExecuteContext(ctx)
	if err == nil || !strings.Contains(stdout.String(), `value row 13 column "max_usage_user": a="2" b="1000"`) {
		t.Fatalf("diff did not report the changed value (err %v):\n%s", err, stdout.String())
	}
}

// TestTSBSDiffLongboatVsPostgres is the differential test proper. Until the
// Longboat server builds and serves, it fails at its start.
func TestTSBSDiffLongboatVsPostgres(t *testing.T) {
	root, data := requireIntegration(t)
	port := sharedPG.get(t, root, data)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	lbPort := startLongboat(ctx, t, root)
	t0 := time.Now()
	if _, err := psql(ctx, lbPort, "longboat", "longboat", "-c", LongboatDDL); err != nil {
		t.Fatal(err)
	}
	if err := psqlCopy(ctx, lbPort, "longboat", "longboat", data); err != nil {
		t.Fatal(err)
	}
	lbURL := pgURL(lbPort, "longboat", "longboat")
	t.Logf("Longboat loaded by psql \\copy in %.1fs", time.Since(t0).Seconds())
	if n := countRows(ctx, t, lbURL); n != tsbsRows {
		t.Fatalf("Longboat has %d rows, want %d", n, tsbsRows)
	}
	runDiffs(ctx, t, data, connector(t, lbURL), connector(t, pgURL(port, "postgres", "tsbs")), 10, 5)
}

// startLongboat builds ./cmd/longboat, starts a single node on free ports
// with temporary directories, waits for /health and returns the pg port.
// The node is stopped (SIGTERM, then SIGKILL after 10s) in t.Cleanup.
func startLongboat(ctx context.Context, t *testing.T, root string) int {
	t.Helper()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "longboat")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/longboat")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("cannot build the longboat server (go build ./cmd/longboat): %v\n%s", err, out)
	}
	pgPort, httpPort, raftPort := freePort(t), freePort(t), freePort(t)
	logPath := filepath.Join(tmp, "longboat.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(bin, "node", "start",
		"--data-dir", filepath.Join(tmp, "data"),
		"--pg-addr", fmt.Sprintf("127.0.0.1:%d", pgPort),
		"--http-addr", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--raft-addr", fmt.Sprintf("127.0.0.1:%d", raftPort))
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		t.Fatalf("cannot start longboat: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait(); logf.Close() }()
	logTail := func() string {
		b, _ := os.ReadFile(logPath)
		if len(b) > 8000 {
			b = b[len(b)-8000:]
		}
		return string(b)
	}
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = srv.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("longboat log (tail):\n%s", logTail())
		}
	})
	health := fmt.Sprintf("http://127.0.0.1:%d/health", httpPort)
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("longboat exited before serving: %v\n%s", err, logTail())
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return pgPort
			}
		}
		if time.Now().After(deadline) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("longboat not healthy at %s after 90s (last: %v)\n%s", health, err, logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
