// Package share keeps and serves share links (issue 9; DESIGN §9): a link
// opens one file or one directory of an account to anyone who holds it,
// until it expires or its owner revokes it, optionally behind a password.
//
// The links live in <home>/gateway/shares.json beside the gateway's S3 keys
// (package keys), readable by its owner only; `stratos share` writes it and
// the gateway reads it again when it changes, so a link works, and a
// revocation bites, at once. A link's token is its ID and an HMAC of the ID
// under the file's secret, so the gateway refuses a made-up token before
// looking anything up. Passwords are kept as argon2id hashes.
//
// A share of an encrypted file (package crypt) carries the file's key in
// the link's fragment (#k=...), which browsers and curl never send: the
// gateway serves the ciphertext and the share page decrypts it in the
// browser with WebCrypto.
package share

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/stratos-net/stratos/gateway/internal/jsonfile"
)

// Errors a caller matches with errors.Is.
var (
	ErrUnknown = errors.New("no such share link")
	ErrRevoked = errors.New("this share link was revoked by its owner")
	ErrExpired = errors.New("this share link has expired")
	// ErrPassword is a password missing or wrong.
	ErrPassword = errors.New("this share link needs its password")
)

// Share is one link.
type Share struct {
	ID      string    `json:"id"`
	Account string    `json:"account"` // the keyring name that reads for it
	Address string    `json:"address"` // the account's address, the owner
	Path    string    `json:"path"`
	Dir     bool      `json:"dir,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"` // zero: never
	Revoked time.Time `json:"revoked,omitzero"`
	// Encrypted: the file is stored encrypted and the link's fragment
	// carries its key; the gateway serves ciphertext.
	Encrypted bool          `json:"encrypted,omitempty"`
	Password  *PasswordHash `json:"password,omitempty"`
}

// State says whether s opens at now: nil, ErrRevoked or ErrExpired.
func (s Share) State(now time.Time) error {
	switch {
	case !s.Revoked.IsZero():
		return ErrRevoked
	case !s.Expires.IsZero() && !now.Before(s.Expires):
		return ErrExpired
	}
	return nil
}

// PasswordHash is an argon2id hash.
type PasswordHash struct {
	Salt    []byte `json:"salt"`
	Hash    []byte `json:"hash"`
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memory_kib"`
	Threads uint8  `json:"threads"`
}

// Argon2id parameters: OWASP's second recommended set (19 MiB, two
// passes), so that a gateway checking passwords stays cheap.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonLen     = 32
)

// HashPassword hashes pw with a fresh salt.
func HashPassword(pw string) (*PasswordHash, error) {
	if pw == "" {
		return nil, errors.New("share: an empty password")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return &PasswordHash{Salt: salt, Time: argonTime, Memory: argonMemory, Threads: argonThreads,
		Hash: argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonLen)}, nil
}

// Check reports whether pw is the password.
func (p *PasswordHash) Check(pw string) bool {
	if p == nil || len(p.Hash) == 0 || p.Time == 0 || p.Memory == 0 || p.Threads == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), p.Salt, p.Time, p.Memory, p.Threads, uint32(len(p.Hash)))
	return subtle.ConstantTimeCompare(got, p.Hash) == 1
}

// file is shares.json.
type file struct {
	Secret []byte  `json:"secret"` // HMAC key of the tokens
	Shares []Share `json:"shares"`
}

// Store is the shares file.
type Store struct {
	mu   sync.Mutex
	file *jsonfile.File[file]
	f    file // as last loaded
}

// Path is where a home keeps its share links.
func Path(home string) string { return filepath.Join(home, "gateway", "shares.json") }

