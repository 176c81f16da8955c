package emul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatewayd-project/gatewayd/metering-link/dlt645"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// DLT645Meter answers DL/T 645-2007 requests from a Model over a Line.
type DLT645Meter struct {
	Model *Model
	Line  *Line
	Addr  dlt645.Address
	// Unsupported DIs get "no requested data" (to exercise fallbacks).
	Unsupported map[dlt645.DI]bool
	Log         *slog.Logger

	pending  []byte // follow-up data not sent yet
	pendDI   dlt645.DI
	pendSeq  int
	requests int
}

// Requests returns how many valid requests were answered or ignored.
func (m *DLT645Meter) Requests() int { return m.requests }

// maxReplyData is what one reply frame carries after the DI (L <= 200).
const maxReplyData = dlt645.MaxData - 4 - 1

// Serve answers requests until ctx is done.
func (m *DLT645Meter) Serve(ctx context.Context) error {
	if m.Log == nil {
		m.Log = slog.New(slog.DiscardHandler)
	}
	var buf []byte
	for {
		var deadline time.Time
		if len(buf) > 0 {
			deadline = time.Now().Add(500 * time.Millisecond) // Tb: drop a stalled partial frame
		}
		b, err := m.Line.Next(ctx, deadline)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, serialport.ErrTimeout), errors.Is(err, ErrDisconnected):
			buf = buf[:0]
			m.Line.Discard()
			continue
		case err != nil:
			return err
		}
		buf = append(buf, b)
		if len(buf) > 4096 {
			buf = buf[:0]
		}
		f, next, err := dlt645.Scan(buf)
		buf = buf[:copy(buf, buf[next:])]
		if err != nil {
			continue
		}
		m.requests++
		if err := m.handle(ctx, f); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			m.Log.Debug("dlt645 emulator reply failed", "err", err)
		}
	}
}

func (m *DLT645Meter) reply(ctx context.Context, control byte, data []byte) error {
	wire, err := dlt645.Encode(dlt645.Frame{Addr: m.Addr, Control: control, Data: data}, 0)
	if err != nil {
		return err
	}
	_, err = m.Line.Reply(ctx, wire, len(wire)-2)
	return err
}

func (m *DLT645Meter) handle(ctx context.Context, f dlt645.Frame) error {
	if f.IsReply() {
		return nil // another slave's reply or our own echo
	}
	if f.Addr == dlt645.Broadcast {
		if f.Control == dlt645.CtlBroadcastTime && len(f.Data) == 6 {
			t, err := dlt645.DecodeStamp6(f.Data, m.Model.Location()) // ss mm hh DD MM YY is YYMMDDhhmmss in wire order
			if err == nil {
				m.Model.SetClock(t)
				m.Log.Info("meter clock set by broadcast", "time", t)
			}
		}
		m.Line.Discard()
		return nil // never reply to broadcast
	}
	if !f.Addr.Matches(m.Addr) {
		m.Line.Discard()
		return nil
	}
	switch f.Control {
	case dlt645.CtlReadAddress:
		return m.reply(ctx, 0x93, m.Addr[:])
	case dlt645.CtlRead:
		if len(f.Data) < 4 {
			return m.reply(ctx, 0xD1, []byte{0x01})
		}
		di := dlt645.DIFromWire(f.Data)
		data, err := m.value(di, f.Data[4:])
		if err != nil {
			return m.reply(ctx, 0xD1, []byte{0x02})
		}
		head := di.Wire()
		if len(data) > maxReplyData {
			m.pending, m.pendDI, m.pendSeq = data[maxReplyData:], di, 0
			return m.reply(ctx, 0xB1, append(head[:], data[:maxReplyData]...))
		}
		m.pending = nil
		return m.reply(ctx, 0x91, append(head[:], data...))
	case dlt645.CtlReadFollow:
		if len(f.Data) != 5 || dlt645.DIFromWire(f.Data) != m.pendDI || m.pending == nil || int(f.Data[4]) != m.pendSeq+1 {
			return m.reply(ctx, 0xD2, []byte{0x02})
		}
		m.pendSeq++
		head := m.pendDI.Wire()
		part := m.pending
		ctl := byte(0x92)
		if len(part) > maxReplyData-1 {
			part, m.pending = part[:maxReplyData-1], m.pending[maxReplyData-1:]
			ctl = 0xB2
		} else {
			m.pending = nil
		}
		out := append(head[:], part...)
		return m.reply(ctx, ctl, append(out, byte(m.pendSeq)))
	default:
		// Writes, relay control, clears: this meter refuses them all.
		return m.reply(ctx, f.Control|0xC0, []byte{0x04})
	}
}

