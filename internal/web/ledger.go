package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/candor/candor/internal/ledger"
)

// Ledger paging: entries per page by default and at most.
const (
	defaultLedgerLimit = 1000
	maxLedgerLimit     = 10_000
)

// getLedger serves the audit ledger's entries: from and to are positions
// (inclusive) or times (RFC 3339 or dates; at ≥ from, at < to).
func (s *Server) getLedger(w http.ResponseWriter, r *http.Request) {
	var rg ledger.Range
	var err error
	if rg.FromSeq, rg.From, err = ledgerBound(r, "from"); err == nil {
		rg.ToSeq, rg.To, err = ledgerBound(r, "to")
	}
	// A range that ends before it begins is a mistake to point at, as the
	// adoption, annotations and evidence ranges say, not an empty page.
	switch {
	case err != nil:
	case rg.FromSeq > 0 && rg.ToSeq > 0 && rg.ToSeq < rg.FromSeq:
		err = badParam("to", "position %d is before from (%d)", rg.ToSeq, rg.FromSeq)
	case !rg.From.IsZero() && !rg.To.IsZero() && rg.To.Before(rg.From):
		err = badParam("to", "%s is before from (%s)", rg.To.Format(time.RFC3339Nano), rg.From.Format(time.RFC3339Nano))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := intParam(r, "limit", defaultLedgerLimit, 1, maxLedgerLimit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := ledger.Read(r.Context(), s.Store, rg, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// ledgerBound reads a range parameter: a position, or a time.
func ledgerBound(r *http.Request, name string) (int64, time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, time.Time{}, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 1 {
			return 0, time.Time{}, badParam(name, "%q: positions start at 1", v)
		}
		return n, time.Time{}, nil
	}
	t, err := ParseTime(v)
	if err != nil {
		return 0, time.Time{}, badParam(name, "%q is neither a position (1, 2, …) nor a time: %v", v, err)
	}
	return 0, t, nil
}
