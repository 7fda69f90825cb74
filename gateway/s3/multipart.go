package s3

import (
	"net/http"
	"sort"
	"strconv"
)

func (s *Server) createUpload(rq *request) error {
	meta, err := metaOf(rq.r.Header)
	if err != nil {
		return err
	}
	if meta.Encrypted {
		return errNotImplemented.withMessage("Encrypted multipart uploads are not implemented: PUT the object whole with %s: AES256", sseHeader)
	}
	id, err := rq.backend.CreateUpload(rq.r.Context(), rq.bucket, rq.key, meta)
	if err != nil {
		return err
	}
	return writeXML(rq.w, http.StatusOK, initiateMultipartUploadResult{Xmlns: xmlns, Bucket: rq.bucket, Key: rq.key, UploadID: id})
}

func (s *Server) uploadPart(rq *request) error {
	if rq.r.Header.Get("X-Amz-Copy-Source") != "" {
		rq.op = "UploadPartCopy"
		return errNotImplemented.withMessage("UploadPartCopy is not implemented: upload the part's bytes")
	}
	n, err := partNumber(rq.query.Get("partNumber"))
	if err != nil {
		return err
	}
	b, err := s.openBody(rq, min(maxPutSize, s.cfg.MaxObjectSize))
	if err != nil {
		return err
	}
	part, err := rq.backend.PutPart(rq.r.Context(), rq.bucket, rq.key, rq.query.Get("uploadId"), n, b, b.size)
	if err := s.afterBody(rq, b, err); err != nil {
		return err
	}
	rq.w.Header().Set("ETag", quote(part.ETag))
	echoChecksums(rq)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func partNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPartNumber {
		return 0, errInvalidArgument.withMessage("Part number must be an integer between 1 and %d, inclusive, not %q", maxPartNumber, clip(v))
	}
	return n, nil
}

func (s *Server) listParts(rq *request) error {
	max, err := intParam(rq, "max-parts", maxListKeys, 1, maxListKeys)
	if err != nil {
		return err
	}
	marker, err := intParam(rq, "part-number-marker", 0, 0, maxPartNumber)
	if err != nil {
		return err
	}
	id := rq.query.Get("uploadId")
	parts, err := rq.backend.Parts(rq.r.Context(), rq.bucket, rq.key, id)
	if err != nil {
		return err
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	doc := listPartsResult{
		Xmlns: xmlns, Bucket: rq.bucket, Key: rq.key, UploadID: id, Initiator: rq.owner, Owner: rq.owner,
		StorageClass: "STANDARD", PartNumberMarker: marker, MaxParts: max,
	}
	for _, p := range parts {
		if p.Number <= marker {
			continue
		}
		if len(doc.Parts) == max {
			doc.IsTruncated = true
			break
		}
		doc.Parts = append(doc.Parts, partEntry{PartNumber: p.Number, LastModified: isoTime(p.Modified), ETag: quote(p.ETag), Size: p.Size})
		doc.NextPartNumberMarker = p.Number
	}
	return writeXML(rq.w, http.StatusOK, doc)
}

// completeUpload checks the parts the client names against those
// uploaded (S3's rules: ascending, each there with its ETag, all but the
// last at least 5 MiB) before the Backend joins them.
func (s *Server) completeUpload(rq *request) error {
	if name := checksumHeader(rq.r.Header); name != "" {
		// Here it is the whole object's checksum, which the gateway keeps
		// none of to compare with.
		return errNotImplemented.withMessage("Full-object checksums (%s on CompleteMultipartUpload) are not implemented", name)
	}
	raw, err := s.readDocument(rq, maxXMLBody)
	if err != nil {
		return err
	}
	named, err := parseComplete(raw)
	if err != nil {
		return err
	}
	id := rq.query.Get("uploadId")
	uploaded, err := rq.backend.Parts(rq.r.Context(), rq.bucket, rq.key, id)
	if err != nil {
		return err
	}
	numbers, err := s.checkParts(named, uploaded)
	if err != nil {
		return err
	}
	obj, err := rq.backend.Complete(rq.r.Context(), rq.bucket, rq.key, id, numbers)
	if err != nil {
		return err
	}
	return writeXML(rq.w, http.StatusOK, completeMultipartUploadResult{
		Xmlns: xmlns, Location: "/" + rq.bucket + "/" + rq.key, Bucket: rq.bucket, Key: rq.key, ETag: quote(obj.Meta.ETag),
	})
}

// checkParts applies S3's rules to the named parts, in S3's order (the
// list's order first, then each part), and returns their numbers.
func (s *Server) checkParts(named []completedPart, uploaded []Part) ([]int, error) {
	numbers := make([]int, len(named))
	for i, n := range named {
		if i > 0 && n.Number <= named[i-1].Number {
			return nil, errInvalidPartOrder.withMessage("Part %d follows part %d: the parts must be named in ascending order, each once", n.Number, named[i-1].Number)
		}
		numbers[i] = n.Number
	}
	byNumber := make(map[int]Part, len(uploaded))
	for _, p := range uploaded {
		byNumber[p.Number] = p
	}
	var total int64
	for i, n := range named {
		p, ok := byNumber[n.Number]
		if !ok || p.ETag != n.ETag {
			return nil, errInvalidPart.withMessage("Part %d with ETag %q was not uploaded", n.Number, clip(n.ETag))
		}
		if i < len(named)-1 && p.Size < minPartSize {
			return nil, errEntityTooSmall.withMessage("Part %d is %d bytes: every part but the last must be at least %d", n.Number, p.Size, minPartSize)
		}
		total += p.Size
	}
	if total > s.cfg.MaxObjectSize {
		return nil, errEntityTooLarge.withMessage("The parts add up to %d bytes, more than the %d an object may have", total, s.cfg.MaxObjectSize)
	}
	return numbers, nil
}

func (s *Server) abortUpload(rq *request) error {
	if err := rq.backend.Abort(rq.r.Context(), rq.bucket, rq.key, rq.query.Get("uploadId")); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
