package identity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

const ticketDomain = "stratos/ticket/v1"

// ErrBadTicket is wrapped by every ticket that does not authorise a store.
var ErrBadTicket = errors.New("bad ticket")

// TicketBytes returns what the meta node signs for a ticket: a domain tag
// and every field but the signature, length-prefixed.
func TicketBytes(t *storagev1.Ticket) []byte {
	b := appendField(nil, ticketDomain)
	b = appendField(b, t.GetTaskId())
	b = appendField(b, t.GetSliceId())
	b = binary.BigEndian.AppendUint64(b, t.GetSize())
	b = binary.AppendUvarint(b, uint64(len(t.GetNodes())))
	for _, p := range t.GetNodes() {
		b = appendField(b, p.GetNodeId())
		b = appendField(b, p.GetAddr())
	}
	b = binary.BigEndian.AppendUint64(b, uint64(t.GetExpiresUnixNano()))
	return appendField(b, string(t.GetMetaPublicKey()))
}

func appendField(b []byte, f string) []byte {
	b = binary.AppendUvarint(b, uint64(len(f)))
	return append(b, f...)
}

// SignTicket fills in the meta node's public key and signature.
func (k *Key) SignTicket(t *storagev1.Ticket) {
	t.MetaPublicKey = k.Public()
	t.Signature = k.Sign(TicketBytes(t))
}

// VerifyTicket checks that t was signed by a meta node that isMeta admits
// and has not expired at now. Any authority of the meta cluster may have
// signed it: an upload begun before a leader change goes on under the new
// leader with the old one's tickets.
func VerifyTicket(t *storagev1.Ticket, isMeta func(id string) bool, now time.Time) error {
	if t == nil {
		return fmt.Errorf("%w: none given (the meta node issues one with every pipeline)", ErrBadTicket)
	}
	id, err := CheckPublic(t.GetMetaPublicKey())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadTicket, err)
	}
	if !isMeta(id) {
		return fmt.Errorf("%w: signed by %s, not a meta node of this network", ErrBadTicket, id)
	}
	if err := Verify(t.GetMetaPublicKey(), TicketBytes(t), t.GetSignature()); err != nil {
		return fmt.Errorf("%w: %w", ErrBadTicket, err)
	}
	if now.UnixNano() > t.GetExpiresUnixNano() {
		return fmt.Errorf("%w: expired at %s", ErrBadTicket, time.Unix(0, t.GetExpiresUnixNano()).UTC().Format(time.RFC3339))
	}
	return nil
}

// Only admits the node id alone, for VerifyTicket.
func Only(id string) func(string) bool { return func(x string) bool { return x == id } }
