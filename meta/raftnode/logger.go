package raftnode

import (
	"bytes"
	"context"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// hclogger routes the Raft library's log lines to l, at their own level.
func hclogger(l *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:            "raft",
		Level:           hclog.Info,
		Output:          slogWriter{l},
		DisableTime:     true,
		IncludeLocation: false,
	})
}

type slogWriter struct{ l *slog.Logger }

// Write takes one formatted line, "[LEVEL] raft: message: k=v ...".
func (w slogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(bytes.TrimRight(p, "\n")))
	level := slog.LevelInfo
	for tag, lv := range map[string]slog.Level{"[ERROR]": slog.LevelError, "[WARN]": slog.LevelWarn, "[DEBUG]": slog.LevelDebug, "[TRACE]": slog.LevelDebug - 4} {
		if rest, ok := strings.CutPrefix(line, tag); ok {
			level, line = lv, strings.TrimSpace(rest)
			break
		}
	}
	w.l.Log(context.Background(), level, line)
	return len(p), nil
}
