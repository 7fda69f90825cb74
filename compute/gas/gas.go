// Package gas meters WebAssembly modules for trusted functions (issue 10;
// DESIGN §8): every node that runs a call must stop at the same point with
// the same "out of gas", and wazero has no fuel metering of its own (its
// timeouts follow each node's wall clock). So a module is instrumented
// once, at deploy time:
//
//   - a mutable i64 global is appended and exported as "stratos_gas": the
//     gas left, which the host sets before a call and reads after it;
//   - each function charges, on entry, the cost of its instructions outside
//     any loop;
//   - each loop charges, at the top of every iteration, the cost of the
//     instructions in its body outside nested loops (which charge for
//     themselves).
//
// A charge subtracts and traps (unreachable) if the gas left is then
// negative: the host reads a negative gas global after a trap as "out of
// gas". Every path costs at least what it executes, counted statically per
// function and per iteration, so the count is the same on every machine,
// whatever its speed. Recursion pays per entry; loops per iteration.
//
// Floating-point NaNs are canonicalised (DESIGN §8): WebAssembly lets an
// arithmetic float instruction return any NaN, and CPUs differ (x86 sets
// the sign bit, ARM does not), so a function that stores or hashes a NaN's
// bits could answer differently on different nodes and get an honest node
// slashed. After every float instruction that can make a NaN (arithmetic,
// rounding, sqrt, min, max, demote, promote) the pass inserts a check that
// replaces any NaN with the canonical one (0x7fc00000, 0x7ff8000000000000),
// using a scratch local of each float type added to the function. abs, neg
// and copysign only move the sign bit and loads and reinterpretations copy
// bits, so they are left alone.
//
// Modules using threads (shared memory, atomics), SIMD (whose NaN results
// differ by platform) or 64-bit memories are refused; so is any
// instruction this pass does not know. Bulk memory operations cost a flat
// Bulk, not per byte (not yet metered by length).
package gas

import (
	"fmt"
	"slices"
)

// Export is the name of the exported gas global.
const Export = "stratos_gas"

// Costs are what instructions cost, in gas.
type Costs struct {
	Base         uint32 // any instruction not named below
	Memory       uint32 // a load or a store
	Call         uint32 // call, return_call
	CallIndirect uint32
	Grow         uint32 // memory.grow, table.grow
	Bulk         uint32 // memory.copy/fill/init, table.copy/init/fill
	Entry        uint32 // entering a function, beside its instructions
	Loop         uint32 // an iteration, beside its instructions
}

// DefaultCosts weighs an instruction 1, memory 2, calls 5 and 10, growing
// memory 1000, bulk operations 100.
func DefaultCosts() Costs {
	return Costs{Base: 1, Memory: 2, Call: 5, CallIndirect: 10, Grow: 1000, Bulk: 100, Entry: 5, Loop: 1}
}

// Options tune Instrument.
type Options struct {
	Costs Costs
	// Initial is the gas global's value at instantiation: what a start
	// function may spend before the host sets it.
	Initial int64
}

// DefaultOptions are DefaultCosts and 10^9 gas for the start function.
func DefaultOptions() Options { return Options{Costs: DefaultCosts(), Initial: 1_000_000_000} }

// Instrument returns module metered as the package comment says. It
// refuses a module that is malformed (ErrMalformed), uses what trusted
// functions may not (ErrRefused), or is metered already.
func Instrument(module []byte, opts Options) ([]byte, error) {
	secs, err := parseSections(module)
	if err != nil {
		return nil, err
	}
	var imported, own, importedFuncs uint32
	var typeParams, types []uint32
	globalAt, exportAt, codeAt := -1, -1, -1
	for i, s := range secs {
		switch s.id {
		case secType:
			if typeParams, err = paramCounts(s.body); err != nil {
				return nil, fmt.Errorf("type section: %w", err)
			}
		case secFunction:
			if types, err = funcTypes(s.body); err != nil {
				return nil, fmt.Errorf("function section: %w", err)
			}
		case secImport:
			if imported, importedFuncs, err = importCounts(s.body); err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
		case secMemory:
			if err := checkMemories(s.body); err != nil {
				return nil, fmt.Errorf("memory section: %w", err)
			}
		case secGlobal:
			globalAt = i
			if own, err = countGlobals(s.body); err != nil {
				return nil, fmt.Errorf("global section: %w", err)
			}
		case secExport:
			exportAt = i
		case secCode:
			codeAt = i
		}
	}
	g := imported + own // the new global's index: after every other
	newGlobal := appendS64([]byte{0x7e, 0x01, 0x42}, opts.Initial)
	newGlobal = append(newGlobal, 0x0b)
	if globalAt >= 0 {
		secs[globalAt].body = appendEntry(secs[globalAt].body, own, newGlobal)
	} else {
		secs = insertSection(secs, section{id: secGlobal, body: append(appendU32(nil, 1), newGlobal...)})
	}
	export := appendU32(nil, uint32(len(Export)))
	export = append(export, Export...)
	export = appendU32(append(export, 0x03), g)
	if exportAt = indexOf(secs, secExport); exportAt >= 0 {
		n, err := checkExports(secs[exportAt].body)
		if err != nil {
			return nil, fmt.Errorf("export section: %w", err)
		}
		secs[exportAt].body = appendEntry(secs[exportAt].body, n, export)
	} else {
		secs = insertSection(secs, section{id: secExport, body: append(appendU32(nil, 1), export...)})
	}
	if codeAt = indexOf(secs, secCode); codeAt >= 0 {
		params := make([]uint32, len(types))
		for i, t := range types {
			if t >= uint32(len(typeParams)) {
				return nil, fmt.Errorf("%w: function %d has type %d of %d", ErrMalformed, importedFuncs+uint32(i), t, len(typeParams))
			}
			params[i] = typeParams[t]
		}
		body, err := instrumentCode(secs[codeAt].body, g, opts.Costs, params)
		if err != nil {
			return nil, fmt.Errorf("code section: %w", err)
		}
		secs[codeAt].body = body
	}
	return encodeSections(secs), nil
}

