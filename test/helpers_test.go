// Package test holds black-box tests of the built gatewayd binary against
// its emulators over real pseudo-terminals and loopback sockets.
package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatewayd-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatewayd")
	cmd := exec.Command("go", "build", "-o", binary, "../cmd/gatewayd")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gatewayd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running gatewayd process with its output captured.
type proc struct {
	t    testing.TB
	cmd  *exec.Cmd
	out  lockedBuf // stdout and stderr interleaved
	done chan struct{}
	err  error
}

// lockedBuf is a buffer a process writes while a test reads it.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func start(t testing.TB, args ...string) *proc { return startEnv(t, nil, args...) }

// startEnv starts gatewayd with env added to the test's environment.
func startEnv(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(binary, args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = &p.out
	p.cmd.Stderr = &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("output of %v:\n%s", args, p.output())
		}
	})
	return p
}

func (p *proc) output() string { return p.out.String() }

// waitOutput waits until the output matches re and returns the first group.
func (p *proc) waitOutput(re string, d time.Duration) string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for {
		if m := rx.FindStringSubmatch(p.output()); m != nil {
			if len(m) > 1 {
				return m[1]
			}
			return m[0]
		}
		select {
		case <-p.done:
			p.t.Fatalf("process exited (%v) before output matched %q", p.err, re)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("output did not match %q within %v", re, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns the exit code and how long the exit took.
func (p *proc) stop() (int, time.Duration) {
	p.t.Helper()
	t0 := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Fatal("process did not exit within 10 s of SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(t0)
}

// run runs gatewayd to completion and returns its exit code and output.
func run(t testing.TB, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, args...).CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		t.Fatal(err)
	}
	return 0, string(out)
}

// emulator starts `gatewayd emulate meter` with a control API.
type emulator struct {
	*proc
	link    string
	control string
}

func startEmulator(t testing.TB, dir string, args ...string) *emulator {
	t.Helper()
	link := filepath.Join(dir, "meter.tty")
	all := append([]string{"emulate", "meter", "--link", link, "--control", "127.0.0.1:0"}, args...)
	p := start(t, all...)
	ctl := p.waitOutput(`control (http://127\.0\.0\.1:\d+)`, 10*time.Second)
	p.waitOutput(`emulated meter running`, 10*time.Second)
	return &emulator{proc: p, link: link, control: ctl}
}

func (e *emulator) post(path string, body string) {
	e.t.Helper()
	method := http.MethodPost
	if strings.HasPrefix(path, "/faults") {
		method = http.MethodPut
	}
	req, _ := http.NewRequest(method, e.control+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("control %s: %s %s", path, resp.Status, b)
	}
}

// emulState is the subset of the emulator's /state used by the tests.
type emulState struct {
	ImportMWh        [5]int64
	ExportMWh        [5]int64
	PowerMW          [4]int64
	VoltageMV        [3]int64
	CurrentMA        [3]int64
	FrequencyMHz     int64
	PowerFactorMilli [4]int64
	RelayOpen        bool
	Address          string `json:"address"`
}

func (e *emulator) state() emulState {
	e.t.Helper()
	resp, err := http.Get(e.control + "/state")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var s emulState
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

// gateway starts `gatewayd run` against a config written to dir.
type gateway struct {
	*proc
	base  string
	token string
}

func startGateway(t testing.TB, dir, configYAML string) *gateway {
	t.Helper()
	cfg := filepath.Join(dir, "gatewayd.yaml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	code, out := run(t, "token", "create", "--state", state, "--name", "test")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	p := start(t, "run", "--config", cfg, "--state", state)
	base := p.waitOutput(`url=(http://127\.0\.0\.1:\d+)`, 10*time.Second)
	return &gateway{proc: p, base: base, token: token}
}

func (g *gateway) get(path string, auth bool, v any) int {
	g.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.base+path, nil)
	if auth {
		req.Header.Set("Authorization", "Bearer "+g.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(bufio.NewReader(resp.Body)).Decode(v); err != nil {
			g.t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

func waitUntil(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
