package poa

import (
	"encoding/binary"
	"fmt"
)

// voteDomain starts every encoded vote, so the bytes of a vote never pass
// for another message if they are ever signed.
const voteDomain = "stratos/poa/vote/v1"

// Marshal encodes v canonically (integers big-endian uint64, str(s) =
// len(s) || s):
//
//	str(domain) term str(block hash) str(from) str(candidate) number
func (v Vote) Marshal() []byte {
	b := make([]byte, 0, 8*6+len(voteDomain)+len(v.BlockHash)+len(v.From)+len(v.Candidate))
	b = appendBytes(b, []byte(voteDomain))
	b = binary.BigEndian.AppendUint64(b, v.Term)
	b = appendBytes(b, v.BlockHash)
	b = appendBytes(b, []byte(v.From))
	b = appendBytes(b, []byte(v.Candidate))
	return binary.BigEndian.AppendUint64(b, v.Number)
}

// UnmarshalVote decodes what Marshal encodes. It accepts only the canonical
// bytes: a wrong domain, a short field or trailing bytes is ErrBadEncoding.
// It does not check the vote itself; Receive does.
func UnmarshalVote(b []byte) (Vote, error) {
	d := decoder{b: b}
	if string(d.field()) != voteDomain {
		return Vote{}, fmt.Errorf("%w: not a vote", ErrBadEncoding)
	}
	v := Vote{Term: d.uint64()}
	v.BlockHash = d.field()
	v.From = string(d.field())
	v.Candidate = string(d.field())
	v.Number = d.uint64()
	if d.bad || len(d.b) != 0 {
		return Vote{}, fmt.Errorf("%w: %d bytes, short or with trailing bytes", ErrBadEncoding, len(b))
	}
	return v, nil
}

// decoder reads b front to back; after the first short read it reads only
// zeros and sets bad, so UnmarshalVote checks once at the end.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.b, d.bad = nil, true
		return 0
	}
	n := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return n
}

// field reads a length-prefixed field and copies it, so the vote does not
// hold on to the caller's buffer.
func (d *decoder) field() []byte {
	n := d.uint64()
	if d.bad || n > uint64(len(d.b)) {
		d.b, d.bad = nil, true
		return nil
	}
	f := append([]byte{}, d.b[:n]...)
	d.b = d.b[n:]
	return f
}
