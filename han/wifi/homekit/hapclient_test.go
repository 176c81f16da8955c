package homekit

// A minimal HAP controller (the iPhone's side of HAP over IP), test-only:
// pair-setup (SRP-6a, M1..M6), pair-verify (X25519, M1..M4), then HTTP/1.1
// over the encrypted session framing. It mirrors brutella/hap v0.0.35's
// server (pair-setup.go, pair-setup-session.go, pair-verify.go, session.go,
// conn.go) from the other end, using the standard library and
// golang.org/x/crypto for the primitives, so a bug in hap's helpers would
// not cancel out on both sides.

import (
	"bufio"
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/brutella/hap"
	"github.com/brutella/hap/characteristic"
	"github.com/brutella/hap/service"
	"github.com/tadglines/go-pkgs/crypto/srp"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"

	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/internal/netnstest"
)

// hapTimeout bounds every exchange with the accessory; verifySettle is
// the pause after pair-verify (see pairVerify).
const (
	hapTimeout   = 5 * time.Second
	verifySettle = 100 * time.Millisecond
)

// TLV8 types and the pairing states (HAP spec, table 5-6).
const (
	tlvMethod     = 0x00
	tlvIdentifier = 0x01
	tlvSalt       = 0x02
	tlvPublicKey  = 0x03
	tlvProof      = 0x04
	tlvEncrypted  = 0x05
	tlvState      = 0x06
	tlvError      = 0x07
	tlvSignature  = 0x0a
)

type tlvItem struct {
	typ byte
	val []byte
}

// tlvEncode encodes items as TLV8, splitting values over 255 bytes into
// consecutive fragments of the same type.
func tlvEncode(items ...tlvItem) []byte {
	var out []byte
	for _, it := range items {
		v := it.val
		for {
			n := min(len(v), 255)
			out = append(out, it.typ, byte(n))
			out = append(out, v[:n]...)
			v = v[n:]
			if len(v) == 0 {
				break
			}
		}
	}
	return out
}

// tlvDecode decodes TLV8, joining fragments.
func tlvDecode(b []byte) (map[byte][]byte, error) {
	m := map[byte][]byte{}
	for len(b) > 0 {
		if len(b) < 2 || len(b) < 2+int(b[1]) {
			return nil, fmt.Errorf("truncated TLV8 %x", b)
		}
		m[b[0]] = append(m[b[0]], b[2:2+int(b[1])]...)
		b = b[2+int(b[1]):]
	}
	return m, nil
}

// hkdf32 is HAP's HKDF-SHA-512 with a 32-byte output.
func hkdf32(secret []byte, salt, info string) []byte {
	out := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha512.New, secret, []byte(salt), []byte(info)), out); err != nil {
		panic(err)
	}
	return out
}

// nonce12 is HAP's ChaCha20-Poly1305 nonce: four zero bytes, then the
// 8-byte nonce ("PS-Msg05" or a little-endian counter).
func nonce12(n []byte) []byte {
	var b [12]byte
	copy(b[4:], n)
	return b[:]
}

func seal(key []byte, nonce string, msg []byte) []byte {
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		panic(err)
	}
	return aead.Seal(nil, nonce12([]byte(nonce)), msg, nil)
}

func open(key []byte, nonce string, msg []byte) ([]byte, error) {
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	return aead.Open(nil, nonce12([]byte(nonce)), msg, nil)
}

// hapController is a controller identity: its pairing id and long-term
// Ed25519 key, and what it learnt of the accessory in pair-setup.
type hapController struct {
	id     string
	pub    ed25519.PublicKey
	priv   ed25519.PrivateKey
	accID  string            // the accessory's pairing id (its device id)
	accLTP ed25519.PublicKey // the accessory's long-term public key
}

func newHAPController() *hapController {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	var u [16]byte
	rand.Read(u[:])
	id := fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
	return &hapController{id: id, pub: pub, priv: priv}
}

// hapConn is one TCP connection to the accessory: HTTP/1.1 in the clear
// until pair-verify succeeds, then over the encrypted framing.
type hapConn struct {
	c    net.Conn
	host string
	br   *bufio.Reader
	// After pair-verify: the write key and counter; the read side is
	// in br's secureReader.
	wkey []byte
	wn   uint64
	// shared is set while pair-verify M4 is awaited; earlyM4 records
	// that hap sent M4 already encrypted (see pairVerify).
	shared  []byte
	earlyM4 bool
}

func dialHAP(addr string) (*hapConn, error) {
	c, err := net.DialTimeout("tcp", addr, hapTimeout)
	if err != nil {
		return nil, err
	}
	return &hapConn{c: c, host: addr, br: bufio.NewReader(c)}, nil
}

