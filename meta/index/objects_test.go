package index

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

func putObject(t testing.TB, ix *Index, owner, bucket, key string, body ...string) {
	t.Helper()
	p, err := ObjectPath(bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) == 0 {
		body = []string{"bytes of " + key}
	}
	put(t, ix, 1, content(owner, p, body...))
}

func listAll(t testing.TB, ix *Index, owner, bucket, prefix, delim string, limit int) (keys, prefixes []string) {
	t.Helper()
	after := ""
	for pages := 0; ; pages++ {
		r, err := ix.ListObjects(owner, bucket, prefix, delim, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range r.Objects {
			keys = append(keys, o.Key)
			if o.File == nil || o.File.Size == 0 {
				t.Fatalf("object %q listed without its file", o.Key)
			}
		}
		prefixes = append(prefixes, r.CommonPrefixes...)
		if !r.Truncated {
			return keys, prefixes
		}
		if r.Next == after || pages > 10000 {
			t.Fatalf("page after %q does not advance", after)
		}
		after = r.Next
	}
}

// DESIGN §9: keys are stored faithfully and a prefix is listed at every
// depth in UTF-8 byte order, as S3 lists it ("a-c" before "a/b").
func TestListObjectsInS3Order(t *testing.T) {
	ix := newIndex(t, nil)
	keys := []string{"a/b", "a-c", "a", "a//b", "dir/", "dir/x", "x/../y", "./z", "sp ace", "ünï", "a/b/c/d", "%!x", "b"}
	for _, k := range keys {
		putObject(t, ix, "alice", "pics", k)
	}
	putObject(t, ix, "bob", "pics", "a-c") // another owner's bucket of the same name
	put(t, ix, 1, content("alice", "/loose", "not an object"))
	want := slices.Clone(keys)
	slices.Sort(want)
	for _, limit := range []int{1, 2, 3, 1000} {
		got, cps := listAll(t, ix, "alice", "pics", "", "", limit)
		if !slices.Equal(got, want) || len(cps) != 0 {
			t.Fatalf("limit %d: keys %q, prefixes %q; want %q", limit, got, cps, want)
		}
	}
	got, cps := listAll(t, ix, "alice", "pics", "a", "/", 1)
	if !slices.Equal(got, []string{"a", "a-c"}) || !slices.Equal(cps, []string{"a/"}) {
		t.Fatalf("prefix a, delimiter /: %q %q", got, cps)
	}
	got, cps = listAll(t, ix, "alice", "pics", "", "/", 2)
	if !slices.Equal(cps, []string{"./", "a/", "dir/", "x/"}) || !slices.Equal(got, []string{"%!x", "a", "a-c", "b", "sp ace", "ünï"}) {
		t.Fatalf("delimiter /: %q %q", got, cps)
	}
	got, _ = listAll(t, ix, "alice", "pics", "a/", "", 1000)
	if !slices.Equal(got, []string{"a//b", "a/b", "a/b/c/d"}) {
		t.Fatalf("prefix a/: %q", got)
	}
	r, err := ix.ListObjects("alice", "pics", "", "", "dir/", 1000)
	if err != nil || r.Objects[0].Key != "dir/x" {
		t.Fatalf("after dir/: %v %v", r, err)
	}
}

func TestListObjectsMatchesASortedModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	ix := newIndex(t, nil)
	alphabet := []string{"a", "b", "/", "-", ".", "é", " "}
	var model []string
	for len(model) < 300 {
		var b strings.Builder
		for range 1 + rng.IntN(6) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		k := b.String()
		if slices.Contains(model, k) {
			continue
		}
		model = append(model, k)
		putObject(t, ix, "u", "bk", k)
	}
	slices.Sort(model)
	for _, q := range []struct{ prefix, delim string }{{"", ""}, {"", "/"}, {"a", "/"}, {"a/", "-"}, {"b", "é"}} {
		var wantKeys, wantCPs []string
		for _, k := range model {
			if !strings.HasPrefix(k, q.prefix) {
				continue
			}
			if i := strings.Index(k[len(q.prefix):], q.delim); q.delim != "" && i >= 0 {
				cp := k[:len(q.prefix)+i+len(q.delim)]
				if !slices.Contains(wantCPs, cp) {
					wantCPs = append(wantCPs, cp)
				}
				continue
			}
			wantKeys = append(wantKeys, k)
		}
		for _, limit := range []int{1, 7, 1000} {
			keys, cps := listAll(t, ix, "u", "bk", q.prefix, q.delim, limit)
			if !slices.Equal(keys, wantKeys) || !slices.Equal(cps, wantCPs) {
				t.Fatalf("%+v limit %d:\n got %q %q\nwant %q %q", q, limit, keys, cps, wantKeys, wantCPs)
			}
		}
	}
}

