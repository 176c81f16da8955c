package emul

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gatewayd-project/gatewayd/internal/atomicfile"
	"github.com/gatewayd-project/gatewayd/internal/tlsutil"
)

// Certificate file names written by SelfSigned.
const (
	CertFile = "vtn-cert.pem"
	KeyFile  = "vtn-key.pem"
)

// certValidity is the lifetime of a generated certificate; SelfSigned
// renews one that expires within certRenew.
const (
	certValidity = 10 * 365 * 24 * time.Hour
	certRenew    = 30 * 24 * time.Hour
)

// NewCert returns a fresh self-signed ECDSA P-256 certificate for
// 127.0.0.1, ::1 and localhost, as PEM. It is its own CA, so a VEN
// trusts it by putting certPEM into its RootCAs pool.
func NewCert() (certPEM, keyPEM []byte, err error) {
	return tlsutil.SelfSigned(tlsutil.Cert{CommonName: "gatewayd emulated VTN", Organization: "gatewayd demo",
		Hosts: []string{"127.0.0.1", "::1", "localhost"}, Now: time.Now(), Lifetime: certValidity, CA: true})
}

// SelfSigned makes sure dir holds a loopback certificate and key
// (CertFile, KeyFile) and returns their paths: an existing pair is kept
// while it parses, matches and is valid for 30 more days, so the trust a
// VEN was given survives restarts. Files are written atomically; the key
// is mode 0600.
func SelfSigned(dir string) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil && c.Leaf != nil &&
		time.Until(c.Leaf.NotAfter) > certRenew {
		return certFile, keyFile, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	certPEM, keyPEM, err := NewCert()
	if err != nil {
		return "", "", fmt.Errorf("emul: generating a certificate: %w", err)
	}
	if err := atomicfile.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := atomicfile.WriteFile(certFile, certPEM, 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// CertPool returns a pool trusting the PEM certificates in file (for a
// VEN's tls.Config.RootCAs).
func CertPool(file string) (*x509.CertPool, error) { return tlsutil.CertPool(file) }
