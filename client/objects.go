package client

import (
	"context"
	"fmt"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// S3's view of the namespace (DESIGN §9), used by the gateway: buckets are
// top-level directories, keys map to paths with index.ObjectPath.

// ErrNotEmpty is a bucket that still holds files.
var ErrNotEmpty = fmt.Errorf("%w: bucket not empty", ErrExists)

// Buckets returns the account's buckets, sorted by name; with name set,
// only that one (none if it does not exist).
func (c *Client) Buckets(ctx context.Context, name string) ([]*metav1.BucketEntry, error) {
	resp, err := retry(ctx, c, c.meta.ListBuckets, &metav1.ListBucketsRequest{Owner: c.cfg.Owner, Name: name})
	if err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	return resp.GetBuckets(), nil
}

// CreateBucket makes an empty bucket; ErrExists if the account made it
// before.
func (c *Client) CreateBucket(ctx context.Context, name string) error {
	if _, err := retry(ctx, c, c.meta.CreateBucket, &metav1.CreateBucketRequest{Owner: c.cfg.Owner, Bucket: name}); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// DeleteBucket removes an empty bucket: ErrNotEmpty while files are in
// it, ErrNotFound if there is none.
func (c *Client) DeleteBucket(ctx context.Context, name string) error {
	if _, err := retry(ctx, c, c.meta.DeleteBucket, &metav1.DeleteBucketRequest{Owner: c.cfg.Owner, Bucket: name}); err != nil {
		return fmt.Errorf("delete bucket %s: %w", name, err)
	}
	return nil
}

// ListObjects returns one page of bucket's keys under prefix, in UTF-8
// byte order at every depth, strictly after after; see
// metav1.ListObjectsRequest.
func (c *Client) ListObjects(ctx context.Context, bucket, prefix, delimiter, after string, limit int) (*metav1.ListObjectsResponse, error) {
	req := &metav1.ListObjectsRequest{Owner: c.cfg.Owner, Bucket: bucket, Prefix: prefix, Delimiter: delimiter, After: after, Limit: uint32(max(limit, 0))}
	resp, err := retry(ctx, c, c.meta.ListObjects, req)
	if err != nil {
		return nil, fmt.Errorf("list objects %s: %w", bucket, err)
	}
	return resp, nil
}

// Compose makes the file at path from the slices of the files at sources,
// in order, and removes the sources unless keep; no bytes move.
func (c *Client) Compose(ctx context.Context, path string, sources []string, object *metav1.ObjectMeta, keep bool) (*metav1.FileEntry, error) {
	req := &metav1.ComposeRequest{Owner: c.cfg.Owner, Path: path, Sources: sources, Object: object, KeepSources: keep}
	resp, err := retry(ctx, c, c.meta.Compose, req)
	if err != nil {
		return nil, fmt.Errorf("compose %s: %w", path, err)
	}
	return resp.GetFile(), nil
}
