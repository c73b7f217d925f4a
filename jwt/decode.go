package jwt

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/jwtgate/jwtgate/internal/strictjson"
)

// Token.Decode's fast path. For a pointer to a flat struct whose fields
// are strings, booleans, integers, floats, string slices or
// json.RawMessage, the claims set is decoded with a plan computed once per
// type (and kept by the Verifier), from one scan of the payload, with no
// second full pass of encoding/json. The result is exactly what
// encoding/json gives: the plan follows its field naming rules, and
// anything where the two could differ makes the fast path step aside
// before it writes anything, so encoding/json decodes instead. That is:
// a type with embedded fields, a ",string" option, names that collide,
// or a method of its own (UnmarshalJSON, UnmarshalText); a member whose
// name matches a field only without regard to case; a value that does not
// fit its field (a fraction or an out-of-range number for an integer, a
// string for a number, an array with a non-string member for a string
// slice...); a field of another type (map, pointer, struct, interface)
// named in the payload; and any payload the strict scanner refuses.

// planCache holds the decoding plans of the types a Verifier's tokens
// were decoded into.
type planCache struct {
	m    sync.Map                   // reflect.Type -> *decodePlan
	last atomic.Pointer[decodePlan] // the plan found last, checked first
}

func (c *planCache) plan(t reflect.Type) *decodePlan {
	if p := c.last.Load(); p != nil && p.typ == t {
		return p
	}
	var p *decodePlan
	if v, ok := c.m.Load(t); ok {
		p = v.(*decodePlan)
	} else {
		v, _ := c.m.LoadOrStore(t, newDecodePlan(t))
		p = v.(*decodePlan)
	}
	c.last.Store(p)
	return p
}

// fieldKind is how the fast path stores a value into a field.
type fieldKind uint8

const (
	fieldOther   fieldKind = iota // a type the fast path leaves to encoding/json
	fieldString                   // kind string
	fieldBool                     // kind bool
	fieldInt                      // signed integers; size in bytes
	fieldUint                     // unsigned integers; size in bytes
	fieldFloat                    // float32 or float64; size in bytes
	fieldStrings                  // a slice of a kind-string type
	fieldRaw                      // json.RawMessage
)

type planField struct {
	name   string // the JSON name, as encoding/json resolves it
	folded string // name folded as encoding/json folds names
	off    uintptr
	kind   fieldKind
	size   uint8
}

// decodePlan is how one struct type is decoded; nil fields with ok false
// means the type is left to encoding/json.
type decodePlan struct {
	typ    reflect.Type
	ok     bool
	fields []planField
	// asciiLens has bit n set when some field's folded name has n bytes
	// (bit 63 for 63 and more), to skip folding most unknown names.
	asciiLens uint64
}

// maxPlanFields bounds the fields of a struct decoded by the fast path,
// so that the values found can be held on the stack until all of them
// are known to fit.
const maxPlanFields = 64

var (
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
	numberType          = reflect.TypeFor[json.Number]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// hasUnmarshaler reports whether encoding/json would hand values of t to
// a method of t rather than decode them itself.
func hasUnmarshaler(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType)
}

func newDecodePlan(t reflect.Type) *decodePlan {
	no := &decodePlan{typ: t}
	if t.Kind() != reflect.Struct || hasUnmarshaler(t) || t.NumField() > maxPlanFields {
		return no
	}
	p := &decodePlan{typ: t, ok: true}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return no // embedded fields: encoding/json's promotion rules
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts != "" && tagHas(opts, "string") {
			return no
		}
		if !validTagName(name) {
			name = sf.Name
		}
		f := planField{name: name, folded: foldName(name), off: sf.Offset, size: uint8(sf.Type.Size())}
		for _, g := range p.fields {
			if g.folded == f.folded {
				return no // encoding/json drops or prefers one: leave it the choice
			}
		}
		f.kind = kindOf(sf.Type)
		p.fields = append(p.fields, f)
		p.asciiLens |= 1 << min(len(f.folded), 63)
	}
	return p
}

