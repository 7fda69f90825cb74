package account

import (
	"fmt"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
)

// keyringSigner signs with a key of a Cosmos keyring.
type keyringSigner struct {
	kr   keyring.Keyring
	name string
	pub  []byte
}

// FromKeyring returns a Signer for the key name in kr, and its address.
// A key the keyring lets us read (the test backend the devnet uses) is kept
// in memory: reading and decrypting the key file for every request would
// cost milliseconds per call. Other keyrings sign through the keyring.
func FromKeyring(kr keyring.Keyring, name string) (Signer, string, error) {
	rec, err := kr.Key(name)
	if err != nil {
		return nil, "", fmt.Errorf("account key %q: %w (see `stratos keys list`)", name, err)
	}
	pk, err := rec.GetPubKey()
	if err != nil {
		return nil, "", fmt.Errorf("account key %q: %w", name, err)
	}
	addr, err := Address(pk.Bytes())
	if err != nil {
		return nil, "", fmt.Errorf("account key %q is not a secp256k1 key: %w", name, err)
	}
	if l := rec.GetLocal(); l != nil && l.PrivKey != nil {
		if k, ok := l.PrivKey.GetCachedValue().(*secp256k1.PrivKey); ok {
			return memorySigner{k}, addr, nil
		}
	}
	return keyringSigner{kr: kr, name: name, pub: pk.Bytes()}, addr, nil
}

// memorySigner signs with a key held in memory.
type memorySigner struct{ k *secp256k1.PrivKey }

func (s memorySigner) PubKey() []byte                  { return s.k.PubKey().Bytes() }
func (s memorySigner) Sign(msg []byte) ([]byte, error) { return s.k.Sign(msg) }

func (s keyringSigner) PubKey() []byte { return s.pub }

func (s keyringSigner) Sign(msg []byte) ([]byte, error) {
	sig, _, err := s.kr.Sign(s.name, msg, signing.SignMode_SIGN_MODE_DIRECT)
	return sig, err
}

// FromSecret returns a Signer for the secp256k1 key derived from secret, and
// its address: test networks give their clients a fixed account this way,
// with no keyring.
func FromSecret(secret []byte) (Signer, string, error) {
	k := secp256k1.GenPrivKeyFromSecret(secret)
	addr, err := Address(k.PubKey().Bytes())
	if err != nil {
		return nil, "", err
	}
	return memorySigner{k}, addr, nil
}
