//go:build !unix

package controlplane

import "log/slog"

func raiseFileLimit(Limits, bool, *slog.Logger) {}
