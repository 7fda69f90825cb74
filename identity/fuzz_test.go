package identity

import (
	"bytes"
	"crypto/ed25519"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// fuzzKey is a fixed key, so seeds signed with it stay valid across runs.
func fuzzKey(tb testing.TB, n uint64) *Key {
	var seed [32]byte
	seed[0] = byte(n)
	k, err := Generate(rand.NewChaCha8(seed))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func marshal(tb testing.TB, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzVerifyTicket: a ticket arrives from any peer in a store header
// (issue 8: fuzz the ticket checks). Nobody but the meta node's key can
// make one verify, so whatever the bytes, a ticket that verifies says
// exactly what the meta node signed.
func FuzzVerifyTicket(f *testing.F) {
	meta := fuzzKey(f, 1)
	now := time.Unix(1_900_000_000, 0)
	signed := &storagev1.Ticket{TaskId: "t1", SliceId: "sha256-ab", Size: 4096, ExpiresUnixNano: now.Add(time.Hour).UnixNano(),
		Nodes: []*storagev1.Peer{{NodeId: "n1", Addr: "127.0.0.1:1"}, {NodeId: "n2", Addr: "127.0.0.1:2"}}}
	meta.SignTicket(signed)
	want := TicketBytes(signed)
	f.Add(marshal(f, signed))
	expired := proto.Clone(signed).(*storagev1.Ticket)
	expired.ExpiresUnixNano = now.Add(-time.Second).UnixNano()
	meta.SignTicket(expired)
	f.Add(marshal(f, expired))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var tk storagev1.Ticket
		if proto.Unmarshal(data, &tk) != nil {
			return
		}
		if err := VerifyTicket(&tk, Only(meta.ID()), now); err != nil {
			return
		}
		if got := TicketBytes(&tk); !bytes.Equal(got, want) && !bytes.Equal(got, TicketBytes(expired)) {
			t.Fatalf("a ticket the meta node never signed verifies: %v", &tk)
		}
		if now.UnixNano() > tk.GetExpiresUnixNano() {
			t.Fatalf("an expired ticket verifies: %v", &tk)
		}
	})
}

// FuzzVerifyReceipt: store receipts come from resource nodes and, inside
// commits, from clients (issue 8: fuzz receipt verification). A receipt
// verifies only with what the node signed.
func FuzzVerifyReceipt(f *testing.F) {
	node := fuzzKey(f, 2)
	store := &storagev1.Receipt{TaskId: "t1", SliceId: "sha256-ab", Size: 4096}
	node.SignReceipt(store)
	f.Add(marshal(f, store))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r storagev1.Receipt
		if proto.Unmarshal(data, &r) != nil {
			return
		}
		if VerifyReceipt(node.Public(), &r) == nil && !bytes.Equal(ReceiptBytes(&r), ReceiptBytes(store)) {
			t.Fatalf("a store receipt the node never signed verifies: %v", &r)
		}
	})
}

// FuzzVerifyFetchTicket: a fetch ticket is the first message any peer
// sends a node's Fetch (issue 8: download tickets). Only a meta
// authority's key makes one verify, for the node it names, unexpired.
func FuzzVerifyFetchTicket(f *testing.F) {
	meta, node := fuzzKey(f, 4), fuzzKey(f, 5)
	now := time.Unix(1_900_000_000, 0)
	signed := &storagev1.FetchTicket{TaskId: "d1", Owner: "st1x", SliceId: "sha256-ab", Length: 4096, NodeId: node.ID(),
		ReceiptKey: make([]byte, 32), Window: 1 << 20, ExpiresUnixNano: now.Add(time.Hour).UnixNano()}
	meta.SignFetchTicket(signed)
	want := FetchTicketBytes(signed)
	f.Add(marshal(f, signed))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var tk storagev1.FetchTicket
		if proto.Unmarshal(data, &tk) != nil {
			return
		}
		if VerifyFetchTicket(&tk, node.ID(), Only(meta.ID()), now) != nil {
			return
		}
		if !bytes.Equal(FetchTicketBytes(&tk), want) {
			t.Fatalf("a fetch ticket the meta node never signed verifies: %v", &tk)
		}
	})
}

// FuzzReceiptFor: a node reads the downloader's receipts off the Fetch
// stream, and the meta node reads them in reports from either side. A
// receipt passes only as exactly what the download's receipt key signed,
// for the ticket's task, slice and node, within its range.
func FuzzReceiptFor(f *testing.F) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	tk := &storagev1.FetchTicket{TaskId: "d1", SliceId: "sha256-ab", Length: 4096, NodeId: "n1", ReceiptKey: key.Public().(ed25519.PublicKey), Window: 1 << 20}
	r := &storagev1.TrafficReceipt{TaskId: "d1", SliceId: "sha256-ab", NodeId: "n1", Bytes: 2048}
	SignTrafficReceipt(key, r)
	f.Add(marshal(f, r))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got storagev1.TrafficReceipt
		if proto.Unmarshal(data, &got) != nil {
			return
		}
		if ReceiptFor(tk, &got) != nil {
			return
		}
		if !bytes.Equal(TrafficReceiptBytes(&got), TrafficReceiptBytes(r)) {
			t.Fatalf("a receipt the downloader never signed passes: %v", &got)
		}
	})
}

// FuzzVerifyRegistration: a node's registration is the first thing a meta
// node decodes from it (issue 8: fuzz registration verification). A record
// verifies only under the key it names, whose ID it carries, with the
// fields that key signed; the registration time the meta node stamps is
// not signed.
func FuzzVerifyRegistration(f *testing.F) {
	node := fuzzKey(f, 3)
	rec := &metav1.NodeRecord{NodeId: node.ID(), PublicKey: node.Public(), Addr: "127.0.0.1:7000", Region: "eu", Capacity: 1 << 40}
	sig := node.Sign(RegistrationBytes(rec))
	want := RegistrationBytes(rec)
	f.Add(marshal(f, rec), sig)
	f.Add(marshal(f, rec), []byte{})
	f.Fuzz(func(t *testing.T, data, sig []byte) {
		var n metav1.NodeRecord
		if proto.Unmarshal(data, &n) != nil {
			return
		}
		if VerifyRegistration(&n, sig) != nil {
			return
		}
		if n.GetNodeId() != node.ID() || !bytes.Equal(RegistrationBytes(&n), want) {
			t.Fatalf("a registration the node never signed verifies: %v", &n)
		}
	})
}
