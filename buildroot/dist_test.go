package buildroot

import (
	"archive/tar"
	"compress/gzip"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxARM64Bytes is the size budget of the stripped arm64 binary.
const maxARM64Bytes = 20 << 20

func checkBinary(t *testing.T, path string, machine elf.Machine, qemu, version string) int64 {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != machine {
		t.Errorf("%s: machine %v, want %v", path, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked", path)
		}
	}
	if s := f.Section(".symtab"); s != nil {
		t.Errorf("%s is not stripped", path)
	}
	out, err := exec.Command(qemu, path, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), version) {
		t.Errorf("%s version under %s: %v %q, want %q", path, qemu, err, out, version)
	}
	st, _ := os.Stat(path)
	t.Logf("%s: %.2f MB", filepath.Base(path), float64(st.Size())/(1<<20))
	return st.Size()
}

// TestDist checks `make dist`'s artifacts (DIST=dir, as make dist runs
// it); without DIST it builds the arm64 binary the same way and checks
// that. Budget: stripped arm64 <= 20 MB.
func TestDist(t *testing.T) {
	dist := os.Getenv("DIST")
	if dist == "" {
		dir := t.TempDir()
		out := filepath.Join(dir, "gatewayd-linux-arm64")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=disttest", "-o", out, "../cmd/gatewayd")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		if n := checkBinary(t, out, elf.EM_AARCH64, "qemu-aarch64-static", "disttest"); n > maxARM64Bytes {
			t.Errorf("arm64 binary %d bytes > budget %d", n, maxARM64Bytes)
		}
		return
	}
	tarballs, _ := filepath.Glob(filepath.Join(dist, "gatewayd-*-vendored.tar.gz"))
	if len(tarballs) != 1 {
		t.Fatalf("want one vendored tarball in %s, got %v", dist, tarballs)
	}
	version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(tarballs[0]), "gatewayd-"), "-vendored.tar.gz")
	if n := checkBinary(t, filepath.Join(dist, "gatewayd-linux-arm64"), elf.EM_AARCH64, "qemu-aarch64-static", version); n > maxARM64Bytes {
		t.Errorf("arm64 binary %d bytes > budget %d", n, maxARM64Bytes)
	}
	checkBinary(t, filepath.Join(dist, "gatewayd-linux-armv7"), elf.EM_ARM, "qemu-arm-static", version)

	// The tarball: vendor/, the built UI, and it builds offline the way
	// Buildroot builds it (-mod=vendor, GOPROXY=off).
	dir := t.TempDir()
	f, err := os.Open(tarballs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Clean(h.Name)
		if strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			t.Fatalf("unsafe path %q", h.Name)
		}
		seen[strings.TrimPrefix(name, "gatewayd-"+version+"/")] = true
		p := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(p), 0o755)
			w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, os.FileMode(h.Mode)&0o777)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(w, io.LimitReader(tr, 64<<20)); err != nil {
				t.Fatal(err)
			}
			w.Close()
		}
	}
	for _, want := range []string{"go.mod", "go.sum", "VERSION", "vendor/modules.txt", "cmd/gatewayd/main.go",
		"web/ui/dist/app/index.html", "buildroot/package/gatewayd/gatewayd.mk"} {
		if !seen[want] {
			t.Errorf("tarball lacks %s", want)
		}
	}
	out := filepath.Join(t.TempDir(), "gatewayd")
	cmd := exec.Command("go", "build", "-mod=vendor", "-trimpath", "-o", out, "./cmd/gatewayd")
	cmd.Dir = filepath.Join(dir, "gatewayd-"+version)
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=vendor", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64",
		"GOMODCACHE="+t.TempDir())
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("offline build from the tarball: %v\n%s", err, b)
	}
}
