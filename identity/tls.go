package identity

import (
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// ErrWrongPeer is returned when a TLS peer is not the node that was expected.
var ErrWrongPeer = errors.New("peer is not the expected node")

// Certificate returns a self-signed TLS certificate for the node key. Trust
// does not come from the certificate chain but from the key inside it, which
// must hash to the node ID the caller expects (see ClientTLS).
func (k *Key) Certificate() (tls.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: k.ID()},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{k.ID()},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, k.Public(), k.priv)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k.priv}, nil
}

// ServerTLS returns the TLS 1.3 configuration a node serves with. It asks
// callers for a certificate without requiring one: nodes present theirs
// (see PeerID), people's clients need none.
func (k *Key) ServerTLS() (*tls.Config, error) {
	cert, err := k.Certificate()
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13, ClientAuth: tls.RequestClientCert}, nil
}

// ClientTLSAs is ClientTLS for a node dialing another node: it also
// presents this node's certificate, so the server knows who calls.
func (k *Key) ClientTLSAs(nodeID string) (*tls.Config, error) {
	cert, err := k.Certificate()
	if err != nil {
		return nil, err
	}
	cfg := ClientTLS(nodeID)
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// PeerID returns the node ID of the key in a TLS peer's certificate; ok is
// false if the peer presented none. The TLS 1.3 handshake has already
// proved the peer holds that key.
func PeerID(state tls.ConnectionState) (id string, ok bool) {
	if len(state.PeerCertificates) == 0 {
		return "", false
	}
	pub, isEd := state.PeerCertificates[0].PublicKey.(ed25519.PublicKey)
	if !isEd {
		return "", false
	}
	return NodeID(pub), true
}

// ClientTLS returns a TLS 1.3 configuration that accepts only the node whose
// ID is nodeID.
func ClientTLS(nodeID string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		// The chain is not checked against any authority: the pinned key is
		// the trust, checked below.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return checkPeer(raw, nodeID)
		},
	}
}

func checkPeer(raw [][]byte, nodeID string) error {
	if len(raw) == 0 {
		return fmt.Errorf("%w: no certificate", ErrWrongPeer)
	}
	cert, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return fmt.Errorf("%w: %v", ErrWrongPeer, err)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return fmt.Errorf("%w: certificate key is not ed25519", ErrWrongPeer)
	}
	// No chain to check: the TLS 1.3 handshake's CertificateVerify already
	// proved the peer holds the private key of this public key.
	if got := NodeID(pub); got != nodeID {
		return fmt.Errorf("%w: want %s, got %s", ErrWrongPeer, nodeID, got)
	}
	return nil
}
