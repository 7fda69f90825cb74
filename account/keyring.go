package account

import (
	"fmt"

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
	return keyringSigner{kr: kr, name: name, pub: pk.Bytes()}, addr, nil
}

func (s keyringSigner) PubKey() []byte { return s.pub }

func (s keyringSigner) Sign(msg []byte) ([]byte, error) {
	sig, _, err := s.kr.Sign(s.name, msg, signing.SignMode_SIGN_MODE_DIRECT)
	return sig, err
}
