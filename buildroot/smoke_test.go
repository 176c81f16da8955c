package buildroot

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

func (o *output) wait(t *testing.T, re string, d time.Duration) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(o.String()); m != nil {
			return m[len(m)-1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q within %v in:\n%s", re, d, o.String())
	return ""
}

func build(t *testing.T, out, goarch string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=smoke", "-o", out, "../cmd/gatewayd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", goarch, err, b)
	}
}

func startProc(t *testing.T, ctx context.Context, name string, args ...string) *output {
	t.Helper()
	o := &output{}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = o, o
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		<-done
		if t.Failed() {
			t.Logf("%s %v:\n%s", name, args, o.String())
		}
	})
	return o
}

// TestRootfsSmoke is the image's daemon without the image: the linux/arm64
// binary under qemu-user, with the rootfs overlay's gatewayd.yaml
// (adjusted: the meter port points at an emulated meter's pty, state in
// a temp dir, HTTP on loopback, no boot mark), against `gatewayd emulate
// meter` (native). It must serve a legal reading.
func TestRootfsSmoke(t *testing.T) {
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Fatal("qemu-aarch64-static not installed (make test-deps installs qemu-user-static)")
	}
	dir := t.TempDir()
	native, arm64 := filepath.Join(dir, "gatewayd-native"), filepath.Join(dir, "gatewayd-arm64")
	build(t, native, "amd64")
	build(t, arm64, "arm64")
	if b, _ := os.ReadFile(arm64); len(b) < 20 || b[18] != 0xB7 { // ELF e_machine EM_AARCH64
		t.Fatal("not an arm64 ELF binary")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	link := filepath.Join(dir, "meter.tty")
	em := startProc(t, ctx, native, "emulate", "meter", "--link", link, "--control", "127.0.0.1:0")
	em.wait(t, "emulated meter running", 10*time.Second)

	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(read(t, "board/gatewayd/common/rootfs-overlay/etc/gatewayd/gatewayd.yaml")), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["http"] = map[string]any{"listen": "127.0.0.1:0", "tls": "off"}
	cfg["metering"].(map[string]any)["port"] = link
	cfg["update"] = map[string]any{"mark_good_command": []string{}}
	cfg["state_dir"] = filepath.Join(dir, "state")
	b, _ := yaml.Marshal(cfg)
	cfgPath := filepath.Join(dir, "gatewayd.yaml")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(qemu, arm64, "config", "check", "--config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("config check under qemu: %v\n%s", err, out)
	}
	tok, err := exec.Command(qemu, arm64, "token", "create", "--state", filepath.Join(dir, "state"), "--name", "smoke").Output()
	if err != nil {
		t.Fatalf("token create under qemu: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(tok)), "\n")
	token := lines[len(lines)-1]

	gw := startProc(t, ctx, qemu, arm64, "run", "--config", cfgPath)
	base := gw.wait(t, `"msg":"gatewayd started".*"url":"(http://127\.0\.0\.1:\d+)"`, 30*time.Second) // the overlay logs JSON
	var m struct {
		Legal     bool     `json:"legal"`
		LinkUp    bool     `json:"link_up"`
		Protocol  string   `json:"protocol"`
		ImportKWh *float64 `json:"import_kwh"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/meter", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			m.ImportKWh = nil
			json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if resp.StatusCode == 200 && m.ImportKWh != nil && m.Legal && m.LinkUp {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no legal reading from the arm64 gatewayd within 30 s: %+v", m)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if m.Protocol != "dlt645" || *m.ImportKWh <= 0 {
		t.Fatalf("reading %+v", m)
	}
	t.Logf("arm64 gatewayd under qemu-user: legal import register %.2f kWh", *m.ImportKWh)
	cancel()
}
