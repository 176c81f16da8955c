package emul

import (
	"bufio"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/metering-link/serialport"
)

type echoNet struct{}

func (echoNet) Nodes() []Node { return []Node{{MAC: "001D129012345678"}} }
func (echoNet) Deliver(dst, src string, p []byte) []Datagram {
	return []Datagram{{Src: "FE80:0000:0000:0000:021D:1290:1234:5678", Data: p}}
}

// TestRawSession speaks to the emulator directly over its pty.
func TestRawSession(t *testing.T) {
	m, err := New(Config{Link: filepath.Join(t.TempDir(), "tty"), Dialect: BP35A1, ID: strings.Repeat("0", 24) + "12345678",
		Password: "PASSWORD1234", Network: echoNet{}, TimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	p, err := serialport.Open(m.Path(), serialport.Mode{Baud: 115200, DataBits: 8, StopBits: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetReadTimeout(2 * time.Second)
	rd := bufio.NewReader(p)
	expect := func(send string, want ...string) {
		t.Helper()
		if send != "" {
			if _, err := p.Write([]byte(send)); err != nil {
				t.Fatal(err)
			}
		}
		for _, w := range want {
			l, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: want %q: %v", send, w, err)
			}
			if l = strings.TrimRight(l, "\r\n"); l != w {
				t.Fatalf("after %q: got %q, want %q", send, l, w)
			}
		}
	}
	expect("SKVER\r\n", "SKVER", "EVER 1.2.10", "OK") // echo on after power-on
	expect("SKSREG SFE 0\r\n", "SKSREG SFE 0", "OK")
	expect("ROPT\r", "OK 00")
	expect("SKSCAN 2 FFFFFFFF 4 0\r\n", "FAIL ER05")
	expect("SKLL64 001D129012345678\r\n", "FE80:0000:0000:0000:021D:1290:1234:5678")
	expect("SKSENDTO 1 FE80:0000:0000:0000:021D:1290:1234:5678 0E1A 1 0002 \r\n", "FAIL ER10")
	expect("SKBOGUS\r\n", "FAIL ER04")
	expect("SKSETPWD C PASSWORD1234\r\n", "OK")
	expect("SKSETRBID "+strings.Repeat("0", 24)+"12345678\r\n", "OK")
	expect("SKSREG S2 21\r\nSKSREG S3 8888\r\n", "OK", "OK")
	expect("SKJOIN FE80:0000:0000:0000:021D:1290:1234:5678\r\n", "OK",
		"EVENT 21 FE80:0000:0000:0000:021D:1290:1234:5678 00", "EVENT 02 FE80:0000:0000:0000:021D:1290:1234:5678")
	// PANA datagram in binary mode, then the join result.
	l, _ := rd.ReadString('\n')
	if !strings.HasPrefix(l, "ERXUDP ") || !strings.Contains(l, " 02CC 02CC ") {
		t.Fatalf("PANA line %q", l)
	}
	expect("", "EVENT 25 FE80:0000:0000:0000:021D:1290:1234:5678")
	// Binary payload with CR LF inside, echoed back by the network.
	expect("SKSENDTO 1 FE80:0000:0000:0000:021D:1290:1234:5678 0E1A 1 0002 \r\n",
		"EVENT 21 FE80:0000:0000:0000:021D:1290:1234:5678 00", "OK")
	hdr := "ERXUDP FE80:0000:0000:0000:021D:1290:1234:5678 FE80:0000:0000:0000:021D:1290:1234:0001 0E1A 0E1A 001D129012345678 1 0002 "
	b := make([]byte, len(hdr)+4)
	if _, err := ioReadFull(rd, b); err != nil || string(b) != hdr+"\r\n\r\n" {
		t.Fatalf("ERXUDP %q, %v", b, err)
	}
	m.Faults().Event28()
	expect("", "EVENT 28 FE80:0000:0000:0000:021D:1290:1234:5678")
	if st := m.Stats(); st.Joins != 1 || st.JoinsOK != 1 || st.Sends != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