// Open reads the shares file at path, making one with a fresh secret if
// there is none.
func Open(path string) (*Store, error) {
	s := &Store{file: jsonfile.New[file](path, "share links")}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return nil, err
	}
	if len(s.f.Secret) == 0 {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		if err := s.write(file{Secret: secret}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) reload() error {
	f, err := s.file.Load()
	s.f = f
	return err
}

func (s *Store) write(f file) error {
	if f.Shares == nil {
		f.Shares = []Share{}
	}
	if err := s.file.Save(f); err != nil {
		return err
	}
	s.f = f
	return nil
}

// Create stores a new link for sh (its ID and Created are filled in) and
// returns it with its token.
func (s *Store) Create(sh Share, now time.Time) (Share, string, error) {
	if sh.Account == "" || sh.Address == "" || !strings.HasPrefix(sh.Path, "/") {
		return Share{}, "", errors.New("share: a link needs an account, its address and an absolute path")
	}
	id := make([]byte, 12)
	if _, err := rand.Read(id); err != nil {
		return Share{}, "", err
	}
	sh.ID = base64.RawURLEncoding.EncodeToString(id)
	sh.Created = now.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return Share{}, "", err
	}
	f := s.f
	f.Shares = append(slices.Clone(f.Shares), sh)
	if err := s.write(f); err != nil {
		return Share{}, "", err
	}
	return sh, s.token(sh.ID), nil
}

// token is the link's secret part: the ID and its MAC.
func (s *Store) token(id string) string {
	mac := hmac.New(sha256.New, s.f.Secret)
	mac.Write([]byte("stratos share link " + id))
	return id + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// Token is the token of the link id; ErrUnknown if there is none.
func (s *Store) Token(id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return "", err
	}
	if !slices.ContainsFunc(s.f.Shares, func(sh Share) bool { return sh.ID == id }) {
		return "", fmt.Errorf("%w %q", ErrUnknown, id)
	}
	return s.token(id), nil
}

// Resolve returns the link a token names, if its MAC is right: a revoked
// or expired one with ErrRevoked or ErrExpired.
func (s *Store) Resolve(token string, now time.Time) (Share, error) {
	id, _, ok := strings.Cut(token, ".")
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return Share{}, err
	}
	if !ok || len(s.f.Secret) == 0 || !hmac.Equal([]byte(token), []byte(s.token(id))) {
		return Share{}, ErrUnknown
	}
	i := slices.IndexFunc(s.f.Shares, func(sh Share) bool { return sh.ID == id })
	if i < 0 {
		return Share{}, ErrUnknown
	}
	sh := s.f.Shares[i]
	return sh, sh.State(now)
}

// List returns the links of the account with this address (every link if
// address is empty), oldest first.
func (s *Store) List(address string) ([]Share, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return nil, err
	}
	var out []Share
	for _, sh := range s.f.Shares {
		if address == "" || sh.Address == address {
			out = append(out, sh)
		}
	}
	return out, nil
}

// Revoke marks the link id of the account with this address revoked: it
// then answers 403 with ErrRevoked. ErrUnknown if the account has no such
// link.
func (s *Store) Revoke(address, id string, now time.Time) (Share, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return Share{}, err
	}
	i := slices.IndexFunc(s.f.Shares, func(sh Share) bool { return sh.ID == id && sh.Address == address })
	if i < 0 {
		return Share{}, fmt.Errorf("%w %q of %s", ErrUnknown, id, address)
	}
	f := s.f
	f.Shares = slices.Clone(f.Shares)
	if f.Shares[i].Revoked.IsZero() {
		f.Shares[i].Revoked = now.UTC()
	}
	if err := s.write(f); err != nil {
		return Share{}, err
	}
	return f.Shares[i], nil
}

// CookieValue is what the share page's cookie holds once the password was
// given: a MAC of the link and its password hash, so a new password or a
// new secret invalidates it.
func (s *Store) CookieValue(sh Share) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	mac := hmac.New(sha256.New, s.f.Secret)
	mac.Write([]byte("stratos share cookie " + sh.ID))
	if sh.Password != nil {
		mac.Write(sh.Password.Hash)
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
