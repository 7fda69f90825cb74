package chainclient

import (
	"errors"
	"strings"
	"testing"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
)

// Issue 8: "a real network's node operator keys live in an encrypted
// keyring (the OS or file backend); the unencrypted test backend is used
// by the devnet only, and a real node started with it refuses with a clear
// message."
func TestNodeKeyringRefusesTestBackendOutsideTestNetworks(t *testing.T) {
	_, err := NodeKeyring(BackendTest, false)
	if !errors.Is(err, ErrKeyring) || !strings.Contains(err.Error(), "unencrypted") || !strings.Contains(err.Error(), `"file"`) {
		t.Fatalf("test backend on a real network: %v, want a refusal that names the file backend", err)
	}
	if _, err := NodeKeyring(BackendTest, true); err != nil {
		t.Fatalf("test backend on a devnet: %v", err)
	}
	if _, err := NodeKeyring("kwallet?", false); !errors.Is(err, ErrKeyring) {
		t.Fatalf("unknown backend: %v", err)
	}
	t.Setenv(PassphraseEnv, "")
	if _, err := NodeKeyring(BackendFile, false); !errors.Is(err, ErrKeyring) || !strings.Contains(err.Error(), PassphraseEnv) {
		t.Fatalf("file backend without a passphrase: %v", err)
	}
}

// A file keyring made by an operator opens for the node with the
// passphrase from the environment, and its key signs; a wrong passphrase
// does not open it.
func TestFileKeyringOpensWithPassphraseFromEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(PassphraseEnv, "correct horse battery staple")
	input, err := NodeKeyring(BackendFile, false)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := OpenKeyring(dir, BackendFile, input)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := kr.NewMnemonic("operator", keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1); err != nil {
		t.Fatal(err)
	}
	input, _ = NodeKeyring(BackendFile, false)
	kr, err = OpenKeyring(dir, BackendFile, input)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := kr.Sign("operator", []byte("msg"), signing.SignMode_SIGN_MODE_DIRECT); err != nil {
		t.Fatalf("sign with the reopened file keyring: %v", err)
	}
	kr, err = OpenKeyring(dir, BackendFile, strings.NewReader(strings.Repeat("wrong\n", 3)))
	if err == nil {
		_, _, err = kr.Sign("operator", []byte("msg"), signing.SignMode_SIGN_MODE_DIRECT)
	}
	if err == nil {
		t.Fatal("a wrong passphrase opened the file keyring")
	}
}
