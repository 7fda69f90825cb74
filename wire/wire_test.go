package wire

import (
	"context"
	"crypto/rand"
	"net"
	"testing"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

type whoami struct {
	metav1.UnimplementedMetaServiceServer
	got chan string
}

func (w whoami) Status(ctx context.Context, _ *metav1.StatusRequest) (*metav1.StatusResponse, error) {
	id, ok := PeerID(ctx)
	if !ok {
		id = "anonymous"
	}
	w.got <- id
	return &metav1.StatusResponse{}, nil
}

func key(t *testing.T) *identity.Key {
	k, err := identity.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// DESIGN §3: a node that dials another presents its certificate, so the
// server knows which node calls; a person's client presents none.
func TestPeerID(t *testing.T) {
	server, caller := key(t), key(t)
	srv, err := NewServer(server, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	w := whoami{got: make(chan string, 1)}
	metav1.RegisterMetaServiceServer(srv, w)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Stop()

	asNode, err := DialAs(ln.Addr().String(), server.ID(), caller)
	if err != nil {
		t.Fatal(err)
	}
	defer asNode.Close()
	if _, err := metav1.NewMetaServiceClient(asNode).Status(context.Background(), &metav1.StatusRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := <-w.got; got != caller.ID() {
		t.Fatalf("node caller seen as %q, want %s", got, caller.ID())
	}

	anon, err := Dial(ln.Addr().String(), server.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if _, err := metav1.NewMetaServiceClient(anon).Status(context.Background(), &metav1.StatusRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := <-w.got; got != "anonymous" {
		t.Fatalf("client without a certificate seen as %q", got)
	}
}
