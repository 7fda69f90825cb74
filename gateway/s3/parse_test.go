package s3

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		v              string
		size           int64
		ok             bool
		status         rangeStatus
		offset, length int64
	}{
		{"bytes=0-0", 10, true, rangePartial, 0, 1},
		{"bytes=0-9", 10, true, rangePartial, 0, 10},
		{"bytes=2-", 10, true, rangePartial, 2, 8},
		{"bytes=-4", 10, true, rangePartial, 6, 4},
		{"bytes=-40", 10, true, rangePartial, 0, 10},
		{"bytes=9-100", 10, true, rangePartial, 9, 1},
		{"bytes=10-", 10, true, rangeUnsatisfiable, 0, 0},
		{"bytes=10-11", 10, true, rangeUnsatisfiable, 0, 0},
		{"bytes=-0", 10, true, rangeUnsatisfiable, 0, 0},
		{"bytes=0-", 0, true, rangeUnsatisfiable, 0, 0},
		{"bytes=-1", 0, true, rangeUnsatisfiable, 0, 0},
		{"bytes=3-2", 10, false, 0, 0, 0},
		{"bytes=-", 10, false, 0, 0, 0},
		{"bytes=a-b", 10, false, 0, 0, 0},
		{"bytes=+1-2", 10, false, 0, 0, 0},
		{"bytes=1-2,4-5", 10, false, 0, 0, 0},
		{"bytes 1-2", 10, false, 0, 0, 0},
		{"items=1-2", 10, false, 0, 0, 0},
		{"bytes=99999999999999999999-", 10, false, 0, 0, 0},
	} {
		r, ok := parseRange(tc.v, tc.size)
		if ok != tc.ok || (ok && (r.status != tc.status || r.offset != tc.offset || r.length != tc.length)) {
			t.Errorf("%q of %d: %+v %v, want %v %v %d+%d", tc.v, tc.size, r, ok, tc.ok, tc.status, tc.offset, tc.length)
		}
	}
}

