package client

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratos-net/stratos/slice"
)

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.MetaAddr, good.MetaID, good.Owner = "127.0.0.1:1", "abc", "st1alice"
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Config){
		"no meta address":      func(c *Config) { c.MetaAddr = "" },
		"no meta ID":           func(c *Config) { c.MetaID = "" },
		"no owner":             func(c *Config) { c.Owner = "" },
		"negative concurrency": func(c *Config) { c.Concurrency = -1 },
		"negative retry":       func(c *Config) { c.RetryFor = -time.Second },
		"negative attempts":    func(c *Config) { c.MaxAttempts = -1 },
	} {
		c := good
		edit(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted the config", name)
		}
	}
	zero := Config{MetaAddr: good.MetaAddr, MetaID: good.MetaID, Owner: good.Owner}.withDefaults()
	if zero.Concurrency != 4 || zero.RetryFor != 30*time.Second || zero.MaxAttempts != 4 || zero.Logger == nil {
		t.Fatalf("zero values did not become defaults: %+v", zero)
	}
}

func TestErrorMapping(t *testing.T) {
	// The meta node's gRPC codes become sentinels; its message is kept.
	net := newFakeNet(t, 0, ss)
	c := net.client(t, func(c *Config) { c.RetryFor = 20 * time.Millisecond })
	for _, tc := range []struct {
		code codes.Code
		want error
	}{
		{codes.NotFound, ErrNotFound},
		{codes.AlreadyExists, ErrExists},
		{codes.InvalidArgument, ErrInvalid},
		{codes.ResourceExhausted, ErrNoSpace},
		{codes.FailedPrecondition, ErrTaskExpired},
		{codes.Unavailable, ErrMetaUnavailable},
		{codes.Internal, nil},
		{codes.PermissionDenied, ErrDenied},
	} {
		t.Run(tc.code.String(), func(t *testing.T) {
			msg := "the meta node says " + tc.code.String()
			net.meta.set(func(m *fakeMeta) { m.fail["Stat"] = status.Error(tc.code, msg) })
			_, err := c.Stat(context.Background(), "/x")
			if err == nil || !strings.Contains(err.Error(), msg) {
				t.Fatalf("err = %v, want the meta node's message", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil && status.Code(errors.Unwrap(err)) != tc.code {
				t.Fatalf("err = %v does not keep the status", err)
			}
		})
	}
}

func TestMetaUnavailableThenBack(t *testing.T) {
	// The meta node may restart or change leader mid-upload; calls retry
	// while it answers Unavailable and the transfer completes.
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	data := randBytes(3*ss+5, 13)
	for _, method := range []string{"BeginUpload", "PlaceSlice", "CommitUpload", "Locate"} {
		net.meta.set(func(m *fakeMeta) { m.unavailable[method] = 3 })
	}
	f := put(t, c, "/f", data)
	var got bytes.Buffer
	if _, err := c.Get(context.Background(), f.GetFileId(), &got, GetOptions{}); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("get: %v", err)
	}
	for _, method := range []string{"BeginUpload", "CommitUpload", "Locate"} {
		if n := net.meta.count(method); n != 4 {
			t.Errorf("%s called %d times, want 4 (3 Unavailable, then success)", method, n)
		}
	}
}

func TestCommitAnswerLostInRestart(t *testing.T) {
	// DESIGN §6.2: an upload fails cleanly or completes. A meta node that
	// applied the commit and restarted before answering has forgotten the
	// task; the retry finds it gone, and the client finds its file in place.
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	data := randBytes(2*ss+1, 14)
	net.meta.set(func(m *fakeMeta) { m.loseCommit = true })
	f := put(t, c, "/lost-answer", data)
	if want := slice.Root(sliceIDs(data, ss)).String(); f.GetFileId() != want {
		t.Fatalf("file ID %s, want %s", f.GetFileId(), want)
	}
	if n := net.meta.count("CommitUpload"); n != 2 {
		t.Fatalf("CommitUpload called %d times, want 2", n)
	}
	if n := len(net.meta.aborts); n != 0 {
		t.Fatalf("a committed upload was aborted %d times", n)
	}
}

func sliceIDs(data []byte, size int) []slice.ID {
	var ids []slice.ID
	for len(data) > 0 {
		n := min(size, len(data))
		ids = append(ids, slice.Sum(data[:n]))
		data = data[n:]
	}
	return ids
}

func TestMetaUnavailableTooLong(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t, func(c *Config) { c.RetryFor = 50 * time.Millisecond })
	net.meta.set(func(m *fakeMeta) { m.unavailable["*"] = 1 << 30 })
	_, err := c.Put(context.Background(), "/f", strings.NewReader("x"), 1, PutOptions{})
	if !errors.Is(err, ErrMetaUnavailable) {
		t.Fatalf("err = %v, want ErrMetaUnavailable", err)
	}
	if n := net.meta.count("BeginUpload"); n < 2 {
		t.Fatalf("BeginUpload tried %d times, want retries", n)
	}
}