func indexOf(secs []section, id byte) int {
	return slices.IndexFunc(secs, func(s section) bool { return s.id == id })
}

// insertSection puts s where the section order wants it.
func insertSection(secs []section, s section) []section {
	at := len(secs)
	for i, x := range secs {
		if x.id != secCustom && sectionOrder[x.id] > sectionOrder[s.id] {
			at = i
			break
		}
	}
	return slices.Insert(secs, at, s)
}

// appendEntry re-encodes a vector section of n entries with one more.
func appendEntry(body []byte, n uint32, entry []byte) []byte {
	r := &reader{b: body}
	r.u32() // n, read by the caller already
	out := appendU32(nil, n+1)
	out = append(out, body[r.off:]...)
	return append(out, entry...)
}

func countGlobals(body []byte) (uint32, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	for range n {
		if _, err := r.byte(); err != nil { // value type
			return 0, err
		}
		if _, err := r.byte(); err != nil { // mutability
			return 0, err
		}
		if err := r.constExpr(); err != nil {
			return 0, err
		}
	}
	if !r.eof() {
		return 0, r.fail("bytes after the globals")
	}
	return n, nil
}

// checkExports counts the exports and refuses a module metered already.
func checkExports(body []byte) (uint32, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	for range n {
		l, err := r.u32()
		if err != nil {
			return 0, err
		}
		name, err := r.bytes(l)
		if err != nil {
			return 0, err
		}
		if string(name) == Export {
			return 0, fmt.Errorf("%w: it exports %q already (metered twice?)", ErrRefused, Export)
		}
		if _, err := r.byte(); err != nil {
			return 0, err
		}
		if _, err := r.u32(); err != nil {
			return 0, err
		}
	}
	if !r.eof() {
		return 0, r.fail("bytes after the exports")
	}
	return n, nil
}

// constExpr skips a constant expression up to its end.
func (r *reader) constExpr() error {
	for {
		op, err := r.byte()
		if err != nil {
			return err
		}
		if op == 0x0b {
			return nil
		}
		if _, err := r.immediates(op, Costs{}); err != nil {
			return err
		}
	}
}

func instrumentCode(body []byte, g uint32, c Costs, params []uint32) ([]byte, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if n != uint32(len(params)) {
		return nil, fmt.Errorf("%w: %d function bodies for %d functions", ErrMalformed, n, len(params))
	}
	out := appendU32(make([]byte, 0, len(body)+len(body)/4), n)
	for i := range n {
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		fn, err := r.bytes(size)
		if err != nil {
			return nil, err
		}
		metered, err := instrumentFunc(fn, g, c, params[i])
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = appendU32(out, uint32(len(metered)))
		out = append(out, metered...)
	}
	if !r.eof() {
		return nil, r.fail("bytes after the functions")
	}
	return out, nil
}

// charge is where a charge goes: before the byte at of the body, of cost.
type charge struct {
	at   int
	cost uint64
}

// canon is where a NaN check goes: after the float instruction ending at
// byte at, whose result is an f64 if wide.
type canon struct {
	at   int
	wide bool
}

// canonCost is what the inserted check costs, in Base instructions.
const canonCost = 6

// nanResult reports whether op is a float instruction that may return an
// arbitrary NaN, and whether its result is an f64.
func nanResult(op byte) (may, wide bool) {
	switch {
	case op >= 0x8d && op <= 0x97, op == 0xb6: // f32 ceil..max, f32.demote_f64
		return true, false
	case op >= 0x9b && op <= 0xa5, op == 0xbb: // f64 ceil..max, f64.promote_f32
		return true, true
	}
	return false, false
}

