package web

import (
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// Share links (auth.CreateShare): a card, chart or view at fixed filters that opens without
// signing in, showing what its creator may see now and nothing else: no navigation, no records,
// no filter controls. Only the share routes may be framed, by the origins the organisation lists
// (Server.ShareFrameAncestors); every other response keeps frame-ancestors 'none'.

// maxPictureLines bounds the breakdown lines a card picture lists.
const maxPictureLines = 3

// maxShareBody bounds a share request's body.
const maxShareBody = 8 << 10

// shareRequest is the body of POST /api/v1/shares.
type shareRequest struct {
	Kind    string            `json:"kind"`
	Subject string            `json:"subject"`
	Filters map[string]string `json:"filters"`
	// ExpiresIn is a window ("7d", "12h"); empty for the default.
	ExpiresIn string `json:"expires_in"`
}

// shareJSON is a share link as the API shows it; Secret and URL only when created.
type shareJSON struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	// Filters are as the request gave them, a value a name: they had come
	// back as lists ("team": ["payments"]) of what was sent as strings.
	Filters   map[string]string `json:"filters"`
	CreatedBy string            `json:"created_by"`
	CreatedAt time.Time         `json:"created_at"`
	ExpiresAt time.Time         `json:"expires_at"`
	RevokedAt *time.Time        `json:"revoked_at,omitempty"`
	RevokedBy string            `json:"revoked_by,omitempty"`
	Link      string            `json:"link"`
	URL       string            `json:"url,omitempty"`
	SVG       string            `json:"svg,omitempty"`
	PNG       string            `json:"png,omitempty"`
}

func shareOf(l store.ShareLink) shareJSON {
	q, _ := url.ParseQuery(l.Query)
	f := make(map[string]string, len(q))
	for k := range q {
		f[k] = q.Get(k)
	}
	j := shareJSON{ID: l.ID, Kind: l.Kind, Subject: l.Subject, Filters: f, CreatedBy: l.CreatedBy, CreatedAt: l.CreatedAt,
		ExpiresAt: l.ExpiresAt, RevokedBy: l.RevokedBy, Link: auth.SharePrefix + l.Lookup + "_…"}
	if l.Revoked() {
		j.RevokedAt = &l.RevokedAt
	}
	return j
}

// createShare makes a share link of something the caller may see, at filters the data has.
func (s *Server) createShare(w http.ResponseWriter, r *http.Request) {
	var in shareRequest
	if err := decodeObject(http.MaxBytesReader(w, r.Body, maxShareBody), &in, "kind, subject, filters and expires_in",
		`{"kind": "card", "subject": "change_failure_rate", "filters": {"as_of": "2026-03-31", "team": "core"}, "expires_in": "7d"}`,
		func(string) bool { return false }); err != nil {
		s.writeError(w, r, err)
		return
	}
	ns, err := s.checkShare(r, in)
	if err != nil {
		s.writeError(w, r, inFilters(err))
		return
	}
	p := auth.PrincipalFrom(r.Context())
	secret, l, err := s.Auth.CreateShare(r.Context(), p, s.Auth.Client(r), ns)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	j := shareOf(l)
	j.URL = s.BaseURL + "/share/" + secret
	if l.Kind != auth.ShareView {
		j.SVG, j.PNG = j.URL+"/card.svg", j.URL+"/card.png"
	}
	writeJSON(w, http.StatusCreated, j)
}

// inFilters names a filter's mistake by its place in the request body
// (filters.team), as an unknown filter is named: checkShare checks the
// filters as the metric page checks its query, by the names its form
// fields have, which a JSON client never sent.
func inFilters(err error) error {
	if sf := (scopeNamesFilter{}); errors.As(err, &sf) {
		return domain.InvalidParam("filters.scope", "names %s, a filter of its own: send it as filters.%s (\"filters\": {\"%s\": %q}) instead", sf.Dim, sf.Dim, sf.Dim, sf.Value)
	}
	p := domain.ParamOf(err)
	if domain.CodeOf(err) != domain.EInvalid || !slices.Contains(shareFilterKeys, p) {
		return err
	}
	return domain.InvalidParam("filters."+p, "%s", strings.TrimPrefix(err.Error(), p+": "))
}

