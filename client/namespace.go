package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

// Stat returns a file's entry and its slices' replica locations. pathOrID is
// a file ID if slice.IsFileID says so, else a path.
func (c *Client) Stat(ctx context.Context, pathOrID string) (*metav1.StatResponse, error) {
	req := &metav1.StatRequest{Owner: c.cfg.Owner}
	if slice.IsFileID(pathOrID) {
		req.FileId = pathOrID
	} else {
		req.Path = pathOrID
	}
	resp, err := retry(ctx, c, c.meta.Stat, req)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", pathOrID, err)
	}
	return resp, nil
}

// List returns every entry of dir, paging through the meta node's answers.
func (c *Client) List(ctx context.Context, dir string) ([]*metav1.DirEntry, error) {
	var all []*metav1.DirEntry
	req := &metav1.ListRequest{Owner: c.cfg.Owner, Dir: dir}
	for {
		resp, err := retry(ctx, c, c.meta.List, req)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		all = append(all, resp.GetEntries()...)
		if !resp.GetMore() {
			return all, nil
		}
		n := len(resp.GetEntries())
		// A page that says "more" but does not move forward would loop forever.
		if n == 0 || afterEntry(resp.GetEntries()[n-1]) == req.After {
			return nil, fmt.Errorf("list %s: meta node's page after %q does not advance", dir, req.After)
		}
		req.After = afterEntry(resp.GetEntries()[n-1])
	}
}

// afterEntry names e for ListRequest.After: a directory's name ends in
// "/", since a file and a directory may share a name.
func afterEntry(e *metav1.DirEntry) string {
	if e.GetDir() {
		return e.GetName() + "/"
	}
	return e.GetName()
}

// Remove deletes the file at path and returns its entry. If the meta node
// became unavailable after deleting but before answering, the retried call
// finds nothing and Remove returns ErrNotFound.
func (c *Client) Remove(ctx context.Context, path string) (*metav1.FileEntry, error) {
	resp, err := retry(ctx, c, c.meta.Delete, &metav1.DeleteRequest{Owner: c.cfg.Owner, Path: path})
	if err != nil {
		return nil, fmt.Errorf("remove %s: %w", path, err)
	}
	return resp.GetFile(), nil
}

// Status returns the network's health as the meta node sees it.
func (c *Client) Status(ctx context.Context) (*metav1.StatusResponse, error) {
	resp, err := retry(ctx, c, c.meta.Status, &metav1.StatusRequest{})
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	c.learnSliceSize(resp.GetSliceSize())
	return resp, nil
}

// MetaView is one meta node's own view of the cluster (DESIGN §5.2), or
// why it could not be asked.
type MetaView struct {
	Node   MetaNode
	Status *metav1.StatusResponse // Self and MetaNodes as that node sees them
	Err    error
}

// MetaNodes asks every meta node the client knows for its own view: its
// state, term and log position, and who it thinks leads.
func (c *Client) MetaNodes(ctx context.Context) []MetaView {
	members := c.metas.Members()
	out := make([]MetaView, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			st, err := metav1.NewMetaServiceClient(c.metas.Conn(m.ID)).Status(ctx, &metav1.StatusRequest{Local: true})
			out[i] = MetaView{Node: m, Status: st, Err: err}
			if err != nil {
				out[i].Err = metaErr(ctx, err)
			}
		})
	}
	wg.Wait()
	return out
}

// Owner is the account whose namespace the client uses.
func (c *Client) Owner() string { return c.cfg.Owner }