var errNoData = errors.New("no data")

func bcd(v int64, n int, signed bool) []byte {
	b, err := dlt645.EncodeBCD(v, n, signed)
	if err != nil {
		// Saturate rather than wrap: a real meter rolls over at its digit
		// count; the model never gets there in practice.
		b, _ = dlt645.EncodeBCD(0, n, signed)
	}
	return b
}

// value returns the value bytes (wire order, unscrambled) of di.
func (m *DLT645Meter) value(di dlt645.DI, args []byte) ([]byte, error) {
	if m.Unsupported[di] {
		return nil, errNoData
	}
	s := m.Model.State()
	single := s.Phases == 1
	cwh := func(mwh int64) int64 { return mwh / 10000 } // mWh -> 0.01 kWh
	switch di {
	case dlt645.DICombinedActive:
		return bcd(cwh(s.ImportMWh[0])-cwh(s.ExportMWh[0]), 4, true), nil
	case dlt645.DIForwardBlock, dlt645.DIReverseBlock:
		src := s.ImportMWh
		if di == dlt645.DIReverseBlock {
			src = s.ExportMWh
		}
		var out []byte
		for _, v := range src {
			out = append(out, bcd(cwh(v), 4, false)...)
		}
		return out, nil
	case dlt645.DICombinedReact1:
		return bcd(s.Reactive1MVarh/10000, 4, true), nil
	case dlt645.DICombinedReact2:
		return bcd(s.Reactive2MVarh/10000, 4, true), nil
	case dlt645.DIVoltageBlock:
		var out []byte
		for _, v := range s.VoltageMV {
			out = append(out, bcd(v/100, 2, false)...)
		}
		return out, nil
	case dlt645.DICurrentBlock:
		var out []byte
		for _, v := range s.CurrentMA {
			out = append(out, bcd(v, 3, true)...)
		}
		return out, nil
	case dlt645.DIPowerBlock, dlt645.DIReactiveBlock, dlt645.DIApparentBlock:
		src := s.PowerMW
		switch di {
		case dlt645.DIReactiveBlock:
			src = s.ReactiveMVar
		case dlt645.DIApparentBlock:
			src = s.ApparentMVA
		}
		var out []byte
		for _, v := range src {
			out = append(out, bcd(v/100, 3, true)...)
		}
		return out, nil
	case dlt645.DIPFBlock:
		var out []byte
		for _, v := range s.PowerFactorMilli {
			out = append(out, bcd(v, 2, true)...)
		}
		return out, nil
	case dlt645.DIFrequency:
		return bcd(s.FrequencyMHz/10, 2, false), nil
	case dlt645.DIDate:
		return dlt645.EncodeDate(s.MeterTime), nil
	case dlt645.DITime:
		return dlt645.EncodeClock(s.MeterTime), nil
	case dlt645.DICommAddress:
		return m.Addr[:], nil
	case dlt645.DIStatusBlock, dlt645.DIStatus1, dlt645.DIStatus3:
		var w1, w3 uint16
		if s.ClockBatteryLow {
			w1 |= 1 << 2
		}
		if s.PowerMW[0] < 0 {
			w1 |= 1 << 4
		}
		if s.ReactiveMVar[0] < 0 {
			w1 |= 1 << 5
		}
		if s.RelayOpen {
			w3 |= 1 << 4
		}
		le := func(w uint16) []byte { return []byte{byte(w), byte(w >> 8)} }
		switch di {
		case dlt645.DIStatus1:
			return le(w1), nil
		case dlt645.DIStatus3:
			return le(w3), nil
		}
		out := append(le(w1), 0, 0)
		out = append(out, le(w3)...)
		return append(out, make([]byte, 8)...), nil
	case dlt645.DIPowerDownCount:
		return bcd(s.PowerDownCount, 3, false), nil
	case dlt645.DIPowerDownRecord1:
		return append(dlt645.EncodeStamp6(s.LastPowerDown[0]), dlt645.EncodeStamp6(s.LastPowerDown[1])...), nil
	case dlt645.DILoadProfile4:
		return m.loadProfile(args)
	}
	// Single DIs and freezes.
	switch {
	case di>>8 == 0x000101 || di>>8 == 0x000102 || di>>8 == 0x000103 || di>>8 == 0x000104 || di == dlt645.DIForwardActive:
		return bcd(cwh(s.ImportMWh[(di>>8)&0xFF]), 4, false), nil
	case di>>8 == 0x000201 || di>>8 == 0x000202 || di>>8 == 0x000203 || di>>8 == 0x000204 || di == dlt645.DIReverseActive:
		return bcd(cwh(s.ExportMWh[(di>>8)&0xFF]), 4, false), nil
	case di&0xFFFFF0FF == 0x02010000 && (di>>8)&0xFF >= 1 && (di>>8)&0xFF <= 3:
		p := (di>>8)&0xFF - 1
		if single && p > 0 {
			return nil, errNoData
		}
		return bcd(s.VoltageMV[p]/100, 2, false), nil
	case di&0xFFFFF0FF == 0x02020000 && (di>>8)&0xFF >= 1 && (di>>8)&0xFF <= 3:
		p := (di>>8)&0xFF - 1
		if single && p > 0 {
			return nil, errNoData
		}
		return bcd(s.CurrentMA[p], 3, true), nil
	case di&0xFFFFF0FF == 0x02030000 && (di>>8)&0xFF <= 3:
		return bcd(s.PowerMW[(di>>8)&0xFF]/100, 3, true), nil
	case di == 0x02040000:
		return bcd(s.ReactiveMVar[0]/100, 3, true), nil
	case di == 0x02050000:
		return bcd(s.ApparentMVA[0]/100, 3, true), nil
	case di == 0x02060000:
		return bcd(s.PowerFactorMilli[0], 2, true), nil
	case di&0xFFFFFF00 == 0x05040000 || di&0xFFFFFF00 == 0x05040100 || di&0xFFFFFF00 == 0x05040200:
		return freezeValue(m.Model.Freezes(false), di, false)
	case di&0xFFFFFF00 == 0x05060000 || di&0xFFFFFF00 == 0x05060100 || di&0xFFFFFF00 == 0x05060200:
		return freezeValue(m.Model.Freezes(true), di, true)
	}
	return nil, errNoData
}

