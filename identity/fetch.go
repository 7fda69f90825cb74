package identity

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

const (
	fetchTicketDomain    = "stratos/fetch-ticket/v1"
	trafficReceiptDomain = "stratos/traffic-receipt/v1"
)

// Errors of downloads' tickets and receipts.
var (
	ErrBadFetchTicket = errors.New("bad fetch ticket")
	ErrBadReceipt     = errors.New("bad traffic receipt")
)

// FetchTicketBytes returns what the meta leader signs for a fetch ticket:
// a domain tag (so no store ticket or receipt passes as one) and every
// field but the signature, length-prefixed.
func FetchTicketBytes(t *storagev1.FetchTicket) []byte {
	b := appendField(nil, fetchTicketDomain)
	for _, f := range []string{t.GetTaskId(), t.GetOwner(), t.GetSliceId()} {
		b = appendField(b, f)
	}
	b = binary.BigEndian.AppendUint64(b, t.GetOffset())
	b = binary.BigEndian.AppendUint64(b, t.GetLength())
	b = appendField(b, t.GetNodeId())
	b = appendField(b, string(t.GetReceiptKey()))
	b = binary.BigEndian.AppendUint64(b, t.GetWindow())
	b = binary.BigEndian.AppendUint64(b, uint64(t.GetExpiresUnixNano()))
	return appendField(b, string(t.GetMetaPublicKey()))
}

// SignFetchTicket fills in the meta node's public key and signature.
func (k *Key) SignFetchTicket(t *storagev1.FetchTicket) {
	t.MetaPublicKey = k.Public()
	t.Signature = k.Sign(FetchTicketBytes(t))
}

// VerifyFetchTicket checks that t lets the node self serve bytes at now: a
// meta authority that isMeta admits signed it, it names self as the
// holder, it has not expired, and it is well formed (a receipt key, a
// window, a range a slice can have).
func VerifyFetchTicket(t *storagev1.FetchTicket, self string, isMeta func(id string) bool, now time.Time) error {
	if t == nil {
		return fmt.Errorf("%w: none given (the meta node issues one with every download)", ErrBadFetchTicket)
	}
	id, err := CheckPublic(t.GetMetaPublicKey())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadFetchTicket, err)
	}
	if !isMeta(id) {
		return fmt.Errorf("%w: signed by %s, not a meta node of this network", ErrBadFetchTicket, id)
	}
	if err := Verify(t.GetMetaPublicKey(), FetchTicketBytes(t), t.GetSignature()); err != nil {
		return fmt.Errorf("%w: %w", ErrBadFetchTicket, err)
	}
	if t.GetNodeId() != self {
		return fmt.Errorf("%w: it is for node %s, this is %s", ErrBadFetchTicket, t.GetNodeId(), self)
	}
	if now.UnixNano() > t.GetExpiresUnixNano() {
		return fmt.Errorf("%w: expired at %s", ErrBadFetchTicket, time.Unix(0, t.GetExpiresUnixNano()).UTC().Format(time.RFC3339))
	}
	if len(t.GetReceiptKey()) != ed25519.PublicKeySize || t.GetWindow() == 0 || t.GetLength() == 0 || t.GetOffset() > ^uint64(0)-t.GetLength() {
		return fmt.Errorf("%w: receipt key of %d bytes, window %d, range %d+%d", ErrBadFetchTicket, len(t.GetReceiptKey()), t.GetWindow(), t.GetOffset(), t.GetLength())
	}
	return nil
}

// TrafficReceiptBytes returns what a downloader signs for a receipt.
func TrafficReceiptBytes(r *storagev1.TrafficReceipt) []byte {
	b := appendField(nil, trafficReceiptDomain)
	for _, f := range []string{r.GetTaskId(), r.GetSliceId(), r.GetNodeId()} {
		b = appendField(b, f)
	}
	return binary.BigEndian.AppendUint64(b, r.GetBytes())
}

// SignTrafficReceipt signs r with the download's receipt key.
func SignTrafficReceipt(key ed25519.PrivateKey, r *storagev1.TrafficReceipt) {
	r.Signature = ed25519.Sign(key, TrafficReceiptBytes(r))
}

// VerifyTrafficReceipt checks that the holder of receiptKey signed r.
func VerifyTrafficReceipt(receiptKey []byte, r *storagev1.TrafficReceipt) error {
	if len(receiptKey) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: receipt key of %d bytes", ErrBadReceipt, len(receiptKey))
	}
	if len(r.GetSignature()) != ed25519.SignatureSize || !ed25519.Verify(receiptKey, TrafficReceiptBytes(r), r.GetSignature()) {
		return fmt.Errorf("%w: for %s from %s: signature does not verify", ErrBadReceipt, r.GetSliceId(), r.GetNodeId())
	}
	return nil
}

// ReceiptFor checks that r is a receipt for t's bytes: same task, slice
// and node, within the range, signed with t's receipt key.
func ReceiptFor(t *storagev1.FetchTicket, r *storagev1.TrafficReceipt) error {
	if r.GetTaskId() != t.GetTaskId() || r.GetSliceId() != t.GetSliceId() || r.GetNodeId() != t.GetNodeId() {
		return fmt.Errorf("%w: for task %q slice %q node %q, the ticket is task %q slice %q node %q", ErrBadReceipt,
			clipField(r.GetTaskId()), clipField(r.GetSliceId()), clipField(r.GetNodeId()), t.GetTaskId(), t.GetSliceId(), t.GetNodeId())
	}
	if r.GetBytes() > t.GetLength() {
		return fmt.Errorf("%w: %d bytes of a %d-byte ticket", ErrBadReceipt, r.GetBytes(), t.GetLength())
	}
	return VerifyTrafficReceipt(t.GetReceiptKey(), r)
}

// clipField keeps an untrusted string short enough for an error message.
func clipField(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
