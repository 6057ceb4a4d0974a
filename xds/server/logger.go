package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/envoyproxy/go-control-plane/pkg/log"
)

// libLogger routes go-control-plane's messages into slog. Its Info level reports every watch
// opened, so it goes to Debug with the rest of the chatter.
type libLogger struct{ l *slog.Logger }

var _ log.Logger = libLogger{}

func (g libLogger) Debugf(format string, args ...any) { g.emit(slog.LevelDebug, format, args) }
func (g libLogger) Infof(format string, args ...any)  { g.emit(slog.LevelDebug, format, args) }
func (g libLogger) Warnf(format string, args ...any)  { g.emit(slog.LevelWarn, format, args) }
func (g libLogger) Errorf(format string, args ...any) { g.emit(slog.LevelError, format, args) }

func (g libLogger) emit(level slog.Level, format string, args []any) {
	ctx := context.Background()
	// Formatting costs more than the check; most of these messages are never shown.
	if !g.l.Enabled(ctx, level) {
		return
	}
	g.l.Log(ctx, level, fmt.Sprintf(format, args...), "component", "go-control-plane")
}