func freezeValue(fr []Snapshot, di dlt645.DI, block bool) ([]byte, error) {
	n := int(di & 0xFF)
	if n < 1 || n > 254 || n > len(fr) {
		return nil, errNoData
	}
	s := fr[n-1]
	v := s.ImportMWh
	switch (di >> 8) & 0xFF {
	case 0x00:
		return dlt645.EncodeStamp5(s.Time), nil
	case 0x02:
		v = s.ExportMWh
	}
	return bcd(v/10000, 4, false), nil
}

func (m *DLT645Meter) loadProfile(args []byte) ([]byte, error) {
	if !m.Model.KeepsLoadProfile() || len(args) != 6 {
		return nil, errNoData
	}
	n := int(args[0])
	start, err := dlt645.DecodeStamp5(args[1:6], m.Model.Location())
	if err != nil || n == 0 {
		return nil, errNoData
	}
	hist := m.Model.History(start.Add(-time.Nanosecond), m.Model.State().MeterTime)
	if len(hist) == 0 {
		return nil, errNoData
	}
	var out []byte
	for i, s := range hist {
		if i == n {
			break
		}
		rec, err := dlt645.EncodeLoadRecord(dlt645.LoadRecord{
			Time: s.Time, Forward: s.ImportMWh / 10000, Reverse: s.ExportMWh / 10000,
			Reactive1: s.Reactive1 / 10000, Reactive2: s.Reactive2 / 10000,
		})
		if err != nil {
			return nil, fmt.Errorf("emul: load record: %w", err)
		}
		out = append(out, rec...)
	}
	return out, nil
}
