package raftsm

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	dblogger "github.com/lni/dragonboat/v4/logger"
)

// Dragonboat logs through a process-global logger factory that may be set
// only once (a second SetLoggerFactory panics). This file is the only place
// in Longboat that touches it: the factory is installed once per process and
// forwards to the sink of the most recently started Host.
//
// NB: this is package-level mutable state, forced on us by Dragonboat.
var (
	dbLoggerOnce sync.Once
	dbLoggerSink atomic.Pointer[dbSink]
)

type dbSink struct {
	log   *slog.Logger
	level slog.Level
}

// installDragonboatLogger routes Dragonboat's logs to log, dropping records
// below level (WARN by default: Dragonboat is chatty at INFO).
func installDragonboatLogger(log *slog.Logger, level slog.Level) {
	dbLoggerSink.Store(&dbSink{log: log, level: level})
	dbLoggerOnce.Do(func() {
		defer func() {
			// Someone else installed a factory first: keep theirs.
			_ = recover()
		}()
		dblogger.SetLoggerFactory(func(pkg string) dblogger.ILogger {
			return &dbLogger{pkg: pkg}
		})
	})
}

// dbLogger adapts Dragonboat's ILogger to slog.
type dbLogger struct {
	pkg   string
	level atomic.Int32 // extra per-package floor set by SetLevel; 0 = none

	// quiet rate-limits the transport's repeated warnings and errors: while
	// a peer is down it reports every failed connection attempt, several
	// times a second per peer and shard.
	quiet repeatLimiter
}

// transportRepeatEvery is how often one transport message (by format
// string) is logged while it keeps repeating.
const transportRepeatEvery = 30 * time.Second

// repeatLimiter lets a message through once per interval and counts the
// copies it drops (the zero value is ready).
type repeatLimiter struct {
	mu   sync.Mutex
	seen map[string]*repeatState
}

type repeatState struct {
	last       time.Time
	suppressed int
}

// allow reports whether the message with this key may be logged now, and
// how many copies were dropped since it last was.
func (r *repeatLimiter) allow(key string, now time.Time, every time.Duration) (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = make(map[string]*repeatState)
	}
	st := r.seen[key]
	if st == nil {
		if len(r.seen) >= 256 { // bounded: forget everything rather than grow
			clear(r.seen)
		}
		st = &repeatState{}
		r.seen[key] = st
	} else if now.Sub(st.last) < every {
		st.suppressed++
		return false, 0
	}
	n := st.suppressed
	st.last, st.suppressed = now, 0
	return true, n
}

var _ dblogger.ILogger = (*dbLogger)(nil)

func (l *dbLogger) SetLevel(level dblogger.LogLevel) {
	var s slog.Level
	switch level {
	case dblogger.CRITICAL, dblogger.ERROR:
		s = slog.LevelError
	case dblogger.WARNING:
		s = slog.LevelWarn
	case dblogger.INFO:
		s = slog.LevelInfo
	default:
		s = slog.LevelDebug
	}
	l.level.Store(int32(s))
}

func (l *dbLogger) logf(level slog.Level, format string, args []interface{}) {
	sink := dbLoggerSink.Load()
	if sink == nil || level < sink.level {
		return
	}
	if floor := slog.Level(l.level.Load()); floor != 0 && level < floor {
		return
	}
	ctx := context.Background()
	if !sink.log.Enabled(ctx, level) {
		return
	}
	if l.pkg == "transport" && level >= slog.LevelWarn {
		ok, dropped := l.quiet.allow(format, time.Now(), transportRepeatEvery)
		if !ok {
			return
		}
		if dropped > 0 {
			sink.log.Log(ctx, level, fmt.Sprintf(format, args...), "component", "dragonboat", "pkg", l.pkg,
				"similar_suppressed", dropped)
			return
		}
	}
	sink.log.Log(ctx, level, fmt.Sprintf(format, args...), "component", "dragonboat", "pkg", l.pkg)
}

func (l *dbLogger) Debugf(format string, args ...interface{}) { l.logf(slog.LevelDebug, format, args) }
func (l *dbLogger) Infof(format string, args ...interface{})  { l.logf(slog.LevelInfo, format, args) }

// Warningf logs at WARN, except for the packages that report routine events
// (elections, "TLS disabled") as warnings: those go to INFO.
func (l *dbLogger) Warningf(format string, args ...interface{}) {
	level := slog.LevelWarn
	switch l.pkg {
	case "raft", "config":
		level = slog.LevelInfo
	}
	l.logf(level, format, args)
}
func (l *dbLogger) Errorf(format string, args ...interface{}) { l.logf(slog.LevelError, format, args) }

// Panicf logs and panics: Dragonboat relies on it to stop on invariant
// violations.
func (l *dbLogger) Panicf(format string, args ...interface{}) {
	msg := fmt.Sprintf(format, args...)
	if sink := dbLoggerSink.Load(); sink != nil {
		sink.log.Error(msg, "component", "dragonboat", "pkg", l.pkg)
	}
	panic(msg)
}