func TestPutSurvivesMetaRestart(t *testing.T) {
	// A real restart: the meta node's server goes away after the first slice
	// is stored and comes back on the same address (its state survives, as
	// the replicated index would). The upload completes.
	net := newFakeNet(t, 3, ss)
	c := net.client(t, func(c *Config) { c.Concurrency = 1; c.RetryFor = 20 * time.Second })
	restarted := make(chan struct{})
	net.nodes[0].set(func(n *fakeNode) {
		n.storeHook = func(context.Context) error {
			n.set(func(n *fakeNode) { n.storeHook = nil })
			net.meta.stop()
			go func() {
				time.Sleep(100 * time.Millisecond)
				net.meta.start(t)
				close(restarted)
			}()
			return nil
		}
	})
	data := randBytes(3*ss, 14)
	f := put(t, c, "/f", data)
	<-restarted
	if f.GetFileId() != wantFileID(data, ss) {
		t.Fatal("wrong file ID")
	}
	var got bytes.Buffer
	if _, err := c.Get(context.Background(), "/f", &got, GetOptions{}); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("get after restart: %v", err)
	}
}

func TestListPages(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	for _, p := range []string{"/d/a", "/d/b", "/d/c", "/d/sub/x", "/d/e", "/other"} {
		put(t, c, p, []byte(p))
	}
	entries, err := c.List(context.Background(), "/d")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.GetName())
	}
	if got := strings.Join(names, ","); got != "a,b,c,e,sub" {
		t.Fatalf("list /d = %s", got)
	}
	if !entries[4].GetDir() || entries[0].GetFile().GetPath() != "/d/a" {
		t.Fatalf("entries %v", entries)
	}
	if n := net.meta.count("List"); n != 3 {
		t.Fatalf("%d List calls for 5 entries in pages of 2", n)
	}
}

func TestRemoveAndStatus(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	put(t, c, "/f", []byte("x"))
	f, err := c.Remove(context.Background(), "/f")
	if err != nil || f.GetPath() != "/f" {
		t.Fatalf("remove = %v, %v", f, err)
	}
	if _, err := c.Remove(context.Background(), "/f"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second remove: %v, want ErrNotFound", err)
	}
	if _, err := c.Get(context.Background(), "/f", &bytes.Buffer{}, GetOptions{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get removed: %v, want ErrNotFound", err)
	}
	st, err := c.Status(context.Background())
	if err != nil || len(st.GetNodes()) != 3 || st.GetSliceSize() != ss {
		t.Fatalf("status = %v, %v", st, err)
	}
	if c.smallFileLimit() != ss {
		t.Fatalf("small-file limit %d after learning slice size %d", c.smallFileLimit(), ss)
	}
}

func TestGetChecksLocation(t *testing.T) {
	// A slice list that is not the file (wrong root) is refused before any
	// byte is fetched: a verified slice must also be the right slice.
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	put(t, c, "/a", randBytes(2*ss, 15))
	net.meta.set(func(m *fakeMeta) {
		f := m.files[fileKey("st1alice", "/a")]
		f.Slices[0], f.Slices[1] = f.Slices[1], f.Slices[0]
	})
	_, err := c.Get(context.Background(), "/a", &bytes.Buffer{}, GetOptions{})
	if err == nil || !strings.Contains(err.Error(), "slices make file") {
		t.Fatalf("err = %v, want a location mismatch", err)
	}
	if totalFetches(net) != 0 {
		t.Fatal("fetched slices of an inconsistent location")
	}
}

func BenchmarkGet(b *testing.B) {
	const size = 64 << 20
	net := newFakeNet(b, 3, slice.DefaultSize)
	c := net.client(b)
	data := randBytes(size, 16)
	if _, err := c.Put(context.Background(), "/bench", bytes.NewReader(data), size, PutOptions{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(context.Background(), "/bench", discard{}, GetOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	const size = 64 << 20
	net := newFakeNet(b, 3, slice.DefaultSize)
	c := net.client(b)
	data := randBytes(size, 17)
	b.SetBytes(size)
	for b.Loop() {
		_, err := c.Put(context.Background(), "/bench", bytes.NewReader(data), size, PutOptions{Overwrite: true})
		if err != nil {
			b.Fatal(err)
		}
		net.meta.set(func(m *fakeMeta) { clear(m.holders) }) // no dedup: send every time
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
