package s3

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/stratos-net/stratos/gateway/sigv4"
)

// apiError is an error as S3 answers it: a code, an HTTP status and a
// message, with the cause kept for the log. Two apiErrors are the same
// error (errors.Is) when their codes are.
type apiError struct {
	Code    string
	Status  int
	Message string
	Err     error // the cause, if any; never shown to the client
}

func (e *apiError) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *apiError) Unwrap() error { return e.Err }

func (e *apiError) Is(target error) bool {
	t, ok := target.(*apiError)
	return ok && t.Code == e.Code
}

// withMessage is e with a message about this request.
func (e *apiError) withMessage(format string, args ...any) *apiError {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// because is e caused by err.
func (e *apiError) because(err error) *apiError {
	c := *e
	c.Err = err
	return &c
}

func newError(code string, status int, message string) *apiError {
	return &apiError{Code: code, Status: status, Message: message}
}

// The S3 errors the gateway answers with.
var (
	errAccessDenied       = newError("AccessDenied", http.StatusForbidden, "Access Denied")
	errAuthMalformed      = newError("AuthorizationHeaderMalformed", http.StatusBadRequest, "The authorization header is malformed")
	errInvalidAccessKey   = newError("InvalidAccessKeyId", http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records")
	errSignatureMismatch  = newError("SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method")
	errTimeSkewed         = newError("RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the server's time is too large")
	errNotImplemented     = newError("NotImplemented", http.StatusNotImplemented, "A header or query you provided implies functionality that is not implemented")
	errMethodNotAllowed   = newError("MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource")
	errSHA256Mismatch     = newError("XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed")
	errBadDigest          = newError("BadDigest", http.StatusBadRequest, "The Content-MD5 or checksum you specified did not match what we received")
	errInvalidDigest      = newError("InvalidDigest", http.StatusBadRequest, "The Content-MD5 or checksum you specified is not valid")
	errIncompleteBody     = newError("IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header")
	errMissingLength      = newError("MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header")
	errEntityTooLarge     = newError("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size")
	errEntityTooSmall     = newError("EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size")
	errInvalidArgument    = newError("InvalidArgument", http.StatusBadRequest, "Invalid Argument")
	errInvalidRequest     = newError("InvalidRequest", http.StatusBadRequest, "Invalid Request")
	errInvalidURI         = newError("InvalidURI", http.StatusBadRequest, "Couldn't parse the specified URI")
	errInvalidBucketName  = newError("InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid")
	errKeyTooLong         = newError("KeyTooLongError", http.StatusBadRequest, "Your key is too long")
	errMetadataTooLarge   = newError("MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size")
	errNoSuchBucket       = newError("NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist")
	errNoSuchKey          = newError("NoSuchKey", http.StatusNotFound, "The specified key does not exist")
	errNoSuchUpload       = newError("NoSuchUpload", http.StatusNotFound, "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed")
	errBucketOwned        = newError("BucketAlreadyOwnedByYou", http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it")
	errBucketNotEmpty     = newError("BucketNotEmpty", http.StatusConflict, "The bucket you tried to delete is not empty")
	errInvalidPart        = newError("InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag")
	errInvalidPartOrder   = newError("InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order. The parts list must be specified in order by part number")
	errMalformedXML       = newError("MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema")
	errMessageTooLong     = newError("MaxMessageLengthExceeded", http.StatusBadRequest, "Your request was too big")
	errInvalidRange       = newError("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable")
	errPreconditionFailed = newError("PreconditionFailed", http.StatusPreconditionFailed, "At least one of the preconditions you specified did not hold")
	errRequestTimeout     = newError("RequestTimeout", http.StatusBadRequest, "Your socket connection to the server was not read from or written to within the timeout period")
	errServiceUnavailable = newError("ServiceUnavailable", http.StatusServiceUnavailable, "The storage network is unavailable; please retry")
	errInternal           = newError("InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again")
	errCopyToItself       = newError("InvalidRequest", http.StatusBadRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata")
)

// authError is the S3 error for a signature Verify refused.
func authError(err error) *apiError {
	var e *apiError
	switch {
	case errors.Is(err, sigv4.ErrExpired):
		e = errAccessDenied.withMessage("Request has expired")
	case errors.Is(err, sigv4.ErrMissing):
		e = errAccessDenied.withMessage("The request is not signed with AWS Signature Version 4")
	case errors.Is(err, sigv4.ErrMalformed):
		e = errAuthMalformed.withMessage("%s", err.Error())
	case errors.Is(err, sigv4.ErrUnknownKey):
		e = errInvalidAccessKey
	case errors.Is(err, sigv4.ErrMismatch):
		e = errSignatureMismatch
	case errors.Is(err, sigv4.ErrSkewed):
		e = errTimeSkewed.withMessage("%s", err.Error())
	case errors.Is(err, sigv4.ErrNotSupported):
		e = errNotImplemented.withMessage("%s", err.Error())
	default:
		e = errInternal
	}
	return e.because(err)
}

// toAPIError is the S3 error for err, which a handler, a body or a
// Backend returned.
func toAPIError(err error) *apiError {
	if e, ok := errors.AsType[*apiError](err); ok {
		return e
	}
	for _, m := range backendErrors {
		if errors.Is(err, m.err) {
			return m.api.because(err)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errRequestTimeout.because(err)
	}
	return errInternal.because(err)
}

// backendErrors maps the Backend's errors (backend.go) to S3's.
var backendErrors = []struct {
	err error
	api *apiError
}{
	{ErrNoSuchBucket, errNoSuchBucket},
	{ErrBucketExists, errBucketOwned},
	{ErrBucketNotEmpty, errBucketNotEmpty},
	{ErrInvalidBucket, errInvalidBucketName},
	{ErrNoSuchKey, errNoSuchKey},
	{ErrInvalidKey, errInvalidArgument.withMessage("The specified object key is not valid")},
	{ErrNoSuchUpload, errNoSuchUpload},
	{ErrInvalidPart, errInvalidPart},
	{ErrKeyConflict, errInvalidArgument.withMessage("The key conflicts with another object's key in the storage network's namespace")},
	{ErrBackendDown, errServiceUnavailable},
	{ErrAccessForbidden, errAccessDenied},
}

// errorBody is S3's error document.
type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string `xml:",omitempty"`
	RequestID string `xml:"RequestId"`
	Region    string `xml:",omitempty"`
}