// S3's pairings of the conditional headers (GetObject, "Conditional
// requests"; RFC 7232 §6).
func TestPreconditions(t *testing.T) {
	modified := time.Date(2026, 3, 1, 12, 0, 0, 500e6, time.UTC)
	obj := Object{Modified: modified, Meta: ObjectMeta{ETag: "abc"}}
	at := func(d time.Duration) string { return modified.Truncate(time.Second).Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"none", nil, 0},
		{"if-match", map[string]string{"If-Match": `"abc"`}, 0},
		{"if-match list", map[string]string{"If-Match": `"x", "abc"`}, 0},
		{"if-match weak", map[string]string{"If-Match": `W/"abc"`}, 0},
		{"if-match unquoted", map[string]string{"If-Match": `abc`}, 0},
		{"if-match other", map[string]string{"If-Match": `"x"`}, 412},
		{"if-unmodified-since same second", map[string]string{"If-Unmodified-Since": at(0)}, 0},
		{"if-unmodified-since before", map[string]string{"If-Unmodified-Since": at(-time.Second)}, 412},
		{"if-unmodified-since garbage", map[string]string{"If-Unmodified-Since": "yesterday"}, 0},
		{"if-match holds over if-unmodified-since", map[string]string{"If-Match": `"abc"`, "If-Unmodified-Since": at(-time.Hour)}, 0},
		{"if-none-match same", map[string]string{"If-None-Match": `"abc"`}, 304},
		{"if-none-match star", map[string]string{"If-None-Match": `*`}, 304},
		{"if-none-match other", map[string]string{"If-None-Match": `"x"`}, 0},
		{"if-modified-since same second", map[string]string{"If-Modified-Since": at(0)}, 304},
		{"if-modified-since before", map[string]string{"If-Modified-Since": at(-time.Second)}, 0},
		{"if-none-match holds over if-modified-since", map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": at(time.Hour)}, 0},
		{"if-none-match fails with if-modified-since holding", map[string]string{"If-None-Match": `"abc"`, "If-Modified-Since": at(-time.Hour)}, 304},
		{"412 before 304", map[string]string{"If-Match": `"x"`, "If-None-Match": `"abc"`}, 412},
	} {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		if got := preconditions(h, obj); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestIfRange(t *testing.T) {
	obj := Object{Size: 10, Modified: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Meta: ObjectMeta{ETag: "abc"}}
	for v, want := range map[string]bool{
		"":                              true,
		`"abc"`:                         true,
		`"old"`:                         false,
		"Sun, 01 Mar 2026 12:00:00 GMT": true,
		"Sun, 01 Mar 2026 11:00:00 GMT": false,
		"garbage":                       false,
	} {
		h := http.Header{"Range": {"bytes=0-1"}}
		if v != "" {
			h.Set("If-Range", v)
		}
		if got := requestedRange(h, obj).status == rangePartial; got != want {
			t.Errorf("If-Range %q: range applies %v, want %v", v, got, want)
		}
	}
}

func TestBucketNames(t *testing.T) {
	for _, name := range []string{"abc", "my-bucket", "my.bucket.2026", "0ab", strings.Repeat("a", 63), "a-b-c", "1.2.3"} {
		if err := checkBucketName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	for _, name := range []string{"", "ab", strings.Repeat("a", 64), "Abc", "a_b", "-ab", "ab-", ".ab", "ab.", "a..b", "10.0.0.1",
		"xn--ab", "sthree-ab", "ab-s3alias", "ab--ol-s3", "a b", "ab/c", "日本語"} {
		if err := checkBucketName(name); !errors.Is(err, errInvalidBucketName) {
			t.Errorf("%q: %v, want InvalidBucketName", name, err)
		}
	}
}

func TestKeys(t *testing.T) {
	for _, key := range oddKeys {
		if err := checkKey(key); err != nil {
			t.Errorf("%q: %v", key, err)
		}
	}
	for key, want := range map[string]error{
		"":                        errInvalidArgument,
		strings.Repeat("k", 1025): errKeyTooLong,
		"nul\x00":                 errInvalidArgument,
		"new\nline":               errInvalidArgument,
		"del\x7f":                 errInvalidArgument,
		"bad\xffutf8":             errInvalidArgument,
	} {
		if err := checkKey(key); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", key, err, want)
		}
	}
}

func TestParseComplete(t *testing.T) {
	parts, err := parseComplete([]byte(`<?xml version="1.0"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
		`<Part><ETag>"e1"</ETag><PartNumber>1</PartNumber><ChecksumCRC32>x</ChecksumCRC32></Part><Part><PartNumber>3</PartNumber><ETag>e3</ETag></Part></CompleteMultipartUpload>`))
	if err != nil || len(parts) != 2 || parts[0] != (completedPart{1, "e1"}) || parts[1] != (completedPart{3, "e3"}) {
		t.Fatalf("%+v, %v", parts, err)
	}
	for _, body := range []string{
		"", "<CompleteMultipartUpload/>", "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber></Part></CompleteMultipartUpload>",
		"<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber></Part></CompleteMultipartUpload>", "<Other/>",
		"<CompleteMultipartUpload><Part>", "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><CompleteMultipartUpload><Part><PartNumber>&e;</PartNumber></Part></CompleteMultipartUpload>",
	} {
		if parts, err := parseComplete([]byte(body)); err == nil {
			t.Errorf("%q: %+v, want an error", body, parts)
		}
	}
}

func TestParseDelete(t *testing.T) {
	objs, quiet, err := parseDelete([]byte(`<Delete><Quiet>true</Quiet><Object><Key>a//b</Key></Object><Object><Key></Key><VersionId>null</VersionId></Object></Delete>`))
	if err != nil || !quiet || len(objs) != 2 || objs[0].Key != "a//b" || objs[1] != (objectToDelete{"", "null"}) {
		t.Fatalf("%+v %v %v", objs, quiet, err)
	}
	if _, _, err := parseDelete([]byte("<Delete>" + strings.Repeat("<Object><Key>k</Key></Object>", 1001) + "</Delete>")); !errors.Is(err, errMalformedXML) {
		t.Fatalf("1001 objects: %v", err)
	}
	if _, _, err := parseDelete([]byte("<Delete><Quiet>maybe</Quiet><Object><Key>k</Key></Object></Delete>")); !errors.Is(err, errMalformedXML) {
		t.Fatalf("Quiet maybe: %v", err)
	}
}

// The request documents come from anyone. Whatever the bytes, each
// parser returns a result or an S3 error (never panics), and a result
// keeps to the document's rules.
func FuzzParseComplete(f *testing.F) {
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>2</PartNumber></Part><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		parts, err := parseComplete(body)
		if err != nil {
			wantAPIError(t, err)
			return
		}
		if len(parts) == 0 || len(parts) > maxPartNumber {
			t.Fatalf("%d parts", len(parts))
		}
		for _, p := range parts {
			if p.Number < 1 || p.Number > maxPartNumber {
				t.Fatalf("part number %d", p.Number)
			}
		}
	})
}

func FuzzParseDelete(f *testing.F) {
	f.Add([]byte(`<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object></Delete>`))
	f.Add([]byte(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>&lt;</Key><VersionId>v</VersionId></Object></Delete>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, _, err := parseDelete(body)
		if err != nil {
			wantAPIError(t, err)
			return
		}
		if len(objs) == 0 || len(objs) > maxDeleteKeys {
			t.Fatalf("%d objects", len(objs))
		}
		for _, o := range objs {
			if !utf8.ValidString(o.Key) {
				t.Fatalf("key %q is not UTF-8", o.Key)
			}
		}
	})
}

func FuzzParseCreateBucket(f *testing.F) {
	f.Add([]byte(`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := parseCreateBucket(body); err != nil {
			wantAPIError(t, err)
		}
	})
}

func wantAPIError(t *testing.T, err error) {
	t.Helper()
	e, ok := errors.AsType[*apiError](err)
	if !ok || (e.Code != "MalformedXML" && e.Code != "InvalidArgument") {
		t.Fatalf("error %v, want MalformedXML or InvalidArgument", err)
	}
}
