package echonet

import "context"

// Port is the ECHONET Lite UDP port, on IP and on route B alike.
const Port = 3610

// Addr is a node's address on one transport: "192.0.2.5:3610" on IP, the
// full 8-group link-local IPv6 form ("FE80:0000:...:5678") on Wi-SUN.
type Addr string

// Packet is one datagram received from a node.
type Packet struct {
	Src  Addr
	Data []byte
}

// Transport carries frames to and from nodes: UDP 3610 on the LAN
// (han/wifi/echonetip) or SKSENDTO/ERXUDP through a Wi-SUN module
// (han/wisun). Implementations bound the size of what they deliver
// (MaxFrame) and are safe for concurrent use.
type Transport interface {
	// Send delivers one frame to dst; it honours ctx.
	Send(ctx context.Context, dst Addr, frame []byte) error
	// Multicast delivers one frame to every node (224.0.23.0 or FF02::1);
	// a transport without multicast (route B) sends it to its peer.
	Multicast(ctx context.Context, frame []byte) error
	// Packets delivers what arrives; closed when the transport stops.
	Packets() <-chan Packet
}
