package homekit

// The real HAP server is tested inside a network namespace the test
// creates: the test binary re-executes itself with CLONE_NEWNET, brings
// the namespace's own loopback up (with the multicast flag) and runs the
// server and a real mDNS lookup there. Only that loopback exists in the
// namespace, so no multicast reaches a real interface. This needs root
// (CAP_SYS_ADMIN), which the project's machines and CI have.

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/brutella/dnssd"
	"github.com/brutella/hap"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/internal/netnstest"
)

// tlv8 decodes a TLV8 body (items of one fragment each, as M2 has).
func tlv8(t *testing.T, b []byte) map[byte][]byte {
	t.Helper()
	m, err := tlvDecode(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func lookup(t *testing.T, instance string) dnssd.Service {
	t.Helper()
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := dnssd.LookupInstance(ctx, instance)
		cancel()
		if err == nil && s.Text["c#"] != "" && s.Port != 0 {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("mDNS: %s not found", instance)
	return dnssd.Service{}
}

func TestHAPServerAnnouncesAndPairs(t *testing.T) {
	if !netnstest.Run(t) {
		return
	}
	reg, _ := home(devPlug, devRelay)
	st := newStore()
	b := newTestBridge(t, reg, Options{Store: st, Name: "Test Gateway", Addr: "127.0.0.1:0", Watch: reg.Watch,
		Debounce: 50 * time.Millisecond, Refresh: 200 * time.Millisecond})
	runBridge(t, b)

	// The mDNS announcement and its TXT record.
	const instance = "Test_Gateway._hap._tcp.local."
	s := lookup(t, instance)
	txt := s.Text
	t.Logf("TXT %v port %d", txt, s.Port)
	uuid, _ := st.Get("uuid")
	sum := sha512.Sum512([]byte(b.setupID + string(uuid)))
	want := map[string]string{"ci": "2", "ff": "0", "id": string(uuid), "md": "Test Gateway", "pv": "1.0", "s#": "1", "sf": "1",
		"sh": base64.StdEncoding.EncodeToString(sum[:4])}
	for k, v := range want {
		if txt[k] != v {
			t.Errorf("TXT %s=%q, want %q", k, txt[k], v)
		}
	}
	if !regexp.MustCompile(`^([0-9A-F]{2}:){5}[0-9A-F]{2}$`).MatchString(txt["id"]) {
		t.Errorf("TXT id %q is not a device id", txt["id"])
	}
	c1, err := strconv.Atoi(txt["c#"])
	if err != nil || c1 < 1 {
		t.Fatalf("TXT c#=%q", txt["c#"])
	}
	if st := b.Status(); !st.Running || st.Paired || st.Accessories != 5 {
		t.Fatalf("status %+v", st)
	}

	base := fmt.Sprintf("http://127.0.0.1:%d", s.Port)
	// Pair setup M1 -> M2: salt and SRP public key, as TLV8.
	resp, err := http.Post(base+"/pair-setup", hap.HTTPContentTypePairingTLV8, bytes.NewReader([]byte{0x00, 0x01, 0x00, 0x06, 0x01, 0x01}))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pairing+tlv8" {
		t.Fatalf("pair-setup: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	m2 := tlv8(t, body)
	if !bytes.Equal(m2[0x06], []byte{0x02}) || len(m2[0x02]) != 16 || len(m2[0x03]) != 384 || m2[0x07] != nil {
		t.Fatalf("M2: state %x salt %d bytes key %d bytes error %x", m2[0x06], len(m2[0x02]), len(m2[0x03]), m2[0x07])
	}
	// The accessory database needs a verified session.
	resp, err = http.Get(base + "/accessories")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte(`-70401`)) {
		t.Fatalf("unauthenticated /accessories: %s %s", resp.Status, body)
	}

	// A new device: the bridge is rebuilt, the configuration number goes
	// up, old devices keep their aids.
	before, _ := loadAIDs(st)
	if err := reg.Add(devDW, &recDriver{reg: reg}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s2 := lookup(t, instance)
		if c2, _ := strconv.Atoi(s2.Text["c#"]); c2 > c1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("c# still %s after a device was added", s2.Text["c#"])
		}
		time.Sleep(200 * time.Millisecond)
	}
	after, _ := loadAIDs(st)
	for id, aid := range before.IDs {
		if after.IDs[id] != aid {
			t.Fatalf("aid of %s moved from %d to %d", id, aid, after.IDs[id])
		}
	}
	if after.IDs["dw"] < FirstDeviceAID {
		t.Fatalf("new device aid %d", after.IDs["dw"])
	}
	for time.Now().Before(deadline) && b.Status().Accessories != 6 {
		time.Sleep(50 * time.Millisecond)
	}
	if n := b.Status().Accessories; n != 6 {
		t.Fatalf("%d accessories after the rebuild", n)
	}
	_ = energy.CapMeter
}
