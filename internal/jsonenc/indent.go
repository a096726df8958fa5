package jsonenc

import "bytes"

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
func AppendIndent(dst, src []byte) []byte {
	depth := 0
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
// contents start at i: the first quote not escaped by a backslash.
func stringEnd(src []byte, i int) int {
	for {
		q := bytes.IndexByte(src[i:], '"')
		if q < 0 {
			return len(src) // not from json.Marshal; copied as it is
		}
		q += i
		// A quote is escaped when an odd number of backslashes precede it.
		n := 0
		for j := q - 1; j >= i && src[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
}

const indentSpaces = "                                                                "

func appendNewline(dst []byte, depth int) []byte {
	dst = append(dst, '\n')
	for n := 2 * depth; n > 0; {
		k := min(n, len(indentSpaces))
		dst = append(dst, indentSpaces[:k]...)
		n -= k
	}
	return dst
}
