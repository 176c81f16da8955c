package test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkDemoStartToFirstLegalReading starts `gatewayd demo` and measures
// process start -> first legal reading, as logged by the daemon (from its
// own start) and as seen from outside (exec -> log line). Target <= 1 s.
func BenchmarkDemoStartToFirstLegalReading(b *testing.B) {
	var inner, outer time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		t0 := time.Now()
		p := start(b, "demo", "--listen", "127.0.0.1:0", "--state", dir)
		s := p.waitOutput(`first legal reading.*since_start=(\S+)`, 10*time.Second)
		outer += time.Since(t0)
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatal(err)
		}
		inner += d
		b.StopTimer()
		p.stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(inner.Milliseconds())/float64(b.N), "ms-in-process")
	b.ReportMetric(float64(outer.Milliseconds())/float64(b.N), "ms-exec-to-log")
}

func rssKiB(pid int) (int, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, sc.Err()
}

// BenchmarkDemoSteadyRSS runs the demo (gateway + emulated meter in one
// process, polling every second) for 20 s and reports the peak resident
// set size over its last 10 s. Target <= 30 MB.
func BenchmarkDemoSteadyRSS(b *testing.B) {
	for i := 0; i < b.N; i++ {
		p := start(b, "demo", "--listen", "127.0.0.1:0", "--state", b.TempDir())
		p.waitOutput(`first legal reading`, 10*time.Second)
		time.Sleep(10 * time.Second)
		peak := 0
		for j := 0; j < 10; j++ {
			kib, err := rssKiB(p.cmd.Process.Pid)
			if err != nil {
				b.Fatal(err)
			}
			peak = max(peak, kib)
			time.Sleep(time.Second)
		}
		p.stop()
		b.ReportMetric(float64(peak)/1024, "MiB-RSS")
	}
}
