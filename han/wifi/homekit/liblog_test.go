package homekit

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	haplog "github.com/brutella/hap/log"
)

func TestRouteLibraryLogs(t *testing.T) {
	var buf bytes.Buffer
	RouteLibraryLogs(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	haplog.Info.Println("listening on 1.2.3.4")
	out := buf.String()
	if !strings.Contains(out, "lib=hap") || !strings.Contains(out, `msg="listening on 1.2.3.4"`) || !strings.Contains(out, "level=DEBUG") {
		t.Errorf("hap line not routed to slog: %q", out)
	}
}
