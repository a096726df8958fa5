package jsonenc

import (
	"encoding/binary"
	"math/bits"
)

// The API's answers and the CLI's JSON are indented: people read them.
// json.Encoder indents by running its whole JSON scanner over the
// marshalled bytes a second time, which cost as much as marshalling the
// metric pages and scorecards (150–300 KB) and was a tenth of the server's
// CPU while it answered reads during a large import. json.Marshal's output
// is compact and valid (a MarshalJSON's output is compacted too), so
// indenting it needs only to know whether a byte is inside a string:
// AppendIndent does that, and gives exactly json.Indent's bytes.

// AppendIndent appends src, one compact JSON value as json.Marshal
// writes it, to dst indented as json.Indent(dst, src, "", "  ") would:
// each element and member on its own line, two spaces a level, ": " after
// a member's name, and empty objects and arrays kept as {} and [].
func AppendIndent(dst, src []byte) []byte { return AppendIndentAt(dst, src, 0) }

// AppendIndentAt is AppendIndent for a value that stands depth levels deep
// in an indented document: each of its lines is indented that much more.
func AppendIndentAt(dst, src []byte, depth int) []byte {
	// open is set after { or [: the newline before its first element is
	// written only once we know there is one.
	open := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if open && c != '}' && c != ']' {
			open = false
			depth++
			dst = appendNewline(dst, depth)
		}
		switch c {
		case '"':
			end := stringEnd(src, i+1)
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			open = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = appendNewline(dst, depth)
		case ':':
			dst = append(dst, ':', ' ')
		case '}', ']':
			if open {
				open = false
			} else {
				depth--
				dst = appendNewline(dst, depth)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// stringEnd returns the position after the quote closing the string whose
// contents start at i: the first quote not escaped by a backslash. It
// looks at eight bytes at a time for a quote or a backslash: most strings
// of an answer are short (member names, ids, times), and searching each
// with bytes.IndexByte, a call and a count of backslashes per string, was
// half of indenting an answer.
func stringEnd(src []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(src) {
		w := binary.LittleEndian.Uint64(src[i:])
		q, bs := w^(ones*'"'), w^(ones*'\\')
		// The lowest byte of q or bs that is zero sets the lowest bit
		// of m (bits above it may be set falsely, by the borrow).
		m := ((q-ones)&^q | (bs-ones)&^bs) & highs
		if m == 0 {
			i += 8
			continue
		}
		j := i + bits.TrailingZeros64(m)/8
		if src[j] == '"' {
			return j + 1
		}
		i = j + 2 // a backslash and the byte it escapes
	}
	for i < len(src) {
		switch src[i] {
		case '"':
			return i + 1
		case '\\':
			i += 2
		default:
			i++
		}
	}
	return len(src) // not from json.Marshal; copied as it is
}

const indentSpaces = "                                                                "

// Indenter is a value that writes itself as an answer indented, as
// AppendIndent would indent what AppendAnswer writes of it, in one pass (scorecard.MetricDetail: a
// drill-down's page of records is most of an answer's bytes, and
// indenting it again was a tenth of the server's CPU while it answered
// reads during a large import).
type Indenter interface {
	AppendJSONIndent(b []byte) ([]byte, error)
}

// AppendIndented appends v, an answer, as AppendAnswer writes it (floats
// tidied) indented by json.Indent(dst, src, "", "  "): by v's own
// AppendJSONIndent when it has one, else written compact into *scratch
// (grown and kept for reuse) and indented from there.
func AppendIndented(dst []byte, v any, scratch *[]byte) ([]byte, error) {
	if in, ok := v.(Indenter); ok {
		return in.AppendJSONIndent(dst)
	}
	raw, err := AppendAnswer((*scratch)[:0], v)
	if err != nil {
		return dst, err
	}
	*scratch = raw
	return AppendIndent(dst, raw), nil
}

// A writer that writes a value both ways — compact as json.Marshal does,
// or indented as AppendIndentAt would indent it — passes the depth of the
// object or array it is writing, negative for compact, to the helpers
// below, and Inner(depth) to the values inside it: one writer, not one
// per form.

// Inner is the depth of the values inside a container at depth.
func Inner(depth int) int {
	if depth < 0 {
		return depth
	}
	return depth + 1
}

// AppendKey appends the name of a member of an object at depth and its
// colon: after a comma unless it is the first, on a line of its own when
// indented.
func AppendKey(b []byte, name string, first bool, depth int) []byte {
	b = AppendElem(b, first, depth)
	b = AppendString(b, name)
	if depth < 0 {
		return append(b, ':')
	}
	return append(b, ':', ' ')
}

// AppendElem appends what comes before an element of an array at depth:
// a comma unless it is the first, and its line when indented.
func AppendElem(b []byte, first bool, depth int) []byte {
	if !first {
		b = append(b, ',')
	}
	if depth >= 0 {
		b = appendNewline(b, depth+1)
	}
	return b
}

// AppendEnd appends c, the end of a non-empty object or array at depth,
// on a line of its own when indented (an empty one is written {} or []).
func AppendEnd(b []byte, c byte, depth int) []byte {
	if depth >= 0 {
		b = appendNewline(b, depth)
	}
	return append(b, c)
}

func appendNewline(dst []byte, depth int) []byte {
	dst = append(dst, '\n')
	for n := 2 * depth; n > 0; {
		k := min(n, len(indentSpaces))
		dst = append(dst, indentSpaces[:k]...)
		n -= k
	}
	return dst
}