func instrumentFunc(fn []byte, g uint32, c Costs, params uint32) ([]byte, error) {
	r := &reader{b: fn}
	decls, err := r.u32()
	if err != nil {
		return nil, err
	}
	var locals uint64
	for range decls {
		k, err := r.u32()
		if err != nil {
			return nil, err
		}
		if locals += uint64(k); locals > 50000 {
			return nil, fmt.Errorf("%w: more than 50000 locals", ErrRefused)
		}
		if _, err := r.byte(); err != nil {
			return nil, err
		}
	}
	start := r.off
	charges := []charge{{at: start, cost: uint64(c.Entry)}}
	var canons []canon
	// acc[i] is the charge that pays for instructions at nesting depth i:
	// a loop opens its own, a block or an if keeps its parent's.
	acc := []int{0}
	for {
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		top := acc[len(acc)-1]
		switch op {
		case 0x0b: // end
			charges[top].cost += uint64(c.Base)
			acc = acc[:len(acc)-1]
			if len(acc) == 0 {
				if !r.eof() {
					return nil, r.fail("bytes after the function's end")
				}
				return emit(fn, start, decls, charges, canons, g, params+uint32(locals)), nil
			}
			continue
		case 0x02, 0x04: // block, if
			if err := r.blockType(); err != nil {
				return nil, err
			}
			charges[top].cost += uint64(c.Base)
			acc = append(acc, top)
			continue
		case 0x03: // loop: its own charge, at the top of every iteration
			if err := r.blockType(); err != nil {
				return nil, err
			}
			charges[top].cost += uint64(c.Base)
			charges = append(charges, charge{at: r.off, cost: uint64(c.Loop)})
			acc = append(acc, len(charges)-1)
			continue
		}
		cost, err := r.immediates(op, c)
		if err != nil {
			return nil, err
		}
		charges[top].cost += uint64(cost)
		if may, wide := nanResult(op); may {
			canons = append(canons, canon{at: r.off, wide: wide})
			charges[top].cost += canonCost * uint64(c.Base)
		}
		if len(acc) > 10000 {
			return nil, fmt.Errorf("%w: blocks nested deeper than 10000", ErrRefused)
		}
	}
}

// emit copies fn with each charge's code before its byte and each NaN
// check after its instruction. With checks, two scratch locals (an f32 at
// index scratch, an f64 at scratch+1) are declared after fn's own decls
// local declarations, which end at byte start.
func emit(fn []byte, start int, decls uint32, charges []charge, canons []canon, g, scratch uint32) []byte {
	type insert struct {
		at   int
		code []byte
	}
	ins := make([]insert, 0, len(charges)+len(canons))
	for _, ch := range charges {
		ins = append(ins, insert{ch.at, appendCharge(nil, g, ch.cost)})
	}
	for _, cn := range canons {
		ins = append(ins, insert{cn.at, appendCanon(nil, scratch, cn.wide)})
	}
	slices.SortStableFunc(ins, func(a, b insert) int { return a.at - b.at })
	out := make([]byte, 0, len(fn)+len(charges)*20+len(canons)*16)
	prev := 0
	if len(canons) > 0 {
		r := &reader{b: fn}
		r.u32() // decls, read by the caller already
		out = appendU32(out, decls+2)
		out = append(out, fn[r.off:start]...)
		out = append(out, 1, 0x7d, 1, 0x7c) // one f32, one f64
		prev = start
	}
	for _, in := range ins {
		out = append(out, fn[prev:in.at]...)
		out = append(out, in.code...)
		prev = in.at
	}
	return append(out, fn[prev:]...)
}

// appendCanon replaces a NaN on top of the stack by the canonical one:
// local.tee t; const NaN; local.get t; local.get t; eq; select.
func appendCanon(b []byte, scratch uint32, wide bool) []byte {
	t := scratch
	if wide {
		t++
	}
	b = appendU32(append(b, 0x22), t) // local.tee
	if wide {
		b = append(b, 0x44, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f) // f64.const 0x7ff8000000000000
	} else {
		b = append(b, 0x43, 0, 0, 0xc0, 0x7f) // f32.const 0x7fc00000
	}
	b = appendU32(append(b, 0x20), t) // local.get
	b = appendU32(append(b, 0x20), t)
	if wide {
		b = append(b, 0x61) // f64.eq: false only for a NaN
	} else {
		b = append(b, 0x5b) // f32.eq
	}
	return append(b, 0x1b) // select: the value if eq, else the canonical NaN
}

