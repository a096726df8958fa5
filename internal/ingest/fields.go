package ingest

import (
	"github.com/candor/candor/internal/domain"
)

// parseLine is domain.ParseJSON, faster on the lines imports are made of.
// ParseJSON splits the object with encoding/json into a map of raw
// messages (unmarshal, map and copies): a third of an import's CPU. Here a
// single pass validates and splits an object with plain member names, and
// anything else (not an object, a name with escapes or non-ASCII bytes, a
// repeated name, invalid JSON) goes to ParseJSON, which decides and words
// the error. TestSplitObjectMatchesParseJSON and FuzzSplitObject hold the
// two to the same results.
//
// f, when not nil, is cleared and reused for the fields (ParseFields keeps
// nothing of them), which spares the map an allocation per line; names,
// when not nil, interns member names across lines.
func parseLine(line []byte, kind domain.Kind, opt domain.ParseOptions, f domain.Fields, names names) (domain.Record, error) {
	if f, ok := splitObject(line, f, names); ok {
		return domain.ParseFields(f, kind, opt)
	}
	return domain.ParseJSON(line, kind, opt)
}

// names interns member names: every line of an import repeats the same
// few dozen, and a string per member was an eighth of the allocations.
// The lookup does not allocate; the table stops growing at maxNames so
// input with endless distinct names cannot grow it.
type names map[string]string

const maxNames = 512

func (n names) intern(b []byte) string {
	if s, ok := n[string(b)]; ok {
		return s
	}
	s := string(b)
	if n != nil && len(n) < maxNames {
		n[s] = s
	}
	return s
}

// maxDepth bounds nesting in a value; deeper values take the slow path.
const maxDepth = 64

// splitObject splits a JSON object into its members, each value's raw
// bytes as encoding/json's RawMessage would hold them, into f (a new map
// if nil). ok is false when the line is not such an object or the fast
// path cannot tell.
func splitObject(b []byte, f domain.Fields, names names) (domain.Fields, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	if f == nil {
		f = make(domain.Fields, 16)
	}
	clear(f)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return f, skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		// A plain name: printable ASCII without escapes, so its bytes are
		// its decoded value.
		start := i + 1
		i = start
		for i < len(b) && b[i] != '"' {
			if c := b[i]; c < 0x20 || c >= 0x80 || c == '\\' {
				return nil, false
			}
			i++
		}
		if i >= len(b) {
			return nil, false
		}
		name := b[start:i]
		i = skipSpace(b, i+1)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		end, ok := value(b, i, 0)
		if !ok {
			return nil, false
		}
		if _, dup := f[string(name)]; dup {
			return nil, false
		}
		f[names.intern(name)] = domain.Value{Raw: b[i:end]}
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return f, skipSpace(b, i+1) == len(b)
		default:
			return nil, false
		}
	}
}

// skipSpace skips JSON whitespace (only these four bytes are).
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value checks the JSON value starting at b[i] and returns where it ends.
func value(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return str(b, i)
	case c == '-' || ('0' <= c && c <= '9'):
		return number(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '[':
		if depth >= maxDepth {
			return 0, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			end, ok := value(b, i, depth+1)
			if !ok {
				return 0, false
			}
			var closed bool
			if i, closed, ok = afterElement(b, end, ']'); !ok || closed {
				return i, ok
			}
		}
	case c == '{':
		if depth >= maxDepth {
			return 0, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, false
			}
			end, ok := str(b, i)
			if !ok {
				return 0, false
			}
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, false
			}
			end, ok = value(b, skipSpace(b, i+1), depth+1)
			if !ok {
				return 0, false
			}
			var closed bool
			if i, closed, ok = afterElement(b, end, '}'); !ok || closed {
				return i, ok
			}
		}
	}
	return 0, false
}

// afterElement reads what follows an array element or object member
// ending at end: a comma (the next element starts at i) or the closer
// (closed, i past it).
func afterElement(b []byte, end int, closer byte) (i int, closed, ok bool) {
	i = skipSpace(b, end)
	switch {
	case i >= len(b):
		return 0, false, false
	case b[i] == ',':
		return skipSpace(b, i+1), false, true
	case b[i] == closer:
		return i + 1, true, true
	}
	return 0, false, false
}

// str checks the string starting at b[i] (a quote). Like encoding/json's
// scanner it takes any byte from 0x20 up, valid UTF-8 or not (decoding
// replaces invalid sequences later).
func str(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			i++
			if i >= len(b) {
				return 0, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return 0, false
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return 0, false
					}
				}
				i += 4
			default:
				return 0, false
			}
		}
	}
	return 0, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func number(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}
