package web

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTokensCreateVerify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	ts, err := OpenTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir: %v %v", st.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(dir, TokensFile)); !os.IsNotExist(err) {
		t.Fatalf("tokens.json exists before the first Create: %v", err)
	}
	tok, err := ts.Create("ci", ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "gwd_") || len(tok) != 4+43 {
		t.Fatalf("token %q: want gwd_ and 43 base64url characters", tok)
	}
	path := filepath.Join(dir, TokensFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("tokens.json mode %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), tok) || strings.Contains(string(data), strings.TrimPrefix(tok, "gwd_")) {
		t.Fatalf("tokens.json contains the token:\n%s", data)
	}
	if !strings.Contains(string(data), `"ci"`) {
		t.Fatalf("tokens.json lacks the name:\n%s", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d files, want only tokens.json (temp file left?)", len(entries))
	}

	if info, ok := ts.Verify(tok); !ok || info.Name != "ci" {
		t.Errorf("Verify(good) = %q, %v", info.Name, ok)
	}
	for _, bad := range []string{"", "gwd_", tok + "x", tok[:len(tok)-1], strings.ToUpper(tok)} {
		if _, ok := ts.Verify(bad); ok {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
	var nilTokens *Tokens
	if _, ok := nilTokens.Verify(tok); ok {
		t.Error("nil *Tokens accepted a token")
	}

	tok2, err := ts.Create("backup.host_2-x", ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	if tok2 == tok {
		t.Fatal("two tokens are equal")
	}
	list, err := ts.List()
	if err != nil || len(list) != 2 || list[0].Name != "ci" || list[1].Name != "backup.host_2-x" ||
		len(list[0].ID) != 8 || list[0].Created.IsZero() {
		t.Fatalf("List = %+v, %v", list, err)
	}

	// A second store on the same dir (the CLI) sees both and its new token
	// is accepted by the first (the daemon) without reopening.
	cli, err := OpenTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cli.Verify(tok2); !ok {
		t.Error("reopened store rejects a token")
	}
	tok3, err := cli.Create("cli", ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := ts.Verify(tok3); !ok || info.Name != "cli" {
		t.Errorf("daemon store does not see the CLI's token: %q %v", info.Name, ok)
	}

	if ok, err := cli.Revoke("ci"); !ok || err != nil {
		t.Fatalf("Revoke = %v %v", ok, err)
	}
	if _, ok := ts.Verify(tok); ok {
		t.Error("revoked token still accepted")
	}
	if ok, _ := cli.Revoke("nope"); ok {
		t.Error("Revoke of unknown name reported true")
	}
}

func TestTokensNames(t *testing.T) {
	ts, err := OpenTokens(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "a b", "ä", "x/y", strings.Repeat("a", 65), "a\n"} {
		if _, err := ts.Create(bad, ScopeRead); err == nil {
			t.Errorf("Create(%q) succeeded", bad)
		}
	}
	if _, err := ts.Create(strings.Repeat("a", 64), ScopeRead); err != nil {
		t.Errorf("64-character name: %v", err)
	}
	if _, err := ts.Create("dup", ScopeRead); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Create("dup", ScopeRead); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Errorf("duplicate name: %v", err)
	}
}

func TestTokensConcurrentVerify(t *testing.T) {
	ts, err := OpenTokens(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	good, err := ts.Create("a", ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if _, ok := ts.Verify(good); !ok {
					errs <- "good token rejected"
					return
				}
				if _, ok := ts.Verify("gwd_wrong"); ok {
					errs <- "wrong token accepted"
					return
				}
			}
		}()
		if i == 8 {
			// Writes while readers run.
			if _, err := ts.Create("b", ScopeRead); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestTokensCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, TokensFile)
	for name, content := range map[string]string{
		"not json":    "{not json",
		"bad hash":    `{"version":1,"tokens":[{"id":"1","name":"a","created":"2025-01-01T00:00:00Z","sha256":"zz"}]}`,
		"bad version": `{"version":9,"tokens":[]}`,
		"unknown key": `{"version":1,"tokens":[],"extra":1}`,
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := OpenTokens(dir)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: OpenTokens = %v, want an error naming %s", name, err, path)
		}
	}

	// A store that goes corrupt while open rejects everything (fail
	// closed) and recovers once the file is fixed.
	os.Remove(path)
	ts, err := OpenTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Create("a", ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte("garbage, and longer than before so the size changes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := ts.Verify(tok); ok {
		t.Error("token accepted from a corrupt file")
	}
	if _, err := ts.List(); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("List on corrupt file: %v", err)
	}
	if _, err := ts.Create("b", ScopeRead); err == nil {
		t.Error("Create over a corrupt file succeeded")
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(time.Second)
	os.Chtimes(path, now, now)
	if _, ok := ts.Verify(tok); !ok {
		t.Error("token rejected after the file was fixed")
	}
}
