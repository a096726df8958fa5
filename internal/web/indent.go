package web

import (
	"net/http"
	"sync"

	"github.com/candor/candor/internal/jsonenc"
)

// The API's answers are indented: people read them with curl. They are
// written as json.Marshal writes them (jsonenc) and indented as
// json.Indent would (jsonenc.AppendIndent), without json.Encoder's second
// pass of its whole scanner.

// jsonBufs holds the buffers answers are marshalled and indented into; an
// answer larger than maxPooledJSON is not kept, so one huge drill-down does
// not pin its buffer for the process's life.
var jsonBufs = sync.Pool{New: func() any { return new(jsonBuf) }}

const maxPooledJSON = 1 << 20

// raw holds an answer as jsonenc writes it, out the same indented.
type jsonBuf struct{ out, raw []byte }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	buf := jsonBufs.Get().(*jsonBuf)
	defer func() {
		if cap(buf.out) <= maxPooledJSON && cap(buf.raw) <= maxPooledJSON {
			jsonBufs.Put(buf)
		}
	}()
	out, err := jsonenc.AppendIndented(buf.out[:0], v, &buf.raw)
	if err != nil {
		// As json.Encoder did: the status is sent, the body is empty. A
		// value the API answers with always marshals; this is a defect.
		return
	}
	buf.out = append(out, '\n')
	w.Write(buf.out)
}
