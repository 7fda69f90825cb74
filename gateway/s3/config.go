package s3

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Limits S3 sets, which the gateway keeps so clients behave as with S3.
const (
	maxPutSize     = 5 << 30 // one PutObject or UploadPart: 5 GiB
	minPartSize    = 5 << 20 // every part of a multipart upload but the last: 5 MiB
	maxPartNumber  = 10000
	maxKeyLength   = 1024
	maxUserMeta    = 2 << 10 // the x-amz-meta-* names and values together
	maxListKeys    = 1000
	maxDeleteKeys  = 1000
	maxXMLBody     = 4 << 20 // a CompleteMultipartUpload of 10,000 parts or a DeleteObjects of 1,000 keys
	maxConfigBody  = 64 << 10
	defaultMaxSize = 5 << 40 // S3's largest object: 5 TiB
)

// Config is how a Server answers.
type Config struct {
	// Region is the one region this gateway is: requests must be signed
	// for it, and GetBucketLocation names it.
	Region string
	// Clock is the time signatures are checked against.
	Clock  func() time.Time
	Logger *slog.Logger
	// MaxObjectSize bounds an object, a multipart upload's included.
	MaxObjectSize int64
	// VirtualHostSuffix, if set (e.g. "s3.example.com"), makes a request
	// to host "bucket.s3.example.com" one for that bucket (virtual-hosted
	// style); requests to any other host are path-style, "/bucket/key".
	VirtualHostSuffix string
}

// DefaultConfig is a gateway for us-east-1, path-style only.
func DefaultConfig() Config {
	return Config{
		Region:        "us-east-1",
		Clock:         time.Now,
		Logger:        slog.Default(),
		MaxObjectSize: defaultMaxSize,
	}
}

// Validate reports what is missing or wrong in c.
func (c Config) Validate() error {
	var errs []error
	if c.Region == "" || strings.ContainsAny(c.Region, "/ \t\r\n") {
		errs = append(errs, fmt.Errorf("region %q: want a name such as us-east-1", c.Region))
	}
	if c.Clock == nil {
		errs = append(errs, errors.New("no clock"))
	}
	if c.Logger == nil {
		errs = append(errs, errors.New("no logger"))
	}
	if c.MaxObjectSize < 1 {
		errs = append(errs, fmt.Errorf("max object size %d: want at least 1 byte", c.MaxObjectSize))
	}
	if s := c.VirtualHostSuffix; s != "" && (strings.HasPrefix(s, ".") || strings.ContainsAny(s, ":/ ")) {
		errs = append(errs, fmt.Errorf("virtual host suffix %q: want a host name such as s3.example.com", s))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("s3 gateway config: %w", err)
	}
	return nil
}
