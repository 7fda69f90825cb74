package chainclient

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/app"
)

// Keyring backends a node's operator key may live in (the Cosmos SDK's).
const (
	BackendOS   = keyring.BackendOS   // the operating system's secret store
	BackendFile = keyring.BackendFile // files encrypted with a passphrase
	BackendTest = keyring.BackendTest // unencrypted files: test networks only
)

// PassphraseEnv holds the passphrase of a file keyring for nodes, which
// run with no terminal to ask on.
const PassphraseEnv = "STRATOS_KEYRING_PASSPHRASE"

// ErrKeyring is wrapped by every keyring error of a node.
var ErrKeyring = errors.New("operator keyring")

// NodeKeyring checks that a node may keep its operator key in backend, and
// returns what opening it needs: a node of a real network refuses the test
// backend, which keeps keys unencrypted on disk (issue 8); a file keyring
// takes its passphrase from $STRATOS_KEYRING_PASSPHRASE.
func NodeKeyring(backend string, testNetwork bool) (input io.Reader, err error) {
	switch backend {
	case BackendOS:
		return nil, nil
	case BackendFile:
		pass := os.Getenv(PassphraseEnv)
		if pass == "" {
			return nil, fmt.Errorf("%w: keyring_backend = %q needs its passphrase in $%s", ErrKeyring, backend, PassphraseEnv)
		}
		// The keyring asks once to open, and twice for a new passphrase.
		return strings.NewReader(strings.Repeat(pass+"\n", 3)), nil
	case BackendTest:
		if !testNetwork {
			return nil, fmt.Errorf("%w: keyring_backend = %q keeps the operator key unencrypted on disk; a node of a real network uses %q (passphrase in $%s) or %q, and only a devnet (test_network = true) may use %q",
				ErrKeyring, backend, BackendFile, PassphraseEnv, BackendOS, BackendTest)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%w: keyring_backend = %q: want %q, %q or %q", ErrKeyring, backend, BackendOS, BackendFile, BackendTest)
}

// OpenKeyring opens the keyring in dir with backend; input answers its
// passphrase prompts (file backend).
func OpenKeyring(dir, backend string, input io.Reader) (keyring.Keyring, error) {
	kr, err := keyring.New(sdk.KeyringServiceName(), backend, dir, input, app.NewEncodingConfig().Codec)
	if err != nil {
		return nil, fmt.Errorf("%w: %s keyring in %s: %w", ErrKeyring, backend, dir, err)
	}
	return kr, nil
}
