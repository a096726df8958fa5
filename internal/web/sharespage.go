package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/store"
)

// The share links page: the reader's links (every link for users:admin, as GET /api/v1/shares
// lists them), each with what it shows, at which filters, until when, and a revoke button.
// Candor keeps only a hash of a link's secret, so the page cannot show the link itself.

// sharesPage is the Data of the share links page.
type sharesPage struct {
	Links []shareRow
	// All says the reader sees every link (users:admin), not only their own.
	All  bool
	Done string
}

// shareRow is one link on the page.
type shareRow struct {
	ID int64
	// Kind is card, chart or view; Name the metric's or view's.
	Kind, Name, Href  string
	Filters           string
	CreatedBy         string
	Created, Expires  time.Time
	State, StateClass string
	// Open says the link still opens, so it can be revoked.
	Open bool
}

// sharesList shows the reader's share links.
func (s *Server) sharesList(w http.ResponseWriter, r *http.Request) {
	p := auth.PrincipalFrom(r.Context())
	ls, err := s.Auth.Shares(r.Context(), p)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	now := s.Now()
	data := sharesPage{All: s.access(r).Can(auth.UsersAdmin)}
	if key := r.URL.Query().Get("done"); key != "" {
		if d, ok := s.flashes.take(flashOwner(p), key, now); ok {
			data.Done = d.Message
		}
	}
	// Newest first: the link just made is the one looked for.
	for i := len(ls) - 1; i >= 0; i-- {
		data.Links = append(data.Links, s.shareRow(ls[i], now))
	}
	s.render(w, r, http.StatusOK, "shares", s.newPage(r, "Share links", Query{}, data))
}

// shareRow describes a link: what it shows and its state at now.
func (s *Server) shareRow(l store.ShareLink, now time.Time) shareRow {
	row := shareRow{ID: l.ID, Kind: l.Kind, CreatedBy: strings.TrimPrefix(l.CreatedBy, "user:"), Created: l.CreatedAt, Expires: l.ExpiresAt}
	v, _ := url.ParseQuery(l.Query)
	var fs []string
	for _, k := range shareFilterKeys {
		if x := v.Get(k); x != "" {
			fs = append(fs, idWords(k)+" "+x)
		}
	}
	row.Filters = strings.Join(fs, " · ")
	switch l.Kind {
	case auth.ShareView:
		row.Name = l.Subject
		if cv, ok := s.Catalog.View(l.Subject); ok {
			row.Name = cv.Name
		}
		row.Href = "/views/" + url.PathEscape(l.Subject) + "?" + encodeOrdered(v)
	default:
		row.Name = l.Subject
		if m, ok := s.Catalog.Metric(l.Subject); ok {
			row.Name = m.Name
		}
		row.Href = "/metrics/" + url.PathEscape(l.Subject) + "?" + encodeOrdered(v)
	}
	switch {
	case l.Revoked():
		row.State, row.StateClass = "Revoked "+l.RevokedAt.UTC().Format("2 Jan 2006")+" by "+strings.TrimPrefix(l.RevokedBy, "user:"), "off"
	case !now.Before(l.ExpiresAt):
		row.State, row.StateClass = "Expired", "off"
	default:
		row.State, row.Open = "Active", true
	}
	return row
}

// sharesRevoke revokes a link from the page's button, then shows the page again.
func (s *Server) sharesRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.pageError(w, r, badParam("id", "%q is not a share link id", r.PathValue("id")))
		return
	}
	l, err := s.Auth.RevokeShare(r.Context(), auth.PrincipalFrom(r.Context()), s.Auth.Client(r), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	row := s.shareRow(l, s.Now())
	msg := fmt.Sprintf("Revoked the link to the %s of %s: it opens for no one now.", row.Kind, row.Name)
	key := s.flashes.put(flashOwner(auth.PrincipalFrom(r.Context())), adminDone{Message: msg}, s.Now())
	http.Redirect(w, r, "/shares?done="+url.QueryEscape(key), http.StatusSeeOther)
}
