package index

import (
	"bytes"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// DefaultListLimit is the page size List uses for a limit <= 0.
const DefaultListLimit = 1000

// List returns the immediate children of dir, sorted by name: files with
// their entries and subdirectories (which exist implicitly, while a file lies
// below them). A name may be both (S3 keys "a" and "a/b"): the file comes
// first. It resumes after the entry after, a file's name or a directory's
// name followed by "/", and returns at most limit entries
// (DefaultListLimit for limit <= 0); more reports that entries remain. A
// directory that does not exist is empty.
//
// It reads one key per file listed and one per subdirectory: after the first
// key below a subdirectory it seeks past the whole subdirectory.
func (ix *Index) List(owner, dir, after string, limit int) (entries []*metav1.DirEntry, more bool, err error) {
	if err := checkName("owner", owner); err != nil {
		return nil, false, fmt.Errorf("list: %w", err)
	}
	d, err := CleanDir(dir)
	if err != nil {
		return nil, false, fmt.Errorf("list: %w", err)
	}
	if after != "" {
		if reason := componentProblem(strings.TrimSuffix(after, "/")); reason != "" {
			return nil, false, fmt.Errorf("list %s: after %q: %s: %w", d, clip(after), reason, ErrBadPath)
		}
	}
	if limit <= 0 {
		limit = DefaultListLimit
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	l := lister{ix: ix, prefix: fileKey(owner, d), limit: limit}
	if d != "/" {
		l.prefix = append(l.prefix, sepPathByte)
	}
	if err := l.run(after); err != nil {
		return nil, false, fmt.Errorf("list %s: %w", d, err)
	}
	return l.out, l.more, nil
}

// lister walks one directory's keys: n/<owner>\x00<dir>\x01<name>[\x01...].
type lister struct {
	ix     *Index
	prefix []byte // logical, ends with \x01
	limit  int
	out    []*metav1.DirEntry
	more   bool
}

// past returns the first key after every key of the child called name:
// the child's own key and its descendants all begin prefix+name, then \x01
// or nothing, and no name byte is below \x02.
func (l *lister) past(name []byte) []byte {
	k := append(bytes.Clone(l.prefix), name...)
	return append(k, sepPathByte+1)
}

func (l *lister) run(after string) error {
	from := l.prefix
	if name, isDir := strings.CutSuffix(after, "/"); isDir {
		from = l.past([]byte(name))
	} else if after != "" {
		// Just past the file's own key: a directory of the same name is next.
		from = append(append(bytes.Clone(l.prefix), after...), sepPathByte)
	}
	end := phys(l.ix.gen, kv.PrefixEnd(l.prefix))
	for from != nil {
		seek := from
		from = nil
		err := l.ix.store.Scan(phys(l.ix.gen, seek), end, func(k, v []byte) error {
			if len(l.out) == l.limit {
				l.more = true
				return kv.ErrStop
			}
			rest := k[1+len(l.prefix):]
			if i := bytes.IndexByte(rest, sepPathByte); i >= 0 {
				name := rest[:i]
				l.out = append(l.out, &metav1.DirEntry{Name: string(name), Dir: true})
				from = l.past(name)
				return kv.ErrStop
			}
			f := new(metav1.FileEntry)
			if err := proto.Unmarshal(v, f); err != nil {
				return fmt.Errorf("index corrupt: decode %q: %w", k, err)
			}
			l.out = append(l.out, &metav1.DirEntry{Name: string(rest), File: f})
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
