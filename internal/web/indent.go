package web

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/candor/candor/internal/jsonenc"
)

// The API's answers are indented: people read them with curl. But
// json.Encoder indents by running its whole JSON scanner over the
// marshalled bytes a second time, which cost as much as marshalling the
// metric pages and scorecards (150–300 KB) and was a tenth of the server's
// CPU while it answered reads during a large import. json.Marshal's output
// is compact and valid (a MarshalJSON's output is compacted too), so
// indenting it needs only to know whether a byte is inside a string:
// appendIndented does that, and gives exactly json.Indent's bytes.

// jsonBufs holds the buffers answers are marshalled and indented into; an
// answer larger than maxPooledJSON is not kept, so one huge drill-down does
// not pin its buffer for the process's life.
var jsonBufs = sync.Pool{New: func() any { return new(jsonBuf) }}

const maxPooledJSON = 1 << 20

// raw holds an answer encoded by its own AppendJSON before indenting.
type jsonBuf struct{ out, raw []byte }

// jsonAppender is a value that encodes itself as json.Marshal would, only
// faster (scorecard.MetricDetail: a metric page and its records).
type jsonAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	buf := jsonBufs.Get().(*jsonBuf)
	var b []byte
	var err error
	if a, ok := v.(jsonAppender); ok {
		buf.raw, err = a.AppendJSON(buf.raw[:0])
		b = buf.raw
	} else {
		buf.raw, err = jsonenc.Append(buf.raw[:0], v)
		b = buf.raw
	}
	defer func() {
		if cap(buf.out) <= maxPooledJSON && cap(buf.raw) <= maxPooledJSON {
			jsonBufs.Put(buf)
		}
	}()
	if err != nil {
		// As json.Encoder did: the status is sent, the body is empty. A
		// value the API answers with always marshals; this is a defect.
		return
	}
	buf.out = append(appendIndented(buf.out[:0], b), '\n')
	w.Write(buf.out)
}

// appendIndented appends src, one compact JSON value as json.Marshal
// writes it, to dst indented as json.Indent(dst, src, "", "  ") would:
// each element and member on its own line, two spaces a level, ": " after
// a member's name, and empty objects and arrays kept as {} and [].
func appendIndented(dst, src []byte) []byte {
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
