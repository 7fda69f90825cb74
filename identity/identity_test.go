package identity

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

func mustKey(t *testing.T) *Key {
	t.Helper()
	k, err := Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node", "key.pem")
	k := mustKey(t)
	if err := k.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil || got.ID() != k.ID() {
		t.Fatalf("Load = %v, %v", got, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	again, err := LoadOrGenerate(path, rand.Reader)
	if err != nil || again.ID() != k.ID() {
		t.Fatal("LoadOrGenerate replaced an existing key")
	}
	os.WriteFile(path, []byte("garbage"), 0o600)
	if _, err := Load(path); !errors.Is(err, ErrBadKey) {
		t.Fatalf("corrupt key file: err = %v, want ErrBadKey", err)
	}
	if _, err := LoadOrGenerate(path, rand.Reader); !errors.Is(err, ErrBadKey) {
		t.Fatal("LoadOrGenerate must not overwrite a corrupt key: the node's identity would change silently")
	}
}

func TestReceipt(t *testing.T) {
	k := mustKey(t)
	r := &storagev1.Receipt{TaskId: "t1", SliceId: "sha256-ab", Size: 42}
	k.SignReceipt(r)
	if err := VerifyReceipt(k.Public(), r); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*storagev1.Receipt){
		"size":  func(r *storagev1.Receipt) { r.Size++ },
		"task":  func(r *storagev1.Receipt) { r.TaskId = "t2" },
		"slice": func(r *storagev1.Receipt) { r.SliceId = "sha256-ac" },
		"node":  func(r *storagev1.Receipt) { r.NodeId = mustKey(t).ID() },
		"sig":   func(r *storagev1.Receipt) { r.Signature = r.Signature[1:] },
	} {
		c := &storagev1.Receipt{TaskId: r.TaskId, SliceId: r.SliceId, Size: r.Size, NodeId: r.NodeId, Signature: r.Signature}
		mutate(c)
		if err := VerifyReceipt(k.Public(), c); !errors.Is(err, ErrBadSignature) {
			t.Errorf("tampered %s: err = %v, want ErrBadSignature", name, err)
		}
	}
	if err := VerifyReceipt([]byte("short"), r); !errors.Is(err, ErrBadKey) {
		t.Errorf("short key: err = %v", err)
	}
}

func TestRegistration(t *testing.T) {
	k := mustKey(t)
	rec := &metav1.NodeRecord{NodeId: k.ID(), PublicKey: k.Public(), Addr: "127.0.0.1:1", Region: "a", Capacity: 10}
	sig := k.Sign(RegistrationBytes(rec))
	rec.RegisteredUnixNano = 12345 // stamped by the meta node after signing
	if err := VerifyRegistration(rec, sig); err != nil {
		t.Fatal(err)
	}
	rec.Addr = "127.0.0.1:2"
	if err := VerifyRegistration(rec, sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("changed addr: %v", err)
	}
	other := mustKey(t)
	rec.NodeId = other.ID()
	if err := VerifyRegistration(rec, sig); !errors.Is(err, ErrBadKey) {
		t.Fatalf("node ID of another key: %v", err)
	}
}

func TestTLSPinsNodeID(t *testing.T) {
	server, impostor := mustKey(t), mustKey(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, err := server.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { tc := tls.Server(c, cfg); tc.Handshake(); tc.Close() }()
		}
	}()
	dial := func(id string) error {
		d := tls.Dialer{Config: ClientTLS(id)}
		c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(server.ID()); err != nil {
		t.Fatalf("dial the right node: %v", err)
	}
	if err := dial(impostor.ID()); !errors.Is(err, ErrWrongPeer) {
		t.Fatalf("dial expecting another node: err = %v, want ErrWrongPeer", err)
	}
}

func TestTicket(t *testing.T) {
	meta, other := mustKey(t), mustKey(t)
	now := time.Unix(1000, 0)
	mk := func() *storagev1.Ticket {
		tk := &storagev1.Ticket{TaskId: "t1", SliceId: "sha256-ab", Size: 9,
			Nodes:           []*storagev1.Peer{{NodeId: "a", Addr: "127.0.0.1:1"}, {NodeId: "b", Addr: "127.0.0.1:2"}},
			ExpiresUnixNano: now.Add(time.Minute).UnixNano()}
		meta.SignTicket(tk)
		return tk
	}
	if err := VerifyTicket(mk(), Only(meta.ID()), now); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*storagev1.Ticket){
		"task":    func(tk *storagev1.Ticket) { tk.TaskId = "t2" },
		"size":    func(tk *storagev1.Ticket) { tk.Size++ },
		"addr":    func(tk *storagev1.Ticket) { tk.Nodes[1].Addr = "10.0.0.1:22" },
		"node":    func(tk *storagev1.Ticket) { tk.Nodes = append(tk.Nodes, &storagev1.Peer{NodeId: "c", Addr: "x"}) },
		"expires": func(tk *storagev1.Ticket) { tk.ExpiresUnixNano += int64(time.Hour) },
		"signer":  func(tk *storagev1.Ticket) { other.SignTicket(tk) },
		"nokey":   func(tk *storagev1.Ticket) { tk.MetaPublicKey = nil },
	} {
		tk := mk()
		mutate(tk)
		if err := VerifyTicket(tk, Only(meta.ID()), now); !errors.Is(err, ErrBadTicket) {
			t.Errorf("%s changed: err = %v, want ErrBadTicket", name, err)
		}
	}
	if err := VerifyTicket(mk(), Only(meta.ID()), now.Add(2*time.Minute)); !errors.Is(err, ErrBadTicket) {
		t.Errorf("expired ticket accepted: %v", err)
	}
	if err := VerifyTicket(nil, Only(meta.ID()), now); !errors.Is(err, ErrBadTicket) {
		t.Errorf("no ticket: %v", err)
	}
}