func kindOf(t reflect.Type) fieldKind {
	if t == rawMessageType {
		return fieldRaw
	}
	if t == numberType || hasUnmarshaler(t) {
		return fieldOther // json.Number checks the strings it is given
	}
	switch t.Kind() {
	case reflect.String:
		return fieldString
	case reflect.Bool:
		return fieldBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fieldInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return fieldUint
	case reflect.Float32, reflect.Float64:
		return fieldFloat
	case reflect.Slice:
		if e := t.Elem(); e.Kind() == reflect.String && e != numberType && !hasUnmarshaler(e) {
			return fieldStrings
		}
	}
	return fieldOther
}

// tagHas reports whether a comma-separated list of options holds name.
func tagHas(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}

// validTagName is encoding/json's rule for a usable name in a tag.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// foldName folds s as encoding/json does to match names without regard
// to case: each rune becomes the smallest of its fold set.
func foldName(s string) string {
	var buf [64]byte
	return string(appendFolded(buf[:0], s))
}

func appendFolded(out []byte, s string) []byte {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out
}

// foldMatches reports whether name, which matches no field exactly,
// matches one without regard to case.
func (p *decodePlan) foldMatches(name string) bool {
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii && p.asciiLens&(1<<min(len(name), 63)) == 0 {
		return false
	}
	var buf [64]byte
	folded := appendFolded(buf[:0], name)
	for i := range p.fields {
		if p.fields[i].folded == string(folded) {
			return true
		}
	}
	return false
}

// found is one member to store: its field and its parsed value.
type found struct {
	field *planField
	raw   string // the value's JSON text
	bits  uint64 // a parsed number or boolean
	n     int    // the length of a string array
	null  bool
}

