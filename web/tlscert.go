package web

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/internal/atomicfile"
	"github.com/gatewayd-project/gatewayd/internal/tlsutil"
)

// Files of the self-signed certificate in the state directory.
const (
	CertFile = "tls/cert.pem"
	KeyFile  = "tls/key.pem"
	// certLifetime: the household accepts the certificate once; it must
	// outlive the device.
	certLifetime = 20 * 365 * 24 * time.Hour
)

// Fingerprint is the SHA-256 of a certificate's DER bytes as the
// colon-separated hex browsers show.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// LoadOrCreateCert returns the gateway's self-signed certificate from
// stateDir, generating it (ECDSA P-256, for hosts: names and IPs) on
// first start. created tells whether it was just made.
func LoadOrCreateCert(stateDir string, hosts []string, now time.Time) (cert tls.Certificate, fingerprint string, created bool, err error) {
	certPath, keyPath := filepath.Join(stateDir, CertFile), filepath.Join(stateDir, KeyFile)
	cert, err = tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil {
		return cert, Fingerprint(cert.Certificate[0]), false, nil
	}
	if _, serr := os.Stat(certPath); !errors.Is(serr, fs.ErrNotExist) {
		return cert, "", false, fmt.Errorf("web: tls: %w", err)
	}
	certPEM, keyPEM, err := tlsutil.SelfSigned(tlsutil.Cert{CommonName: "gatewayd", Organization: "gatewayd home gateway",
		Hosts: hosts, Now: now, Lifetime: certLifetime})
	if err != nil {
		return cert, "", false, fmt.Errorf("web: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(certPath), 0o700); err != nil {
		return cert, "", false, fmt.Errorf("web: tls: %w", err)
	}
	// Key first: a cert without its key would be unusable after a crash.
	if err := atomicfile.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return cert, "", false, fmt.Errorf("web: tls: %w", err)
	}
	if err := atomicfile.WriteFile(certPath, certPEM, 0o644); err != nil {
		return cert, "", false, fmt.Errorf("web: tls: %w", err)
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return cert, "", false, fmt.Errorf("web: tls: %w", err)
	}
	return cert, Fingerprint(cert.Certificate[0]), true, nil
}

// CertHosts are the names a self-signed certificate covers: localhost,
// the host name (and name.local for mDNS) and every interface address.
func CertHosts() []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
		if !strings.Contains(h, ".") {
			hosts = append(hosts, h+".local")
		}
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				hosts = append(hosts, n.IP.String())
			}
		}
	}
	return hosts
}

// TLSConfig serves cert with modern settings (TLS 1.2+).
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
}
