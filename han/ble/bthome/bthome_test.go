package bthome

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	goble "github.com/go-ble/ble"
	"github.com/go-ble/ble/linux/adv"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type want struct {
	name string
	raw  int64
	exp  int8
	unit string
}

func check(t *testing.T, p Packet, id byte, ws []want) {
	t.Helper()
	if !p.HasID || p.PacketID != id {
		t.Errorf("packet id %d (has %v), want %d", p.PacketID, p.HasID, id)
	}
	if len(p.Values) != len(ws) {
		t.Fatalf("values %+v, want %d", p.Values, len(ws))
	}
	for i, w := range ws {
		v := p.Values[i]
		if v.Name != w.name || v.Raw != w.raw || v.Exp != w.exp || v.Unit != w.unit {
			t.Errorf("value %d = %s %d e%d %s, want %+v", i, v.Name, v.Raw, v.Exp, v.Unit, w)
		}
	}
}

// The digest's verified examples (protocols-metering-han.md §6.2), the
// full AD structure parsed by go-ble's own advertisement parser.
func TestDigestExamples(t *testing.T) {
	ad := unhex(t, "11 16 D2 FC 40 00 05 02 C4 09 0A D2 04 00 0B 39 30 00")
	sd := adv.NewRawPacket(ad).ServiceData()
	if len(sd) != 1 || !sd[0].UUID.Equal(goble.UUID16(UUID)) {
		t.Fatalf("go-ble service data %+v", sd)
	}
	if !bytes.Equal(sd[0].Data, unhex(t, "40 00 05 02 C4 09 0A D2 04 00 0B 39 30 00")) {
		t.Fatalf("go-ble data % X", sd[0].Data)
	}
	p, err := Decode(sd[0].Data, [6]byte{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(t, p, 5, []want{{Temperature, 2500, -2, "°C"}, {Energy, 1234, -3, "kWh"}, {Power, 12345, -2, "W"}})
	if p.Encrypted || p.Trigger || p.UnknownAt {
		t.Errorf("flags %+v", p)
	}

	p, err = Decode(unhex(t, "40 00 06 4F 15 CD 5B 07"), [6]byte{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(t, p, 6, []want{{Water, 123456789, -3, "L"}})

	p, err = Decode(unhex(t, "40 00 07 4C 87 D6 12 00"), [6]byte{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(t, p, 7, []want{{Gas, 1234567, -3, "m3"}})
}

// The BTHome v2 encryption example (bthome.io, bthome-ble's
// bthome_v2_encryption.py): key, MAC, counter bytes 00 11 22 33, plain
// 02CA0903BF13 (25.06 °C, 50.55 %) -> 41 A47266C95F73 00112233 78237214.
// Several independent public decoders test against the same bytes, and
// OpenSSL's AES-CCM (tag length 4) gives the same MIC.
func TestEncryptedVector(t *testing.T) {
	key := unhex(t, "231d39c1d7cc1ab1aee224cd096db932")
	mac := [6]byte{0x54, 0x48, 0xE6, 0x8F, 0x80, 0xA5}
	air := unhex(t, "41 a4 72 66 c9 5f 73 00 11 22 33 78 23 72 14")
	got, err := Encrypt(key, mac, 0x40, 0x33221100, unhex(t, "02CA0903BF13"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, air) {
		t.Fatalf("Encrypt = % X, want % X", got, air)
	}
	p, err := Decode(air, mac, key)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Encrypted || p.Counter != 0x33221100 || p.HasID {
		t.Errorf("packet %+v", p)
	}
	if len(p.Values) != 2 || p.Values[0].Raw != 2506 || p.Values[1].Raw != 5055 || p.Values[1].Name != Humidity {
		t.Errorf("values %+v", p.Values)
	}
	// Wrong key, flipped bit, other MAC: MIC fails.
	bad := append([]byte(nil), key...)
	bad[0] ^= 1
	if _, err := Decode(air, mac, bad); !errors.Is(err, ErrMIC) {
		t.Errorf("wrong key: %v", err)
	}
	flip := append([]byte(nil), air...)
	flip[2] ^= 0x80
	if _, err := Decode(flip, mac, key); !errors.Is(err, ErrMIC) {
		t.Errorf("flipped: %v", err)
	}
	if _, err := Decode(air, [6]byte{1}, key); !errors.Is(err, ErrMIC) {
		t.Errorf("other MAC: %v", err)
	}
	// Two more published packets of the same key and MAC: counter
	// 0x00112233, and the MAC carried in the payload (flag bit 1).
	for _, c := range []struct {
		hex     string
		counter uint32
	}{{"41e445f3c9962b332211006c7c4519", 0x00112233}, {"43a5808fe64854f196c06ffb4900112233f08ecbde", 0x33221100}} {
		p, err := Decode(unhex(t, c.hex), mac, key)
		if err != nil {
			t.Fatalf("%s: %v", c.hex, err)
		}
		if p.Counter != c.counter || len(p.Values) != 2 || p.Values[0].Raw != 2506 || p.Values[1].Raw != 5055 {
			t.Errorf("%s: %+v", c.hex, p)
		}
	}
	if _, err := Decode(air, mac, nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("no key: %v", err)
	}
	if _, err := Decode(air, mac, key[:8]); err == nil {
		t.Error("8-byte key accepted")
	}
}

func TestEdgeCases(t *testing.T) {
	for _, c := range []struct {
		name, in string
		err      error
	}{
		{"empty", "", ErrShort},
		{"v1 info", "20 00 01", ErrVersion},
		{"v3 info", "60 00 01", ErrVersion},
		{"truncated temperature", "40 00 01 02 C4", ErrTruncated},
		{"truncated uint32", "40 4F 15 CD 5B", ErrTruncated},
		{"mac flag short", "42 01 02 03", ErrShort},
		{"encrypted short", "41 01 02 03", ErrShort},
		{"too long", strings.Repeat("40", 32), ErrTooLong},
	} {
		if _, err := Decode(unhex(t, c.in), [6]byte{}, nil); !errors.Is(err, c.err) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
		}
	}
	// Negative temperature, signed power, trigger flag.
	p, err := Decode(unhex(t, "44 00 09 02 0C FE 5C 9C FF FF FF"), [6]byte{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(t, p, 9, []want{{Temperature, -500, -2, "°C"}, {Power, -100, -2, "W"}})
	if !p.Trigger {
		t.Error("trigger flag lost")
	}
	// An unknown id ends the walk, keeping what came before.
	p, err = Decode(unhex(t, "40 00 01 01 64 F0 01 02 03"), [6]byte{}, nil)
	if err != nil || !p.UnknownAt || p.Unknown != 0xF0 || len(p.Values) != 1 || p.Values[0].Raw != 100 {
		t.Errorf("unknown id: %+v %v", p, err)
	}
	// MAC included (reversed on air) is used and reported.
	p, err = Decode(unhex(t, "42 A5 80 8F E6 48 54 00 01 01 50"), [6]byte{}, nil)
	if err != nil || p.MAC != [6]byte{0x54, 0x48, 0xE6, 0x8F, 0x80, 0xA5} || p.Values[0].Raw != 80 {
		t.Errorf("mac: %+v %v", p, err)
	}
	// Binary sensors and the button are walked past.
	p, err = Decode(unhex(t, "40 00 02 0F 01 3A 01 4F 01 00 00 00"), [6]byte{}, nil)
	if err != nil || len(p.Values) != 3 || p.Values[2].Name != Water || p.Values[2].Raw != 1 {
		t.Errorf("binary: %+v %v", p, err)
	}
}

func TestObjectTable(t *testing.T) {
	for id, w := range map[byte]Object{
		0x01: {Name: Battery, Size: 1}, 0x04: {Name: Pressure, Size: 3, Exp: -2}, 0x05: {Name: Illuminance, Size: 3, Exp: -2},
		0x0C: {Name: Voltage, Size: 2, Exp: -3}, 0x43: {Name: Current, Size: 2, Exp: -3}, 0x45: {Name: Temperature, Size: 2, Signed: true, Exp: -1},
		0x47: {Name: Volume, Size: 2, Exp: -1}, 0x48: {Name: Volume, Size: 2}, 0x49: {Name: Flow, Size: 2, Exp: -3},
		0x4A: {Name: Voltage, Size: 2, Exp: -1}, 0x4B: {Name: Gas, Size: 3, Exp: -3}, 0x4D: {Name: Energy, Size: 4, Exp: -3},
		0x4E: {Name: Volume, Size: 4, Exp: -3}, 0x50: {Name: Timestamp, Size: 4}, 0x5D: {Name: Current, Size: 2, Signed: true, Exp: -3},
	} {
		o, ok := Lookup(id)
		if !ok || o.Name != w.Name || o.Size != w.Size || o.Signed != w.Signed || o.Exp != w.Exp {
			t.Errorf("%02X = %+v, want %+v", id, o, w)
		}
	}
	if o, _ := Lookup(0x0A); o.Wrap() != 1<<24 {
		t.Errorf("0A wraps at %d", o.Wrap())
	}
}

func TestDecoderDedupAndReplay(t *testing.T) {
	key := unhex(t, "231d39c1d7cc1ab1aee224cd096db932")
	mac := [6]byte{0x54, 0x48, 0xE6, 0x8F, 0x80, 0xA5}
	d := NewDecoder(func(m [6]byte) []byte {
		if m == mac {
			return key
		}
		return nil
	})
	plain := unhex(t, "40 00 05 02 C4 09")
	if _, dup, err := d.Decode(plain, [6]byte{1}); dup || err != nil {
		t.Fatal(dup, err)
	}
	if _, dup, _ := d.Decode(plain, [6]byte{1}); !dup {
		t.Error("repeat of packet id 5 not a duplicate")
	}
	if _, dup, _ := d.Decode(plain, [6]byte{2}); dup {
		t.Error("another device's packet id 5 counted as a duplicate")
	}
	enc := func(ctr uint32, id byte) []byte {
		b, err := Encrypt(key, mac, 0x40, ctr, []byte{0x00, id, 0x02, 0xCA, 0x09})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, dup, err := d.Decode(enc(10, 1), mac); dup || err != nil {
		t.Fatal(dup, err)
	}
	if _, dup, err := d.Decode(enc(10, 1), mac); !dup || err != nil {
		t.Errorf("same packet again: dup %v err %v", dup, err)
	}
	if _, _, err := d.Decode(enc(9, 2), mac); !errors.Is(err, ErrReplay) {
		t.Errorf("older counter: %v", err)
	}
	if _, dup, err := d.Decode(enc(11, 2), mac); dup || err != nil {
		t.Errorf("next counter: %v %v", dup, err)
	}
	ctrs, changed := d.Counters()
	if !changed || ctrs[mac] != 11 {
		t.Errorf("counters %v changed %v", ctrs, changed)
	}
	if _, changed := d.Counters(); changed {
		t.Error("changed twice")
	}
	// A restart restores the counter: the old packet stays refused.
	d2 := NewDecoder(d.Key)
	d2.SetCounter(mac, 11)
	if _, _, err := d2.Decode(enc(11, 2), mac); !errors.Is(err, ErrReplay) {
		t.Errorf("replay after restart: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"40 00 05 02 C4 09 0A D2 04 00 0B 39 30 00", "40 00 06 4F 15 CD 5B 07", "40 00 07 4C 87 D6 12 00",
		"41 a4 72 66 c9 5f 73 00 11 22 33 78 23 72 14", "42 A5 80 8F E6 48 54 00 01 01 50", "44 00 09 02 0C FE 5C 9C FF FF FF"} {
		f.Add(unhex(f, s))
	}
	key := unhex(f, "231d39c1d7cc1ab1aee224cd096db932")
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b, [6]byte{0x54, 0x48, 0xE6, 0x8F, 0x80, 0xA5}, key)
		if err != nil {
			return
		}
		for _, v := range p.Values {
			if _, ok := Lookup(v.ID); !ok {
				t.Fatalf("value of unknown object %02X", v.ID)
			}
			if !v.Signed && v.Raw < 0 {
				t.Fatalf("unsigned %s negative", v.Name)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	plain := unhex(b, "40 00 05 02 C4 09 0A D2 04 00 0B 39 30 00")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(plain, [6]byte{}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adv/s")
}

func BenchmarkDecodeEncrypted(b *testing.B) {
	key := unhex(b, "231d39c1d7cc1ab1aee224cd096db932")
	mac := [6]byte{0x54, 0x48, 0xE6, 0x8F, 0x80, 0xA5}
	air := unhex(b, "41 a4 72 66 c9 5f 73 00 11 22 33 78 23 72 14")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(air, mac, key); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adv/s")
}