// checkShare turns a share request into a link to create: the subject exists and the caller
// may see it (a link never shows more than its creator's grants), and the filters are the
// pages' and name values the data has.
func (s *Server) checkShare(r *http.Request, in shareRequest) (auth.NewShare, error) {
	ns := auth.NewShare{Kind: in.Kind, Subject: in.Subject}
	if in.ExpiresIn != "" {
		d, err := catalog.ParseWindow(in.ExpiresIn)
		if err != nil {
			return ns, domain.InvalidParam("expires_in", "%v", err)
		}
		ns.TTL = d
	}
	access := s.access(r)
	switch in.Kind {
	case auth.ShareView:
		v, ok := s.Catalog.View(in.Subject)
		if !ok {
			return ns, domain.InvalidParam("subject", "unknown view %q (known: %s)", in.Subject, strings.Join(scorecard.ViewIDs(s.Catalog), ", "))
		}
		if !access.CanSeeView(v.ID) {
			return ns, domain.Errorf(domain.EForbidden, "your roles do not open the %s view", v.ID)
		}
		ns.Subject = v.ID
	case auth.ShareCard, auth.ShareChart:
		// A subject that names no metric is a bad field of the request
		// (400 naming it, as a view's is), not a missing page.
		if _, ok := s.Catalog.Metric(in.Subject); !ok {
			return ns, s.unknownMetric(access, "subject", in.Subject)
		}
		if err := s.canSeeMetric(access, in.Subject); err != nil {
			return ns, err
		}
	}
	v := url.Values{}
	for _, k := range slices.Sorted(maps.Keys(in.Filters)) {
		if !slices.Contains(shareFilterKeys, k) {
			return ns, domain.InvalidParam("filters."+k, "not a filter (want %s)", strings.Join(shareFilterKeys, ", "))
		}
		if in.Kind == auth.ShareView && k != "as_of" && k != "window" && k != "month" && k != "closing" {
			return ns, domain.InvalidParam("filters."+k, "a role view covers the whole organisation: it takes as_of, window, month or closing only")
		}
		v.Set(k, in.Filters[k])
	}
	fr := r.Clone(r.Context())
	fr.URL = &url.URL{RawQuery: v.Encode()}
	q, opt, err := s.pageQuery(fr)
	if err != nil {
		return ns, err
	}
	out := q.Values()
	if in.Kind != auth.ShareView {
		st, scope, err := s.shareState(fr, q, in.Subject)
		if err != nil {
			return ns, err
		}
		// The scope and the breakdown are checked as the metric page checks them, by computing
		// the drill-down once: a link never fixes what its page would refuse.
		if err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
			if err := checkScope(ds.At(opt.AsOf), q.Scope()); err != nil {
				return err
			}
			_, err := scorecard.Detail(s.Catalog, ds, in.Subject, opt, st.By, scope)
			return pageDimensionError(err, q)
		}); err != nil {
			return ns, err
		}
		if st.Scope != "" {
			out.Set("scope", st.Scope)
		}
		if st.By != "" {
			out.Set("by", st.By)
		}
	}
	ns.Query = encodeOrdered(out)
	return ns, nil
}

// shareFilterKeys are the filters a link may fix: the pages' carried ones, a calendar month
// (kept as the as_of and window it stands for, as a page carries it), closing (a quarter-end
// month's page reading the quarter it closes), and for a card or chart
// the metric page's scope on the metric's other dimensions and its breakdown.
var shareFilterKeys = append(slices.Clone(queryKeys), "month", "closing", "scope", "by")

// shareState reads a card or chart link's scope and breakdown as the metric page reads them; a
// link shows a breakdown only when it names one.
func (s *Server) shareState(r *http.Request, q Query, subject string) (metricState, metrics.Scope, error) {
	m, ok := s.Catalog.Metric(subject)
	if !ok {
		return metricState{}, metrics.Scope{}, auth.ErrShareClosed
	}
	st, scope, err := metricPageState(r, q, m)
	if r.URL.Query().Get("by") == "" {
		st.By = ""
	}
	return st, scope, err
}

