package index

import (
	"errors"
	"strings"
	"testing"
)

// DESIGN §9: "the namespace stores keys faithfully (escaped, never rejected
// for //, a trailing / or a .. segment)".
func TestObjectPathKeepsEveryKey(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes, one segment
	cases := []struct{ key, path string }{
		{"photos/cat.jpg", "/b/photos/cat.jpg"},
		{"a//b", "/b/a/%!/b"},
		{"dir/", "/b/dir/%!"},
		{"/lead", "/b/%!/lead"},
		{"x/../y", "/b/x/%!../y"},
		{"./z", "/b/%!./z"},
		{"sp ace/ünï©ødé", "/b/sp ace/ünï©ødé"},
		{"%!x", "/b/%!%%!x"},
		{"50%off!", "/b/50%off!"},
		{"/", "/b/%!/%!"},
		{long, ""},
		{long[:500] + "/" + long[:400], ""},
	}
	for _, c := range cases {
		p, err := ObjectPath("b", c.key)
		if err != nil {
			t.Fatalf("ObjectPath(%q): %v", c.key, err)
		}
		if c.path != "" && p != c.path {
			t.Errorf("ObjectPath(%q) = %q, want %q", c.key, p, c.path)
		}
		if _, err := CleanPath(p); err != nil {
			t.Errorf("ObjectPath(%q) = %q, which CleanPath refuses: %v", c.key, p, err)
		}
		bucket, key, ok := ObjectKey(p)
		if !ok || bucket != "b" || key != c.key {
			t.Errorf("ObjectKey(%q) = %q, %q, %v; want b, %q", p, bucket, key, ok, c.key)
		}
	}
}

func TestObjectPathRefusesWhatNoKeyIs(t *testing.T) {
	for _, key := range []string{"", "a\x00b", "tab\there", "\x7f", "bad\xffutf8", strings.Repeat("k", MaxKeyLen+1)} {
		if _, err := ObjectPath("b", key); !errors.Is(err, ErrBadPath) {
			t.Errorf("ObjectPath(%q) = %v, want ErrBadPath", key, err)
		}
	}
	if _, err := ObjectPath("..", "k"); !errors.Is(err, ErrBadPath) {
		t.Errorf("bucket \"..\": %v, want ErrBadPath", err)
	}
}

func TestObjectKeyRefusesPathsNoKeyMapsTo(t *testing.T) {
	for _, p := range []string{"/top", "/b/%!oops", "/b/%!+short", "/b/x/%!+", "/b/%!%plain", "relative/x"} {
		if b, k, ok := ObjectKey(p); ok {
			t.Errorf("ObjectKey(%q) = %q, %q, want not an object", p, b, k)
		}
	}
}

func FuzzObjectPath(f *testing.F) {
	for _, k := range []string{"a//b", "dir/", "..", "%!x", strings.Repeat("%!", 200), strings.Repeat("ab/", 300)} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		p, err := ObjectPath("bucket", key)
		if err != nil {
			return
		}
		if _, err := CleanPath(p); err != nil {
			t.Fatalf("ObjectPath(%q) = %q, refused by CleanPath: %v", key, p, err)
		}
		if _, k, ok := ObjectKey(p); !ok || k != key {
			t.Fatalf("ObjectKey(ObjectPath(%q)) = %q, %v", key, k, ok)
		}
	})
}

func FuzzObjectKey(f *testing.F) {
	for _, p := range []string{"/b/a/%!/b", "/b/%!+x/y", "/b/%!%%!x", "/b/%!.."} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		b, k, ok := ObjectKey(path)
		if !ok {
			return
		}
		if p, err := ObjectPath(b, k); err != nil || p != path {
			t.Fatalf("ObjectKey(%q) = %q, %q, but ObjectPath gives %q, %v", path, b, k, p, err)
		}
	})
}
