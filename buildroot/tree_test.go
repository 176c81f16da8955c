// Package buildroot holds the BR2_EXTERNAL tree and the tests that check
// it here, where Buildroot itself cannot run (no network for its
// sources): consistency of the package with the Go module, every file a
// defconfig names, the systemd unit (systemd-analyze verify), the
// scripts (shellcheck), the RAUC anti-rollback rule, and the overlay's
// config. smoke_test.go runs the arm64 binary under qemu-user.
package buildroot

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatewayd-project/gatewayd/config"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// makeVars reads "NAME = value" lines (with backslash continuations).
func makeVars(t *testing.T, path string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	text := strings.ReplaceAll(read(t, path), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, " = "); ok && !strings.HasPrefix(k, "#") && !strings.ContainsAny(k, " \t") {
			vars[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return vars
}

// brPaths returns every $(BR2_EXTERNAL_GATEWAYD_PATH)/... path in text,
// made relative to this tree.
func brPaths(text string) []string {
	rx := regexp.MustCompile(`\$\(BR2_EXTERNAL_GATEWAYD_PATH\)/([^\s"]+)`)
	var out []string
	for _, m := range rx.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestExternalTree(t *testing.T) {
	if !strings.Contains(read(t, "external.desc"), "name: GATEWAYD\n") {
		t.Error("external.desc must define name: GATEWAYD (BR2_EXTERNAL_GATEWAYD_PATH)")
	}
	if src := read(t, "Config.in"); !strings.Contains(src, `source "$BR2_EXTERNAL_GATEWAYD_PATH/package/gatewayd/Config.in"`) {
		t.Errorf("Config.in does not source the package: %q", src)
	}
	if mk := read(t, "external.mk"); !strings.Contains(mk, "$(BR2_EXTERNAL_GATEWAYD_PATH)/package/*/*.mk") {
		t.Errorf("external.mk does not include the packages: %q", mk)
	}
	cfg := read(t, "package/gatewayd/Config.in")
	for _, want := range []string{"config BR2_PACKAGE_GATEWAYD", "depends on BR2_PACKAGE_HOST_GO_TARGET_ARCH_SUPPORTS", "select BR2_PACKAGE_HOST_GO"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("package Config.in lacks %q", want)
		}
	}
}

// TestPackageMatchesModule: version, module path, build target and
// version stamp agree with the Go tree.
func TestPackageMatchesModule(t *testing.T) {
	v := makeVars(t, "package/gatewayd/gatewayd.mk")
	if want := strings.TrimSpace(read(t, "../VERSION")); v["GATEWAYD_VERSION"] != want {
		t.Errorf("GATEWAYD_VERSION %q, VERSION file %q", v["GATEWAYD_VERSION"], want)
	}
	mod := regexp.MustCompile(`(?m)^module (\S+)$`).FindStringSubmatch(read(t, "../go.mod"))
	if mod == nil || v["GATEWAYD_GOMOD"] != mod[1] {
		t.Errorf("GATEWAYD_GOMOD %q, go.mod module %v", v["GATEWAYD_GOMOD"], mod)
	}
	target := v["GATEWAYD_BUILD_TARGETS"]
	if !strings.Contains(read(t, filepath.Join("..", target, "main.go")), "package main") {
		t.Errorf("build target %s is not a main package", target)
	}
	if v["GATEWAYD_LDFLAGS"] != "-X main.version=$(GATEWAYD_VERSION)" {
		t.Errorf("GATEWAYD_LDFLAGS %q: want the version stamp", v["GATEWAYD_LDFLAGS"])
	}
	if !regexp.MustCompile(`(?m)^var version = `).MatchString(read(t, "../cmd/gatewayd/main.go")) {
		t.Error("cmd/gatewayd has no main.version to stamp")
	}
	if v["GATEWAYD_SOURCE"] != "gatewayd-$(GATEWAYD_VERSION)-vendored.tar.gz" {
		t.Errorf("GATEWAYD_SOURCE %q", v["GATEWAYD_SOURCE"])
	}
	// make dist names the tarball the same way.
	if mf := read(t, "../Makefile"); !strings.Contains(mf, "DIST_NAME := gatewayd-$(VERSION)") || !strings.Contains(mf, "$(DIST_NAME)-vendored.tar.gz") {
		t.Error("Makefile dist does not produce gatewayd-<version>-vendored.tar.gz")
	}
	if _, bad := v["GATEWAYD_INSTALL_BINS"]; bad {
		t.Error("GATEWAYD_INSTALL_BINS is a hard error since Buildroot 2025.11")
	}
	mk := read(t, "package/gatewayd/gatewayd.mk")
	for _, want := range []string{"$(eval $(golang-package))", "GATEWAYD_USERS = gatewayd ", " dialout ", "define GATEWAYD_INSTALL_INIT_SYSTEMD", "$(GATEWAYD_PKGDIR)/gatewayd.service", "define GATEWAYD_LINUX_CONFIG_FIXUPS"} {
		if !strings.Contains(mk, want) {
			t.Errorf("gatewayd.mk lacks %q", want)
		}
	}
	hash := read(t, "package/gatewayd/gatewayd.hash")
	src := strings.ReplaceAll(v["GATEWAYD_SOURCE"], "$(GATEWAYD_VERSION)", v["GATEWAYD_VERSION"])
	if !regexp.MustCompile(`(?m)^sha256  [0-9a-f]{64}  ` + regexp.QuoteMeta(src) + `$`).MatchString(hash) {
		t.Errorf("gatewayd.hash has no sha256 line for %s", src)
	}
}

func defconfigs(t *testing.T) map[string]string {
	t.Helper()
	files, _ := filepath.Glob("configs/*_defconfig")
	out := map[string]string{}
	for _, f := range files {
		out[filepath.Base(f)] = read(t, f)
	}
	return out
}

// TestDefconfigs: the three boards, each file they name exists, and the
// pieces agree (overlay config, RAUC compatible, genimage data partition).
func TestDefconfigs(t *testing.T) {
	dcs := defconfigs(t)
	arch := map[string][]string{
		"gatewayd_raspberrypi4_64_defconfig":   {"BR2_aarch64=y", "BR2_cortex_a72=y"},
		"gatewayd_raspberrypi3_defconfig":      {"BR2_arm=y", "BR2_cortex_a53=y", "BR2_ARM_FPU_NEON_VFPV4=y"},
		"gatewayd_qemu_aarch64_virt_defconfig": {"BR2_aarch64=y"},
	}
	for name, lines := range arch {
		dc, ok := dcs[name]
		if !ok {
			t.Errorf("missing %s", name)
			continue
		}
		for _, l := range append(lines, "BR2_PACKAGE_GATEWAYD=y", "BR2_INIT_SYSTEMD=y", "BR2_PACKAGE_RAUC=y") {
			if !slices.Contains(strings.Split(dc, "\n"), l) {
				t.Errorf("%s lacks %s", name, l)
			}
		}
	}
	for name, dc := range dcs {
		for _, p := range brPaths(dc) {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s names %s: %v", name, p, err)
			}
		}
		for _, line := range strings.Split(dc, "\n") {
			if strings.HasSuffix(line, "=n") {
				t.Errorf("%s: %q: write '# X is not set'", name, line)
			}
		}
		// BR2_ROOTFS_POST_SCRIPT_ARGS="<genimage.cfg> <compatible>".
		args := regexp.MustCompile(`(?m)^BR2_ROOTFS_POST_SCRIPT_ARGS="(\S+) (\S+)"$`).FindStringSubmatch(dc)
		if args == nil {
			t.Errorf("%s: no post-script args", name)
			continue
		}
		board := filepath.Dir(strings.TrimPrefix(args[1], "$(BR2_EXTERNAL_GATEWAYD_PATH)/"))
		gi := read(t, filepath.Join(board, "genimage.cfg"))
		if !strings.Contains(gi, `partition data {`) || strings.Count(gi, `image = "rootfs.ext4"`) != 2 {
			t.Errorf("%s: genimage needs two root slots and a data partition", board)
		}
		rc := read(t, filepath.Join(board, "rootfs-overlay/etc/rauc/system.conf"))
		if !strings.Contains(rc, "compatible="+args[2]+"\n") {
			t.Errorf("%s: RAUC compatible is not %s", board, args[2])
		}
		for _, want := range []string{"[slot.rootfs.0]", "[slot.rootfs.1]", "bootname=A", "bootname=B", "path=/etc/rauc/keyring.pem",
			"pre-install=/usr/lib/gatewayd/rauc-pre-install", "data-directory=/var/lib/gatewayd/rauc"} {
			if !strings.Contains(rc, want) {
				t.Errorf("%s: system.conf lacks %q", board, want)
			}
		}
		if !strings.Contains(read(t, filepath.Join(board, "boot.cmd")), "BOOT_ORDER") {
			t.Errorf("%s: boot.cmd does not count A/B boot attempts", board)
		}
	}
	overlay := "board/gatewayd/common/rootfs-overlay"
	if _, err := os.Stat(filepath.Join(overlay, "usr/lib/gatewayd/rauc-pre-install")); err != nil {
		t.Error(err)
	}
	fstab := read(t, filepath.Join(overlay, "etc/fstab"))
	if !regexp.MustCompile(`(?m)^LABEL=data\s+/var/lib/gatewayd\s+ext4\s`).MatchString(fstab) ||
		!regexp.MustCompile(`(?m)^/dev/root\s+/\s+auto\s+ro\s`).MatchString(fstab) {
		t.Errorf("fstab: read-only root and the data partition on /var/lib/gatewayd expected:\n%s", fstab)
	}
	if !strings.Contains(read(t, "board/gatewayd/common/post-image.sh"), "mkfs.ext4 -q -L data") {
		t.Error("post-image.sh does not label the data partition 'data'")
	}
	if !strings.Contains(read(t, "board/gatewayd/common/post-build.sh"), `"${target}/etc/rauc/keyring.pem"`) {
		t.Error("post-build.sh does not install the keyring where system.conf expects it")
	}
	manifest := read(t, "board/gatewayd/common/rauc/manifest.raucm.in")
	for _, want := range []string{"compatible=@COMPATIBLE@", "version=@VERSION@", "[image.rootfs]", "filename=rootfs.ext4"} {
		if !strings.Contains(manifest, want) {
			t.Errorf("bundle manifest lacks %q", want)
		}
	}
}

func TestKernelFragment(t *testing.T) {
	frag := read(t, "board/gatewayd/common/kernel/gatewayd.fragment")
	mk := read(t, "package/gatewayd/gatewayd.mk")
	for _, opt := range []string{"CONFIG_SERIAL_8250", "CONFIG_USB_SERIAL", "CONFIG_BT", "CONFIG_BT_HCIUART", "CONFIG_WATCHDOG", "CONFIG_GPIO_CDEV"} {
		if !regexp.MustCompile(`(?m)^` + opt + `=[ym]$`).MatchString(frag) {
			t.Errorf("fragment lacks %s", opt)
		}
		if !strings.Contains(mk, "KCONFIG_ENABLE_OPT,"+opt+")") {
			t.Errorf("GATEWAYD_LINUX_CONFIG_FIXUPS lacks %s", opt)
		}
	}
}

// TestOverlayConfig: the image's /etc/gatewayd/gatewayd.yaml passes the
// same check `gatewayd config check` runs.
func TestOverlayConfig(t *testing.T) {
	cfg, err := config.Load("board/gatewayd/common/rootfs-overlay/etc/gatewayd/gatewayd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StateDir != "/var/lib/gatewayd" || !slices.Equal(cfg.Update.MarkGoodCommand, []string{"rauc", "status", "mark-good"}) {
		t.Errorf("state_dir %q, mark_good_command %q", cfg.StateDir, cfg.Update.MarkGoodCommand)
	}
}

func unitProps(t *testing.T, path string) map[string][]string {
	t.Helper()
	props := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(read(t, path)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			props[k] = append(props[k], v)
		}
	}
	return props
}

