package main

// Helpers that run the real longboat binary as a child process, for tests
// that need what an in-process server cannot give: SIGKILL at an arbitrary
// instruction, a process restart on the same data directory.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// moduleRoot returns the directory holding go.mod, searching upwards from
// the working directory (cmd/longboat when run by go test).
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("cannot find go.mod above the working directory")
		}
		dir = parent
	}
}

// buildBinary builds ./cmd/longboat into dir and returns its path.
func buildBinary(ctx context.Context, t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "longboat")
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/longboat")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("cannot build the longboat binary (go build ./cmd/longboat): %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns 127.0.0.1:<a port that was free a moment ago>.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// nodeProcess is one longboat node run as a child process. It can be
// killed and restarted on the same data directory and Raft address (both
// are frozen into the data directory); the PostgreSQL and HTTP ports are
// picked afresh at every start. Every run appends its stdout and stderr to
// one log file.
type nodeProcess struct {
	t        *testing.T
	bin      string
	dataDir  string
	raftAddr string
	logPath  string

	// Of the current run.
	cmd      *exec.Cmd
	exited   chan error // receives Wait's result once
	pgAddr   string
	httpAddr string
	runs     int
}

func newNodeProcess(t *testing.T, bin, dir string) *nodeProcess {
	p := &nodeProcess{
		t:        t,
		bin:      bin,
		dataDir:  filepath.Join(dir, "data"),
		raftAddr: freeAddr(t),
		logPath:  filepath.Join(dir, "longboat.log"),
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("longboat log (tail of %s):\n%s", p.logPath, p.logTail(12000))
		}
	})
	return p
}

// start starts the node and waits until /health answers 200.
func (p *nodeProcess) start(ctx context.Context) {
	p.t.Helper()
	if p.cmd != nil {
		p.t.Fatalf("node already running")
	}
	p.runs++
	logf, err := os.OpenFile(p.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	fmt.Fprintf(logf, "\n===== test: run %d of longboat (%s) =====\n", p.runs, time.Now().UTC().Format(time.RFC3339Nano))
	p.pgAddr, p.httpAddr = freeAddr(p.t), freeAddr(p.t)
	cmd := exec.Command(p.bin, "node", "start",
		"--data-dir", p.dataDir,
		"--pg-addr", p.pgAddr,
		"--http-addr", p.httpAddr,
		"--raft-addr", p.raftAddr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.t.Fatalf("cannot start longboat: %v", err)
	}
	p.cmd = cmd
	p.exited = make(chan error, 1)
	go func() { p.exited <- cmd.Wait(); logf.Close() }()

	health := "http://" + p.httpAddr + "/health"
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for {
		select {
		case err := <-p.exited:
			p.cmd = nil
			p.t.Fatalf("longboat exited before serving (run %d): %v", p.runs, err)
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
		if err != nil {
			p.t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.t.Fatalf("longboat not healthy at %s after 60s (run %d, last: %v)", health, p.runs, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *nodeProcess) kill() {
	p.t.Helper()
	if p.cmd == nil {
		p.t.Fatalf("node not running")
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("cannot kill longboat: %v", err)
	}
	err := <-p.exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		p.t.Fatalf("longboat did not die of SIGKILL: %v", err)
	}
	p.cmd = nil
}

// stop asks the node to shut down (SIGTERM) and waits; after 20 s it kills
// it. It reports whether the node exited cleanly.
func (p *nodeProcess) stop() bool {
	if p.cmd == nil {
		return true
	}
	defer func() { p.cmd = nil }()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		return err == nil
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return false
	}
}

// url is the connection string of database db on the current run.
func (p *nodeProcess) url(db string) string {
	return fmt.Sprintf("postgres://longboat@%s/%s?sslmode=disable&connect_timeout=10", p.pgAddr, db)
}

// logTail returns the last n bytes of the node's log.
func (p *nodeProcess) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
