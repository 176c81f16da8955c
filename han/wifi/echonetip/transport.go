package echonetip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewayd-project/gatewayd/han/echonet"
)

// Group is the ECHONET Lite IPv4 multicast group.
const Group = "224.0.23.0"

// DefaultQueue is the default bound of the Packets channel.
const DefaultQueue = 256

// Options configure a [Transport].
type Options struct {
	// Listen is the local UDP address; "" means ":3610". Tests use
	// "127.0.0.1:0".
	Listen string
	// Interfaces names the interfaces to join 224.0.23.0 on; the first
	// one also carries what Multicast sends. Empty: the kernel's choice.
	Interfaces []string
	// Multicast joins 224.0.23.0:3610 (on a second socket bound to the
	// group) and makes Multicast send there. When false, Multicast sends
	// a unicast copy to each of Peers.
	Multicast bool
	// Peers are host:port addresses that Multicast reaches by unicast
	// (when Multicast is false), e.g. emulators on loopback.
	Peers []string
	// Queue bounds Packets; when full the oldest packet is dropped and
	// counted. 0 means DefaultQueue.
	Queue int
	// Log receives drop notices at debug level; nil discards them.
	Log *slog.Logger
}

// Transport is ECHONET Lite over UDP; it implements [echonet.Transport].
type Transport struct {
	conn  *net.UDPConn
	group *net.UDPConn // nil unless Options.Multicast
	dst   *net.UDPAddr // 224.0.23.0:3610
	peers []*net.UDPAddr
	log   *slog.Logger

	mu       sync.Mutex // serialises the readers' sends to q
	q        chan echonet.Packet
	dropped  atomic.Uint64
	oversize atomic.Uint64

	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	stop      chan struct{}
}

var _ echonet.Transport = (*Transport)(nil)

// Listen opens the transport. It stops, closing Packets, when ctx is
// cancelled or Close is called.
func Listen(ctx context.Context, o Options) (*Transport, error) {
	if o.Listen == "" {
		o.Listen = fmt.Sprintf(":%d", echonet.Port)
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	t := &Transport{log: o.Log, q: make(chan echonet.Packet, o.Queue), stop: make(chan struct{}),
		dst: &net.UDPAddr{IP: net.ParseIP(Group), Port: echonet.Port}}
	if t.log == nil {
		t.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for _, p := range o.Peers {
		a, err := net.ResolveUDPAddr("udp", p)
		if err != nil {
			return nil, fmt.Errorf("echonetip: peer %q: %w", p, err)
		}
		t.peers = append(t.peers, a)
	}
	ifis, err := interfaces(o.Interfaces)
	if err != nil {
		return nil, err
	}
	t.conn, err = listenUnicast(ctx, o.Listen)
	if err != nil {
		return nil, fmt.Errorf("echonetip: listen %s: %w", o.Listen, err)
	}
	if o.Multicast {
		var out *net.Interface
		if len(ifis) > 0 {
			out = ifis[0]
		}
		if err := setMulticastOut(t.conn, out); err != nil {
			t.conn.Close()
			return nil, fmt.Errorf("echonetip: multicast sending: %w", err)
		}
		if t.group, err = listenGroup(ctx, ifis); err != nil {
			t.conn.Close()
			return nil, fmt.Errorf("echonetip: join %s: %w", Group, err)
		}
	}
	conns := []*net.UDPConn{t.conn}
	if t.group != nil {
		conns = append(conns, t.group)
	}
	for _, c := range conns {
		t.wg.Add(1)
		go t.read(c)
	}
	go func() {
		select {
		case <-ctx.Done():
			t.Close()
		case <-t.stop:
		}
	}()
	go func() {
		t.wg.Wait()
		close(t.q)
	}()
	return t, nil
}

// interfaces looks the named interfaces up.
func interfaces(names []string) ([]*net.Interface, error) {
	var out []*net.Interface
	for _, n := range names {
		ifi, err := net.InterfaceByName(n)
		if err != nil {
			return nil, fmt.Errorf("echonetip: interface %q: %w", n, err)
		}
		out = append(out, ifi)
	}
	return out, nil
}

func (t *Transport) read(c *net.UDPConn) {
	defer t.wg.Done()
	buf := make([]byte, echonet.MaxFrame+1)
	for {
		n, src, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-t.stop:
				return
			default:
			}
			t.log.Debug("echonetip: read", "err", err)
			continue
		}
		if n > echonet.MaxFrame {
			if c := t.oversize.Add(1); c&(c-1) == 0 { // log at 1, 2, 4, 8...
				t.log.Debug("echonetip: oversize datagram dropped", "src", src.String(), "count", c)
			}
			continue
		}
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		t.deliver(echonet.Packet{Src: echonet.Addr(src.String()), Data: append([]byte(nil), buf[:n]...)})
	}
}

