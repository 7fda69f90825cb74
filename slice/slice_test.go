package slice

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestSumIsContentAddress(t *testing.T) {
	// whitepaper §4.2.2: a slice is named by the hash of its bytes, so the
	// same bytes get the same ID on every machine.
	a, b := Sum([]byte("hello")), Sum([]byte("hello"))
	if a != b {
		t.Fatal("same bytes, different IDs")
	}
	if want := "sha256-2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"; a.String() != want {
		t.Fatalf("got %s, want %s", a, want)
	}
	if Sum([]byte("hellp")) == a {
		t.Fatal("different bytes, same ID")
	}
}

func TestParseIDRoundTrip(t *testing.T) {
	id := Sum([]byte("x"))
	got, err := ParseID(id.String())
	if err != nil || got != id {
		t.Fatalf("ParseID(%s) = %v, %v", id, got, err)
	}
	fid := Root([]ID{id})
	gotf, err := ParseFileID(fid.String())
	if err != nil || gotf != fid {
		t.Fatalf("ParseFileID(%s) = %v, %v", fid, gotf, err)
	}
	if !IsFileID(fid.String()) || IsFileID(id.String()) {
		t.Fatal("IsFileID confuses slice and file IDs")
	}
}

func TestParseIDRejects(t *testing.T) {
	good := Sum([]byte("x")).String()
	for _, s := range []string{
		"", "sha256-", "sha256-abc", good[:len(good)-1], good + "0",
		strings.ToUpper(good), "md5-" + good[7:], "sha256-" + strings.Repeat("g", 64),
		"sha256-../../../../etc/passwd" + strings.Repeat("a", 35),
		Root(nil).String(),
	} {
		if _, err := ParseID(s); !errors.Is(err, ErrBadID) {
			t.Errorf("ParseID(%q) err = %v, want ErrBadID", s, err)
		}
	}
}

func TestRootProperties(t *testing.T) {
	a, b, c := Sum([]byte("a")), Sum([]byte("b")), Sum([]byte("c"))
	roots := map[FileID]string{}
	for name, ids := range map[string][]ID{
		"empty": nil, "a": {a}, "ab": {a, b}, "ba": {b, a}, "abc": {a, b, c}, "abcc": {a, b, c, c},
	} {
		r := Root(ids)
		if prev, dup := roots[r]; dup {
			t.Fatalf("%s and %s share a root", name, prev)
		}
		roots[r] = name
		if Root(ids) != r {
			t.Fatalf("%s: root not deterministic", name)
		}
	}
	// A one-slice file's ID is not its slice's ID: leaves are tagged.
	if Root([]ID{a}).root == a.digest {
		t.Fatal("leaf not domain-separated")
	}
}

func TestSplitter(t *testing.T) {
	for _, tc := range []struct {
		size, slice int
		want        []int
	}{
		{0, MinSize, nil},
		{1, MinSize, []int{1}},
		{MinSize, MinSize, []int{MinSize}},
		{MinSize + 1, MinSize, []int{MinSize, 1}},
		{3 * MinSize, MinSize, []int{MinSize, MinSize, MinSize}},
	} {
		data := bytes.Repeat([]byte{7}, tc.size)
		for i := range data {
			data[i] = byte(i * 31)
		}
		sp := NewSplitter(bytes.NewReader(data), tc.slice)
		var got []int
		var joined []byte
		for {
			b, id, err := sp.Next(nil)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if id != Sum(b) {
				t.Fatal("ID is not the hash of the slice")
			}
			got = append(got, len(b))
			joined = append(joined, b...)
		}
		if len(got) != len(tc.want) || !bytes.Equal(joined, data) {
			t.Fatalf("size %d: slices %v, want %v", tc.size, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("size %d: slices %v, want %v", tc.size, got, tc.want)
			}
		}
		if Count(uint64(tc.size), tc.slice) != len(tc.want) {
			t.Fatalf("Count(%d) = %d, want %d", tc.size, Count(uint64(tc.size), tc.slice), len(tc.want))
		}
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestSplitterReadError(t *testing.T) {
	if _, _, err := NewSplitter(failReader{}, MinSize).Next(nil); err == nil || err == io.EOF {
		t.Fatalf("want read error, got %v", err)
	}
}

func TestVerifier(t *testing.T) {
	data := []byte("some slice bytes")
	v := NewVerifier(Sum(data))
	v.Write(data[:4])
	v.Write(data[4:])
	if err := v.Verify(); err != nil {
		t.Fatal(err)
	}
	if v.Size() != uint64(len(data)) {
		t.Fatalf("size %d", v.Size())
	}
	bad := NewVerifier(Sum(data))
	bad.Write([]byte("some slice bytez"))
	if err := bad.Verify(); !errors.Is(err, ErrMismatch) {
		t.Fatalf("corrupt bytes: err = %v, want ErrMismatch", err)
	}
}

func TestCheckSize(t *testing.T) {
	if CheckSize(DefaultSize) != nil || !errors.Is(CheckSize(MinSize-1), ErrBadSize) || !errors.Is(CheckSize(MaxSize+1), ErrBadSize) {
		t.Fatal("CheckSize bounds wrong")
	}
}

func FuzzParseID(f *testing.F) {
	f.Add(Sum([]byte("x")).String())
	f.Add(Root(nil).String())
	f.Add("sha256-zz")
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := ParseID(s); err == nil && id.String() != s {
			t.Fatalf("ParseID(%q) accepted a second spelling of %s", s, id)
		}
		if id, err := ParseFileID(s); err == nil && id.String() != s {
			t.Fatalf("ParseFileID(%q) accepted a second spelling of %s", s, id)
		}
	})
}

func BenchmarkSum16MiB(b *testing.B) {
	data := make([]byte, DefaultSize)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Sum(data)
	}
}

func TestVerifierCheck(t *testing.T) {
	data := []byte("twelve bytes")
	v := NewVerifier(Sum(data))
	v.Write(data)
	if err := v.Check(uint64(len(data))); err != nil {
		t.Fatal(err)
	}
	if err := v.Check(uint64(len(data)) + 1); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong size: %v, want ErrMismatch", err)
	}
}
