package emul

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/metering-link/iec62056"
	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

// IECMeter answers IEC 62056-21 mode C sign-ons from a Model over a Line
// with a data readout. It offers no programming mode.
type IECMeter struct {
	Model *Model
	Line  *Line
	// ID is the meter id sent as 0.0.0 and matched against the sign-on
	// address (by its digits, leading zeros ignored).
	ID string
	// MaxBaud is the highest readout rate offered in the identification
	// (rounded down to a mode C rate; default 9600).
	MaxBaud int
	Log     *slog.Logger
}

// Emulator timing, from the standard's limits.
const (
	iecStall   = 1500 * time.Millisecond // a partial request older than this is dropped
	iecAckWait = 3 * time.Second         // option select must follow the identification
	iecMaxLine = 64                      // longest request line accepted
)

// Serve answers sessions until ctx is done; it returns nil then.
func (m *IECMeter) Serve(ctx context.Context) error {
	if m.Log == nil {
		m.Log = slog.New(slog.DiscardHandler)
	}
	maxBaud := m.MaxBaud
	if maxBaud <= 0 {
		maxBaud = 9600
	}
	zmax := iec62056.CharAtMost(maxBaud)
	// Lower-case 3rd letter: 20 ms reaction time.
	ident := []byte("/GWd" + string(zmax) + "EMUL-645-IEC\r\n")
	slow := serialport.Mode7E1(300)
	m.Line.SetMode(slow)

	var (
		buf     []byte
		firstAt time.Time // when the current request's first byte was read
		lastAt  time.Time
		ackBy   time.Time // non-zero while an option select is expected
	)
	reset := func() {
		buf = buf[:0]
		ackBy = time.Time{}
		m.Line.SetMode(slow)
		m.Line.Discard()
	}
	for {
		var deadline time.Time
		if len(buf) > 0 {
			deadline = lastAt.Add(iecStall)
		}
		if !ackBy.IsZero() && (deadline.IsZero() || ackBy.Before(deadline)) {
			deadline = ackBy
		}
		b, err := m.Line.Next(ctx, deadline)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, serialport.ErrTimeout), errors.Is(err, ErrDisconnected):
			reset()
			continue
		case err != nil:
			return err
		}
		b &= 0x7F // a 7E1 UART delivers 7 bits
		lastAt = time.Now()
		switch {
		case b == '/':
			buf, firstAt = buf[:0], lastAt // a sign-on (re)starts the session
		case len(buf) == 0 && b == iec62056.ACK && !ackBy.IsZero():
			firstAt = lastAt
		case len(buf) == 0:
			continue // noise between requests
		}
		buf = append(buf, b)
		if len(buf) > iecMaxLine {
			buf = buf[:0]
			continue
		}
		if b != '\n' {
			continue
		}
		msg := append([]byte(nil), buf...)
		buf = buf[:0]
		if msg[0] == '/' {
			ackBy = time.Time{}
			if !m.signOn(msg) {
				m.Line.Discard()
				continue
			}
			if _, err := m.Line.Reply(ctx, ident, -1); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				m.Log.Debug("iec62056 emulator identification failed", "err", err)
				reset()
				continue
			}
			ackBy = time.Now().Add(iecAckWait)
			continue
		}
		ackBy = time.Time{}
		baud, ok := m.optionSelect(msg, zmax)
		if !ok {
			reset()
			continue
		}
		if err := m.readout(ctx, baud, firstAt.Add(slow.TxTime(len(msg)))); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			m.Log.Debug("iec62056 emulator readout failed", "err", err)
		}
		reset()
	}
}

// signOn reports whether msg is a sign-on this meter answers.
func (m *IECMeter) signOn(msg []byte) bool {
	if !bytes.HasPrefix(msg, []byte("/?")) || !bytes.HasSuffix(msg, []byte("!\r\n")) {
		return false
	}
	addr := string(msg[2 : len(msg)-3])
	if addr == "" {
		return true
	}
	var digits strings.Builder
	for _, c := range m.ID {
		if c >= '0' && c <= '9' {
			digits.WriteRune(c)
		}
	}
	return strings.TrimLeft(addr, "0") == strings.TrimLeft(digits.String(), "0")
}

