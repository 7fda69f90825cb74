package account

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

type keySigner struct{ k *secp256k1.PrivKey }

func (s keySigner) PubKey() []byte                  { return s.k.PubKey().Bytes() }
func (s keySigner) Sign(msg []byte) ([]byte, error) { return s.k.Sign(msg) }

func TestSignVerify(t *testing.T) {
	s := keySigner{secp256k1.GenPrivKey()}
	owner, err := Address(s.PubKey())
	if err != nil || !strings.HasPrefix(owner, "st1") {
		t.Fatalf("Address = %q, %v", owner, err)
	}
	now := time.Unix(1_700_000_000, 0)
	req := &metav1.DeleteRequest{Owner: owner, Path: "/a"}
	if err := Sign(req, s, now); err != nil {
		t.Fatal(err)
	}
	if got, err := Verify(req, now.Add(time.Minute)); err != nil || got != owner {
		t.Fatalf("Verify = %q, %v; want %s", got, err, owner)
	}

	tampered := &metav1.DeleteRequest{Owner: owner, Path: "/b", Auth: req.Auth}
	if _, err := Verify(tampered, now); !errors.Is(err, ErrSignature) {
		t.Errorf("changed path: %v, want ErrSignature", err)
	}
	// The same fields under another message type: the type is signed too.
	asStat := &metav1.StatRequest{Owner: owner, Path: "/a", Auth: req.Auth}
	if _, err := Verify(asStat, now); !errors.Is(err, ErrSignature) {
		t.Errorf("replayed as another request type: %v, want ErrSignature", err)
	}
	if _, err := Verify(req, now.Add(MaxSkew+time.Second)); !errors.Is(err, ErrStale) {
		t.Errorf("replayed later: %v, want ErrStale", err)
	}
	if _, err := Verify(&metav1.DeleteRequest{Owner: owner, Path: "/a"}, now); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned: %v, want ErrUnsigned", err)
	}
	bad := &metav1.DeleteRequest{Owner: owner, Path: "/a", Auth: &metav1.RequestAuth{PublicKey: []byte{1, 2}, UnixNano: now.UnixNano()}}
	if _, err := Verify(bad, now); !errors.Is(err, ErrSignature) {
		t.Errorf("short key: %v, want ErrSignature", err)
	}
	other := keySigner{secp256k1.GenPrivKey()}
	forged := &metav1.DeleteRequest{Owner: owner, Path: "/a"}
	Sign(forged, other, now)
	if got, err := Verify(forged, now); err != nil || got == owner {
		t.Fatalf("another key's signature verifies as %q, %v: the meta node must compare it with the owner", got, err)
	}
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte{1, 2, 3}, int64(0), []byte("sig"))
	f.Fuzz(func(t *testing.T, pub []byte, at int64, sig []byte) {
		req := &metav1.ListRequest{Owner: "st1x", Dir: "/", Auth: &metav1.RequestAuth{PublicKey: pub, UnixNano: at, Signature: sig}}
		if addr, err := Verify(req, time.Unix(0, at)); err == nil {
			t.Fatalf("random bytes verified as %s", addr)
		}
	})
}
