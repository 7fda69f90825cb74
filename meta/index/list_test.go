package index

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// names renders entries as "name" for files and "name/" for directories.
func names(entries []*metav1.DirEntry) string {
	var out []string
	for _, e := range entries {
		if e.Dir {
			out = append(out, e.Name+"/")
		} else {
			out = append(out, e.Name)
		}
	}
	return strings.Join(out, " ")
}

func putPaths(t testing.TB, ix *Index, owner string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		put(t, ix, 1000, content(owner, p, "content of "+p))
	}
}

// Directories are implicit (DESIGN §5.1: owner → directory tree → files): a
// directory exists while a file lies below it; List shows the immediate
// children sorted by name.
func TestListImplicitDirs(t *testing.T) {
	ix := newIndex(t, nil)
	putPaths(t, ix, "alice", "/z", "/b/d/e.txt", "/a.txt", "/b/c.txt", "/a/x", "/a!b", "/a-b", "/é")
	putPaths(t, ix, "bob", "/bobs")
	tests := []struct {
		dir  string
		want string
	}{
		// Name order, as bytes: "a" < "a!b" < "a-b" < "a.txt", although "/" sorts after "!" and "-".
		{"/", "a/ a!b a-b a.txt b/ z é"},
		{"/b", "c.txt d/"},
		{"/b/", "c.txt d/"},
		{"/b/d", "e.txt"},
		{"/a", "x"},
		{"/nope", ""},
		{"/b/c", ""}, // a prefix of a name is not a directory
	}
	for _, tt := range tests {
		entries, more, err := ix.List("alice", tt.dir, "", 0)
		if err != nil || more || names(entries) != tt.want {
			t.Errorf("List(%q) = %q, more=%v, %v; want %q", tt.dir, names(entries), more, err, tt.want)
		}
	}
	entries, _, _ := ix.List("alice", "/b", "", 0)
	if f := entries[0].File; f == nil || f.Path != "/b/c.txt" || f.Size == 0 {
		t.Errorf("file entry %v", entries[0])
	}
	// A name may be a file and a directory (S3 keys "a" and "a/b", DESIGN
	// §9): a file with nothing below it lists as an empty directory.
	if entries, _, err := ix.List("alice", "/a.txt", "", 0); err != nil || len(entries) != 0 {
		t.Errorf("List of a file = %v, %v; want empty", entries, err)
	}
	for _, bad := range []struct{ owner, dir, after string }{
		{"alice", "b", ""}, {"alice", "/a/../b", ""}, {"alice", "/", "a/b"}, {"alice", "/", ".."}, {"", "/", ""},
	} {
		if _, _, err := ix.List(bad.owner, bad.dir, bad.after, 0); err == nil {
			t.Errorf("List(%q, %q, %q) succeeded", bad.owner, bad.dir, bad.after)
		}
	}
	if entries, _, _ := ix.List("bob", "/", "", 0); names(entries) != "bobs" {
		t.Errorf("bob sees %q", names(entries))
	}
}

func TestListPaging(t *testing.T) {
	ix := newIndex(t, nil)
	var all []string
	for i := range 12 {
		putPaths(t, ix, "alice", fmt.Sprintf("/f%02d", i), fmt.Sprintf("/d%02d/x", i), fmt.Sprintf("/d%02d/y/z", i))
		all = append(all, fmt.Sprintf("d%02d/", i))
	}
	for i := range 12 {
		all = append(all, fmt.Sprintf("f%02d", i))
	}
	for _, limit := range []int{1, 5, 8, 12, 24, 25} {
		var got []string
		after, pages := "", 0
		for {
			entries, more, err := ix.List("alice", "/", after, limit)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(entries) > limit || more && len(entries) != limit {
				t.Fatalf("limit %d: page of %d, more=%v", limit, len(entries), more)
			}
			if n := names(entries); n != "" {
				got = append(got, strings.Fields(n)...)
			}
			if !more {
				break
			}
			after = entries[len(entries)-1].Name
			if entries[len(entries)-1].Dir {
				after += "/"
			}
		}
		if strings.Join(got, " ") != strings.Join(all, " ") {
			t.Fatalf("limit %d: paged listing %v, want %v", limit, got, all)
		}
		if want := (24 + limit - 1) / limit; pages != want { // a full last page says more=false
			t.Errorf("limit %d: %d pages, want %d", limit, pages, want)
		}
	}
	// after need not be a name that exists.
	entries, _, _ := ix.List("alice", "/", "e", 3)
	if names(entries) != "f00 f01 f02" {
		t.Errorf("after e: %q", names(entries))
	}
	if entries, more, _ := ix.List("alice", "/", "zzz", 3); len(entries) != 0 || more {
		t.Errorf("after zzz: %q, more=%v", names(entries), more)
	}
}

// List must not scan the descendants of a big subdirectory: after the first
// key below "/big/" it seeks past the whole subdirectory.
func TestListSkipsBigSubdirectory(t *testing.T) {
	cs := &countingStore{Store: kv.NewMem()}
	ix := newIndex(t, cs)
	putPaths(t, ix, "alice", "/a", "/z")
	for i := range 2000 {
		putPaths(t, ix, "alice", fmt.Sprintf("/big/%04d", i))
	}
	putPaths(t, ix, "alice", "/big/sub/deeper/file")
	cs.reset()
	entries, more, err := ix.List("alice", "/", "", 0)
	if err != nil || more || names(entries) != "a big/ z" {
		t.Fatalf("List = %q, %v, %v", names(entries), more, err)
	}
	// a, the first key of big/, z: three keys (and no more than a few).
	if n := cs.scanned.Load(); n > 5 {
		t.Fatalf("List visited %d keys for 3 entries; it scanned the big subdirectory", n)
	}
	cs.reset()
	if entries, _, _ := ix.List("alice", "/big", "1990", 0); names(entries) != "1991 1992 1993 1994 1995 1996 1997 1998 1999 sub/" {
		t.Fatalf("List(/big after 1990) = %q", names(entries))
	}
	if n := cs.scanned.Load(); n > 12 {
		t.Fatalf("resuming after 1990 visited %d keys", n)
	}
}
