package emul

import echoemul "github.com/gatewayd-project/gatewayd/han/echonet/emul"

// EchonetHome presents an emulated ECHONET Lite home as the PAN behind
// the module: node 0 (the route-B smart meter) is the coordinator.
func EchonetHome(h *echoemul.Home) Network { return echonetHome{h} }

type echonetHome struct{ h *echoemul.Home }

func (n echonetHome) Nodes() []Node {
	out := make([]Node, 0, len(n.h.Nodes()))
	for _, nd := range n.h.Nodes() {
		out = append(out, Node{MAC: nd.MAC()})
	}
	return out
}

func (n echonetHome) Deliver(dst, src string, payload []byte) []Datagram {
	var out []Datagram
	for _, d := range n.h.Deliver(dst, src, payload) {
		out = append(out, Datagram{Src: d.Src, Data: d.Data})
	}
	return out
}
