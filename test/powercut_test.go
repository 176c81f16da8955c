package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type exportRow struct {
	Time     time.Time `json:"time"`
	Quantity string    `json:"quantity"`
	Legal    bool      `json:"legal"`
	Value    *float64  `json:"value"`
}

// export returns the committed points of device meter, quantity q, tier,
// keyed by time (the API reads only committed data).
func (g *gateway) export(t *testing.T, q, tier string, from, to time.Time) map[time.Time]float64 {
	t.Helper()
	url := fmt.Sprintf("%s/api/v1/export?format=json&device=meter&quantity=%s&tier=%s&from=%s&to=%s",
		g.base, q, tier, from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano))
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+g.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[time.Time]float64{}
	if resp.StatusCode == 400 {
		return out // nothing committed yet: unknown series
	}
	if resp.StatusCode != 200 {
		t.Fatalf("export: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var r exportRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if r.Legal && r.Value != nil {
			out[r.Time] = *r.Value
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPowerCut SIGKILLs the daemon at random instants while it ingests
// from the emulated meter. After every kill the database checks clean,
// everything committed before the kill is still there, and at the end
// every legal minute of the run is present (backfilled from the meter
// where the daemon was down). POWERCUT_ROUNDS sets the rounds (default
// 20; `make soak` runs 200).
func TestPowerCut(t *testing.T) {
	rounds := 20
	if v := os.Getenv("POWERCUT_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("POWERCUT_ROUNDS=%q", v)
		}
		rounds = n
	}
	dir := t.TempDir()
	em := startEmulator(t, dir, "--baud", "19200", "--history", "2h")
	cfg := filepath.Join(dir, "gatewayd.yaml")
	os.WriteFile(cfg, []byte(configFor("dlt645", em.link, 19200)+"storage:\n  commit_interval: 1s\n"), 0o600)
	state := filepath.Join(dir, "state")
	code, out := run(t, "token", "create", "--state", state, "--name", "powercut")
	if code != 0 {
		t.Fatal(out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	startRun := func() *gateway {
		p := start(t, "run", "--config", cfg, "--state", state)
		base := p.waitOutput(`url=(http://127\.0\.0\.1:\d+)`, 10*time.Second)
		return &gateway{proc: p, base: base, token: token}
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	begin := time.Now().Add(-time.Hour)
	var committed map[time.Time]float64
	// The first minute freeze after the first start; every later minute
	// must end up stored, read live or backfilled.
	firstMinute := time.Now().Truncate(time.Minute).Add(time.Minute)
	for round := 0; round < rounds; round++ {
		g := startRun()
		// Everything committed before the previous kill survived.
		waitUntil(t, "API up", 10*time.Second, func() bool { return g.get("/api/v1/health", false, nil) == 200 })
		now := g.export(t, "power", "raw", begin, time.Now().Add(time.Hour))
		for ts, v := range committed {
			if got, ok := now[ts]; !ok || got != v { // both keys parsed from JSON: UTC
				t.Fatalf("round %d: committed power reading at %v (%v) lost after SIGKILL (now %v, %v)", round, ts, v, got, ok)
			}
		}
		time.Sleep(time.Duration(800+rng.IntN(2200)) * time.Millisecond)
		committed = g.export(t, "power", "raw", begin, time.Now().Add(time.Hour))
		// Kill at a random instant, often in the middle of a commit.
		time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
		g.cmd.Process.Signal(syscall.SIGKILL)
		<-g.done
		if code, out := run(t, "db", "check", "--state", state); code != 0 {
			t.Fatalf("round %d: db check after SIGKILL: exit %d\n%s", round, code, out)
		}
		// Down for a while: minute freezes happen without us.
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Millisecond)
	}
	// Final run: the minutes missed while the daemon was down come back
	// from the meter's load profile.
	g := startRun()
	for !time.Now().Truncate(time.Minute).After(firstMinute) {
		time.Sleep(time.Second) // at least one full minute in the check
	}
	end := time.Now().Truncate(time.Minute)
	var minutes map[time.Time]float64
	missing := ""
	deadline := time.Now().Add(60 * time.Second)
	for {
		minutes = g.export(t, "energy_import", "minute", begin, time.Now().Add(time.Hour))
		if missing = hasEveryMinute(minutes, firstMinute, end); missing == "" {
			break
		}
		if time.Now().After(deadline) {
			raw := g.export(t, "energy_import", "raw", begin, time.Now().Add(time.Hour))
			t.Fatalf("legal minute %s still missing 60 s after the last restart; legal minutes %v; raw %v", missing, minutes, raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d kills; legal minutes %v .. %v complete (%d points)", rounds, firstMinute.Format(time.TimeOnly), end.Format(time.TimeOnly), len(minutes))
	if code, _ := g.stop(); code != 0 {
		t.Fatalf("final stop: exit %d", code)
	}
	if code, out := run(t, "db", "check", "--state", state); code != 0 {
		t.Fatalf("db check after clean stop: %s", out)
	}
}

// hasEveryMinute reports the first minute in [from, to) without a point.
func hasEveryMinute(pts map[time.Time]float64, from, to time.Time) string {
	have := map[int64]bool{}
	for ts := range pts {
		have[ts.Truncate(time.Minute).Unix()] = true
	}
	for m := from.Truncate(time.Minute); m.Before(to); m = m.Add(time.Minute) {
		if !have[m.Unix()] {
			return m.String()
		}
	}
	return ""
}
