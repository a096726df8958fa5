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
	// Its figures are of the metrics the reader may see, as a scorecard's
	// (SPEC §9), their freshness read from the connectors as of the
	// period's end.
	in := evidence.Input{Store: s.Store, Engine: s.Engine, Catalog: s.Catalog, Keys: s.LedgerKeys, Governance: s.Governance, Now: now,
		Visible: s.access(r).CanSeeMetric}
	if s.Connectors != nil {
		if in.Connectors, err = s.Connectors.Feeds(r.Context(), p.To); err != nil {
			s.writeError(w, r, &connectorHealthError{err})
			return
		}
	}
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