// decodeFast decodes payload into v if the fast path can do it exactly
// as encoding/json would, and reports whether it did. When it reports
// false, v has not been touched. checked says that the strict scanner has
// already accepted payload, as the Verifier does for every claims set it
// verifies; the members are then found without checking it again.
func decodeFast(cache *planCache, payload string, checked bool, v any) bool {
	if cache == nil {
		return false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	p := cache.plan(rv.Type().Elem())
	if !p.ok {
		return false
	}
	var stack [8]found // most tokens fill fewer fields; more move to the heap
	todo := stack[:0]
	if !checked {
		// Not known to be valid: the strict scanner checks it first.
		if strictjson.ScanObject(payload, nil) != nil {
			return false
		}
	}
	w := strictjson.NewWalker(payload)
	for {
		name, kind, more := w.Next()
		if !more {
			break
		}
		f := p.field(name)
		if f == nil {
			if p.foldMatches(name) {
				return false
			}
			w.Skip()
			continue
		}
		var fd found
		ok := false
		if f.kind == fieldStrings && kind == strictjson.KindArray {
			// Counted while it is skipped: one pass to count, one to fill.
			start := w.Pos()
			end := 0
			if end, fd.n, ok = countStrings(payload, start); ok {
				w.Seek(end)
				fd.field, fd.raw = f, payload[start:end]
			}
		} else {
			fd, ok = parseFound(f, kind, w.Skip())
		}
		if !ok {
			return false
		}
		if fd.field != nil {
			todo = append(todo, fd)
		}
	}
	base := rv.UnsafePointer()
	for i := range todo {
		store(unsafe.Add(base, todo[i].field.off), &todo[i])
	}
	return true
}

// parseFound checks that a value fits its field as encoding/json would
// store it. A found with a nil field means there is nothing to store (null
// leaves strings, booleans and numbers as they were).
func parseFound(f *planField, kind strictjson.Kind, raw string) (found, bool) {
	fd := found{field: f, raw: raw}
	if kind == strictjson.KindNull && f.kind != fieldRaw {
		if f.kind == fieldStrings {
			fd.null = true
			return fd, true
		}
		return found{}, f.kind != fieldOther
	}
	switch f.kind {
	case fieldString:
		return fd, kind == strictjson.KindString
	case fieldBool:
		if kind == strictjson.KindTrue {
			fd.bits = 1
		}
		return fd, kind == strictjson.KindTrue || kind == strictjson.KindFalse
	case fieldInt:
		if kind != strictjson.KindNumber {
			return fd, false
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if bits := 8 * uint(f.size); err != nil || (bits < 64 && (n < -1<<(bits-1) || n >= 1<<(bits-1))) {
			return fd, false
		}
		fd.bits = uint64(n)
		return fd, true
	case fieldUint:
		if kind != strictjson.KindNumber {
			return fd, false
		}
		n, err := strconv.ParseUint(raw, 10, 64)
		if bits := 8 * uint(f.size); err != nil || (bits < 64 && n >= 1<<bits) {
			return fd, false
		}
		fd.bits = n
		return fd, true
	case fieldFloat:
		if kind != strictjson.KindNumber {
			return fd, false
		}
		x, err := strconv.ParseFloat(raw, 8*int(f.size))
		if err != nil {
			return fd, false
		}
		fd.bits = *(*uint64)(unsafe.Pointer(&x))
		return fd, true
	case fieldStrings: // arrays are counted by decodeFast
		return fd, false
	case fieldRaw:
		return fd, true
	}
	return fd, false
}

// countStrings counts the members of the array at s[i], in a text that
// the scanner has accepted, and reports whether all of them are strings
// and where the array ends.
func countStrings(s string, i int) (end, n int, ok bool) {
	i++
	for {
		i = strictjson.SkipSpace(s, i)
		switch s[i] {
		case ']':
			return i + 1, n, true
		case ',':
			i++
		case '"':
			i, _ = strictjson.SkipString(s, i)
			n++
		default:
			return 0, 0, false
		}
	}
}

// store writes a checked value into the field at p.
func store(p unsafe.Pointer, fd *found) {
	f := fd.field
	switch f.kind {
	case fieldString:
		*(*string)(p) = strictjson.StringValue(fd.raw)
	case fieldBool:
		*(*bool)(p) = fd.bits == 1
	case fieldInt, fieldUint:
		switch f.size {
		case 1:
			*(*uint8)(p) = uint8(fd.bits)
		case 2:
			*(*uint16)(p) = uint16(fd.bits)
		case 4:
			*(*uint32)(p) = uint32(fd.bits)
		default:
			*(*uint64)(p) = fd.bits
		}
	case fieldFloat:
		x := *(*float64)(unsafe.Pointer(&fd.bits))
		if f.size == 4 {
			*(*float32)(p) = float32(x)
		} else {
			*(*float64)(p) = x
		}
	case fieldStrings:
		dst := (*[]string)(p)
		if fd.null {
			*dst = nil
			return
		}
		// encoding/json fills the slice's own array when it is large
		// enough, and makes a new empty one for [].
		s := *dst
		if fd.n > 0 && cap(s) >= fd.n {
			s = s[:fd.n]
		} else {
			s = make([]string, fd.n)
		}
		raw, at := fd.raw, 1
		for i := range fd.n {
			for raw[at] != '"' {
				at++
			}
			end, esc := strictjson.SkipString(raw, at)
			if esc {
				s[i] = strictjson.Unescape(raw[at+1 : end-1])
			} else {
				s[i] = raw[at+1 : end-1]
			}
			at = end
		}
		*dst = s
	case fieldRaw:
		dst := (*json.RawMessage)(p)
		*dst = append((*dst)[:0], fd.raw...)
	}
}

// field returns the field named name exactly, or nil.
func (p *decodePlan) field(name string) *planField {
	for i := range p.fields {
		if p.fields[i].name == name {
			return &p.fields[i]
		}
	}
	return nil
}