// TestUnitHardening: its own user, dialout, only the capabilities BLE
// and port 443 need, read-only system with the state dir writable,
// Type=notify with a watchdog.
func TestUnitHardening(t *testing.T) {
	p := unitProps(t, "package/gatewayd/gatewayd.service")
	want := map[string]string{
		"Type": "notify", "User": "gatewayd", "SupplementaryGroups": "dialout",
		"AmbientCapabilities":   "CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE",
		"CapabilityBoundingSet": "CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE",
		"ProtectSystem":         "strict", "ReadWritePaths": "/var/lib/gatewayd", "NoNewPrivileges": "yes",
		"WatchdogSec": "60", "Restart": "always", "NotifyAccess": "main",
	}
	for k, v := range want {
		if got := p[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(p["ExecStart"][0], "/usr/bin/gatewayd run --config /etc/gatewayd/gatewayd.yaml") {
		t.Errorf("ExecStart %q", p["ExecStart"])
	}
}

// TestUnitVerify runs systemd-analyze verify on the unit, with the binary
// it starts present under a temporary root.
func TestUnitVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze not installed (make test-deps installs package systemd)")
	}
	dir := t.TempDir()
	unit := strings.ReplaceAll(read(t, "package/gatewayd/gatewayd.service"), "/usr/bin/gatewayd", filepath.Join(dir, "gatewayd"))
	if err := os.WriteFile(filepath.Join(dir, "gatewayd"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	up := filepath.Join(dir, "gatewayd.service")
	if err := os.WriteFile(up, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", "--man=no", up).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// A typo must fail, or the check above proves nothing.
	bad := filepath.Join(dir, "bad.service")
	os.WriteFile(bad, []byte(strings.Replace(unit, "ProtectSystem=strict", "ProtectSystem=stricter", 1)), 0o644)
	if out, _ := exec.Command(sa, "verify", "--man=no", bad).CombinedOutput(); !strings.Contains(string(out), "stricter") {
		t.Fatalf("verify did not flag a bad value: %s", out)
	}
}

func scripts(t *testing.T) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && strings.HasPrefix(string(b), "#!/bin/sh") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck not installed (make test-deps installs it)")
	}
	files := scripts(t)
	if len(files) < 5 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		if st, _ := os.Stat(f); st.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", f)
		}
	}
	if out, err := exec.Command(sc, append([]string{"-s", "sh"}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}

// TestAntiRollback runs the RAUC pre-install handler as RAUC would.
func TestAntiRollback(t *testing.T) {
	dir := t.TempDir()
	rel := filepath.Join(dir, "os-release")
	os.WriteFile(rel, []byte("NAME=Buildroot\nVERSION_ID=\"1.4.2\"\n"), 0o644)
	allow := filepath.Join(dir, "allow-downgrade")
	run := func(bundle string) error {
		cmd := exec.Command("board/gatewayd/common/rootfs-overlay/usr/lib/gatewayd/rauc-pre-install")
		cmd.Env = append(os.Environ(), "RAUC_MF_VERSION="+bundle, "GATEWAYD_OS_RELEASE="+rel, "GATEWAYD_ALLOW_DOWNGRADE="+allow)
		return cmd.Run()
	}
	for _, tt := range []struct {
		bundle string
		ok     bool
	}{
		{"1.4.2", true}, {"1.4.10", true}, {"1.5.0", true}, {"2.0.0", true},
		{"1.4.1", false}, {"1.3.99", false}, {"0.9.0", false}, {"", false},
	} {
		if err := run(tt.bundle); (err == nil) != tt.ok {
			t.Errorf("bundle %q over 1.4.2: err %v, want ok=%v", tt.bundle, err, tt.ok)
		}
	}
	os.WriteFile(allow, nil, 0o600)
	if err := run("1.3.0"); err != nil {
		t.Fatalf("allowed downgrade refused: %v", err)
	}
	if _, err := os.Stat(allow); err == nil {
		t.Fatal("the one-time downgrade permission was not consumed")
	}
	if err := run("1.3.0"); err == nil {
		t.Fatal("second downgrade allowed")
	}
}
