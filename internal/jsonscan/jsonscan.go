// Package jsonscan checks JSON values and finds where they end, in one pass
// and without decoding them: what a reader that wants a few members of a
// large document (a webhook payload, an import line) uses to step over
// the rest. It accepts what encoding/json accepts — its grammar, and any
// byte from 0x20 up inside strings, valid UTF-8 or not — up to MaxDepth
// levels of nesting; past that it says no, and the caller falls back to
// encoding/json, which decides and words the error.
package jsonscan

// MaxDepth bounds the nesting Value follows.
const MaxDepth = 64

// SkipSpace skips JSON whitespace (only these four bytes are).
func SkipSpace(b []byte, i int) int {
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

// Value checks the JSON value starting at b[i] (depth levels deep) and
// returns where it ends.
func Value(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return String(b, i)
	case c == '-' || ('0' <= c && c <= '9'):
		return number(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '[':
		if depth >= MaxDepth {
			return 0, false
		}
		i = SkipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			end, ok := Value(b, i, depth+1)
			if !ok {
				return 0, false
			}
			var closed bool
			if i, closed, ok = AfterElement(b, end, ']'); !ok || closed {
				return i, ok
			}
		}
	case c == '{':
		if depth >= MaxDepth {
			return 0, false
		}
		i = SkipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, false
			}
			end, ok := String(b, i)
			if !ok {
				return 0, false
			}
			i = SkipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, false
			}
			end, ok = Value(b, SkipSpace(b, i+1), depth+1)
			if !ok {
				return 0, false
			}
			var closed bool
			if i, closed, ok = AfterElement(b, end, '}'); !ok || closed {
				return i, ok
			}
		}
	}
	return 0, false
}

// AfterElement reads what follows an array element or object member
// ending at end: a comma (the next element starts at i) or the closer
// (closed, i past it).
func AfterElement(b []byte, end int, closer byte) (i int, closed, ok bool) {
	i = SkipSpace(b, end)
	switch {
	case i >= len(b):
		return 0, false, false
	case b[i] == ',':
		return SkipSpace(b, i+1), false, true
	case b[i] == closer:
		return i + 1, true, true
	}
	return 0, false, false
}

// special marks the bytes that end a run of plain string bytes: the
// quote, the backslash and the control characters.
var special = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// String checks the string starting at b[i] (a quote) and returns where it
// ends. Strings are most of a document's bytes: plain runs are stepped
// over by a table look-up a byte.
func String(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		for i < len(b) && !special[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return 0, false
		}
		// A backslash.
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
