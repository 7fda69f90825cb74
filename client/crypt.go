package client

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/stratos-net/stratos/crypt"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// PlainSize is the size of a file's content: for an encrypted file the
// plaintext's, for any other the stored size.
func PlainSize(f *metav1.FileEntry) int64 {
	if f.GetEncrypted() {
		if n, err := crypt.PlainSize(int64(f.GetSize())); err == nil {
			return n
		}
	}
	return int64(f.GetSize())
}

// master is the owner's master key, derived once from the account key.
func (c *Client) master() (crypt.Master, error) {
	c.masterMu.Lock()
	defer c.masterMu.Unlock()
	if c.masterKey != nil {
		return *c.masterKey, nil
	}
	if c.cfg.Signer == nil {
		return crypt.Master{}, fmt.Errorf("%w: encryption keys derive from the account key, and this client has none (use --from NAME)", ErrInvalid)
	}
	m, err := crypt.DeriveMaster(c.cfg.Signer.Sign, c.cfg.Owner)
	if err != nil {
		return crypt.Master{}, err
	}
	c.masterKey = &m
	return m, nil
}

// seal returns the encrypted form of size bytes from r and its size.
func (c *Client) seal(r io.Reader, size int64) (io.Reader, int64, error) {
	m, err := c.master()
	if err != nil {
		return nil, 0, err
	}
	h, k, err := m.NewFile(c.rand)
	if err != nil {
		return nil, 0, err
	}
	return crypt.Seal(r, k, h), crypt.SealedSize(size), nil
}

// opener wraps w so that the encrypted file written to it reaches w as
// plaintext.
func (c *Client) opener(w io.Writer, f *metav1.FileEntry) (*crypt.Opener, error) {
	m, err := c.master()
	if err != nil {
		return nil, err
	}
	return crypt.NewOpener(w, int64(f.GetSize()), func(h crypt.Header) (crypt.Key, error) { return m.Key(h), nil })
}

// readSealedRange writes plaintext [off, end) of an encrypted file: it reads
// the header, then the records that hold the range. When the range starts
// in the first slice, one fetch gives both.
func (c *Client) readSealedRange(ctx context.Context, loc *location, off, end int64, w io.Writer) error {
	m, err := c.master()
	if err != nil {
		return err
	}
	size := PlainSize(loc.file)
	sp := crypt.SpanOf(off, end, size)
	var o *crypt.Opener
	open := func(hdr []byte) error {
		h, err := crypt.ParseHeader(hdr)
		if err != nil {
			return err
		}
		o, err = crypt.NewRangeOpener(w, m.Key(h), h, size, off, end)
		return err
	}
	if first, _ := loc.span(sp.From, sp.To); first == 0 {
		hw := &headerThen{skip: sp.From - int64(crypt.HeaderSize), open: open}
		hw.then = func(p []byte) (int, error) { return o.Write(p) }
		if err := c.readRange(ctx, loc, 0, sp.To, hw); err != nil {
			return err
		}
	} else {
		var hdr bytes.Buffer
		if err := c.readRange(ctx, loc, 0, int64(crypt.HeaderSize), &hdr); err != nil {
			return err
		}
		if err := open(hdr.Bytes()); err != nil {
			return err
		}
		if err := c.readRange(ctx, loc, sp.From, sp.To, o); err != nil {
			return err
		}
	}
	if o == nil {
		return fmt.Errorf("%w: the encrypted file ends inside its header", crypt.ErrTampered)
	}
	return o.Close()
}

// headerThen collects the header, skips the bytes up to a range, and hands
// the rest on.
type headerThen struct {
	hdr  []byte
	skip int64
	open func(hdr []byte) error
	then func([]byte) (int, error)
}

func (h *headerThen) Write(p []byte) (int, error) {
	n := len(p)
	if len(h.hdr) < crypt.HeaderSize {
		take := min(crypt.HeaderSize-len(h.hdr), len(p))
		h.hdr, p = append(h.hdr, p[:take]...), p[take:]
		if len(h.hdr) < crypt.HeaderSize {
			return n, nil
		}
		if err := h.open(h.hdr); err != nil {
			return 0, err
		}
	}
	if h.skip > 0 {
		s := min(h.skip, int64(len(p)))
		h.skip, p = h.skip-s, p[s:]
	}
	if len(p) > 0 {
		if _, err := h.then(p); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// FileKey is the key of an encrypted file, for a share link that opens
// that file alone (its holder never learns the account's master key).
func (c *Client) FileKey(ctx context.Context, pathOrID string) (crypt.Key, error) {
	var hdr bytes.Buffer
	if err := c.GetStoredRange(ctx, pathOrID, 0, int64(crypt.HeaderSize), &hdr); err != nil {
		return crypt.Key{}, err
	}
	h, err := crypt.ParseHeader(hdr.Bytes())
	if err != nil {
		return crypt.Key{}, fmt.Errorf("key of %s: %w", pathOrID, err)
	}
	m, err := c.master()
	if err != nil {
		return crypt.Key{}, err
	}
	k := m.Key(h)
	if err := h.Verify(k); err != nil {
		return crypt.Key{}, fmt.Errorf("key of %s: %w (encrypted under another account's key)", pathOrID, err)
	}
	return k, nil
}
