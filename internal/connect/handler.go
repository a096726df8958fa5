package connect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/candor/candor/internal/store"
)

// Handler serves POST /webhooks/{source}. It needs no session or API
// token in front of it: each delivery is verified by its source's own
// scheme (a signature over the body, or an API token with records:write
// for the bearer sources), so its route's policy is "anonymous, verified
// by the connector". Mount it on a pattern with a {source} wildcard; on
// any other the source is the path's last segment.
//
// Answers: 2xx with {"outcome": "accepted" | "duplicate" | "ignored", …};
// 400 for a malformed delivery or an identifier over its bound, 401 for a
// missing or bad signature or token, 403 for a source with no secret
// configured (or a token without records:write), 404 for an unknown
// source, 413 for a body over connectors.max_body_bytes; 500 when the
// store failed (the sender retries).
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		source := r.PathValue("source")
		if source == "" {
			source = r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": fmt.Sprintf("method %s not allowed on %s (allowed: POST)", r.Method, r.URL.Path)})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			res, err := s.TooLarge(r.Context(), source, r.Header, mbe.Limit)
			s.answer(w, r, res, err)
			return
		}
		if err != nil {
			// The client went away or broke off mid-body: nothing to answer.
			return
		}
		res, err := s.Receive(r.Context(), Request{Source: source, Header: r.Header, Body: body})
		s.answer(w, r, res, err)
	})
}

// answer writes a Result, or the store's error as a 500 whose details go
// to the log only.
func (s *Service) answer(w http.ResponseWriter, r *http.Request, res Result, err error) {
	if err != nil {
		if r.Context().Err() == nil {
			s.log.Error("webhook delivery failed", "path", r.URL.Path, "err", err)
		}
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error; see the server log (the delivery was not stored: send it again)"})
		return
	}
	if res.Outcome == store.DeliveryRejected {
		writeJSON(w, res.Status, struct {
			Error string `json:"error"`
			Result
		}{res.Reason, res})
		return
	}
	writeJSON(w, res.Status, res)
}

// writeJSON answers compactly: senders log the answer, nobody reads it
// on a terminal.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
