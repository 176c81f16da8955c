package echonetip

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/han/echonet"
	"github.com/gatewayd-project/gatewayd/han/echonet/emul"
)

// Handler answers one ECHONET Lite request with zero or more replies;
// *emul.Node is one.
type Handler interface {
	Handle(req []byte) [][]byte
}

// delayer is a Handler that asks for its replies to be held (emul.Node.Slow).
type delayer interface{ Delay() time.Duration }

var _ Handler = (*emul.Node)(nil)

// Serve answers requests arriving on conn with h, replying to each
// sender from conn, until ctx is cancelled; it closes conn then and
// returns nil. Other read errors end it with the error.
func Serve(ctx context.Context, conn net.PacketConn, h Handler) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	return serve(ctx, conn, func(req []byte, src net.Addr) {
		reply(ctx, conn, h, req, src)
	})
}

// serve reads conn until ctx ends, calling f for every datagram that
// fits a frame.
func serve(ctx context.Context, conn net.PacketConn, f func([]byte, net.Addr)) error {
	buf := make([]byte, echonet.MaxFrame+1)
	for {
		n, src, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("echonetip: serve %s: %w", conn.LocalAddr(), err)
		}
		if n > echonet.MaxFrame {
			continue
		}
		f(buf[:n], src)
	}
}

// reply sends h's replies to req back to src from conn.
func reply(ctx context.Context, conn net.PacketConn, h Handler, req []byte, src net.Addr) {
	out := h.Handle(req)
	if len(out) == 0 {
		return
	}
	if d, ok := h.(delayer); ok && !waitCtx(ctx, d.Delay()) {
		return
	}
	for _, r := range out {
		// A lost reply is what UDP does anyway; the requester retries.
		_, _ = conn.WriteTo(r, src)
	}
}

// ServeOptions configure [ServeHome].
type ServeOptions struct {
	// Host is the address the nodes listen on; "" means "127.0.0.1".
	Host string
	// BasePort gives node i the port BasePort+i; 0 lets the kernel pick.
	BasePort int
	// Multicast also binds 224.0.23.0:3610, joined on Interfaces, and
	// hands every request received there to every node (each replies
	// from its own socket); the nodes announce themselves there at start.
	Multicast  bool
	Interfaces []string
	// Log receives serve errors; nil discards them.
	Log *slog.Logger
}

// HomeServer is a running [ServeHome].
type HomeServer struct {
	addrs []string
	wg    sync.WaitGroup
}

// Addrs are the nodes' "ip:port" addresses, in node order.
func (s *HomeServer) Addrs() []string { return append([]string(nil), s.addrs...) }

// Wait blocks until every socket has stopped (after ctx is cancelled).
func (s *HomeServer) Wait() { s.wg.Wait() }

// ServeHome serves every node of home on its own UDP socket until ctx is
// cancelled.
func ServeHome(ctx context.Context, home *emul.Home, o ServeOptions) (*HomeServer, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	nodes := home.Nodes()
	conns := make([]*net.UDPConn, 0, len(nodes))
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	s := &HomeServer{}
	for i := range nodes {
		port := 0
		if o.BasePort > 0 {
			port = o.BasePort + i
		}
		addr := net.JoinHostPort(o.Host, fmt.Sprint(port))
		c, err := listenUnicast(ctx, addr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("echonetip: node %d on %s: %w", i, addr, err)
		}
		conns = append(conns, c)
		s.addrs = append(s.addrs, c.LocalAddr().String())
	}
	var group *net.UDPConn
	if o.Multicast {
		ifis, err := interfaces(o.Interfaces)
		if err == nil {
			group, err = listenGroup(ctx, ifis)
		}
		for _, c := range conns {
			if err != nil {
				break
			}
			var out *net.Interface
			if len(ifis) > 0 {
				out = ifis[0]
			}
			err = setMulticastOut(c, out)
		}
		if err != nil {
			closeAll()
			if group != nil {
				group.Close()
			}
			return nil, fmt.Errorf("echonetip: multicast: %w", err)
		}
	}
	for i, c := range conns {
		n := nodes[i]
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := Serve(ctx, c, n); err != nil {
				log.Warn("echonetip: emulated node stopped", "node", n.Index(), "err", err)
			}
		}()
	}
	if group != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			stop := context.AfterFunc(ctx, func() { group.Close() })
			defer stop()
			err := serve(ctx, group, func(req []byte, src net.Addr) {
				for i, n := range nodes {
					reply(ctx, conns[i], n, req, src)
				}
			})
			if err != nil {
				log.Warn("echonetip: multicast listener stopped", "err", err)
			}
		}()
		dst := &net.UDPAddr{IP: net.ParseIP(Group), Port: echonet.Port}
		for i, n := range nodes {
			if _, err := conns[i].WriteToUDP(n.Announce(), dst); err != nil {
				log.Warn("echonetip: announce", "node", n.Index(), "err", err)
			}
		}
	}
	return s, nil
}
