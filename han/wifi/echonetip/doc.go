// Package echonetip carries ECHONET Lite over UDP on the LAN (port 3610,
// multicast group 224.0.23.0), and serves emulated nodes
// (han/echonet/emul) on UDP sockets.
//
// [Transport] is the gateway's side: it implements [echonet.Transport].
// Discovery multicasts a Get D6 / INF_REQ D5; where multicast is not
// available (containers, emulators on loopback) Options.Peers lists the
// unicast addresses Multicast sends to instead.
//
// [Serve] answers requests for one [Handler] on one socket; [ServeHome]
// starts one socket per node of an emulated Home, and optionally one
// socket on the multicast group that hands every request to every node.
//
// Concurrency: a Transport is safe for concurrent use. Every goroutine
// ends when the context given at start is cancelled (or on Close); the
// sockets are closed to unblock their reads.
//
// Caveats: multicast needs a unix system (socket options through the
// syscall package); on Linux, sockets are set to IP_MULTICAST_ALL = 0 so
// that a wildcard-bound socket does not also receive every group that
// another socket of the host joined. A node that [emul.Node.Slow]s holds
// its whole socket for the delay, as a slow device would.
package echonetip
