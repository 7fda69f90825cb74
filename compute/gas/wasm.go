package gas

import (
	"errors"
	"fmt"
)

// ErrMalformed is a module that does not decode; ErrRefused one that
// decodes but uses what a trusted function may not (threads, SIMD, 64-bit
// memories, instructions this pass does not know).
var (
	ErrMalformed = errors.New("malformed wasm module")
	ErrRefused   = errors.New("wasm module refused")
)

// reader decodes the binary format's primitives from b, never reading past
// it: every method reports ErrMalformed instead.
type reader struct {
	b   []byte
	off int
}

func (r *reader) eof() bool { return r.off >= len(r.b) }

func (r *reader) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", ErrMalformed, what, r.off)
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.fail("unexpected end")
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(len(r.b)-r.off) {
		return nil, r.fail(fmt.Sprintf("%d bytes past the end", n))
	}
	out := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return out, nil
}

// u32 reads an unsigned LEB128 of at most 32 bits.
func (r *reader) u32() (uint32, error) {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 0xffffffff {
				return 0, r.fail("u32 too large")
			}
			return uint32(v), nil
		}
	}
	return 0, r.fail("u32 too long")
}

// sleb skips a signed LEB128 of at most bits bits.
func (r *reader) sleb(bits int) error {
	for n := 0; n*7 < bits+6; n++ {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return r.fail("signed integer too long")
}

func (r *reader) name() error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	_, err = r.bytes(n)
	return err
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Section IDs.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secCode      = 10
	secDataCount = 12
	secTag       = 13
)

// sectionOrder is where each known section goes; custom sections go
// anywhere.
var sectionOrder = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

type section struct {
	id   byte
	body []byte
}

func parseSections(module []byte) ([]section, error) {
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return nil, fmt.Errorf("%w: no wasm magic", ErrMalformed)
	}
	if string(module[4:8]) != "\x01\x00\x00\x00" {
		return nil, fmt.Errorf("%w: binary format version %x, only 1 is known", ErrRefused, module[4:8])
	}
	r := &reader{b: module, off: 8}
	var out []section
	last := 0
	for !r.eof() {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		body, err := r.bytes(n)
		if err != nil {
			return nil, err
		}
		if id != secCustom {
			ord, ok := sectionOrder[id]
			if !ok {
				return nil, fmt.Errorf("%w: unknown section %d", ErrRefused, id)
			}
			if ord <= last {
				return nil, fmt.Errorf("%w: section %d out of order or repeated", ErrMalformed, id)
			}
			last = ord
		}
		out = append(out, section{id: id, body: body})
	}
	return out, nil
}

func encodeSections(secs []section) []byte {
	n := 8
	for _, s := range secs {
		n += 6 + len(s.body)
	}
	out := make([]byte, 0, n)
	out = append(out, "\x00asm\x01\x00\x00\x00"...)
	for _, s := range secs {
		out = append(out, s.id)
		out = appendU32(out, uint32(len(s.body)))
		out = append(out, s.body...)
	}
	return out
}

// limits reads a table's or memory's limits, refusing shared (threads)
// and 64-bit memories.
func (r *reader) limits() error {
	flag, err := r.byte()
	if err != nil {
		return err
	}
	switch flag {
	case 0:
		_, err = r.u32()
		return err
	case 1:
		if _, err := r.u32(); err != nil {
			return err
		}
		_, err = r.u32()
		return err
	case 2, 3:
		return fmt.Errorf("%w: shared memory (threads)", ErrRefused)
	default:
		return fmt.Errorf("%w: limits flag %#x (64-bit memory?)", ErrRefused, flag)
	}
}

// importedGlobals counts the import section's globals and checks its
// memories.
func importedGlobals(body []byte) (uint32, error) {
	g, _, err := importCounts(body)
	return g, err
}

// importCounts counts the import section's globals and functions.
func importCounts(body []byte) (globals, funcs uint32, err error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return 0, 0, err
	}
	for range n {
		if err := r.name(); err != nil {
			return 0, 0, err
		}
		if err := r.name(); err != nil {
			return 0, 0, err
		}
		kind, err := r.byte()
		if err != nil {
			return 0, 0, err
		}
		switch kind {
		case 0: // function: type index
			funcs++
			_, err = r.u32()
		case 1: // table: reference type, limits
			if _, err = r.byte(); err == nil {
				err = r.limits()
			}
		case 2:
			err = r.limits()
		case 3: // global: value type, mutability
			globals++
			if _, err = r.byte(); err == nil {
				_, err = r.byte()
			}
		default:
			return 0, 0, fmt.Errorf("%w: import kind %d", ErrRefused, kind)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if !r.eof() {
		return 0, 0, r.fail("bytes after the imports")
	}
	return globals, funcs, nil
}

// paramCounts reads the type section: how many parameters each type has.
func paramCounts(body []byte) ([]uint32, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if n > 1_000_000 {
		return nil, fmt.Errorf("%w: %d types", ErrRefused, n)
	}
	out := make([]uint32, 0, n)
	for range n {
		form, err := r.byte()
		if err != nil {
			return nil, err
		}
		if form != 0x60 {
			return nil, fmt.Errorf("%w: type form %#x", ErrRefused, form)
		}
		var params uint32
		for k := range 2 { // parameters, then results
			m, err := r.u32()
			if err != nil {
				return nil, err
			}
			types, err := r.bytes(m)
			if err != nil {
				return nil, err
			}
			for _, t := range types {
				switch t {
				case 0x7f, 0x7e, 0x7d, 0x7c, 0x70, 0x6f: // i32 i64 f32 f64 funcref externref
				default:
					return nil, fmt.Errorf("%w: value type %#x", ErrRefused, t)
				}
			}
			if k == 0 {
				params = m
			}
		}
		out = append(out, params)
	}
	if !r.eof() {
		return nil, r.fail("bytes after the types")
	}
	return out, nil
}

// funcTypes reads the function section: each defined function's type.
func funcTypes(body []byte) ([]uint32, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if n > 1_000_000 {
		return nil, fmt.Errorf("%w: %d functions", ErrRefused, n)
	}
	out := make([]uint32, 0, n)
	for range n {
		t, err := r.u32()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if !r.eof() {
		return nil, r.fail("bytes after the function types")
	}
	return out, nil
}

// checkMemories refuses shared and 64-bit memories in the memory section.
func checkMemories(body []byte) error {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		if err := r.limits(); err != nil {
			return err
		}
	}
	return nil
}
