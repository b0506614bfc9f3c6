package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Defaults.
const (
	// DefaultMaxMessageSize caps a single frontend message (1 GiB, as
	// PostgreSQL's MaxAllocSize).
	DefaultMaxMessageSize = 1 << 30
	defaultServerVersion  = "15.0 (Longboat)"
	writeBufferSize       = 32 << 10
	cmdQueueLen           = 256
)

// Config configures a Server.
type Config struct {
	// Addr is the listen address used by ListenAndServe.
	Addr    string
	Handler Handler
	// ServerVersion is sent as server_version, e.g. "15.0 (Longboat 0.1.0)".
	ServerVersion string
	Logger        *slog.Logger
	// TLS, when set, makes the server answer 'S' to SSLRequest and switch
	// the connection to TLS; nil answers 'N'.
	TLS *tls.Config
	// CheckPassword, when set, asks the client for a cleartext password
	// (AuthenticationCleartextPassword) and calls it; an error (ideally with
	// SQLSTATE 28P01) rejects the connection. nil trusts every user.
	CheckPassword func(ctx context.Context, user, password string) error
	// MaxMessageSize caps a frontend message body; 0 means
	// DefaultMaxMessageSize. Larger messages get 08P01 and the connection
	// is closed.
	MaxMessageSize int
}

// Server accepts PostgreSQL connections and serves them with a Handler.
//
// Every connection gets two goroutines, both owned by the Server: a reader
// that decodes frontend messages into a command queue, and an executor that
// runs them. Close (or cancelling Serve's context) stops listening, cancels
// running statements, closes every connection and waits for the goroutines.
type Server struct {
	cfg    Config
	logger *slog.Logger

	mu struct {
		sync.Mutex
		listeners map[net.Listener]struct{}
		conns     map[*conn]struct{}
		byPID     map[uint32]*conn
		closed    bool
	}
	wg   sync.WaitGroup
	addr chan net.Addr // receives the first listener's address
	once sync.Once
	done chan struct{}
}

// New validates cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Handler == nil {
		return nil, errors.New("longboat/pgwire: Config.Handler is required")
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = defaultServerVersion
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.MaxMessageSize > DefaultMaxMessageSize {
		return nil, fmt.Errorf("longboat/pgwire: MaxMessageSize %d exceeds %d", cfg.MaxMessageSize, DefaultMaxMessageSize)
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	s := &Server{cfg: cfg, logger: lg.With("component", "pgwire"), addr: make(chan net.Addr, 1), done: make(chan struct{})}
	s.mu.listeners = make(map[net.Listener]struct{})
	s.mu.conns = make(map[*conn]struct{})
	s.mu.byPID = make(map[uint32]*conn)
	return s, nil
}

// ListenAndServe listens on Config.Addr and serves until ctx is cancelled
// or Close is called.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Addr returns the address of the first listener being served, or nil if
// none is yet.
func (s *Server) Addr() net.Addr {
	select {
	case a := <-s.addr:
		s.addr <- a
		return a
	default:
		return nil
	}
}

// Serve accepts connections on ln until ctx is cancelled, ln fails or Close
// is called. It then closes ln, cancels and closes this listener's
// connections and waits for them. It returns nil after a shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return errors.New("longboat/pgwire: server closed")
	}
	s.mu.listeners[ln] = struct{}{}
	s.mu.Unlock()
	select {
	case s.addr <- ln.Addr():
	default:
	}

	connCtx, cancelConns := context.WithCancelCause(context.WithoutCancel(ctx))
	var lwg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()

	var acceptErr error
	for {
		nc, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			if ctx.Err() == nil && !s.isClosed() {
				acceptErr = fmt.Errorf("cannot accept: %w", err)
			}
			break
		}
		if !s.startConn(connCtx, nc, &lwg) {
			_ = nc.Close()
			break
		}
	}
	_ = ln.Close()
	s.mu.Lock()
	delete(s.mu.listeners, ln)
	s.mu.Unlock()
	// Drain: cancel the connections of this listener and wait for them.
	cancelConns(errServerShutdown)
	lwg.Wait()
	return acceptErr
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.closed
}

// startConn registers and starts a connection; false if the server is closed.
func (s *Server) startConn(ctx context.Context, nc net.Conn, lwg *sync.WaitGroup) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return false
	}
	c := newConn(s, nc)
	s.mu.conns[c] = struct{}{}
	s.wg.Add(1)
	lwg.Add(1)
	go func() {
		defer s.wg.Done()
		defer lwg.Done()
		c.serve(ctx)
		s.mu.Lock()
		delete(s.mu.conns, c)
		if c.pid != 0 && s.mu.byPID[c.pid] == c {
			delete(s.mu.byPID, c.pid)
		}
		s.mu.Unlock()
	}()
	return true
}

// Close stops all listeners, closes every connection (cancelling running
// statements) and waits for connection goroutines to exit.
func (s *Server) Close() error {
	s.mu.Lock()
	s.mu.closed = true
	for ln := range s.mu.listeners {
		_ = ln.Close()
	}
	conns := make([]*conn, 0, len(s.mu.conns))
	for c := range s.mu.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown(errServerShutdown)
	}
	s.wg.Wait()
	return nil
}

// registerKey assigns a unique (pid, secret) to c for CancelRequest.
func (s *Server) registerKey(c *conn) {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			// crypto/rand never fails on supported platforms; fall back to time.
			binary.BigEndian.PutUint64(b[:], uint64(time.Now().UnixNano()))
		}
		pid := binary.BigEndian.Uint32(b[:4]) & 0x7fffffff
		if pid == 0 {
			continue
		}
		s.mu.Lock()
		if _, taken := s.mu.byPID[pid]; !taken {
			c.pid = pid
			c.secret = binary.BigEndian.Uint32(b[4:])
			s.mu.byPID[pid] = c
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// cancel handles a CancelRequest: it cancels the running statement of the
// connection with that key, if any.
func (s *Server) cancel(pid uint32, secret []byte) {
	if len(secret) != 4 {
		return
	}
	s.mu.Lock()
	c := s.mu.byPID[pid]
	s.mu.Unlock()
	if c == nil || c.secret != binary.BigEndian.Uint32(secret) {
		s.logger.Debug("ignoring CancelRequest with unknown key", "pid", pid)
		return
	}
	c.cancelStatement()
}
