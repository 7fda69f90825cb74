package crypt

import (
	"bytes"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	"testing"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
)

func testMaster(t testing.TB) Master {
	t.Helper()
	priv := secp256k1.GenPrivKeyFromSecret([]byte("crypt test"))
	m, err := DeriveMaster(priv.Sign, "st1owner")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func seal(t testing.TB, m Master, plain []byte) ([]byte, Header, Key) {
	t.Helper()
	h, k, err := m.NewFile(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(Seal(bytes.NewReader(plain), k, h)); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), h, k
}

func open(m Master, sealed []byte) ([]byte, error) {
	var out bytes.Buffer
	o, err := NewOpener(&out, int64(len(sealed)), func(h Header) (Key, error) { return m.Key(h), nil })
	if err != nil {
		return nil, err
	}
	// Odd-sized writes: records straddle them.
	for b := sealed; len(b) > 0; {
		n := min(len(b), 7777)
		if _, err := o.Write(b[:n]); err != nil {
			return nil, err
		}
		b = b[n:]
	}
	if err := o.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

var sizes = []int{0, 1, Record - 1, Record, Record + 1, 3 * Record, 3*Record + 12345}

func TestSealOpenRoundTrip(t *testing.T) {
	m := testMaster(t)
	for _, n := range sizes {
		plain := make([]byte, n)
		rand.Read(plain)
		sealed, _, _ := seal(t, m, plain)
		if int64(len(sealed)) != SealedSize(int64(n)) {
			t.Fatalf("%d bytes sealed to %d, SealedSize says %d", n, len(sealed), SealedSize(int64(n)))
		}
		if p, err := PlainSize(int64(len(sealed))); err != nil || p != int64(n) {
			t.Fatalf("PlainSize(%d) = %d, %v; want %d", len(sealed), p, err, n)
		}
		got, err := open(m, sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes: open: %v (equal %v)", n, err, bytes.Equal(got, plain))
		}
	}
}

// The same account key derives the same master on every call, and another
// account's name derives another: files stay readable by their owner only.
func TestDeriveMasterIsDeterministicPerAccount(t *testing.T) {
	priv := secp256k1.GenPrivKeyFromSecret([]byte("crypt test"))
	a, err := DeriveMaster(priv.Sign, "st1owner")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := DeriveMaster(priv.Sign, "st1owner"); a != b {
		t.Fatal("two derivations from one key differ")
	}
	if c, _ := DeriveMaster(priv.Sign, "st1other"); a == c {
		t.Fatal("two accounts' masters are equal")
	}
	calls := 0
	_, err = DeriveMaster(func([]byte) ([]byte, error) { calls++; return []byte{byte(calls)}, nil }, "st1owner")
	if err == nil {
		t.Fatal("a key that signs differently each time derived a master")
	}
}

// Issue 9: get "fails loudly on a wrong key or tampered slice".
func TestOpenRefusesWrongKeyAndTampering(t *testing.T) {
	m := testMaster(t)
	plain := make([]byte, 2*Record+100)
	rand.Read(plain)
	sealed, _, _ := seal(t, m, plain)

	other := Master{k: [32]byte{1}}
	if _, err := open(other, sealed); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("another master: %v, want ErrWrongKey", err)
	}
	// Every byte after the magic matters: a flip in the salt or the check
	// is a wrong key, anywhere in a record it is tampering.
	for _, at := range []int{len(Magic), HeaderSize - 1, HeaderSize, HeaderSize + Record, HeaderSize + sealedRec + 5, len(sealed) - 1} {
		bad := bytes.Clone(sealed)
		bad[at] ^= 0x40
		_, err := open(m, bad)
		want := ErrTampered
		if at < HeaderSize {
			want = ErrWrongKey
		}
		if !errors.Is(err, want) {
			t.Fatalf("byte %d flipped: %v, want %v", at, err, want)
		}
	}
	bad := bytes.Clone(sealed)
	bad[0] = 'X'
	if _, err := open(m, bad); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("bad magic: %v", err)
	}
	// Dropping the final record leaves a size that is valid on its own,
	// but the record now read as final was not sealed as final.
	cut := sealed[:HeaderSize+2*sealedRec]
	if _, err := open(m, cut); !errors.Is(err, ErrTampered) {
		t.Fatalf("final record dropped: %v", err)
	}
	// Two records swapped.
	swapped := bytes.Clone(sealed)
	copy(swapped[HeaderSize:], sealed[HeaderSize+sealedRec:HeaderSize+2*sealedRec])
	copy(swapped[HeaderSize+sealedRec:], sealed[HeaderSize:HeaderSize+sealedRec])
	if _, err := open(m, swapped); !errors.Is(err, ErrTampered) {
		t.Fatalf("records swapped: %v", err)
	}
	// A record of another file with the same key and index.
	other2, _, _ := seal(t, m, plain)
	spliced := bytes.Clone(sealed)
	copy(spliced[HeaderSize:], other2[HeaderSize:HeaderSize+sealedRec])
	if _, err := open(m, spliced); !errors.Is(err, ErrTampered) {
		t.Fatalf("record spliced from another file: %v", err)
	}
	// Cut short inside a record: Close says so.
	var out bytes.Buffer
	o, _ := NewOpener(&out, int64(len(sealed)), func(h Header) (Key, error) { return m.Key(h), nil })
	o.Write(sealed[:len(sealed)-10])
	if err := o.Close(); !errors.Is(err, ErrTampered) {
		t.Fatalf("cut short: %v", err)
	}
}

