package strictjson

import (
	"encoding/binary"
	"unsafe"
)

// The functions of this file walk a text that the scanner has already
// accepted: they only find where things end, and check nothing, so they
// must never see a text the scanner has not accepted.

// Walker goes through the members of the top-level object of a text that
// ScanObject has accepted: it only finds where names and values end, and
// checks nothing.
type Walker struct {
	s string
	i int
}

// NewWalker returns a walker at the first member of the object s, which
// ScanObject has accepted.
func NewWalker(s string) Walker { return Walker{s: s, i: SkipSpace(s, 0) + 1} } // after '{'

// Pos returns the walker's offset in the text.
func (w *Walker) Pos() int { return w.i }

// Seek moves the walker to offset i, the end of the value it is at.
func (w *Walker) Seek(i int) { w.i = i }

// Next returns the next member's name and its value's kind, leaving the
// walker at the value, or more = false after the last member.
func (w *Walker) Next() (name string, kind Kind, more bool) {
	s := w.s
	i := SkipSpace(s, w.i)
	if s[i] == '}' {
		return "", 0, false
	}
	if s[i] == ',' {
		i = SkipSpace(s, i+1)
	}
	end, esc := SkipString(s, i)
	name = s[i+1 : end-1]
	if esc {
		name = Unescape(name)
	}
	w.i = SkipSpace(s, SkipSpace(s, end)+1) // ':'
	return name, KindOf(s[w.i]), true
}

// Skip returns the value the walker is at and moves past it.
func (w *Walker) Skip() string {
	start := w.i
	w.i = SkipValue(w.s, start)
	return w.s[start:w.i]
}

// SkipSpace returns the offset of the first byte at or after s[i] that is
// not JSON white space.
func SkipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// SkipString returns the end of the checked string that starts at s[i],
// and whether it has escapes.
func SkipString(s string, i int) (int, bool) {
	esc := false
	i++
	for {
		for i+8 <= len(s) && quoteOrBackslash(s, i) == 0 {
			i += 8
		}
		for s[i] != '"' && s[i] != '\\' {
			i++
		}
		if s[i] == '"' {
			return i + 1, esc
		}
		esc = true
		i += 2 // the escaped byte is never the closing quote
	}
}

// KindOf returns the kind of the checked value that starts with c.
func KindOf(c byte) Kind {
	switch c {
	case '"':
		return KindString
	case '{':
		return KindObject
	case '[':
		return KindArray
	case 't':
		return KindTrue
	case 'f':
		return KindFalse
	case 'n':
		return KindNull
	}
	return KindNumber
}

// SkipValue returns the end of the checked value that starts at s[i].
func SkipValue(s string, i int) int {
	switch s[i] {
	case '"':
		end, _ := SkipString(s, i)
		return end
	case '{', '[':
		depth := 0
		for {
			switch s[i] {
			case '"':
				i, _ = SkipString(s, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(s) && !endsNumber[s[i]] {
		i++
	}
	return i
}

// quoteOrBackslash flags with the top bit of each byte the bytes of the
// eight at s[i:] that may be '"' or a backslash; it is zero when there
// are none.
func quoteOrBackslash(s string, i int) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	v := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:i+8]), 8))
	q := v ^ ('"' * lo)
	bs := v ^ ('\\' * lo)
	return ((q-lo)&^q | (bs-lo)&^bs) & hi
}

// endsNumber marks the bytes that end a number or literal in a checked
// text.
var endsNumber = [256]bool{',': true, '}': true, ']': true, ' ': true, '\t': true, '\n': true, '\r': true}
