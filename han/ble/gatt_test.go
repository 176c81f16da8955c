package ble_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	goble "github.com/go-ble/ble"
	"github.com/go-ble/ble/linux/adv"

	"github.com/gatewayd-project/gatewayd/devices"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
	"github.com/gatewayd-project/gatewayd/han/ble"
	"github.com/gatewayd-project/gatewayd/han/ble/bthome"
)

func TestGATTCodecs(t *testing.T) {
	for _, c := range []ble.DRCommand{{Op: ble.DRNormal}, {Op: ble.DRLimit, LimitW: 500}, {Op: ble.DRShift, Duration: time.Hour},
		{Op: ble.DRCurtail, LimitW: 1 << 31, Duration: ble.MaxDRDuration}} {
		b, err := c.Encode()
		if err != nil || len(b) != ble.DRLen {
			t.Fatalf("%+v: % X %v", c, b, err)
		}
		back, err := ble.DecodeDR(b)
		if err != nil || back != c {
			t.Errorf("%+v -> % X -> %+v %v", c, b, back, err)
		}
	}
	if b, _ := (ble.DRCommand{Op: ble.DRLimit, LimitW: 500, Duration: 90 * time.Second}).Encode(); !bytes.Equal(b, []byte{3, 90, 0, 0xF4, 0x01, 0, 0}) {
		t.Errorf("DR layout % X", b)
	}
	for _, c := range []ble.DRCommand{{Op: 4}, {Duration: -time.Second}, {Duration: ble.MaxDRDuration + time.Second}, {LimitW: -1}} {
		if _, err := c.Encode(); err == nil {
			t.Errorf("%+v encoded", c)
		}
	}
	for _, b := range [][]byte{nil, {4, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}} {
		if _, err := ble.DecodeDR(b); !errors.Is(err, ble.ErrPayload) {
			t.Errorf("DR % X: %v", b, err)
		}
	}
	if p, err := ble.DecodePower(ble.EncodePower(-12345)); err != nil || p != -12345 {
		t.Errorf("power %d %v", p, err)
	}
	if e, err := ble.DecodeEnergy(ble.EncodeEnergy(ble.EnergyWrap + 7)); err != nil || e != 7 {
		t.Errorf("energy wrap %d %v", e, err)
	}
	if _, err := ble.DecodeOnOff([]byte{2}); !errors.Is(err, ble.ErrPayload) {
		t.Errorf("on/off 2: %v", err)
	}
}

func TestParseADAgainstGoBLE(t *testing.T) {
	u, _ := ble.UUID128Bytes(ble.ServiceAppliance)
	ad := ble.AppendAD(nil, ble.ADFlags, []byte{6})
	ad = ble.AppendAD(ad, ble.ADUUID128All, u[:])
	ad = ble.AppendAD(ad, ble.ADCompleteName, []byte("Plug"))
	p := adv.NewRawPacket(ad)
	got, err := ble.ParseAD(ad)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != p.LocalName() || len(got.Services128) != 1 || !p.UUIDs()[0].Equal(goble.MustParse(string(ble.ServiceAppliance))) {
		t.Errorf("ours %+v, go-ble %v %v", got, p.LocalName(), p.UUIDs())
	}
	if got.Services128[0] != ble.ServiceAppliance {
		t.Errorf("uuid %s", got.Services128[0])
	}
	for _, bad := range [][]byte{{5, 0x16, 1}, {0xFF}, make([]byte, 63)} {
		if _, err := ble.ParseAD(bad); !errors.Is(err, ble.ErrAD) {
			t.Errorf("% X: %v", bad, err)
		}
	}
}

func FuzzParseAD(f *testing.F) {
	f.Add([]byte{0x11, 0x16, 0xD2, 0xFC, 0x40, 0x00, 0x05, 0x02, 0xC4, 0x09, 0x0A, 0xD2, 0x04, 0x00, 0x0B, 0x39, 0x30, 0x00})
	f.Add([]byte{0x02, 0x01, 0x06, 0x05, 0x09, 'P', 'l', 'u', 'g'})
	f.Fuzz(func(t *testing.T, b []byte) {
		ad, err := ble.ParseAD(b)
		if err != nil {
			return
		}
		// Where ours reads 16-bit service data, go-ble's parser agrees.
		if len(ad.ServiceData) == 1 && len(b) <= 31 {
			sd := adv.NewRawPacket(b).ServiceData()
			if len(sd) >= 1 && len(sd[0].UUID) == 2 && !bytes.Equal(sd[0].Data, ad.ServiceData[0].Data) &&
				bytes.Count(b, []byte{0x16}) == 1 {
				t.Fatalf("service data % X, go-ble % X", ad.ServiceData[0].Data, sd[0].Data)
			}
		}
	})
}

