package identity

import (
	"bytes"
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

// FuzzVerifyReceipt: receipts come from resource nodes and, inside
// commits and reports, from clients (issue 8: fuzz receipt and
// fetch-receipt verification). A receipt verifies only as the kind the
// node signed, and only with what it signed.
func FuzzVerifyReceipt(f *testing.F) {
	node := fuzzKey(f, 2)
	store := &storagev1.Receipt{TaskId: "t1", SliceId: "sha256-ab", Size: 4096}
	node.SignReceipt(store)
	fetch := &storagev1.Receipt{TaskId: "d7", SliceId: "sha256-cd", Size: 1 << 20}
	node.SignFetchReceipt(fetch)
	f.Add(marshal(f, store))
	f.Add(marshal(f, fetch))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r storagev1.Receipt
		if proto.Unmarshal(data, &r) != nil {
			return
		}
		if VerifyReceipt(node.Public(), &r) == nil && !bytes.Equal(ReceiptBytes(&r), ReceiptBytes(store)) {
			t.Fatalf("a store receipt the node never signed verifies: %v", &r)
		}
		if VerifyFetchReceipt(node.Public(), &r) == nil && !bytes.Equal(FetchReceiptBytes(&r), FetchReceiptBytes(fetch)) {
			t.Fatalf("a fetch receipt the node never signed verifies: %v", &r)
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
