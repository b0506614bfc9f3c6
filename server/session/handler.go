package session

import (
	"context"
	"log/slog"
	"sync"

	"github.com/longboatdb/longboat/raftsm"
	"github.com/longboatdb/longboat/server/ingest"
	"github.com/longboatdb/longboat/server/pgwire"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// Handler creates sessions. It implements pgwire.Handler.
type Handler struct {
	Host   *raftsm.Host
	Logger *slog.Logger
	// Version is the product version, reported by version().
	Version string
	// Remote reaches shards with no replica on this node (cluster mode);
	// nil on a single node.
	Remote Remote

	// ingestPool recycles the row buffers of COPY and INSERT batches
	// (server/ingest); the zero value is ready.
	ingestPool ingest.Pool
}

var _ pgwire.Handler = (*Handler)(nil)

// NewSession implements pgwire.Handler.
func (h *Handler) NewSession(ctx context.Context, params map[string]string) (pgwire.Session, error) {
	db := params["database"]
	user := params["user"]
	if db == "" {
		db = user
	}
	if st := h.Host.State(); st == raftsm.NodeInitializing || st == raftsm.NodeJoining {
		return nil, pgerror.Newf(pgerror.CodeCannotConnectNow, "node %d is %s: it serves SQL once it is part of an initialized cluster (longboat cluster init, or a running cluster to join)", h.Host.NodeID(), st)
	}
	if _, ok := h.Host.Catalog().Database(db); !ok {
		return nil, pgerror.Newf(pgerror.CodeInvalidCatalogName, "database %q does not exist", db)
	}
	s := &Session{h: h, database: db, user: user}
	s.mu.settings = map[string]string{}
	if v := params["application_name"]; v != "" {
		s.mu.settings["application_name"] = v
	}
	if v := params["statement_timeout"]; v != "" {
		// node-postgres sends its statement_timeout option this way.
		if _, err := parseTimeoutSetting(v); err != nil {
			return nil, err
		}
		s.mu.settings["statement_timeout"] = v
	}
	return s, nil
}

// Session is one connection's SQL state. It implements pgwire.Session.
type Session struct {
	h        *Handler
	database string
	user     string

	mu struct {
		sync.Mutex
		settings map[string]string
	}
}

var _ pgwire.Session = (*Session)(nil)

// Close implements pgwire.Session.
func (s *Session) Close() {}

func (s *Session) setting(name string) (string, bool) {
	s.mu.Lock()
	v, ok := s.mu.settings[name]
	s.mu.Unlock()
	if ok {
		return v, true
	}
	return defaultSetting(name)
}

func (s *Session) set(name, value string) {
	s.mu.Lock()
	s.mu.settings[name] = value
	s.mu.Unlock()
}

func (s *Session) reset(name string) {
	s.mu.Lock()
	delete(s.mu.settings, name)
	s.mu.Unlock()
}
