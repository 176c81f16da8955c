package openadr_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gatewayd-project/gatewayd/dr/openadr"
	"github.com/gatewayd-project/gatewayd/dr/openadr/emul"
	"github.com/gatewayd-project/gatewayd/energy/clocktest"
)

// A VEN polling the emulated VTN over loopback HTTPS, trusting the
// emulator's self-signed certificate through a CA pool.
func Example() {
	clock := clocktest.New(time.Date(2026, 8, 11, 17, 30, 0, 0, time.UTC))
	vtn := emul.New(emul.Config{Version: openadr.V31, ClientID: "gw-4711", ClientSecret: "secret", VENName: "gw-4711", Clock: clock}, nil)
	vtn.Scenario(clock.Now())

	certPEM, keyPEM, _ := emul.NewCert() // or emul.SelfSigned(dir) + emul.CertPool(certFile)
	pair, _ := tls.X509KeyPair(certPEM, keyPEM)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: vtn.Handler(), TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}}}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	defer tr.CloseIdleConnections()
	ven, err := openadr.New(openadr.Config{
		URL: "https://" + ln.Addr().String(), ClientID: "gw-4711", ClientSecret: "secret", VENName: "gw-4711",
		HTTP: &http.Client{Transport: tr}, Clock: clock,
	}, nil)
	if err != nil {
		panic(err)
	}
	if err := ven.Poll(context.Background()); err != nil {
		panic(err)
	}
	s := openadr.Resolve(ven.Events(), clock.Now(), ven.IsOptedOut)
	fmt.Println(ven.Version(), len(ven.Events()), "events; level", s.Level, "import limit", *s.ImportLimitKW, "kW")
	// Output: 3.1 2 events; level 2 import limit 3 kW
}
