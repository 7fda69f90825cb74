package identity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stratos-net/stratos/durable"
)

// ErrBadKey is returned for a key file or public key that cannot be used.
var ErrBadKey = errors.New("bad node key")

// ErrBadSignature is returned when a signature does not verify.
var ErrBadSignature = errors.New("bad signature")

const pemType = "STRATOS NODE KEY"

// Key is a node's private key.
type Key struct {
	priv ed25519.PrivateKey
}

// Generate makes a new key from rand.
func Generate(rand io.Reader) (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("generate node key: %w", err)
	}
	return &Key{priv: priv}, nil
}

// Public returns the public key.
func (k *Key) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// ID returns the node ID of the key.
func (k *Key) ID() string { return NodeID(k.Public()) }

// Sign signs msg.
func (k *Key) Sign(msg []byte) []byte { return ed25519.Sign(k.priv, msg) }

// NodeID derives a node ID from a public key: the hex of the first 20 bytes
// of its SHA-256, short enough to read and long enough not to collide.
func NodeID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:20])
}

// CheckPublic validates a public key received from a peer and returns the
// node ID it belongs to.
func CheckPublic(pub []byte) (string, error) {
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("%w: public key is %d bytes, want %d", ErrBadKey, len(pub), ed25519.PublicKeySize)
	}
	return NodeID(pub), nil
}

// Verify checks sig over msg by pub.
func Verify(pub []byte, msg, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, msg, sig) {
		return ErrBadSignature
	}
	return nil
}

// Save writes the key as PEM, readable only by its owner, atomically.
func (k *Key) Save(path string) error {
	data := pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: k.priv.Seed()})
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save node key: %w", err)
	}
	if err := durable.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("save node key: %w", err)
	}
	return nil
}

// Load reads a key written by Save.
func Load(path string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load node key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemType || len(block.Bytes) != ed25519.SeedSize {
		return nil, fmt.Errorf("%w: %s is not a %s PEM file", ErrBadKey, path, pemType)
	}
	return &Key{priv: ed25519.NewKeyFromSeed(block.Bytes)}, nil
}

// LoadOrGenerate loads the key at path, or makes and saves a new one if the
// file does not exist.
func LoadOrGenerate(path string, rand io.Reader) (*Key, error) {
	k, err := Load(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	if k, err = Generate(rand); err != nil {
		return nil, err
	}
	return k, k.Save(path)
}
