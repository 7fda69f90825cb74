// Package keys keeps the gateway's S3 access keys (DESIGN §9): each ties an
// access key ID and its secret to an account key in the home's keyring,
// which signs the account's requests to the network. The file is
// <home>/gateway/keys.json, readable by its owner only; the gateway reads
// it again when it changes, so a key made by `stratos gateway keys create`
// works at once.
package keys

import (
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratos-net/stratos/gateway/internal/jsonfile"
)

// ErrUnknown is an access key that the file does not hold.
var ErrUnknown = errors.New("unknown access key")

// Key is one S3 access key.
type Key struct {
	AccessKey string    `json:"access_key"`
	SecretKey string    `json:"secret_key"`
	Account   string    `json:"account"` // the keyring name that signs
	Address   string    `json:"address"` // the account's address, its owner name
	Created   time.Time `json:"created"`
}

// Store is the keys file.
type Store struct {
	mu   sync.Mutex
	file *jsonfile.File[[]Key]
}

// Path is where a home keeps its gateway keys.
func Path(home string) string { return filepath.Join(home, "gateway", "keys.json") }

// Open reads the keys file at path; a missing file holds no keys.
func Open(path string) (*Store, error) {
	s := &Store{file: jsonfile.New[[]Key](path, "gateway keys")}
	if _, err := s.file.Load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Lookup returns the key with this access key ID.
func (s *Store) Lookup(access string) (Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, err := s.file.Load()
	if err != nil {
		return Key{}, err
	}
	for _, k := range keys {
		if k.AccessKey == access {
			return k, nil
		}
	}
	return Key{}, fmt.Errorf("%w %q", ErrUnknown, access)
}

// List returns every key, oldest first.
func (s *Store) List() ([]Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, err := s.file.Load()
	return slices.Clone(keys), err
}

// Create makes a key for the keyring account whose address is given.
func (s *Store) Create(account, address string, now time.Time) (Key, error) {
	if account == "" || address == "" {
		return Key{}, errors.New("gateway keys: a key needs an account and its address")
	}
	k := Key{AccessKey: "STR" + token(17, upperAlnum), SecretKey: token(40, secretChars),
		Account: account, Address: address, Created: now.UTC()}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, err := s.file.Load()
	if err != nil {
		return Key{}, err
	}
	if err := s.file.Save(append(slices.Clone(keys), k)); err != nil {
		return Key{}, err
	}
	return k, nil
}

// Revoke removes a key; ErrUnknown if there is none.
func (s *Store) Revoke(access string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, err := s.file.Load()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(keys, func(k Key) bool { return k.AccessKey == access })
	if i < 0 {
		return fmt.Errorf("%w %q", ErrUnknown, access)
	}
	return s.file.Save(slices.Delete(slices.Clone(keys), i, i+1))
}

const (
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// token draws n characters from a 32- or 64-character alphabet, uniformly.
func token(n int, alphabet string) string {
	raw := make([]byte, n)
	rand.Read(raw)
	var b strings.Builder
	for _, c := range raw {
		b.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return b.String()
}
