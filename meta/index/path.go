package index

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxPathLen      = 4096
	maxComponentLen = 255
	maxNameLen      = 128 // owners and node IDs
)

// CleanPath returns the canonical form of a file path: it begins with "/",
// its components are non-empty, not "." or "..", valid UTF-8 without control
// characters (NUL included), at most 255 bytes each, and the whole path is at
// most 4096 bytes; there is no trailing slash, and "/" alone is not a file
// path. It does not resolve "..": "/a/../b" is an error, because a path that
// means something other than it says is a bug or an attack. The error wraps
// ErrBadPath and says what is wrong.
func CleanPath(p string) (string, error) {
	if err := checkPath(p); err != nil {
		return "", err
	}
	if p == "/" {
		return "", badPath(p, "the root is a directory, not a file")
	}
	if strings.HasSuffix(p, "/") {
		return "", badPath(p, "trailing slash")
	}
	return p, checkComponents(p)
}

// CleanDir is like CleanPath but also accepts the root "/" and tolerates one
// trailing slash ("/videos/" is "/videos").
func CleanDir(p string) (string, error) {
	if err := checkPath(p); err != nil {
		return "", err
	}
	if p == "/" {
		return p, nil
	}
	d := strings.TrimSuffix(p, "/")
	if d == "" {
		return "", badPath(p, "empty component") // "//"
	}
	return d, checkComponents(d)
}

func checkPath(p string) error {
	switch {
	case p == "":
		return badPath(p, "empty")
	case len(p) > maxPathLen:
		return badPath(p, fmt.Sprintf("longer than %d bytes", maxPathLen))
	case p[0] != '/':
		return badPath(p, `must begin with "/"`)
	}
	return nil
}

// checkComponents checks every component of p, which begins with "/" and
// does not end with one.
func checkComponents(p string) error {
	for c := range strings.SplitSeq(p[1:], "/") {
		if reason := componentProblem(c); reason != "" {
			return badPath(p, reason)
		}
	}
	return nil
}

// componentProblem says what is wrong with one path component, or "".
func componentProblem(c string) string {
	switch {
	case c == "":
		return "empty component"
	case c == ".":
		return `"." component`
	case c == "..":
		return `".." component: path escapes its directory`
	case strings.Contains(c, "/"):
		return `contains "/"`
	case len(c) > maxComponentLen:
		return fmt.Sprintf("component longer than %d bytes", maxComponentLen)
	}
	return textProblem(c)
}

// textProblem rejects what cannot be stored or shown safely: invalid UTF-8
// (protobuf strings must be UTF-8) and control characters, NUL among them
// (the key layout uses NUL and \x01 as separators).
func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("control character %U", r)
		}
	}
	return ""
}

func badPath(p, reason string) error {
	return fmt.Errorf("%w %q: %s", ErrBadPath, clip(p), reason)
}

// checkName validates an owner or node ID: non-empty, at most 128 bytes,
// text without control characters. what names the field in the error.
func checkName(what, s string) error {
	reason := textProblem(s)
	switch {
	case s == "":
		reason = "empty"
	case len(s) > maxNameLen:
		reason = fmt.Sprintf("longer than %d bytes", maxNameLen)
	}
	if reason != "" {
		return fmt.Errorf("%s %q: %s: %w", what, clip(s), reason, ErrBadCommand)
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}
