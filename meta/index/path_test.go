package index

import (
	"errors"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	long := strings.Repeat("x", 255)
	tests := []struct {
		in, want string
		problem  string // in the error; "" means valid
	}{
		{"/a", "/a", ""},
		{"/a/b.txt", "/a/b.txt", ""},
		{"/vidéos/été 2024/clip (1).mp4", "/vidéos/été 2024/clip (1).mp4", ""},
		{"/" + long, "/" + long, ""},
		{"/a/...", "/a/...", ""}, // only "." and ".." are special
		{"/.hidden", "/.hidden", ""},
		{"", "", "empty"},
		{"a/b", "", `must begin with "/"`},
		{"/", "", "the root"},
		{"/a/", "", "trailing slash"},
		{"/a//b", "", "empty component"},
		{"//a", "", "empty component"},
		{"/a/./b", "", `"." component`},
		{"/a/.", "", `"." component`},
		{"/a/../b", "", "path escapes its directory"},
		{"/..", "", "path escapes its directory"},
		{"/a\x00b", "", "control character"},
		{"/a\nb", "", "control character"},
		{"/a\x7fb", "", "control character"},
		{"/a\u0085b", "", "control character"}, // C1 control
		{"/a\xffb", "", "UTF-8"},
		{"/" + long + "x", "", "longer than 255"},
		{strings.Repeat("/abcdefg", 513), "", "longer than 4096"},
	}
	for _, tt := range tests {
		got, err := CleanPath(tt.in)
		if tt.problem == "" {
			if err != nil || got != tt.want {
				t.Errorf("CleanPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrBadPath) || !strings.Contains(err.Error(), tt.problem) {
			t.Errorf("CleanPath(%q) = %q, %v; want ErrBadPath saying %q", tt.in, got, err, tt.problem)
		}
	}
}

func TestCleanDir(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"/", "/", true},
		{"/videos", "/videos", true},
		{"/videos/", "/videos", true}, // one trailing slash tolerated
		{"/a/b/", "/a/b", true},
		{"/videos//", "", false},
		{"//", "", false},
		{"", "", false},
		{"videos", "", false},
		{"/a/../b/", "", false},
		{"/a/./", "", false},
	}
	for _, tt := range tests {
		got, err := CleanDir(tt.in)
		if tt.ok && (err != nil || got != tt.want) || !tt.ok && !errors.Is(err, ErrBadPath) {
			t.Errorf("CleanDir(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// A cleaned path is a fixed point and never climbs out of its directory.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/a", "/a/b", "/a/../b", "/a//b", "a", "/", "/a/", "/.", "/\x00", "/é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		for _, clean := range []func(string) (string, error){CleanPath, CleanDir} {
			out, err := clean(p)
			if err != nil {
				if !errors.Is(err, ErrBadPath) {
					t.Fatalf("error %v does not wrap ErrBadPath", err)
				}
				continue
			}
			if again, err := clean(out); err != nil || again != out {
				t.Fatalf("clean(%q) = %q, but clean(%q) = %q, %v", p, out, out, again, err)
			}
			if strings.Contains(out+"/", "/../") || strings.Contains(out+"/", "/./") || strings.Contains(out, "//") {
				t.Fatalf("clean(%q) = %q", p, out)
			}
			if strings.ContainsAny(out, "\x00\x01") || !strings.HasPrefix(out, "/") {
				t.Fatalf("clean(%q) = %q", p, out)
			}
		}
	})
}
