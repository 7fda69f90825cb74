package identity

import (
	"encoding/binary"
	"fmt"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"google.golang.org/protobuf/proto"
)

// Domain tags keep a signature for one purpose from being replayed as
// another.
const (
	receiptDomain  = "stratos/receipt/v1"
	registerDomain = "stratos/register-node/v1"
)

// ReceiptBytes returns what a node signs for a store receipt: a domain tag
// and every field, each length-prefixed so no two receipts encode alike.
func ReceiptBytes(r *storagev1.Receipt) []byte { return receiptBytes(receiptDomain, r) }

func receiptBytes(domain string, r *storagev1.Receipt) []byte {
	var b []byte
	for _, f := range []string{domain, r.GetTaskId(), r.GetSliceId(), r.GetNodeId()} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return binary.BigEndian.AppendUint64(b, r.GetSize())
}

// SignReceipt fills in the node ID and signature of a store receipt.
func (k *Key) SignReceipt(r *storagev1.Receipt) {
	r.NodeId = k.ID()
	r.Signature = k.Sign(ReceiptBytes(r))
}

// VerifyReceipt checks that r was signed by the holder of pub and names the
// node that pub belongs to.
func VerifyReceipt(pub []byte, r *storagev1.Receipt) error {
	return verifyReceipt(pub, r, ReceiptBytes(r))
}

func verifyReceipt(pub []byte, r *storagev1.Receipt, msg []byte) error {
	id, err := CheckPublic(pub)
	if err != nil {
		return err
	}
	if id != r.GetNodeId() {
		return fmt.Errorf("%w: receipt names node %s, key is %s's", ErrBadSignature, r.GetNodeId(), id)
	}
	if err := Verify(pub, msg, r.GetSignature()); err != nil {
		return fmt.Errorf("receipt for %s from %s: %w", r.GetSliceId(), r.GetNodeId(), err)
	}
	return nil
}

// RegistrationBytes returns what a node signs to register: its record without
// the time the meta node stamps on it.
func RegistrationBytes(n *metav1.NodeRecord) []byte {
	c := proto.Clone(n).(*metav1.NodeRecord)
	c.RegisteredUnixNano = 0
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil { // a NodeRecord has no field that can fail to marshal
		panic(fmt.Sprintf("marshal node record: %v", err))
	}
	return append([]byte(registerDomain), b...)
}

// VerifyRegistration checks that the record's key signed it and that its node
// ID is the one the key derives.
func VerifyRegistration(n *metav1.NodeRecord, sig []byte) error {
	id, err := CheckPublic(n.GetPublicKey())
	if err != nil {
		return err
	}
	if id != n.GetNodeId() {
		return fmt.Errorf("%w: node ID %s does not belong to its key (%s)", ErrBadKey, n.GetNodeId(), id)
	}
	return Verify(n.GetPublicKey(), RegistrationBytes(n), sig)
}