// listShares lists the caller's share links (every link for users:admin).
func (s *Server) listShares(w http.ResponseWriter, r *http.Request) {
	ls, err := s.Auth.Shares(r.Context(), auth.PrincipalFrom(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]shareJSON, len(ls))
	for i, l := range ls {
		out[i] = shareOf(l)
	}
	writeJSON(w, http.StatusOK, map[string]any{"shares": out})
}

// revokeShare revokes one of the caller's links (any, for users:admin).
func (s *Server) revokeShare(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.writeError(w, r, badParam("id", "%q is not a share link id", r.PathValue("id")))
		return
	}
	l, err := s.Auth.RevokeShare(r.Context(), auth.PrincipalFrom(r.Context()), s.Auth.Client(r), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, shareOf(l))
}

// sharePageData is the Data of the share page (card and chart links; a view link shows the
// role view page).
type sharePageData struct {
	Kind    string
	Card    scorecard.Card
	Trend   template.HTML
	Narrow  template.HTML
	Filters []Filter
	Expires time.Time
	// Annotations name the periods shaded on the trend.
	Annotations []annotationNote
	// BreakdownPanel is the breakdown the link names (By "" for none).
	BreakdownPanel
	// CoversLabel and Covers say what stretch of time the value covers, as
	// the metric page the link was made from says it (a calendar month by
	// name): "as of 1 Nov" alone reads as November.
	CoversLabel, Covers string
}

// filters are the link's fixed filters as the page names them: the carried ones, then those
// of its scope parameter.
func (o *openedShare) filters() []Filter {
	out := o.q.Filters()
	if o.st.Scope != "" {
		ps, _ := metrics.ParseScope(o.st.Scope)
		for _, f := range ps.Filters() {
			out = append(out, Filter{f.Dim, f.Value})
		}
	}
	return out
}

// openedShare is a link opened for a request: what it shows, at which filters, for whom.
type openedShare struct {
	link   store.ShareLink
	access auth.Access
	q      Query
	opt    scorecard.Options
	// st holds a card or chart link's scope parameter and breakdown; scope is the whole scope
	// its value is computed under (the carried filters and the scope parameter's).
	st    metricState
	scope metrics.Scope
}

// openShare opens the link the request names; a closed link is a 404 that says why it may be.
func (s *Server) openShare(r *http.Request) (*openedShare, error) {
	l, access, err := s.Auth.OpenShare(r.Context(), r.PathValue("secret"))
	if err != nil {
		return nil, err
	}
	fr := r.Clone(r.Context())
	fr.URL = &url.URL{RawQuery: l.Query}
	q, opt, err := s.pageQuery(fr)
	if err != nil {
		return nil, err
	}
	opt.Visible = access.CanSeeMetric
	o := &openedShare{link: l, access: access, q: q, opt: opt, scope: opt.Scope}
	if l.Kind != auth.ShareView {
		if o.st, o.scope, err = s.shareState(fr, q, l.Subject); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// shareCard computes the drill-down a card or chart link shows (its card, and its breakdown
// when the link names one); ErrShareClosed when its creator can no longer see the metric.
func (s *Server) shareCard(r *http.Request, o *openedShare) (*scorecard.MetricDetail, error) {
	m, ok := s.Catalog.Metric(o.link.Subject)
	if !ok || !o.access.CanSeeMetric(m) {
		return nil, auth.ErrShareClosed
	}
	var d *scorecard.MetricDetail
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var err error
		d, err = scorecard.Detail(s.Catalog, ds, m.ID, o.opt, o.st.By, o.scope)
		return err
	})
	return d, err
}

// allowFraming lets the organisation's listed origins frame a share response; without any the
// response keeps frame-ancestors 'none' like every other.
func (s *Server) allowFraming(w http.ResponseWriter) {
	if len(s.ShareFrameAncestors) == 0 {
		return
	}
	w.Header().Set("Content-Security-Policy", strings.Replace(ContentSecurityPolicy, "frame-ancestors 'none'",
		"frame-ancestors "+strings.Join(s.ShareFrameAncestors, " "), 1))
	w.Header().Del("X-Frame-Options")
}

