package strictjson

// Value is a parsed JSON value.
type Value struct {
	Kind Kind
	// Str is a string's value (unescaped), a number's text, or "true" or
	// "false".
	Str string
	Arr []Value
	Obj Object
}

// IsBool reports whether v is true or false.
func (v Value) IsBool() bool { return v.Kind == KindTrue || v.Kind == KindFalse }

// Member is a member of an object.
type Member struct {
	Name string
	Val  Value
}

// Object is an object's members in the order of the text.
type Object []Member

// Get returns the member called name, or nil. Member names are unique (the
// scanner refuses duplicates), so the first match is the only one.
func (o Object) Get(name string) *Value {
	for i := range o {
		if o[i].Name == name {
			return &o[i].Val
		}
	}
	return nil
}

// Parse parses a text that must be exactly one JSON value, with optional
// surrounding white space, and returns its tree. It first scans the whole
// text, so that every error is the scanner's, then builds the tree.
func Parse(data []byte) (Value, error) {
	s := string(data)
	if _, _, err := Single(s); err != nil {
		return Value{}, err
	}
	b := builder{s: s, i: SkipSpace(s, 0)}
	return b.value(), nil
}

// builder builds the tree of a text that the scanner has accepted.
type builder struct {
	s string
	i int
}

// value builds the value at b.i and moves past it.
func (b *builder) value() Value {
	s := b.s
	switch s[b.i] {
	case '{':
		var obj Object
		for b.i++; ; {
			b.i = SkipSpace(s, b.i)
			switch s[b.i] {
			case '}':
				b.i++
				return Value{Kind: KindObject, Obj: obj}
			case ',':
				b.i = SkipSpace(s, b.i+1)
			}
			end, _ := SkipString(s, b.i)
			name := StringValue(s[b.i:end])
			b.i = SkipSpace(s, SkipSpace(s, end)+1) // past ':'
			obj = append(obj, Member{Name: name, Val: b.value()})
		}
	case '[':
		arr := []Value{}
		for b.i++; ; {
			b.i = SkipSpace(s, b.i)
			switch s[b.i] {
			case ']':
				b.i++
				return Value{Kind: KindArray, Arr: arr}
			case ',':
				b.i = SkipSpace(s, b.i+1)
			}
			arr = append(arr, b.value())
		}
	}
	start := b.i
	b.i = SkipValue(s, start)
	raw := s[start:b.i]
	switch k := KindOf(raw[0]); k {
	case KindString:
		return Value{Kind: k, Str: StringValue(raw)}
	case KindNull:
		return Value{Kind: k}
	default: // a number's text, true or false
		return Value{Kind: k, Str: raw}
	}
}
