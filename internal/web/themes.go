package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/insight"
	"github.com/candor/candor/internal/metrics"
)

// defaultThemeWindow is the themes' period when no window is asked; the
// baseline is the four periods before it.
const (
	defaultThemeWindow = 7 * 24 * time.Hour
	themeBaselines     = 4
)

// getThemes serves the voice of the customer: the key phrases of the
// period's ticket text (of one service, or one release, with ?service= or
// ?release=) ranked by lift against the four periods before. It reads
// ticket text, so it needs the ticket records' visibility.
func (s *Server) getThemes(w http.ResponseWriter, r *http.Request) {
	opt, err := s.options(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.access(r).CanReadKind(string(domain.KindTicket)) {
		s.writeError(w, r, domain.Errorf(domain.EForbidden, "themes come from ticket text: reading them needs the ticket records' visibility"))
		return
	}
	win := opt.Window
	if win == 0 {
		win = defaultThemeWindow
	}
	service, release := r.URL.Query().Get("service"), r.URL.Query().Get("release")
	var cur, base []metrics.TicketRef
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		if service != "" {
			if err := checkScope(ds, metrics.Scope{Dim: "service", Value: service}); err != nil {
				return err
			}
		}
		from := opt.AsOf.Add(-win)
		cur = ds.TicketsCreated(from, opt.AsOf, service, release)
		base = ds.TicketsCreated(from.Add(-themeBaselines*win), from, service, "")
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var readErr error
	text := func(t metrics.TicketRef) string {
		st, err := s.Store.Get(r.Context(), domain.Key{Kind: domain.KindTicket, Source: t.Source, ID: t.ID})
		if err != nil {
			if domain.CodeOf(err) != domain.ENotFound {
				readErr = err
			}
			return ""
		}
		var body struct {
			Text string `json:"text"`
		}
		json.Unmarshal(st.Body, &body) // a stored body is canonical JSON
		return body.Text
	}
	themes := insight.Themes(cur, base, text, insight.ThemeOptions{})
	if readErr != nil {
		s.writeError(w, r, readErr)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"as_of": opt.AsOf, "window": catalog.FormatWindow(win), "service": service, "release": release,
		"tickets": len(cur), "baseline_tickets": len(base), "themes": themes})
}
