package homekit

import (
	"bytes"
	"context"
	"log/slog"

	dnssdlog "github.com/brutella/dnssd/log"
	haplog "github.com/brutella/hap/log"
)

// RouteLibraryLogs sends the log lines of hap and dnssd (which write to
// stdout through their own package loggers) to l at debug level. Those
// loggers are process-wide: the daemon calls this once, before the
// bridge starts.
func RouteLibraryLogs(l *slog.Logger) {
	for _, lg := range []struct {
		name string
		set  func(w *libWriter)
	}{
		{"hap", func(w *libWriter) { haplog.Info.SetOutput(w); haplog.Info.SetFlags(0); haplog.Info.SetPrefix("") }},
		{"dnssd", func(w *libWriter) { dnssdlog.Info.SetOutput(w); dnssdlog.Info.SetFlags(0); dnssdlog.Info.SetPrefix("") }},
	} {
		lg.set(&libWriter{log: l.With("lib", lg.name)})
	}
}

// libWriter turns a library's log line into a slog record.
type libWriter struct{ log *slog.Logger }

// maxLibLine bounds a library log line.
const maxLibLine = 512

func (w *libWriter) Write(p []byte) (int, error) {
	line := bytes.TrimSpace(p)
	if len(line) > maxLibLine {
		line = line[:maxLibLine]
	}
	w.log.Log(context.Background(), slog.LevelDebug, string(line))
	return len(p), nil
}
