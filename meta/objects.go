package meta

import (
	"context"
	"fmt"

	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// S3's view of the namespace (DESIGN §9): buckets, key-ordered listing and
// the composition of multipart uploads. Each is signed by the owner like
// every other namespace request.

// ListBuckets returns the owner's buckets, or the one named.
func (s *Server) ListBuckets(_ context.Context, req *metav1.ListBucketsRequest) (*metav1.ListBucketsResponse, error) {
	if _, err := s.authorize(req, req.GetOwner()); err != nil {
		return nil, toStatus(err)
	}
	bs, err := s.ix.Buckets(req.GetOwner(), req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	return &metav1.ListBucketsResponse{Buckets: bs}, nil
}

// CreateBucket makes an empty bucket.
func (s *Server) CreateBucket(_ context.Context, req *metav1.CreateBucketRequest) (*metav1.CreateBucketResponse, error) {
	guard, err := s.authorize(req, req.GetOwner())
	if err != nil {
		return nil, toStatus(err)
	}
	_, err = s.apply(&metav1.Command{Guard: guard, Op: &metav1.Command_MakeBucket{MakeBucket: &metav1.MakeBucketCmd{
		Owner: req.GetOwner(), Bucket: req.GetBucket()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	return &metav1.CreateBucketResponse{}, nil
}

// DeleteBucket removes an empty bucket.
func (s *Server) DeleteBucket(_ context.Context, req *metav1.DeleteBucketRequest) (*metav1.DeleteBucketResponse, error) {
	guard, err := s.authorize(req, req.GetOwner())
	if err != nil {
		return nil, toStatus(err)
	}
	_, err = s.apply(&metav1.Command{Guard: guard, Op: &metav1.Command_RemoveBucket{RemoveBucket: &metav1.RemoveBucketCmd{
		Owner: req.GetOwner(), Bucket: req.GetBucket()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	return &metav1.DeleteBucketResponse{}, nil
}

// ListObjects returns one page of a bucket's keys in S3's order.
func (s *Server) ListObjects(_ context.Context, req *metav1.ListObjectsRequest) (*metav1.ListObjectsResponse, error) {
	if _, err := s.authorize(req, req.GetOwner()); err != nil {
		return nil, toStatus(err)
	}
	resp, err := s.ix.ListObjects(req.GetOwner(), req.GetBucket(), req.GetPrefix(), req.GetDelimiter(), req.GetAfter(), int(req.GetLimit()))
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// Compose makes a file of other files' slices, in order, and removes them:
// an S3 multipart completion, which reads no bytes.
func (s *Server) Compose(_ context.Context, req *metav1.ComposeRequest) (*metav1.ComposeResponse, error) {
	guard, err := s.authorize(req, req.GetOwner())
	if err != nil {
		return nil, toStatus(err)
	}
	p, err := index.CleanPath(req.GetPath())
	if err != nil {
		return nil, toStatus(err)
	}
	res, err := s.apply(&metav1.Command{Guard: guard, Op: &metav1.Command_ComposeFile{ComposeFile: &metav1.ComposeFileCmd{
		Owner: req.GetOwner(), Path: p, Sources: req.GetSources(), Object: req.GetObject(), KeepSources: req.GetKeepSources()}}})
	if err != nil {
		return nil, toStatus(fmt.Errorf("%s: %w", p, err))
	}
	s.queueDeletes(res.GetReleased())
	return &metav1.ComposeResponse{File: res.GetFile()}, nil
}
