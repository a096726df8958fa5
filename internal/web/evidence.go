package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
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
	// A pack is the whole organisation's, as `candor evidence` writes it:
	// its snapshots are whole scorecards, and its figures the same for
	// every reader (one period, one head, one pack). A reader whose roles
	// do not open every metric is refused, naming them, rather than given
	// a pack filtered in one file and whole in the others.
	if hidden, _ := s.Catalog.Unseen(nil, s.access(r).CanSeeMetric); len(hidden) > 0 {
		s.writeError(w, r, domain.Errorf(domain.EForbidden, "an evidence pack states every metric, and your roles do not open %s", strings.Join(hidden, ", ")))
		return
	}
	// Built whole before the first byte, so a failure is an error answer
	// rather than a cut archive. The figures' freshness is read from the
	// connectors as of the period's end.
	var buf bytes.Buffer
	in := evidence.Input{Store: s.Store, Engine: s.Engine, Catalog: s.Catalog, Keys: s.LedgerKeys, Governance: s.Governance, Now: now}
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