// optionSelect checks ACK 0 Z Y CR LF: a data readout (Y = '0') at a rate
// the meter offers.
func (m *IECMeter) optionSelect(msg []byte, zmax byte) (int, bool) {
	if len(msg) != 6 || msg[0] != iec62056.ACK || msg[1] != '0' || msg[3] != iec62056.ModeReadout || msg[4] != '\r' {
		return 0, false
	}
	if msg[2] > zmax {
		return 0, false
	}
	baud, err := iec62056.BaudFromChar(msg[2])
	return baud, err == nil
}

// readout waits until the option select has arrived at 300 baud, switches
// the line to baud and sends the data readout (Td after the switch).
func (m *IECMeter) readout(ctx context.Context, baud int, arrived time.Time) error {
	// Line.Reply times the request with the mode current at the call; it is
	// the new rate here, so wait out the 300-baud arrival first.
	t := time.NewTimer(time.Until(arrived))
	select {
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	case <-t.C:
	}
	m.Line.SetMode(serialport.Mode7E1(baud))
	frame := iec62056.EncodeReadout(iecLines(m.Model.State(), m.ID))
	if _, err := m.Line.Reply(ctx, frame, len(frame)-1); err != nil {
		return fmt.Errorf("emul: iec62056 readout: %w", err)
	}
	return nil
}

// iecLines renders the state as mode C data lines.
func iecLines(s State, id string) []iec62056.DataLine {
	var out []iec62056.DataLine
	add := func(code, raw, unit string) {
		out = append(out, iec62056.DataLine{Address: code, Values: []iec62056.Value{{Raw: raw, Unit: unit}}})
	}
	add("0.0.0", id, "")
	add("0.9.1", s.MeterTime.Format("15:04:05"), "")
	add("0.9.2", s.MeterTime.Format("060102"), "")
	for t := 0; t <= 4; t++ {
		add(fmt.Sprintf("1.8.%d", t), fixed(s.ImportMWh[t]/1000, 3, 6), "kWh")
	}
	for t := 0; t <= 4; t++ {
		add(fmt.Sprintf("2.8.%d", t), fixed(s.ExportMWh[t]/1000, 3, 6), "kWh")
	}
	add("3.8.0", fixed(s.Reactive1MVarh/1000, 3, 6), "kvarh")
	add("4.8.0", fixed(s.Reactive2MVarh/1000, 3, 6), "kvarh")
	// kW with 4 decimals: units of 0.1 W.
	add("1.7.0", fixed(max(s.PowerMW[0], 0)/100, 4, 2), "kW")
	add("2.7.0", fixed(max(-s.PowerMW[0], 0)/100, 4, 2), "kW")
	phases := 3
	if s.Phases == 1 {
		phases = 1
	}
	for p := 0; p < phases; p++ {
		add(fmt.Sprintf("%d.7.0", 21+20*p), fixed(max(s.PowerMW[p+1], 0)/100, 4, 2), "kW")
	}
	for p := 0; p < phases; p++ {
		add(fmt.Sprintf("%d.7.0", 32+20*p), fixed(s.VoltageMV[p]/100, 1, 3), "V")
	}
	for p := 0; p < phases; p++ {
		add(fmt.Sprintf("%d.7.0", 31+20*p), fixed(abs(s.CurrentMA[p])/10, 2, 3), "A")
	}
	add("14.7.0", fixed(s.FrequencyMHz/10, 2, 2), "Hz")
	add("13.7.0", fixed(abs(s.PowerFactorMilli[0]), 3, 1), "")
	add("C.7.0", fmt.Sprintf("%08d", s.PowerDownCount), "")
	add("F.F", "00000000", "")
	return out
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// fixed formats v × 10^-dec with at least intDigits integer digits.
func fixed(v int64, dec, intDigits int) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	div := int64(1)
	for i := 0; i < dec; i++ {
		div *= 10
	}
	return fmt.Sprintf("%s%0*d.%0*d", sign, intDigits, v/div, dec, v%div)
}