// deliver queues p, dropping the oldest packet when the queue is full.
func (t *Transport) deliver(p echonet.Packet) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		select {
		case t.q <- p:
			return
		default:
		}
		select {
		case <-t.q:
			if c := t.dropped.Add(1); c&(c-1) == 0 {
				t.log.Debug("echonetip: queue full, oldest packet dropped", "count", c)
			}
		default:
		}
	}
}

// Packets delivers received datagrams; closed when the transport stops.
func (t *Transport) Packets() <-chan echonet.Packet { return t.q }

// Dropped counts packets dropped because the queue was full.
func (t *Transport) Dropped() uint64 { return t.dropped.Load() }

// Oversize counts datagrams dropped for exceeding echonet.MaxFrame.
func (t *Transport) Oversize() uint64 { return t.oversize.Load() }

// LocalAddr is the unicast socket's address (to learn a port 0 choice).
func (t *Transport) LocalAddr() *net.UDPAddr { return t.conn.LocalAddr().(*net.UDPAddr) }

// Send delivers frame to dst ("ip:port"; a bare IP means port 3610).
func (t *Transport) Send(ctx context.Context, dst echonet.Addr, frame []byte) error {
	s := string(dst)
	if ip := net.ParseIP(s); ip != nil {
		s = net.JoinHostPort(s, fmt.Sprint(echonet.Port))
	}
	a, err := net.ResolveUDPAddr("udp", s)
	if err != nil {
		return fmt.Errorf("echonetip: send to %q: %w", dst, err)
	}
	return t.send(ctx, a, frame)
}

// Multicast sends frame to 224.0.23.0:3610, or to each peer by unicast
// when the transport was opened without multicast.
func (t *Transport) Multicast(ctx context.Context, frame []byte) error {
	if t.group != nil {
		return t.send(ctx, t.dst, frame)
	}
	if len(t.peers) == 0 {
		return errors.New("echonetip: multicast: neither multicast nor peers configured")
	}
	var errs []error
	for _, p := range t.peers {
		errs = append(errs, t.send(ctx, p, frame))
	}
	return errors.Join(errs...)
}

func (t *Transport) send(ctx context.Context, a *net.UDPAddr, frame []byte) error {
	if len(frame) > echonet.MaxFrame {
		return fmt.Errorf("echonetip: send to %s: %w", a, echonet.ErrLarge)
	}
	// A UDP write does not wait for the peer, so ctx is only checked
	// before it (a per-send deadline would leak into concurrent sends).
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("echonetip: send to %s: %w", a, err)
	}
	if _, err := t.conn.WriteToUDP(frame, a); err != nil {
		return fmt.Errorf("echonetip: send to %s: %w", a, err)
	}
	return nil
}

// Close stops the transport and waits for its readers; Packets is closed
// soon after.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		close(t.stop)
		t.closeErr = t.conn.Close()
		if t.group != nil {
			t.closeErr = errors.Join(t.closeErr, t.group.Close())
		}
		t.wg.Wait()
	})
	return t.closeErr
}

// waitCtx sleeps d unless ctx ends first.
func waitCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}
