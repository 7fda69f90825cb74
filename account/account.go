// Package account signs and checks the requests users send to the meta
// node with their account key (DESIGN §3): a secp256k1 key of the chain,
// whose st1... address owns a namespace and its prepay. A request names its
// owner; the meta node accepts it only if that owner's key signed it.
package account

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// AddressPrefix is the bech32 prefix of account addresses (DESIGN §3).
const AddressPrefix = "st"

// MaxSkew is how far a request's signing time may be from the meta node's
// clock: it bounds how long a captured request can be replayed.
const MaxSkew = 5 * time.Minute

const domain = "stratos/request/v1"

// Errors of request authentication.
var (
	ErrUnsigned  = errors.New("request is not signed")
	ErrSignature = errors.New("bad request signature")
	ErrStale     = errors.New("request signed too long ago or in the future")
)

// Signer signs with an account key: the CLI's is the Cosmos keyring.
type Signer interface {
	// PubKey is the compressed secp256k1 public key (33 bytes).
	PubKey() []byte
	// Sign signs msg (the key hashes it with SHA-256, as Cosmos keys do).
	Sign(msg []byte) ([]byte, error)
}

// Address is the st1... address of a compressed secp256k1 public key.
func Address(pub []byte) (string, error) {
	if len(pub) != secp256k1.PubKeySize {
		return "", fmt.Errorf("%w: public key is %d bytes, want %d", ErrSignature, len(pub), secp256k1.PubKeySize)
	}
	return sdk.Bech32ifyAddressBytes(AddressPrefix, (&secp256k1.PubKey{Key: pub}).Address())
}

// SignBytes is what a user signs: a domain tag, the request's message type
// (so a signed List is never taken for a Delete), the signing time, and the
// request itself without its auth field.
func SignBytes(req proto.Message, unixNano int64) ([]byte, error) {
	c := proto.Clone(req)
	clearAuth(c)
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		return nil, err
	}
	name := string(req.ProtoReflect().Descriptor().FullName())
	b := binary.AppendUvarint(nil, uint64(len(domain)))
	b = append(b, domain...)
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano))
	return append(b, body...), nil
}

// Sign sets req's auth field: signer's key, now, and the signature.
func Sign(req proto.Message, s Signer, now time.Time) error {
	f := authField(req)
	if f == nil {
		return fmt.Errorf("%s has no auth field", req.ProtoReflect().Descriptor().FullName())
	}
	auth := &metav1.RequestAuth{PublicKey: s.PubKey(), UnixNano: now.UnixNano()}
	msg, err := SignBytes(req, auth.UnixNano)
	if err != nil {
		return err
	}
	if auth.Signature, err = s.Sign(msg); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	req.ProtoReflect().Set(f, protoreflect.ValueOfMessage(auth.ProtoReflect()))
	return nil
}

// Verify checks req's auth at now and returns the address that signed it.
func Verify(req proto.Message, now time.Time) (string, error) {
	f := authField(req)
	if f == nil || !req.ProtoReflect().Has(f) {
		return "", ErrUnsigned
	}
	auth, ok := req.ProtoReflect().Get(f).Message().Interface().(*metav1.RequestAuth)
	if !ok {
		return "", ErrUnsigned
	}
	addr, err := Address(auth.GetPublicKey())
	if err != nil {
		return "", err
	}
	if d := now.Sub(time.Unix(0, auth.GetUnixNano())); d > MaxSkew || d < -MaxSkew {
		return "", fmt.Errorf("%w: %s off the meta node's clock", ErrStale, d.Round(time.Second))
	}
	msg, err := SignBytes(req, auth.GetUnixNano())
	if err != nil {
		return "", err
	}
	if !(&secp256k1.PubKey{Key: auth.GetPublicKey()}).VerifySignature(msg, auth.GetSignature()) {
		return "", fmt.Errorf("%w: by %s", ErrSignature, addr)
	}
	return addr, nil
}

// SignatureOf returns the signature a signed request carries and when it
// was signed; ok is false for an unsigned request.
func SignatureOf(req proto.Message) (sig []byte, signedAt time.Time, ok bool) {
	f := authField(req)
	if f == nil || !req.ProtoReflect().Has(f) {
		return nil, time.Time{}, false
	}
	auth, isAuth := req.ProtoReflect().Get(f).Message().Interface().(*metav1.RequestAuth)
	if !isAuth {
		return nil, time.Time{}, false
	}
	return auth.GetSignature(), time.Unix(0, auth.GetUnixNano()), true
}

func authField(m proto.Message) protoreflect.FieldDescriptor {
	f := m.ProtoReflect().Descriptor().Fields().ByName("auth")
	if f == nil || f.Message() == nil || f.Message().FullName() != (&metav1.RequestAuth{}).ProtoReflect().Descriptor().FullName() {
		return nil
	}
	return f
}

func clearAuth(m proto.Message) {
	if f := authField(m); f != nil {
		m.ProtoReflect().Clear(f)
	}
}

// Signable reports whether req has an auth field to sign.
func Signable(req proto.Message) bool { return authField(req) != nil }