func (h *hapConn) Close() error { return h.c.Close() }

// maxFrame is the largest plaintext of one encrypted frame.
const maxFrame = 1024

// secureReader decrypts the accessory's frames: 2-byte little-endian
// length (also the AAD), ciphertext, 16-byte tag; the nonce is the frame
// counter.
type secureReader struct {
	r   io.Reader
	key []byte
	n   uint64
	buf []byte
}

func (s *secureReader) Read(p []byte) (int, error) {
	if len(s.buf) == 0 {
		var hdr [2]byte
		if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
			return 0, err
		}
		l := int(binary.LittleEndian.Uint16(hdr[:]))
		if l > maxFrame {
			return 0, fmt.Errorf("hap: frame of %d bytes", l)
		}
		frame := make([]byte, l+chacha20poly1305.Overhead)
		if _, err := io.ReadFull(s.r, frame); err != nil {
			return 0, err
		}
		aead, err := chacha20poly1305.New(s.key)
		if err != nil {
			return 0, err
		}
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], s.n)
		s.n++
		plain, err := aead.Open(nil, nonce12(n[:]), frame, hdr[:])
		if err != nil {
			return 0, fmt.Errorf("hap: frame %d: %w", s.n-1, err)
		}
		s.buf = plain
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// write sends b, encrypted once the session is verified.
func (h *hapConn) write(b []byte) error {
	if h.wkey == nil {
		_, err := h.c.Write(b)
		return err
	}
	aead, err := chacha20poly1305.New(h.wkey)
	if err != nil {
		return err
	}
	var out []byte
	for len(b) > 0 {
		chunk := b[:min(len(b), maxFrame)]
		b = b[len(chunk):]
		var hdr [2]byte
		binary.LittleEndian.PutUint16(hdr[:], uint16(len(chunk)))
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], h.wn)
		h.wn++
		out = append(out, hdr[:]...)
		out = aead.Seal(out, nonce12(n[:]), chunk, hdr[:])
	}
	_, err = h.c.Write(out)
	return err
}

// encrypt switches the connection to the session keys derived from the
// pair-verify shared secret.
func (h *hapConn) encrypt(shared []byte) {
	h.wkey = hkdf32(shared, "Control-Salt", "Control-Write-Encryption-Key")
	h.br = bufio.NewReader(&secureReader{r: h.br, key: hkdf32(shared, "Control-Salt", "Control-Read-Encryption-Key")})
}

// hapResponse is an accessory's answer.
type hapResponse struct {
	status int
	ctype  string
	body   []byte
}

