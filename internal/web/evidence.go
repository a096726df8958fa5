package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/candor/candor/internal/evidence"
)

// getEvidence serves the evidence pack of [from, to) as a zip (package
// evidence), for the auditor.
func (s *Server) getEvidence(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := s.Now()
	p, err := evidence.ParsePeriod(q.Get("from"), q.Get("to"))
	if err == nil {
		err = p.CheckEnd(now)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Built whole before the first byte, so a failure is an error answer
	// rather than a cut archive.
	var buf bytes.Buffer
	in := evidence.Input{Store: s.Store, Engine: s.Engine, Catalog: s.Catalog, Keys: s.LedgerKeys, Governance: s.Governance, Now: now}
	if _, err := evidence.Write(r.Context(), in, p, &buf); err != nil {
		s.writeError(w, r, err)
		return
	}
	name := fmt.Sprintf("candor-evidence-%s-%s.zip", p.From.Format(time.DateOnly), p.To.Add(-time.Nanosecond).Format(time.DateOnly))
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}
