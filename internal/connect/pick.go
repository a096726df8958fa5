package connect

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/candor/candor/internal/jsonscan"
)

// A webhook payload is large (a GitHub pull_request event is 25–30 KB:
// the repository, its owner and the head and base repositories in full)
// and a mapping reads a dozen of its fields. encoding/json scans the whole
// payload twice (validating it, then decoding) through its general state
// machine, which made decoding the largest part of a delivery's CPU. pick
// decodes the same struct in one pass: it walks the payload's objects
// along the struct's fields, hands each value a field wants to
// encoding/json (a few bytes each), and steps over every other member
// with jsonscan, which checks it as it goes. Anything out of the ordinary
// — not an object, a member name with escapes or non-ASCII bytes, nesting
// past jsonscan.MaxDepth, a value that does not fit its field, invalid
// JSON anywhere — makes pick give up, and decode does it again with
// encoding/json, which decides and words the error: so the fast path
// never changes a result, only what it costs. FuzzPick holds the two to
// the same results.

// pickPlan is how a struct type's members are decoded: its JSON member
// names and, for each, where the field is and how to decode it.
type pickPlan struct {
	fields map[string]*pickField
	// names in order, for the case-insensitive match encoding/json makes
	// when no name matches exactly.
	names []string
}

type pickField struct {
	index []int
	// sub is the plan of a struct field decoded member by member; nil
	// for a field decoded whole.
	sub *pickPlan
	// How a field decoded whole is: by its own UnmarshalJSON (called as
	// encoding/json calls it, with the value's bytes, null included), as a
	// string or bool set directly from a plain literal, or else by
	// encoding/json.
	unmarshaler, str, boolean bool
}

var (
	pickPlans       sync.Map // reflect.Type → *pickPlan, or nil when unsupported
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// planOf returns the plan of a struct type; nil when pick cannot decode it
// exactly as encoding/json would (a ",string" option, a name two fields
// share).
func planOf(t reflect.Type) *pickPlan {
	if p, ok := pickPlans.Load(t); ok {
		return p.(*pickPlan)
	}
	p := buildPlan(t, 0)
	pickPlans.Store(t, p)
	return p
}

func buildPlan(t reflect.Type, depth int) *pickPlan {
	if depth > 16 {
		return nil
	}
	p := &pickPlan{fields: map[string]*pickField{}}
	// Only simple types: each JSON name is one field, no promotion
	// conflicts to settle. (Embedded structs are promoted one level, as
	// the event structs embed their head.)
	var add func(t reflect.Type, index []int) bool
	add = func(t reflect.Type, index []int) bool {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, hasTag := f.Tag.Lookup("json")
			name, opts, _ := strings.Cut(tag, ",")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			if opts != "" && opts != "omitempty" && opts != "omitzero" {
				return false // ",string" and the like
			}
			idx := append(append([]int{}, index...), i)
			if f.Anonymous && !hasTag {
				if f.Type.Kind() != reflect.Struct || !add(f.Type, idx) {
					return false
				}
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, dup := p.fields[name]; dup || !ascii(name) {
				return false
			}
			pf := &pickField{index: idx}
			ft := f.Type
			custom := reflect.PointerTo(ft).Implements(unmarshalerType)
			switch {
			case ft.Kind() == reflect.Struct && !custom && !reflect.PointerTo(ft).Implements(textType):
				if pf.sub = buildPlan(ft, depth+1); pf.sub == nil {
					return false
				}
			case custom && ft.Kind() != reflect.Pointer && ft.Kind() != reflect.Interface:
				pf.unmarshaler = true
			case ft == reflect.TypeFor[string]():
				pf.str = true
			case ft == reflect.TypeFor[bool]():
				pf.boolean = true
			}
			p.fields[name] = pf
			p.names = append(p.names, name)
		}
		return true
	}
	if t.Kind() != reflect.Struct || !add(t, nil) {
		return nil
	}
	return p
}

func ascii(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// field finds a member's field: by exact name, else case-insensitively,
// as encoding/json does.
func (p *pickPlan) field(name []byte) *pickField {
	if f, ok := p.fields[string(name)]; ok {
		return f
	}
	for _, n := range p.names {
		if strings.EqualFold(n, string(name)) {
			return p.fields[n]
		}
	}
	return nil
}

// pick decodes body into v, a pointer to a struct, the fast way; false
// when it gave up (v is then to be decoded again from its zero value).
func pick(body []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	p := planOf(rv.Elem().Type())
	if p == nil {
		return false
	}
	i := jsonscan.SkipSpace(body, 0)
	end, ok := pickObject(body, i, 0, p, rv.Elem())
	return ok && jsonscan.SkipSpace(body, end) == len(body)
}

// pickObject decodes the object at b[i] into the struct value sv and
// returns where it ends.
func pickObject(b []byte, i, depth int, p *pickPlan, sv reflect.Value) (int, bool) {
	if i >= len(b) || b[i] != '{' || depth >= jsonscan.MaxDepth {
		return 0, false
	}
	i = jsonscan.SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		// A plain name: printable ASCII without escapes, so its bytes are
		// its value.
		start := i + 1
		i = start
		for i < len(b) && b[i] != '"' {
			if c := b[i]; c < 0x20 || c >= utf8.RuneSelf || c == '\\' {
				return 0, false
			}
			i++
		}
		if i >= len(b) {
			return 0, false
		}
		name := b[start:i]
		i = jsonscan.SkipSpace(b, i+1)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		i = jsonscan.SkipSpace(b, i+1)
		var end int
		var ok bool
		switch f := p.field(name); {
		case f == nil:
			end, ok = jsonscan.Value(b, i, depth+1)
		case f.sub != nil && i < len(b) && b[i] == '{':
			end, ok = pickObject(b, i, depth+1, f.sub, sv.FieldByIndex(f.index))
		default:
			// A value decoded whole (null for a struct too: it leaves the
			// struct as it is, as encoding/json does).
			if end, ok = jsonscan.Value(b, i, depth+1); ok {
				ok = setWhole(sv.FieldByIndex(f.index), f, b[i:end])
			}
		}
		if !ok {
			return 0, false
		}
		var closed bool
		if i, closed, ok = jsonscan.AfterElement(b, end, '}'); !ok || closed {
			return i, ok
		}
	}
}

// setWhole decodes a checked JSON value into a field as encoding/json
// would; false when it cannot (a value of the wrong type: decode then
// lets encoding/json word the error).
func setWhole(fv reflect.Value, f *pickField, raw []byte) bool {
	switch {
	case f.unmarshaler:
		return fv.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw) == nil
	case f.str && plainString(raw):
		fv.SetString(string(raw[1 : len(raw)-1]))
		return true
	case f.boolean && (raw[0] == 't' || raw[0] == 'f'):
		fv.SetBool(raw[0] == 't')
		return true
	}
	return json.Unmarshal(raw, fv.Addr().Interface()) == nil
}

// plainString reports whether raw is a string literal whose bytes are its
// value: no escapes, valid UTF-8 (encoding/json replaces invalid bytes).
func plainString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' {
		return false
	}
	inner, ascii := raw[1:len(raw)-1], true
	for _, c := range inner {
		if c == '\\' {
			return false
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	return ascii || utf8.Valid(inner)
}