// do sends one request and reads its response, within hapTimeout.
func (h *hapConn) do(method, path, ctype string, body []byte) (hapResponse, error) {
	var r hapResponse
	req, err := http.NewRequest(method, "http://"+h.host+path, bytes.NewReader(body))
	if err != nil {
		return r, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		return r, err
	}
	if err := h.c.SetDeadline(time.Now().Add(hapTimeout)); err != nil {
		return r, err
	}
	if err := h.write(buf.Bytes()); err != nil {
		return r, err
	}
	if h.shared != nil && h.wkey == nil {
		if head, err := h.br.Peek(5); err == nil && string(head) != "HTTP/" {
			h.encrypt(h.shared)
			h.earlyM4 = true
		}
	}
	resp, err := http.ReadResponse(h.br, req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	r.status, r.ctype = resp.StatusCode, resp.Header.Get("Content-Type")
	r.body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return r, err
}

// tlvExchange posts a TLV8 body and decodes the TLV8 answer, which must
// be in state want and carry no error.
func (h *hapConn) tlvExchange(path string, want byte, items ...tlvItem) (map[byte][]byte, error) {
	r, err := h.do("POST", path, hap.HTTPContentTypePairingTLV8, tlvEncode(items...))
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusOK || r.ctype != hap.HTTPContentTypePairingTLV8 {
		return nil, fmt.Errorf("%s M%d: %d %q", path, want, r.status, r.ctype)
	}
	m, err := tlvDecode(r.body)
	if err != nil {
		return nil, err
	}
	if e := m[tlvError]; e != nil {
		return nil, fmt.Errorf("%s M%d: TLV error %x", path, want, e)
	}
	if !bytes.Equal(m[tlvState], []byte{want}) {
		return nil, fmt.Errorf("%s: state %x, want M%d", path, m[tlvState], want)
	}
	return m, nil
}

// pairSetup runs pair-setup M1..M6 with the setup code (XXX-XX-XXX) on h
// (one connection: hap keys the SRP session by the remote address).
func (c *hapController) pairSetup(h *hapConn, code string) error {
	// M1 -> M2: the accessory's salt and SRP public key B.
	m2, err := h.tlvExchange("/pair-setup", 2, tlvItem{tlvMethod, []byte{0}}, tlvItem{tlvState, []byte{1}})
	if err != nil {
		return err
	}
	// SRP-6a, 3072-bit group, SHA-512, x = H(s | H("Pair-Setup:" | code)).
	user := []byte("Pair-Setup")
	s, err := srp.NewSRP("rfc5054.3072", sha512.New, func(salt, pw []byte) []byte {
		h := sha512.New()
		h.Write(user)
		h.Write([]byte(":"))
		h.Write(pw)
		inner := h.Sum(nil)
		h.Reset()
		h.Write(salt)
		h.Write(inner)
		return h.Sum(nil)
	})
	if err != nil {
		return err
	}
	cs := s.NewClientSession(user, []byte(code))
	key, err := cs.ComputeKey(m2[tlvSalt], m2[tlvPublicKey])
	if err != nil {
		return fmt.Errorf("SRP: %w", err)
	}
	// M3 -> M4: A and the client proof; the accessory's proof back.
	m4, err := h.tlvExchange("/pair-setup", 4, tlvItem{tlvState, []byte{3}},
		tlvItem{tlvPublicKey, cs.GetA()}, tlvItem{tlvProof, cs.ComputeAuthenticator()})
	if err != nil {
		return err
	}
	if !cs.VerifyServerAuthenticator(m4[tlvProof]) {
		return errors.New("pair-setup M4: the accessory's SRP proof is wrong")
	}
	// M5 -> M6: exchange long-term keys, each signed over an HKDF of
	// the SRP key, encrypted with another.
	enc := hkdf32(key, "Pair-Setup-Encrypt-Salt", "Pair-Setup-Encrypt-Info")
	info := hkdf32(key, "Pair-Setup-Controller-Sign-Salt", "Pair-Setup-Controller-Sign-Info")
	info = append(append(info, c.id...), c.pub...)
	sub := tlvEncode(tlvItem{tlvIdentifier, []byte(c.id)}, tlvItem{tlvPublicKey, c.pub},
		tlvItem{tlvSignature, ed25519.Sign(c.priv, info)})
	m6, err := h.tlvExchange("/pair-setup", 6, tlvItem{tlvState, []byte{5}}, tlvItem{tlvEncrypted, seal(enc, "PS-Msg05", sub)})
	if err != nil {
		return err
	}
	plain, err := open(enc, "PS-Msg06", m6[tlvEncrypted])
	if err != nil {
		return fmt.Errorf("pair-setup M6: %w", err)
	}
	acc, err := tlvDecode(plain)
	if err != nil {
		return err
	}
	if len(acc[tlvPublicKey]) != ed25519.PublicKeySize {
		return fmt.Errorf("pair-setup M6: accessory key of %d bytes", len(acc[tlvPublicKey]))
	}
	info = hkdf32(key, "Pair-Setup-Accessory-Sign-Salt", "Pair-Setup-Accessory-Sign-Info")
	info = append(append(info, acc[tlvIdentifier]...), acc[tlvPublicKey]...)
	if !ed25519.Verify(acc[tlvPublicKey], info, acc[tlvSignature]) {
		return errors.New("pair-setup M6: the accessory's signature is wrong")
	}
	c.accID, c.accLTP = string(acc[tlvIdentifier]), acc[tlvPublicKey]
	return nil
}

// pairVerify runs pair-verify M1..M4 on h and switches h to the session's
// encryption.
func (c *hapController) pairVerify(h *hapConn) error {
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	mine := eph.PublicKey().Bytes()
	m2, err := h.tlvExchange("/pair-verify", 2, tlvItem{tlvState, []byte{1}}, tlvItem{tlvPublicKey, mine})
	if err != nil {
		return err
	}
	theirs, err := ecdh.X25519().NewPublicKey(m2[tlvPublicKey])
	if err != nil {
		return err
	}
	shared, err := eph.ECDH(theirs)
	if err != nil {
		return err
	}
	enc := hkdf32(shared, "Pair-Verify-Encrypt-Salt", "Pair-Verify-Encrypt-Info")
	plain, err := open(enc, "PV-Msg02", m2[tlvEncrypted])
	if err != nil {
		return fmt.Errorf("pair-verify M2: %w", err)
	}
	acc, err := tlvDecode(plain)
	if err != nil {
		return err
	}
	if string(acc[tlvIdentifier]) != c.accID {
		return fmt.Errorf("pair-verify M2: accessory %q, paired with %q", acc[tlvIdentifier], c.accID)
	}
	info := slices.Concat(m2[tlvPublicKey], acc[tlvIdentifier], mine)
	if !ed25519.Verify(c.accLTP, info, acc[tlvSignature]) {
		return errors.New("pair-verify M2: the accessory's signature is wrong")
	}
	info = slices.Concat(mine, []byte(c.id), m2[tlvPublicKey])
	sub := tlvEncode(tlvItem{tlvIdentifier, []byte(c.id)}, tlvItem{tlvSignature, ed25519.Sign(c.priv, info)})
	// hap v0.0.35 switches its side of the connection to encryption in
	// conn.Read after M3's handler has called Upgrade, but net/http has
	// started a background read on the connection before the handler
	// runs, and it races with the handler:
	//   - if that goroutine reaches conn.Read after Upgrade and before
	//     the response is flushed, M4 itself goes out encrypted (about
	//     1 run in 100): do accepts either;
	//   - if it is still blocked in the clear-text read when the client's
	//     first encrypted request arrives (until net/http aborts it, just
	//     after flushing M4), it swallows that request's first byte and
	//     the session is lost (about 1 run in 10): pause first.
	h.shared = shared
	_, err = h.tlvExchange("/pair-verify", 4, tlvItem{tlvState, []byte{3}}, tlvItem{tlvEncrypted, seal(enc, "PV-Msg03", sub)})
	h.shared = nil
	if err != nil {
		return err
	}
	time.Sleep(verifySettle)
	if !h.earlyM4 {
		h.encrypt(shared)
	}
	return nil
}

// TestHAPPairedSession pairs a controller with the real server, verifies
// the pairing on a new connection and, over the encrypted session, reads
// the accessory database and switches a device through the registry.
func TestHAPPairedSession(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector flags data races inside brutella/hap v0.0.35 and brutella/dnssd v1.2.14 " +
			"that pairing triggers (about 2 runs in 5): hap's conn.Read sets conn.ss unlocked on net/http's " +
			"background-read goroutine while conn.Write reads it (pair-verify M4), and dnssd's " +
			"serviceHandle.UpdateText (from hap's savePairing, pair-setup M5) writes the service's TXT unlocked " +
			"while the responder goroutine reads it; `make unit` runs it without -race")
	}
	if !netnstest.Run(t) {
		return
	}
	// The port is chosen here, so no mDNS lookup is needed
	// (TestHAPServerAnnouncesAndPairs covers the announcement); the
	// namespace has nothing else to take it in between.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	reg, drv := home(devPlug, devRelay, devAC, devSolar, devGas, devDW)
	reg.Update("plug", energy.DeviceState{Online: true, On: true, PowerW: 2950, EnergyWh: 123456, Updated: time.Unix(1e9, 0)})
	st := newStore()
	b := newTestBridge(t, reg, Options{Store: st, Name: "Test Gateway", Addr: addr, Watch: reg.Watch,
		Grid: &fakeGrid{}, Meter: fakeMeter{w: 4321, wh: 9876543},
		Debounce: 50 * time.Millisecond, Refresh: 200 * time.Millisecond})
	runBridge(t, b)
	// Pair setup, on one connection.
	ctl := newHAPController()
	var h *hapConn
	for deadline := time.Now().Add(hapTimeout); ; time.Sleep(20 * time.Millisecond) {
		if h, err = dialHAP(addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	if err := ctl.pairSetup(h, FormatPin(b.pin)); err != nil {
		h.Close()
		t.Fatal(err)
	}
	h.Close()
	if uuid, _ := st.Get("uuid"); ctl.accID != string(uuid) {
		t.Fatalf("accessory id %q, store %q", ctl.accID, uuid)
	}
	// The pairing is persisted: hex(controller id).pairing, admin.
	raw, err := st.Get(hex.EncodeToString([]byte(ctl.id)) + ".pairing")
	if err != nil {
		t.Fatalf("pairing not stored: %v", err)
	}
	var p hap.Pairing
	if err := json.Unmarshal(raw, &p); err != nil || p.Name != ctl.id || !bytes.Equal(p.PublicKey, ctl.pub) || p.Permission != hap.PermissionAdmin {
		t.Fatalf("stored pairing %s (%v)", raw, err)
	}
	if keys, _ := st.KeysWithSuffix(".pairing"); len(keys) != 1 {
		t.Fatalf("pairings %v", keys)
	}
	if !b.Status().Paired {
		t.Fatal("Status().Paired is false after pair-setup")
	}

	// Pair verify on a new connection (as a controller does), then HTTP
	// over the session.
	h, err = dialHAP(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := ctl.pairVerify(h); err != nil {
		t.Fatal(err)
	}
	if h.earlyM4 {
		t.Log("hap sent pair-verify M4 encrypted (its conn race; see pairVerify)")
	}

	r, err := h.do("GET", "/accessories", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusOK || r.ctype != hap.HTTPContentTypeHAPJson {
		t.Fatalf("/accessories: %d %q %s", r.status, r.ctype, r.body)
	}
	t.Logf("/accessories: %d bytes", len(r.body))
	var w wire
	if err := json.Unmarshal(r.body, &w); err != nil {
		t.Fatal(err)
	}
	m, _ := loadAIDs(st)
	type want struct {
		name, service string
		on            any // nil: no On characteristic
	}
	wants := map[uint64]want{
		AIDBridge:      {"Test Gateway", service.TypeAccessoryInformation, nil},
		AIDGridEvent:   {"Grid event active", service.TypeContactSensor, nil},
		AIDOptOut:      {"Opt out of this event", service.TypeSwitch, false},
		AIDMeter:       {"Electricity meter", TypeEveConsumption, nil},
		m.IDs["plug"]:  {devPlug.Name, service.TypeOutlet, true},
		m.IDs["relay"]: {devRelay.Name, service.TypeSwitch, false},
		m.IDs["ac"]:    {devAC.Name, service.TypeThermostat, nil},
		m.IDs["solar"]: {devSolar.Name, TypeEveConsumption, nil},
		m.IDs["dw"]:    {devDW.Name, service.TypeOutlet, false},
	}
	if _, ok := m.IDs["gas"]; ok || len(w.Accessories) != len(wants) {
		t.Fatalf("%d accessories, want %d (gas aid %v)", len(w.Accessories), len(wants), ok)
	}
	var plugOn uint64 // iid of the plug's On
	for _, a := range w.Accessories {
		wa, ok := wants[a.Aid]
		if !ok {
			t.Fatalf("unexpected aid %d", a.Aid)
		}
		var name string
		var on any
		found := false
		for _, sv := range a.Services {
			for _, c := range sv.Chars {
				if sv.Type == service.TypeAccessoryInformation && c.Type == characteristic.TypeName {
					name, _ = c.Value.(string)
				}
				if sv.Type == wa.service && c.Type == characteristic.TypeOn {
					on = c.Value
					if a.Aid == m.IDs["plug"] {
						plugOn = c.Iid
					}
				}
			}
			found = found || sv.Type == wa.service
		}
		if name != wa.name || !found || on != wa.on {
			t.Errorf("aid %d: name %q service %v on %v, want %q %s %v", a.Aid, name, found, on, wa.name, wa.service, wa.on)
		}
	}
	if w.Accessories[0].Aid != AIDBridge || plugOn == 0 {
		t.Fatalf("first aid %d, plug On iid %d", w.Accessories[0].Aid, plugOn)
	}

	// Switch the plug off: the registry's driver gets the command.
	put := fmt.Sprintf(`{"characteristics":[{"aid":%d,"iid":%d,"value":false}]}`, m.IDs["plug"], plugOn)
	r, err = h.do("PUT", "/characteristics", hap.HTTPContentTypeHAPJson, []byte(put))
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusNoContent {
		t.Fatalf("PUT /characteristics: %d %s", r.status, r.body)
	}
	wantCmd := []energy.Command{{Device: "plug", Kind: energy.CmdOff, Reason: CommandReason}}
	if got := drv.commands(); !slices.Equal(got, wantCmd) {
		t.Fatalf("driver saw %+v, want %+v", got, wantCmd)
	}
	if dev, _ := reg.Device("plug"); dev.State.On {
		t.Fatal("the registry still has the plug on")
	}
	// And the session reads the new value back.
	r, err = h.do("GET", fmt.Sprintf("/characteristics?id=%d.%d", m.IDs["plug"], plugOn), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	wantBody := fmt.Sprintf(`{"characteristics":[{"aid":%d,"iid":%d,"value":false}]}`, m.IDs["plug"], plugOn)
	if r.status != http.StatusOK || string(r.body) != wantBody {
		t.Fatalf("GET /characteristics: %d %s, want %s", r.status, r.body, wantBody)
	}

	if st := b.Status(); !st.Paired || !st.Running {
		t.Fatalf("status %+v", st)
	}
}
