package connect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/candor/candor/internal/domain"
)

// Handler serves POST /webhooks/{source}. It needs no session or API
// token in front of it: each delivery is verified by its source's own
// scheme (a signature over the body, or an API token with records:write
// for the bearer sources), so its route's policy is "anonymous, verified
// by the connector". Mount it on a pattern with a {source} wildcard; on
// any other the source is the path's last segment.
//
// A delivery taken, ignored or recognised as a duplicate is answered 200
// with {"outcome": "accepted" | "duplicate" | "ignored", …}. Everything
// else goes to fail, the web layer's error writer, as a coded error — so
// a refusal reads like every other error of the API (one vocabulary, one
// mapping to HTTP status, the request id): invalid for a malformed
// delivery or an identifier over its bound, unauthorized for a missing or
// bad signature or token, forbidden for a source with no secret configured
// (or a token without records:write), not_found for an unknown source,
// too_large for a body over connectors.max_body_bytes; and the store's
// failure as it comes: unavailable (503, Retry-After) for a store that
// cannot be reached, else an internal error (500) — nothing was stored, and
// the sender is to send the delivery again. The writer adds
// a Refusal's outcome and the payload's field at fault, so that a sender
// reads the outcome of every answer in the same place.
func (s *Service) Handler(fail func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		source := r.PathValue("source")
		if source == "" {
			source = r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			fail(w, r, domain.Errorf(domain.EMethodNotAllowed, "method %s not allowed on %s (allowed: POST)", r.Method, r.URL.Path))
			return
		}
		body, buf, err := readBody(http.MaxBytesReader(w, r.Body, s.maxBody), r.ContentLength, s.maxBody)
		// Nothing holds the body once the delivery is answered: the
		// mapping copies what it reads, and the kept payload is the
		// store's copy, written by then.
		defer releaseBody(buf)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			res, err := s.TooLarge(r.Context(), source, r.Header, mbe.Limit)
			s.answer(w, r, res, err, fail)
			return
		}
		if err != nil {
			// The client went away or broke off mid-body: nothing to answer.
			return
		}
		res, err := s.Receive(r.Context(), Request{Source: source, Header: r.Header, Body: body})
		s.answer(w, r, res, err, fail)
	})
}

// readBody reads a delivery's body: into a reused buffer when its
// Content-Length says a size within the limit (the server holds the body
// to it), else growing as io.ReadAll does. releaseBody(buf) hands the
// buffer back for another delivery; the body must not be used after. (A
// new buffer for every delivery was a quarter of the bytes a webhook
// delivery allocated, and collecting garbage a tenth of its CPU.)
//
// The buffer grows with the bytes that arrive, never to the size the
// header claims before they do: anyone may post to a webhook, and a
// request saying Content-Length: 25 MiB then sending a byte a minute had
// held 25 MiB until the read timeout — forty such requests, a few hundred
// bytes in all, took the server's resident memory from 110 MB to 870 MB.
func readBody(r io.Reader, size, limit int64) (body []byte, buf *[]byte, err error) {
	if size <= 0 || size > limit {
		body, err = io.ReadAll(r)
		return body, nil, err
	}
	buf = bodies.Get().(*[]byte)
	b := (*buf)[:0]
	for int64(len(b)) < size {
		if len(b) == cap(b) {
			// Double what has arrived (at least firstRead), up to the size.
			grown := make([]byte, len(b), min(max(2*int64(cap(b)), firstRead), size))
			copy(grown, b)
			b = grown
		}
		n, err := r.Read(b[len(b):min(int64(cap(b)), size)])
		b = b[:len(b)+n]
		if err != nil && int64(len(b)) < size {
			*buf = b[:0]
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, buf, err
		}
	}
	*buf = b
	return b, buf, nil
}

// firstRead is the least a delivery's buffer is given when it must grow.
const firstRead = 32 << 10

// releaseBody hands a body's buffer back (none: nil).
func releaseBody(buf *[]byte) {
	if buf != nil && cap(*buf) <= maxPooledBody {
		bodies.Put(buf)
	}
}

// bodies holds the buffers deliveries are read into. A sync.Pool is
// emptied by the collector; at a delivery's size remaking one after a
// collection costs little.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody bounds the buffers kept for reuse: a rare large delivery
// does not hold its memory.
const maxPooledBody = 1 << 20

// Refusal is a refused delivery as an error of the vocabulary; it keeps
// the Result so that a caller can log what was refused.
type Refusal struct{ Result Result }

func (e *Refusal) Error() string {
	if e.Result.DeliveryID != "" {
		return fmt.Sprintf("%s delivery %s refused: %s", e.Result.Source, e.Result.DeliveryID, e.Result.Reason)
	}
	return fmt.Sprintf("%s delivery refused: %s", e.Result.Source, e.Result.Reason)
}

// ErrorCode gives the refusal its code (domain.CodeOf reads it).
func (e *Refusal) ErrorCode() domain.Code { return e.Result.Code }

func (s *Service) answer(w http.ResponseWriter, r *http.Request, res Result, err error, fail func(http.ResponseWriter, *http.Request, error)) {
	if err != nil {
		if r.Context().Err() == nil {
			s.log.Error("webhook delivery failed", "path", r.URL.Path, "err", err)
		}
		fail(w, r, fmt.Errorf("webhook delivery not stored (send it again): %w", err))
		return
	}
	if res.Code != "" {
		fail(w, r, &Refusal{Result: res})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	// Compact: senders log the answer, nobody reads it on a terminal.
	json.NewEncoder(w).Encode(res)
}