// S3 keys "a" and "a/b" are both objects, so a name may be a file and a
// directory; List gives both, and paging never loses the directory.
func TestFileAndDirectoryShareAName(t *testing.T) {
	ix := newIndex(t, nil)
	put(t, ix, 1, content("u", "/b/a", "file a"))
	put(t, ix, 1, content("u", "/b/a/x", "file a/x"))
	all, more, err := ix.List("u", "/b", "", 0)
	if err != nil || more || len(all) != 2 || all[0].Dir || !all[1].Dir {
		t.Fatalf("List /b = %v, %v, %v", all, more, err)
	}
	page, _, err := ix.List("u", "/b", "a", 0)
	if err != nil || len(page) != 1 || !page[0].Dir {
		t.Fatalf("List /b after the file a = %v, %v", page, err)
	}
	if page, _, _ = ix.List("u", "/b", "a/", 0); len(page) != 0 {
		t.Fatalf("List /b after the directory a/ = %v", page)
	}
	if sub, _, err := ix.List("u", "/b/a", "", 0); err != nil || len(sub) != 1 || sub[0].Name != "x" {
		t.Fatalf("List /b/a = %v, %v", sub, err)
	}
	mustApply(t, ix, deleteCmd(1, "u", "/b/a"))
	if keys, _ := listAll(t, ix, "u", "b", "", "", 0); !slices.Equal(keys, []string{"a/x"}) {
		t.Fatalf("after deleting a: %q", keys)
	}
}

func bucketCmd(owner, bucket string, make bool) *metav1.Command {
	if make {
		return &metav1.Command{UnixNano: 5, Op: &metav1.Command_MakeBucket{MakeBucket: &metav1.MakeBucketCmd{Owner: owner, Bucket: bucket}}}
	}
	return &metav1.Command{UnixNano: 6, Op: &metav1.Command_RemoveBucket{RemoveBucket: &metav1.RemoveBucketCmd{Owner: owner, Bucket: bucket}}}
}

func bucketNames(t *testing.T, ix *Index, owner, name string) []string {
	t.Helper()
	bs, err := ix.Buckets(owner, name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range bs {
		out = append(out, b.Name)
	}
	return out
}

func TestBuckets(t *testing.T) {
	ix := newIndex(t, nil)
	mustApply(t, ix, bucketCmd("u", "empty", true))
	if _, err := ix.Apply(bucketCmd("u", "empty", true)); !errors.Is(err, ErrExists) {
		t.Fatalf("second make: %v, want ErrExists", err)
	}
	putObject(t, ix, "u", "full", "k")
	put(t, ix, 1, content("u", "/loose", "top-level file"))
	if got := bucketNames(t, ix, "u", ""); !slices.Equal(got, []string{"empty", "full"}) {
		t.Fatalf("buckets %q", got)
	}
	if got := bucketNames(t, ix, "u", "full"); !slices.Equal(got, []string{"full"}) {
		t.Fatalf("bucket full: %q", got)
	}
	if got := bucketNames(t, ix, "u", "none"); len(got) != 0 {
		t.Fatalf("bucket none: %q", got)
	}
	if got := bucketNames(t, ix, "other", ""); len(got) != 0 {
		t.Fatalf("another owner sees %q", got)
	}
	mustApply(t, ix, bucketCmd("u", "full", true))
	if _, err := ix.Apply(bucketCmd("u", "full", false)); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("remove a bucket with files: %v, want ErrNotEmpty", err)
	}
	mustApply(t, ix, bucketCmd("u", "empty", false))
	if _, err := ix.Apply(bucketCmd("u", "empty", false)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove twice: %v, want ErrNotFound", err)
	}
}