// sharePage shows a link's card, chart or view.
func (s *Server) sharePage(w http.ResponseWriter, r *http.Request) {
	o, err := s.openShare(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if o.link.Kind == auth.ShareView {
		s.shareView(w, r, o)
		return
	}
	d, err := s.shareCard(r, o)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	c := d.Card
	// A link shows no records, so its lines link nowhere.
	data := sharePageData{Kind: o.link.Kind, Card: c, Filters: o.filters(), Expires: o.link.ExpiresAt,
		BreakdownPanel: s.newBreakdownPanel(d, func(scorecard.BreakdownLine) string { return "" })}
	data.CoversLabel, data.Covers = d.Covers()
	format := formatIn(c.Unit, s.currencyAt(d.AsOf))
	pts := seriesPoints(c)
	var periods []chart.Period
	periods, data.Annotations = trendAnnotations(o.opt.Annotations, o.scope, pts)
	tr := chart.Trend{Title: c.Name + ", weekly, last 12 weeks", Series: []chart.Series{{Name: c.Name, Points: pts}},
		Bands: cardBands(c), Target: weekTarget(c), TargetFrom: targetFrom(c), Per: weekPer(c), Format: format, Periods: periods}
	data.Trend = tr.SVG()
	tr.Width, tr.Height = 360, 220
	data.Narrow = tr.SVG()
	pg := s.newPage(r, c.Name, o.q, data)
	pg.Bare, pg.AsOf = true, o.opt.AsOf
	s.allowFraming(w)
	s.render(w, r, http.StatusOK, "share", pg)
}

// shareView shows a view link: the role view page, read-only, without the view switcher.
func (s *Server) shareView(w http.ResponseWriter, r *http.Request, o *openedShare) {
	v, ok := s.Catalog.View(o.link.Subject)
	if !ok || !o.access.CanSeeView(v.ID) {
		s.pageError(w, r, auth.ErrShareClosed)
		return
	}
	var vr *scorecard.ViewResult
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var err error
		vr, err = scorecard.View(s.Catalog, ds, v.ID, o.opt)
		return err
	})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	data := s.newRoleViewPage(v, vr, o.q, o.access, o.opt.Annotations)
	data.Switcher = nil
	pg := s.newPage(r, v.Name+" view", o.q, data)
	pg.Bare, pg.AsOf = true, vr.AsOf
	s.allowFraming(w)
	s.render(w, r, http.StatusOK, "roleview", pg)
}

// shareImage draws a card or chart link's card as SVG or PNG, for chat tools.
func (s *Server) shareImage(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o, err := s.openShare(r)
		if err == nil && o.link.Kind == auth.ShareView {
			err = notFoundf("a view link has no card picture; open the link itself")
		}
		var d *scorecard.MetricDetail
		if err == nil {
			d, err = s.shareCard(r, o)
		}
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		pic := s.cardPicture(d, o)
		var body []byte
		switch format {
		case "svg":
			body = pic.SVG()
			w.Header().Set("Content-Type", "image/svg+xml")
		default:
			if body, err = pic.PNG(); err != nil {
				s.pageError(w, r, err)
				return
			}
			w.Header().Set("Content-Type", "image/png")
		}
		w.Header().Set("Cache-Control", "private, max-age=300")
		s.allowFraming(w)
		w.Write(body)
	}
}