// appendCharge: gas -= cost; if gas < 0 { unreachable }.
func appendCharge(b []byte, g uint32, cost uint64) []byte {
	b = appendU32(append(b, 0x23), g) // global.get
	b = appendS64(append(b, 0x42), int64(cost))
	b = append(b, 0x7d)                      // i64.sub
	b = appendU32(append(b, 0x24), g)        // global.set
	b = appendU32(append(b, 0x23), g)        // global.get
	b = append(b, 0x42, 0x00, 0x53)          // i64.const 0; i64.lt_s
	return append(b, 0x04, 0x40, 0x00, 0x0b) // if; unreachable; end
}

// blockType skips a block type: empty, a value type, or a type index.
func (r *reader) blockType() error {
	if r.off < len(r.b) {
		switch r.b[r.off] {
		case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x70, 0x6f:
			r.off++
			return nil
		case 0x7b:
			return fmt.Errorf("%w: SIMD block type", ErrRefused)
		}
	}
	return r.sleb(33)
}

// immediates skips op's immediates and returns its cost.
func (r *reader) immediates(op byte, c Costs) (uint32, error) {
	var err error
	switch {
	case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1:
		// unreachable, nop, else, return, drop, select, ref.is_null
	case op == 0x0c || op == 0x0d: // br, br_if
		_, err = r.u32()
	case op == 0x0e: // br_table
		var n uint32
		if n, err = r.u32(); err == nil {
			for i := uint32(0); i <= n && err == nil; i++ {
				_, err = r.u32()
			}
		}
	case op == 0x10 || op == 0x12: // call, return_call
		_, err = r.u32()
		return c.Call, err
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		if _, err = r.u32(); err == nil {
			_, err = r.u32()
		}
		return c.CallIndirect, err
	case op == 0x1c: // select t*
		var n uint32
		if n, err = r.u32(); err == nil {
			_, err = r.bytes(n)
		}
	case op >= 0x20 && op <= 0x26: // locals, globals, table.get/set
		_, err = r.u32()
	case op >= 0x28 && op <= 0x3e: // loads and stores: align, offset
		if _, err = r.u32(); err == nil {
			_, err = r.u32()
		}
		return c.Memory, err
	case op == 0x3f: // memory.size
		_, err = r.byte()
	case op == 0x40: // memory.grow
		_, err = r.byte()
		return c.Grow, err
	case op == 0x41:
		err = r.sleb(32)
	case op == 0x42:
		err = r.sleb(64)
	case op == 0x43:
		_, err = r.bytes(4)
	case op == 0x44:
		_, err = r.bytes(8)
	case op >= 0x45 && op <= 0xc4: // numeric, no immediates
	case op == 0xd0: // ref.null t
		_, err = r.byte()
	case op == 0xd2: // ref.func
		_, err = r.u32()
	case op == 0xfc:
		return r.prefixed(c)
	case op == 0xfd:
		return 0, fmt.Errorf("%w: SIMD instruction at byte %d (its NaN results differ by platform)", ErrRefused, r.off-1)
	case op == 0xfe:
		return 0, fmt.Errorf("%w: atomic instruction at byte %d (threads)", ErrRefused, r.off-1)
	default:
		return 0, fmt.Errorf("%w: unknown instruction %#x at byte %d", ErrRefused, op, r.off-1)
	}
	return c.Base, err
}

// prefixed skips a 0xFC instruction: saturating truncations, bulk memory
// and table operations.
func (r *reader) prefixed(c Costs) (uint32, error) {
	sub, err := r.u32()
	if err != nil {
		return 0, err
	}
	two := func() error {
		if _, err := r.u32(); err != nil {
			return err
		}
		_, err := r.u32()
		return err
	}
	switch sub {
	case 0, 1, 2, 3, 4, 5, 6, 7: // trunc_sat
		return c.Base, nil
	case 8: // memory.init data, 0
		if _, err := r.u32(); err != nil {
			return 0, err
		}
		_, err = r.byte()
		return c.Bulk, err
	case 9, 13: // data.drop, elem.drop
		_, err = r.u32()
		return c.Base, err
	case 10: // memory.copy 0 0
		if _, err := r.byte(); err != nil {
			return 0, err
		}
		_, err = r.byte()
		return c.Bulk, err
	case 11: // memory.fill 0
		_, err = r.byte()
		return c.Bulk, err
	case 12, 14: // table.init, table.copy
		return c.Bulk, two()
	case 15: // table.grow
		_, err = r.u32()
		return c.Grow, err
	case 16: // table.size
		_, err = r.u32()
		return c.Base, err
	case 17: // table.fill
		_, err = r.u32()
		return c.Bulk, err
	}
	return 0, fmt.Errorf("%w: unknown instruction 0xfc %d", ErrRefused, sub)
}