// A multipart completion joins the parts' slices without new replicas and
// without releasing any: the parts go, their slices stay.
func TestComposeJoinsParts(t *testing.T) {
	ix := newIndex(t, nil)
	for i, body := range []string{"part one", "part two", "part three"} {
		put(t, ix, 1, content("u", fmt.Sprintf("/.uploads/x/%d", i+1), body, body+" more"))
	}
	meta := &metav1.ObjectMeta{ContentType: "video/mp4", Etag: "abc-3", User: []*metav1.MetaPair{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}}}
	res := mustApply(t, ix, &metav1.Command{UnixNano: 9, Op: &metav1.Command_ComposeFile{ComposeFile: &metav1.ComposeFileCmd{
		Owner: "u", Path: "/v/movie.mp4", Sources: []string{"/.uploads/x/1", "/.uploads/x/2", "/.uploads/x/3"}, Object: meta,
	}}})
	want := content("u", "/v/movie.mp4", "part one", "part one more", "part two", "part two more", "part three", "part three more")
	if res.File.FileId != want.FileId || res.File.Size != want.Size || len(res.Released) != 0 {
		t.Fatalf("composed %v, released %d; want file ID %s size %d", res.File, len(res.Released), want.FileId, want.Size)
	}
	if res.File.Object.GetEtag() != "abc-3" {
		t.Fatalf("metadata lost: %v", res.File.Object)
	}
	if left, _, _ := ix.List("u", "/.uploads/x", "", 0); len(left) != 0 {
		t.Fatalf("parts left behind: %v", left)
	}
	for _, s := range want.Slices {
		sl, err := ix.Slice(s.Id)
		if err != nil || sl.Refs != 1 {
			t.Fatalf("slice %s: %v, %v", s.Id, sl, err)
		}
	}
	_, err := ix.Apply(&metav1.Command{UnixNano: 9, Op: &metav1.Command_ComposeFile{ComposeFile: &metav1.ComposeFileCmd{
		Owner: "u", Path: "/v/other", Sources: []string{"/.uploads/x/1"}}}})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("compose from a missing part: %v, want ErrNotFound", err)
	}
	unsorted := &metav1.ObjectMeta{User: []*metav1.MetaPair{{Name: "b"}, {Name: "a"}}}
	_, err = ix.Apply(&metav1.Command{UnixNano: 9, Op: &metav1.Command_ComposeFile{ComposeFile: &metav1.ComposeFileCmd{
		Owner: "u", Path: "/v/x", Sources: []string{"/v/movie.mp4"}, Object: unsorted}}})
	if !errors.Is(err, ErrBadCommand) {
		t.Fatalf("unsorted metadata: %v, want ErrBadCommand", err)
	}
}

// A copy (one source, kept) of an encrypted file stays encrypted, so the
// reader opens it; joining an encrypted file with others is refused, as
// the result would decrypt as nothing.
func TestComposeKeepsEncryptionAndRefusesJoiningIt(t *testing.T) {
	ix := newIndex(t, nil)
	sealed := content("u", "/docs/tax.pdf", "ciphertext one", "ciphertext two")
	sealed.Encrypted = true
	put(t, ix, 1, sealed)
	put(t, ix, 1, content("u", "/docs/plain", "plain"))
	res := mustApply(t, ix, &metav1.Command{UnixNano: 9, Op: &metav1.Command_ComposeFile{ComposeFile: &metav1.ComposeFileCmd{
		Owner: "u", Path: "/docs/copy.pdf", Sources: []string{"/docs/tax.pdf"}, KeepSources: true}}})
	if !res.File.GetEncrypted() || res.File.GetFileId() != sealed.FileId {
		t.Fatalf("copy of an encrypted file: %v", res.File)
	}
	_, err := ix.Apply(&metav1.Command{UnixNano: 9, Op: &metav1.Command_ComposeFile{ComposeFile: &metav1.ComposeFileCmd{
		Owner: "u", Path: "/docs/joined", Sources: []string{"/docs/plain", "/docs/tax.pdf"}, KeepSources: true}}})
	if !errors.Is(err, ErrBadCommand) {
		t.Fatalf("joining an encrypted file: %v, want ErrBadCommand", err)
	}
}
