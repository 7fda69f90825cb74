package s3

import (
	"net/netip"
	"strings"
	"unicode/utf8"
)

// checkBucketName applies S3's rules for bucket names: 3 to 63
// characters of a-z, 0-9, '-' and '.', starting and ending with a letter
// or digit, no two periods in a row, not an IP address, none of the
// prefixes and suffixes S3 reserves.
func checkBucketName(name string) error {
	bad := func(why string) error {
		return errInvalidBucketName.withMessage("The specified bucket is not valid: %q %s", clip(name), why)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' || c == '.':
			if i == 0 || i == len(name)-1 {
				return bad("must start and end with a letter or digit")
			}
			if c == '.' && name[i-1] == '.' {
				return bad("must not have two periods in a row")
			}
		default:
			return bad("may hold only lower-case letters, digits, '-' and '.'")
		}
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return bad("must not be an IP address")
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(name, p) {
			return bad("must not start with " + p)
		}
	}
	for _, s := range reservedSuffixes {
		if strings.HasSuffix(name, s) {
			return bad("must not end with " + s)
		}
	}
	return nil
}

// S3 reserves these for its own kinds of names.
var (
	reservedPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

// checkKey applies the rules the Backend relies on: a key is 1 to 1024
// bytes of UTF-8 without control characters. Anything else, "//", a
// trailing "/", ".." and "%" included, is a key like any other.
func checkKey(key string) error {
	switch {
	case key == "":
		return errInvalidArgument.withMessage("The object key must not be empty")
	case len(key) > maxKeyLength:
		return errKeyTooLong.withMessage("Your key is too long: %d bytes, at most %d", len(key), maxKeyLength)
	case !utf8.ValidString(key):
		return errInvalidArgument.withMessage("The object key must be UTF-8")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c == 0x7f {
			return errInvalidArgument.withMessage("The object key must not hold control characters (byte 0x%02x at %d)", c, i)
		}
	}
	return nil
}

// clip bounds what an error message repeats of the request.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
