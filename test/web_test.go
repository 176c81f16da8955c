package test

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The daemon in device mode: HTTPS with a self-signed certificate made
// on first start (fingerprint logged), a one-time setup link printed
// while no user exists, and no way in before setup.
func TestHTTPSFirstStartSetup(t *testing.T) {
	dir := t.TempDir()
	emu := startEmulator(t, dir)
	cfg := filepath.Join(dir, "gatewayd.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("http: {listen: '127.0.0.1:0', tls: auto}\nmetering: {port: %s, baud: 2400}\n", emu.link)), 0o600)
	state := filepath.Join(dir, "state")
	p := start(t, "run", "--config", cfg, "--state", state)
	base := p.waitOutput(`url=(https://127\.0\.0\.1:\d+)`, 10*time.Second)
	fp := p.waitOutput(`sha256=([0-9A-F:]{95})`, time.Second)
	setup := p.waitOutput(`open (https://127\.0\.0\.1:\d+/#/setup/\S+) to choose`, time.Second)

	// The certificate on disk is the one served and logged.
	pemBytes, err := os.ReadFile(filepath.Join(state, "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemBytes)
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.Raw)
	if got := strings.ReplaceAll(fmt.Sprintf("% X", sum), " ", ":"); got != fp {
		t.Fatalf("logged fingerprint %s, file has %s", fp, got)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	post := func(path, body string, hdr ...string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", base)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	// Plain HTTP is not served on the TLS port.
	if resp, err := http.Get(strings.Replace(base, "https", "http", 1) + "/api/v1/health"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP answered 200 on the TLS port")
	}
	resp, err := hc.Get(base + "/api/v1/meter")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("meter before setup: %d", resp.StatusCode)
	}
	token := setup[strings.LastIndex(setup, "/")+1:]
	resp, body := post("/api/v1/setup", fmt.Sprintf(`{"token":%q,"user":"anna","password":"a long household password"}`, token))
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Set-Cookie"), "Secure") || !strings.Contains(body, `"csrf"`) {
		t.Fatalf("setup: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	resp, err = hc.Get(base + "/api/v1/users")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("users after setup: %d", resp.StatusCode)
	}
	hc.Jar, _ = cookiejar.New(nil) // a stranger without the session
	if resp, body := post("/api/v1/setup", fmt.Sprintf(`{"token":%q,"user":"eve","password":"another long password"}`, token)); resp.StatusCode != 409 {
		t.Fatalf("setup link reused: %d %s", resp.StatusCode, body)
	}
	if code, took := p.stop(); code != 0 || took > 5*time.Second {
		t.Fatalf("SIGTERM: exit %d after %v", code, took)
	}
	// After a restart: the same certificate, no setup link, login works.
	p = start(t, "run", "--config", cfg, "--state", state)
	base = p.waitOutput(`url=(https://127\.0\.0\.1:\d+)`, 10*time.Second)
	if fp2 := p.waitOutput(`sha256=([0-9A-F:]{95})`, time.Second); fp2 != fp {
		t.Fatalf("certificate changed across restarts: %s -> %s", fp, fp2)
	}
	if strings.Contains(p.output(), "/#/setup/") {
		t.Fatal("setup link printed although a user exists")
	}
	if resp, body := post("/api/v1/login", `{"user":"anna","password":"a long household password"}`); resp.StatusCode != 200 {
		t.Fatalf("login after restart: %d %s", resp.StatusCode, body)
	}
	p.stop()
}

// A user added by the CLI while the daemon runs can log in at once.
func TestUserAddCLI(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "user", "add", "--state", dir, "--name", "anna", "--role", "viewer")
	cmd.Stdin = strings.NewReader("short\n")
	if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("short password: %v", err)
	}
	cmd = exec.Command(binary, "user", "add", "--state", dir, "--name", "anna", "--role", "viewer")
	cmd.Stdin = strings.NewReader("a long household password\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "users.json"))
	if strings.Contains(string(b), "household password") || !strings.Contains(string(b), `"role": "viewer"`) {
		t.Fatalf("users.json: %s", b)
	}
}
