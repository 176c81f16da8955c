// Package tlsutil holds the TLS pieces several rooms share: a self-signed
// certificate generator (the gateway's HTTPS, the emulated VTN) and a CA
// pool read from a PEM file (the VEN trusting a private VTN).
package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// Cert describes a self-signed certificate.
type Cert struct {
	CommonName, Organization string
	// Hosts are DNS names and IP addresses the certificate covers.
	Hosts []string
	// NotBefore is backdated an hour from Now; it is valid for Lifetime.
	Now      time.Time
	Lifetime time.Duration
	// CA marks it as its own certificate authority, so a client can put
	// it into its RootCAs as the trust anchor.
	CA bool
}

// SelfSigned returns a fresh ECDSA P-256 certificate as described, and its
// PKCS #8 key, as PEM.
func SelfSigned(c Cert) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: c.CommonName, Organization: []string{c.Organization}},
		NotBefore:             c.Now.Add(-time.Hour),
		NotAfter:              c.Now.Add(c.Lifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  c.CA,
	}
	if c.CA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	for _, h := range c.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// CertPool returns a pool trusting the PEM certificates in file.
func CertPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, errors.New("tls: " + file + " holds no PEM certificate")
	}
	return p, nil
}
