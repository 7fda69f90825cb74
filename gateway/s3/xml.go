package s3

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// Response documents. Field names are S3's element names.

type owner struct {
	ID          string
	DisplayName string `xml:",omitempty"`
}

type listAllMyBucketsResult struct {
	XMLName           xml.Name      `xml:"ListAllMyBucketsResult"`
	Xmlns             string        `xml:"xmlns,attr"`
	Owner             owner         `xml:"Owner"`
	Buckets           []bucketEntry `xml:"Buckets>Bucket"`
	ContinuationToken string        `xml:",omitempty"`
	Prefix            string        `xml:",omitempty"`
}

type bucketEntry struct {
	Name         string
	CreationDate string
	BucketRegion string `xml:",omitempty"`
}

type locationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Xmlns   string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

type versioningConfiguration struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	Xmlns   string   `xml:"xmlns,attr"`
}

type objectEntry struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	StorageClass string
	Owner        *owner `xml:"Owner,omitempty"`
}

type commonPrefix struct {
	Prefix string
}

// listBucketResult is ListObjects' answer, version 1 and 2: the fields
// of the other version stay empty and are left out.
type listBucketResult struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Xmlns                 string   `xml:"xmlns,attr"`
	Name                  string
	Prefix                string
	Marker                *string `xml:"Marker,omitempty"`
	NextMarker            string  `xml:",omitempty"`
	StartAfter            string  `xml:",omitempty"`
	ContinuationToken     string  `xml:",omitempty"`
	NextContinuationToken string  `xml:",omitempty"`
	KeyCount              *int    `xml:"KeyCount,omitempty"`
	MaxKeys               int
	Delimiter             string `xml:",omitempty"`
	EncodingType          string `xml:",omitempty"`
	IsTruncated           bool
	Contents              []objectEntry
	CommonPrefixes        []commonPrefix
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string
	ETag         string
}

type initiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Bucket   string
	Key      string
	UploadID string `xml:"UploadId"`
}

type completeMultipartUploadResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Location string
	Bucket   string
	Key      string
	ETag     string
}

type partEntry struct {
	PartNumber   int
	LastModified string
	ETag         string
	Size         int64
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	Xmlns                string   `xml:"xmlns,attr"`
	Bucket               string
	Key                  string
	UploadID             string `xml:"UploadId"`
	Initiator            owner
	Owner                owner
	StorageClass         string
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	Parts                []partEntry `xml:"Part"`
}

type uploadEntry struct {
	Key          string
	UploadID     string `xml:"UploadId"`
	Initiator    owner
	Owner        owner
	StorageClass string
	Initiated    string
}

type listMultipartUploadsResult struct {
	XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
	Xmlns              string   `xml:"xmlns,attr"`
	Bucket             string
	KeyMarker          string
	UploadIDMarker     string `xml:"UploadIdMarker"`
	NextKeyMarker      string `xml:",omitempty"`
	NextUploadIDMarker string `xml:"NextUploadIdMarker,omitempty"`
	Prefix             string
	Delimiter          string `xml:",omitempty"`
	MaxUploads         int
	EncodingType       string `xml:",omitempty"`
	IsTruncated        bool
	Uploads            []uploadEntry `xml:"Upload"`
	CommonPrefixes     []commonPrefix
}

type deletedEntry struct {
	Key string
}

type deleteErrorEntry struct {
	Key     string
	Code    string
	Message string
}

type deleteResult struct {
	XMLName xml.Name           `xml:"DeleteResult"`
	Xmlns   string             `xml:"xmlns,attr"`
	Deleted []deletedEntry     `xml:"Deleted"`
	Errors  []deleteErrorEntry `xml:"Error"`
}

// Request documents, parsed from untrusted bytes: each parser returns
// MalformedXML for anything but the one document it expects.

type completeMultipartUpload struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber string
		ETag       string
	} `xml:"Part"`
}

// completedPart is one part a CompleteMultipartUpload names.
type completedPart struct {
	Number int
	ETag   string // without quotes
}

// parseComplete parses a CompleteMultipartUpload body: at least one
// part, each with a number in 1..10000 and an ETag. Their order is the
// caller's to check.
func parseComplete(body []byte) ([]completedPart, error) {
	var doc completeMultipartUpload
	if err := decodeXML(body, &doc); err != nil {
		return nil, err
	}
	if len(doc.Parts) == 0 || len(doc.Parts) > maxPartNumber {
		return nil, errMalformedXML.withMessage("A CompleteMultipartUpload names 1 to %d parts, not %d", maxPartNumber, len(doc.Parts))
	}
	parts := make([]completedPart, len(doc.Parts))
	for i, p := range doc.Parts {
		n, err := strconv.Atoi(p.PartNumber)
		if err != nil || n < 1 || n > maxPartNumber {
			return nil, errInvalidArgument.withMessage("Part number must be an integer between 1 and %d, inclusive, not %q", maxPartNumber, clip(p.PartNumber))
		}
		parts[i] = completedPart{Number: n, ETag: unquote(p.ETag)}
	}
	return parts, nil
}

type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   string
	Objects []struct {
		Key       *string
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

// objectToDelete is one key of a DeleteObjects request.
type objectToDelete struct {
	Key       string
	VersionID string
}

// parseDelete parses a DeleteObjects body: 1 to 1000 objects, each with
// a key (which the caller checks).
func parseDelete(body []byte) (objects []objectToDelete, quiet bool, err error) {
	var doc deleteRequest
	if err := decodeXML(body, &doc); err != nil {
		return nil, false, err
	}
	if len(doc.Objects) == 0 || len(doc.Objects) > maxDeleteKeys {
		return nil, false, errMalformedXML.withMessage("A DeleteObjects request names 1 to %d objects, not %d", maxDeleteKeys, len(doc.Objects))
	}
	switch doc.Quiet {
	case "", "false":
	case "true":
		quiet = true
	default:
		return nil, false, errMalformedXML.withMessage("Quiet is true or false, not %q", clip(doc.Quiet))
	}
	objects = make([]objectToDelete, len(doc.Objects))
	for i, o := range doc.Objects {
		if o.Key == nil {
			return nil, false, errMalformedXML.withMessage("Object %d of the DeleteObjects request has no Key", i+1)
		}
		objects[i] = objectToDelete{Key: *o.Key, VersionID: o.VersionID}
	}
	return objects, quiet, nil
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string
}

// parseCreateBucket parses CreateBucket's optional body; an empty one is
// no configuration.
func parseCreateBucket(body []byte) (createBucketConfiguration, error) {
	var doc createBucketConfiguration
	if len(bytes.TrimSpace(body)) == 0 {
		return doc, nil
	}
	err := decodeXML(body, &doc)
	return doc, err
}

// decodeXML decodes exactly one document into v, and nothing after it.
func decodeXML(body []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		return errMalformedXML.because(fmt.Errorf("decode %T: %w", v, err))
	}
	for {
		tok, err := d.Token()
		if err != nil {
			break // io.EOF, or garbage after the document, which S3 ignores as well
		}
		if _, ok := tok.(xml.StartElement); ok {
			return errMalformedXML.withMessage("The request body holds more than one XML document")
		}
	}
	return nil
}

// writeXML answers with status and the XML document v.
func writeXML(w http.ResponseWriter, status int, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
	return nil
}

// isoTime is S3's time format in XML documents.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// quote is an ETag as S3 shows it.
func quote(etag string) string { return `"` + etag + `"` }

// unquote takes an ETag as a client sends it, quoted or not.
func unquote(etag string) string {
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		return etag[1 : len(etag)-1]
	}
	return etag
}
