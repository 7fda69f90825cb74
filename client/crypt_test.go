package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	"testing"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/stratos-net/stratos/crypt"
)

type testSigner struct{ k *secp256k1.PrivKey }

func (s testSigner) PubKey() []byte                  { return s.k.PubKey().Bytes() }
func (s testSigner) Sign(msg []byte) ([]byte, error) { return s.k.Sign(msg) }

func signer(secret string) testSigner {
	return testSigner{secp256k1.GenPrivKeyFromSecret([]byte(secret))}
}

// Issue 9: "`--encrypt` on put encrypts every slice with an AEAD under a
// per-file key derived from the owner's account key; nodes and meta nodes
// never see plaintext or keys; `get` decrypts transparently and fails
// loudly on a wrong key".
func TestPutEncryptedStoresOnlyCiphertext(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t, func(c *Config) { c.Signer = signer("alice") })
	plain := bytes.Repeat([]byte("a secret line that repeats. "), 30000) // ~840 KB, many slices
	f, err := c.Put(context.Background(), "/tax.pdf", bytes.NewReader(plain), int64(len(plain)), PutOptions{Encrypt: true})
	if err != nil {
		t.Fatal(err)
	}
	if !f.GetEncrypted() || int64(f.GetSize()) != crypt.SealedSize(int64(len(plain))) || PlainSize(f) != int64(len(plain)) {
		t.Fatalf("entry: encrypted %v size %d plain %d", f.GetEncrypted(), f.GetSize(), PlainSize(f))
	}
	for _, n := range net.nodes {
		n.mu.Lock()
		for id, b := range n.slices {
			if bytes.Contains(b, []byte("a secret line")) {
				t.Errorf("node %s holds plaintext in slice %s", n.name, id)
			}
		}
		n.mu.Unlock()
	}
	var got bytes.Buffer
	if _, err := c.Get(context.Background(), "/tax.pdf", &got, GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), plain) {
		t.Fatal("decrypted bytes differ")
	}

	// Another account's key (say, a stolen copy of the index and slices)
	// cannot read it, and nothing is written before it says so.
	mallory := net.client(t, func(c *Config) { c.Signer = signer("mallory") })
	var leak bytes.Buffer
	if _, err := mallory.Get(context.Background(), f.GetFileId(), &leak, GetOptions{}); !errors.Is(err, crypt.ErrWrongKey) || leak.Len() != 0 {
		t.Fatalf("another key: %v, %d bytes written", err, leak.Len())
	}
	// A client without any account key is told what is missing.
	anon := net.client(t)
	if _, err := anon.Get(context.Background(), "/tax.pdf", &leak, GetOptions{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no key: %v", err)
	}
}

func TestGetRangeOfEncryptedFileReadsPlaintext(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t, func(c *Config) { c.Signer = signer("alice") })
	plain := make([]byte, 5*ss+12345)
	rand.Read(plain)
	if _, err := c.Put(context.Background(), "/v.mp4", bytes.NewReader(plain), int64(len(plain)), PutOptions{Encrypt: true}); err != nil {
		t.Fatal(err)
	}
	r := mrand.New(mrand.NewPCG(9, 9))
	n := int64(len(plain))
	cases := [][2]int64{{0, 0}, {0, 1}, {0, n}, {n - 1, 1}, {n, 0}, {crypt.Record - 1, 2}, {3 * ss, 10}}
	for range 20 {
		off := r.Int64N(n + 1)
		cases = append(cases, [2]int64{off, r.Int64N(n - off + 1)})
	}
	for _, tc := range cases {
		var got bytes.Buffer
		if err := c.GetRange(context.Background(), "/v.mp4", tc[0], tc[1], &got); err != nil {
			t.Fatalf("range %v: %v", tc, err)
		}
		if !bytes.Equal(got.Bytes(), plain[tc[0]:tc[0]+tc[1]]) {
			t.Fatalf("range %v: wrong bytes", tc)
		}
	}
	if err := c.GetRange(context.Background(), "/v.mp4", n, 1, &bytes.Buffer{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("past the plaintext's end: %v", err)
	}
	// The stored bytes are the ciphertext, readable whole.
	var stored bytes.Buffer
	size := crypt.SealedSize(n)
	if err := c.GetStoredRange(context.Background(), "/v.mp4", 0, size, &stored); err != nil {
		t.Fatal(err)
	}
	if _, err := crypt.ParseHeader(stored.Bytes()); err != nil || int64(stored.Len()) != size {
		t.Fatalf("stored bytes: %d, %v", stored.Len(), err)
	}
}

// A meta node that rewrites an encrypted file's slice list consistently
// (new slices, new file ID) cannot make it decrypt: the forged records do
// not authenticate under the owner's key.
func TestGetEncryptedRefusesForgedContent(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t, func(c *Config) { c.Signer = signer("alice") })
	plain := make([]byte, 3*ss)
	rand.Read(plain)
	f, err := c.Put(context.Background(), "/a", bytes.NewReader(plain), int64(len(plain)), PutOptions{Encrypt: true})
	if err != nil {
		t.Fatal(err)
	}
	// The forger keeps the real header (it is not secret) and sends
	// records of its own.
	var stored bytes.Buffer
	if err := c.GetStoredRange(context.Background(), "/a", 0, int64(f.GetSize()), &stored); err != nil {
		t.Fatal(err)
	}
	forged := stored.Bytes()
	rand.Read(forged[crypt.HeaderSize:])
	if _, err := c.Put(context.Background(), "/a", bytes.NewReader(forged), int64(len(forged)), PutOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	net.meta.set(func(m *fakeMeta) { m.files[fileKey(f.GetOwner(), "/a")].Encrypted = true })
	if _, err := c.Get(context.Background(), "/a", &bytes.Buffer{}, GetOptions{}); !errors.Is(err, crypt.ErrTampered) {
		t.Fatalf("forged records: %v, want ErrTampered", err)
	}
}
