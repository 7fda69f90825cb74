package sigv4

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"net/http"
)

// Payload modes (x-amz-content-sha256) of an aws-chunked body: the body
// arrives in chunks, each signed in a chain that starts from the request's
// own signature, or unsigned with a checksum in a trailer.
const (
	StreamingPayload         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Chain verifies the signatures of a signed aws-chunked body, one chunk
// after another: each chunk's signature covers its data and the signature
// before it, the first one the request's (the seed), so no chunk can be
// changed, dropped, reordered or appended without the secret.
type Chain struct {
	key     []byte // the scope's derived signing key
	amzDate string
	scope   string
	prev    string // the last signature verified, lower-case hex
}

// NewChain starts the chain of a header-signed request. It checks the
// seed signature again, so a Chain never starts from one that does not
// verify; the request's time is Verify's to check.
func NewChain(r *http.Request, secrets Secrets) (*Chain, error) {
	a, payload, err := parse(r)
	if err != nil {
		return nil, err
	}
	if a.presigned {
		return nil, fmt.Errorf("%w: a presigned URL cannot sign a chunked payload", ErrMalformed)
	}
	secret, err := secrets.Secret(a.accessKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnknownKey, clip(a.accessKey), err)
	}
	seed := signature(secret, a, canonicalRequest(r, a, payload))
	if got, err := hex.DecodeString(a.signature); err != nil || !hmac.Equal(got, seed) {
		return nil, ErrMismatch
	}
	// The same derivation as signature's, kept here for the chunks.
	k := mac([]byte("AWS4"+secret), a.date)
	k = mac(k, a.region)
	k = mac(k, service)
	k = mac(k, "aws4_request")
	return &Chain{
		key:     k,
		amzDate: a.amzDate.Format(amzDateFormat),
		scope:   a.date + "/" + a.region + "/" + service + "/aws4_request",
		prev:    hex.EncodeToString(seed),
	}, nil
}

// Chunk checks the signature of the next chunk, whose data has the
// SHA-256 sum; the final, empty chunk is signed too.
func (c *Chain) Chunk(sig string, sum []byte) error {
	toSign := algorithm + "-PAYLOAD\n" + c.amzDate + "\n" + c.scope + "\n" + c.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(sum)
	return c.step(toSign, sig)
}

// Trailer checks the signature of the trailer that follows the final
// chunk: sum is the SHA-256 of its headers, each "name:value\n".
func (c *Chain) Trailer(sig string, sum []byte) error {
	toSign := algorithm + "-TRAILER\n" + c.amzDate + "\n" + c.scope + "\n" + c.prev + "\n" + hex.EncodeToString(sum)
	return c.step(toSign, sig)
}

func (c *Chain) step(toSign, sig string) error {
	want := mac(c.key, toSign)
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want) {
		return fmt.Errorf("%w: chunk signature %q", ErrMismatch, clip(sig))
	}
	c.prev = hex.EncodeToString(want)
	return nil
}
