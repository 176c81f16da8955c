package homekit

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brutella/hap"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage"
)

func TestSetupCodeIsRandomStoredAndNotTrivial(t *testing.T) {
	a, b := hap.NewMemStore(), hap.NewMemStore()
	pa, ia, err := SetupCode(a)
	if err != nil {
		t.Fatal(err)
	}
	pb, ib, err := SetupCode(b)
	if err != nil {
		t.Fatal(err)
	}
	if pa == pb && ia == ib {
		t.Fatalf("two gateways drew the same code %s/%s", pa, ia)
	}
	if pa == "00102003" || !validPin(pa) || !validSetupID(ia) {
		t.Fatalf("code %q id %q", pa, ia)
	}
	again, id2, err := SetupCode(a)
	if err != nil || again != pa || id2 != ia {
		t.Fatalf("second call %s/%s %v, want the stored %s/%s", again, id2, err, pa, ia)
	}
	// A random source that first yields trivial codes: they are skipped.
	// 11111111 = 0x00A98AC7, 12345678 = 0x00BC614E; rand.Int reads 4 bytes
	// for a bound below 2^27 and masks the top bits.
	rnd := bytes.NewReader([]byte{0x00, 0xA9, 0x8A, 0xC7, 0x00, 0xBC, 0x61, 0x4E, 0x02, 0xFA, 0xF0, 0x80, 1, 2, 3, 4, 5, 6, 7, 8})
	pin, _, err := setupCode(hap.NewMemStore(), rnd)
	if err != nil {
		t.Fatal(err)
	}
	if pin != "50000000" {
		t.Fatalf("pin %s, want the first non-trivial draw 50000000", pin)
	}
	// A corrupted stored code is an error, not silently replaced.
	c := hap.NewMemStore()
	_ = c.Set(keyPin, []byte("12345678"))
	if _, _, err := SetupCode(c); err == nil {
		t.Fatal("trivial stored code accepted")
	}
}

func TestSetupURI(t *testing.T) {
	// Reference: the setup payload homebridge (HAP-NodeJS) printed for a
	// bridge with code 133-45-678 and setup id 45DL, as published in a
	// homebridge user's log.
	uri, err := SetupURI("13345678", "45DL")
	if err != nil {
		t.Fatal(err)
	}
	if uri != "X-HM://0023OVLOU45DL" {
		t.Fatalf("uri %s", uri)
	}
	s, err := ParseSetupURI(uri)
	if err != nil || s.Pin != "13345678" || s.SetupID != "45DL" || s.Category != 2 || s.Flags != flagIP {
		t.Fatalf("parse %+v %v", s, err)
	}
	for _, bad := range []string{"", "X-HM://", "X-HM://0023OVLOU45D", "http://0023OVLOU45DL", "X-HM://ZZZZZZZZZ45DL", "X-HM://0023OVLOU45dl", "X-HM://0023OVLOU45D!", "X-HM://000000000"} {
		if _, err := ParseSetupURI(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := SetupURI("12345678", "45DL"); err == nil {
		t.Fatal("trivial code accepted")
	}
	if FormatPin("51808582") != "518-08-582" {
		t.Fatal(FormatPin("51808582"))
	}
}

func FuzzParseSetupURI(f *testing.F) {
	f.Add("X-HM://0023OVLOU45DL")
	f.Add("X-HM://ZZZZZZZZZ1QJ8")
	f.Add("X-HM://")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseSetupURI(s)
		if err != nil {
			return
		}
		again, err := SetupURI(st.Pin, st.SetupID)
		if err != nil {
			t.Fatalf("%q parsed to %+v that does not encode: %v", s, st, err)
		}
		if st.Category == 2 && st.Flags == flagIP && !strings.EqualFold(again, s) {
			t.Fatalf("round trip %q -> %q", s, again)
		}
	})
}

// The bbolt store keeps the setup code, the aids and hap's pairings
// across a reopen (a restart of the gateway).
func TestStatePersistsAcrossReopen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "g.db")
	s, err := storage.Open(storage.Options{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	st := s.HAPStore()
	pin, id, err := SetupCode(st)
	if err != nil {
		t.Fatal(err)
	}
	aids, err := assignAIDs(st, []energy.DeviceID{"b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	// A pairing as hap stores it (hex of the controller id + ".pairing").
	if err := st.Set("4142.pairing", []byte(`{"Name":"AB","PublicKey":"AAAA","Permission":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = storage.Open(storage.Options{Path: p})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st = s.HAPStore()
	pin2, id2, err := SetupCode(st)
	if err != nil || pin2 != pin || id2 != id {
		t.Fatalf("after reopen %s/%s %v, want %s/%s", pin2, id2, err, pin, id)
	}
	// New devices come after the old ones; old ones keep theirs.
	aids2, err := assignAIDs(st, []energy.DeviceID{"0", "a", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if aids2["a"] != aids["a"] || aids2["0"] <= aids["b"] || aids2["c"] <= aids2["0"] {
		t.Fatalf("aids %v then %v", aids, aids2)
	}
	reg, _ := home(devPlug)
	b, err := New(Options{Store: st, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if st := b.Status(); !st.Paired || st.Code != FormatPin(pin) || st.Running {
		t.Fatalf("status %+v", st)
	}
}