func FuzzGATTPayloads(f *testing.F) {
	f.Add([]byte{3, 90, 0, 0xF4, 0x01, 0, 0})
	f.Add([]byte{1})
	f.Add([]byte{0x39, 0x30, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := ble.DecodeDR(b); err == nil {
			e, err := c.Encode()
			if err != nil || !bytes.Equal(e, b) {
				t.Fatalf("DR % X -> %+v -> % X %v", b, c, e, err)
			}
		}
		if on, err := ble.DecodeOnOff(b); err == nil && !bytes.Equal(ble.EncodeOnOff(on), b) {
			t.Fatalf("on/off % X", b)
		}
		if p, err := ble.DecodePower(b); err == nil && !bytes.Equal(ble.EncodePower(p), b) {
			t.Fatalf("power % X", b)
		}
		if e, err := ble.DecodeEnergy(b); err == nil && !bytes.Equal(ble.EncodeEnergy(e), b) {
			t.Fatalf("energy % X", b)
		}
	})
}

type nopAdapter struct{}

func (nopAdapter) Scan(ctx context.Context, _ func(ble.Advertisement)) error {
	<-ctx.Done()
	return nil
}
func (nopAdapter) Connect(context.Context, ble.Addr) (ble.Conn, error) {
	return nil, errors.New("no")
}
func (nopAdapter) Close() error { return nil }

func waterAdv(i int, pkt byte) ble.Advertisement {
	sd := []byte{0xD2, 0xFC, 0x40, 0x00, pkt, 0x4F, byte(i), 0x10, 0x00, 0x00}
	return ble.Advertisement{Addr: ble.AddrOf([6]byte{0xA4, 0xC1, 0x38, 0x20, byte(i >> 8), byte(i)}), RSSI: -60,
		Data: ble.AppendAD(ble.AppendAD(nil, ble.ADFlags, []byte{6}), ble.ADServiceData, sd)}
}

// BenchmarkHandle: advertisements decoded per second through the hub, for
// 100 adopted BTHome water meters (each packet new: decode, dedup check,
// readings, registry update, publish).
func BenchmarkHandle(b *testing.B) {
	reg := devices.New()
	hub, err := ble.New(ble.Options{Adapter: nopAdapter{}, Registry: reg, Publisher: &discard{}, Dir: b.TempDir(), Clock: clocktest.New(time.Unix(1e9, 0))})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		hub.Handle(waterAdv(i, 0))
		if _, err := hub.Adopt(ble.Adoption{Addr: waterAdv(i, 0).Addr}); err != nil {
			b.Fatal(err)
		}
	}
	advs := make([]ble.Advertisement, 100*256)
	for i := range advs {
		advs[i] = waterAdv(i%100, byte(i/100))
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		hub.Handle(advs[i%len(advs)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adv/s")
}

type discard struct{}

func (*discard) Publish([]energy.Reading) error { return nil }

// BenchmarkMemoryPer100Devices: heap held by a hub with 100 adopted
// devices that have all been heard (and 100 more candidates).
func BenchmarkMemoryPer100Devices(b *testing.B) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		reg := devices.New()
		hub, err := ble.New(ble.Options{Adapter: nopAdapter{}, Registry: reg, Dir: b.TempDir(), Clock: clocktest.New(time.Unix(1e9, 0))})
		if err != nil {
			b.Fatal(err)
		}
		for i := range 200 {
			hub.Handle(waterAdv(i, 1))
		}
		for i := range 100 {
			if _, err := hub.Adopt(ble.Adoption{Addr: waterAdv(i, 1).Addr, Name: fmt.Sprint("meter ", i)}); err != nil {
				b.Fatal(err)
			}
			hub.Handle(waterAdv(i, 2))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1024, "KiB/100dev")
		runtime.KeepAlive(hub)
		runtime.KeepAlive(reg)
	}
}

var _ = bthome.UUID
