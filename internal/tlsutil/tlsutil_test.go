package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSelfSignedTrustedAsItsOwnRoot(t *testing.T) {
	now := time.Now()
	certPEM, keyPEM, err := SelfSigned(Cert{CommonName: "t", Organization: "o", Hosts: []string{"127.0.0.1", "localhost"}, Now: now, Lifetime: time.Hour, CA: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "c.pem")
	if err := os.WriteFile(f, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pool, err := CertPool(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost", CurrentTime: now}); err != nil {
		t.Fatalf("not trusted through its pool: %v", err)
	}
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "example.com", CurrentTime: now}); err == nil {
		t.Fatal("trusted for a host it does not name")
	}
	if err := os.WriteFile(f, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := CertPool(f); err == nil {
		t.Fatal("junk accepted as a pool")
	}
}
