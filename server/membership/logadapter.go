package membership

import (
	"context"
	"log/slog"
	"strings"
)

// logWriter routes memberlist's log lines ("[LEVEL] memberlist: text",
// written through a *log.Logger) into slog at the matching level.
// log.Logger serialises calls to Write.
type logWriter struct {
	log *slog.Logger
}

func (w logWriter) Write(p []byte) (int, error) {
	level, msg := parseMemberlistLine(string(p))
	w.log.Log(context.Background(), level, msg)
	return len(p), nil
}

// parseMemberlistLine maps a memberlist log line to a level and message.
// Lines without a known level tag are Info.
func parseMemberlistLine(line string) (slog.Level, string) {
	line = strings.TrimSpace(line)
	level := slog.LevelInfo
	if strings.HasPrefix(line, "[") {
		if i := strings.IndexByte(line, ']'); i > 0 {
			known := true
			switch line[1:i] {
			case "TRACE", "DEBUG":
				level = slog.LevelDebug
			case "INFO":
				level = slog.LevelInfo
			case "WARN":
				level = slog.LevelWarn
			case "ERR", "ERROR":
				level = slog.LevelError
			default:
				known = false
			}
			if known {
				line = strings.TrimSpace(line[i+1:])
			}
		}
	}
	line = strings.TrimPrefix(line, "memberlist: ")
	// A refused peer re-gossips itself every few hundred milliseconds and
	// memberlist logs each refusal; delegate.check logs refusals itself,
	// throttled, so memberlist's copy is demoted.
	if strings.HasPrefix(line, "ignoring alive message for") {
		level = slog.LevelDebug
	}
	return level, line
}