func TestRangeOpenerReadsAnyRange(t *testing.T) {
	m := testMaster(t)
	r := mrand.New(mrand.NewPCG(1, 2))
	for _, n := range sizes {
		plain := make([]byte, n)
		rand.Read(plain)
		sealed, h, k := seal(t, m, plain)
		for range 40 {
			off := r.Int64N(int64(n) + 1)
			end := off + r.Int64N(int64(n)-off+1)
			sp := SpanOf(off, end, int64(n))
			var out bytes.Buffer
			o, err := NewRangeOpener(&out, k, h, int64(n), off, end)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.Write(sealed[sp.From:sp.To]); err != nil {
				t.Fatalf("size %d range [%d,%d) span %+v: %v", n, off, end, sp, err)
			}
			if err := o.Close(); err != nil {
				t.Fatalf("size %d range [%d,%d): close: %v", n, off, end, err)
			}
			if !bytes.Equal(out.Bytes(), plain[off:end]) {
				t.Fatalf("size %d range [%d,%d): wrong bytes", n, off, end)
			}
		}
	}
}

func TestPlainSizeRefusesImpossibleSizes(t *testing.T) {
	for _, n := range []int64{0, int64(HeaderSize), int64(HeaderSize) + TagSize - 1, int64(HeaderSize) + sealedRec + 5} {
		if _, err := PlainSize(n); !errors.Is(err, ErrNotSealed) {
			t.Errorf("PlainSize(%d): %v, want ErrNotSealed", n, err)
		}
	}
}

// FuzzOpen feeds arbitrary bytes to an opener (a hostile meta node or
// resource node controls them): it never panics and never writes bytes that
// did not authenticate.
func FuzzOpen(f *testing.F) {
	m := testMaster(f)
	sealed, _, _ := seal(f, m, []byte("hello, encrypted world"))
	f.Add(sealed)
	f.Add(sealed[:HeaderSize])
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		o, err := NewOpener(&out, int64(len(b)), func(h Header) (Key, error) { return m.Key(h), nil })
		if err != nil {
			return
		}
		_, werr := o.Write(b)
		cerr := o.Close()
		if (werr != nil || cerr != nil) && out.Len() > 0 && !bytes.HasPrefix([]byte("hello, encrypted world"), out.Bytes()) {
			t.Fatalf("wrote unauthenticated bytes %q", out.Bytes())
		}
		if werr == nil && cerr == nil {
			if p, _ := PlainSize(int64(len(b))); int64(out.Len()) != p {
				t.Fatalf("opened %d bytes of a %d-byte plaintext", out.Len(), p)
			}
		}
	})
}

func FuzzPlainSize(f *testing.F) {
	for _, n := range sizes {
		f.Add(SealedSize(int64(n)))
	}
	f.Fuzz(func(t *testing.T, n int64) {
		p, err := PlainSize(n)
		if err == nil && SealedSize(p) != n {
			t.Fatalf("PlainSize(%d) = %d, which seals to %d", n, p, SealedSize(p))
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	m := testMaster(b)
	h, k, _ := m.NewFile(rand.Reader)
	plain := make([]byte, 8<<20)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		var out bytes.Buffer
		out.Grow(int(SealedSize(int64(len(plain)))))
		out.ReadFrom(Seal(bytes.NewReader(plain), k, h))
	}
}

func BenchmarkOpen(b *testing.B) {
	m := testMaster(b)
	plain := make([]byte, 8<<20)
	sealed, _, _ := seal(b, m, plain)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		o, _ := NewOpener(discard{}, int64(len(sealed)), func(h Header) (Key, error) { return m.Key(h), nil })
		o.Write(sealed)
		if err := o.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