// cardPicture is a card as chart.Card draws it: value, status, target and trend, the date and
// the filters, and why a status is unknown.
func (s *Server) cardPicture(d *scorecard.MetricDetail, o *openedShare) chart.Card {
	c := d.Card
	cur := s.currencyAt(d.AsOf)
	t := trendView(c.Trend)
	first := t.Arrow + " " + t.Word
	if c.Target != nil {
		first = "Target " + scorecard.FormatValue(c.Target, c.Unit, cur) + " · " + first
	}
	// The month by name, or the window the link fixes: a picture pasted in
	// a chat is read without the page, and "As of 1 Nov" alone reads as
	// November.
	second := "As of " + o.opt.AsOf.UTC().Format("2 Jan 2006 15:04 MST")
	if m, ok := queryMonth(o.q); ok {
		second = m.Words() + " · as of " + o.opt.AsOf.UTC().Format("2 Jan 2006 15:04 MST")
	} else if o.q.Window != "" {
		second += " · window " + o.q.Window
	}
	if d.Closing && d.Definition.Span == catalog.SpanQuotaPeriod {
		// The instant's link draws the same date above the next quarter's
		// value: the picture says which period it read.
		second += " · the quota period closing then"
	}
	for _, f := range o.filters() {
		second += fmt.Sprintf(" · %s %s", strings.ReplaceAll(f.Dim, "_", " "), f.Value)
	}
	lines := []string{first, second}
	// A breakdown's worst lines first would need a rule of its own; its first few, as the
	// page orders them, say what the link is about.
	for i, l := range d.Breakdown {
		if i == maxPictureLines {
			lines = append(lines, fmt.Sprintf("… %d more by %s", len(d.Breakdown)-i, idWords(d.By)))
			break
		}
		st := string(l.Status)
		if l.NoOwnTarget {
			st = "not judged: " + noOwnTarget
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s (%s)", idWords(d.By), l.Key, scorecard.FormatValue(l.Value, c.Unit, cur), st))
	}
	if c.Status == catalog.Unknown && c.Reason != "" {
		lines = append(lines, "Unknown: "+c.Reason)
	}
	return chart.Card{Title: c.Name, Value: scorecard.FormatValue(c.Value, c.Unit, cur), Status: string(c.Status), Lines: lines}
}

// sharedPage is the Data of the page that shows a link just made from a metric page's form.
type sharedPage struct {
	ID                  int64
	What, Name          string
	URL, PNG, SVG, Back string
	Expires             time.Time
}

// shareForm makes a link from the metric page's form and shows it, once.
func (s *Server) shareForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, badParam("form", "could not be read: %v", err))
		return
	}
	f := r.PostForm
	in := shareRequest{Kind: f.Get("kind"), Subject: f.Get("subject"), ExpiresIn: f.Get("expires_in"), Filters: map[string]string{}}
	for _, k := range shareFilterKeys {
		if v := f.Get(k); v != "" {
			in.Filters[k] = v
		}
	}
	ns, err := s.checkShare(r, in)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	secret, l, err := s.Auth.CreateShare(r.Context(), auth.PrincipalFrom(r.Context()), s.Auth.Client(r), ns)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	// Under Candor's public address when it is set (behind a proxy the
	// request's host may be an inner one), else the address asked.
	base := s.BaseURL
	if base == "" {
		scheme := "http"
		if s.Auth.Secure(r) {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	link := base + "/share/" + secret
	m, _ := s.Catalog.Metric(l.Subject)
	q, _ := url.ParseQuery(l.Query)
	data := sharedPage{ID: l.ID, What: map[string]string{auth.ShareCard: "The card of ", auth.ShareChart: "The chart of "}[l.Kind] + m.Name,
		Name: m.Name, URL: link, PNG: link + "/card.png", SVG: link + "/card.svg", Expires: l.ExpiresAt,
		Back: "/metrics/" + m.ID + "?" + q.Encode()}
	s.render(w, r, http.StatusOK, "shared", s.newPage(r, "Link created", Query{}, data))
}

// loggedPath is a request path as the log keeps it: a share link's secret cut to its public
// lookup part, so whoever reads the log cannot open the link.
func loggedPath(p string) string {
	rest, ok := strings.CutPrefix(p, "/share/"+auth.SharePrefix)
	if !ok {
		return p
	}
	secret, tail, _ := strings.Cut(rest, "/")
	lookup, _, _ := strings.Cut(secret, "_")
	if tail != "" {
		tail = "/" + tail
	}
	return "/share/" + auth.SharePrefix + lookup + "_…" + tail
}
