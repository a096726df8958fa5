package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/chart"
)

// Pages are html/template files embedded in the binary, parsed and checked
// when the server starts: templates/layout.html holds the layout and the
// partials every page may use, templates/pages/NAME.html one page each,
// defining "content" (its main column). Static files are embedded too and
// served under fingerprinted names (/static/app.3f2a1b9c04.css) with a
// year-long cache: a new build has new names.

//go:embed templates
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// site is the parsed templates and the static assets of a Server.
type site struct {
	// currency labels money in every page of the set: a page is rendered
	// by the set of the currency in force at its as_of (siteFor).
	currency string
	pages    map[string]*template.Template
	assets   map[string]asset  // by fingerprinted file name
	urls     map[string]string // logical name (app.css) → URL
}

type asset struct {
	body  []byte
	ctype string
}

// loadAssets reads the static files; app.css gets the charts' stylesheet
// appended, so a page needs one stylesheet.
func loadAssets() (map[string]asset, map[string]string, error) {
	byName := map[string][]byte{}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		byName[strings.TrimPrefix(p, "static/")] = b
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	css, ok := byName["app.css"]
	if !ok {
		return nil, nil, fmt.Errorf("static/app.css is missing")
	}
	byName["app.css"] = append(append(bytes.Clone(css), '\n'), chart.CSS...)
	assets, urls := map[string]asset{}, map[string]string{}
	for name, body := range byName {
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		file := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		assets[file] = asset{body: body, ctype: ctype}
		urls[name] = "/static/" + file
	}
	return assets, urls, nil
}

// newSite parses every page with the layout and the server's template
// functions, labelling money in currency; assets are loaded when nil. An
// error is a defect of the embedded files.
func (s *Server) newSite(currency string, assets map[string]asset, urls map[string]string) (*site, error) {
	st := &site{currency: currency, pages: map[string]*template.Template{}, assets: assets, urls: urls}
	var err error
	if st.assets == nil {
		if st.assets, st.urls, err = loadAssets(); err != nil {
			return nil, err
		}
	}
	base, err := template.New("layout.html").Funcs(s.funcs(st)).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	// Partials too big for the layout, one file each.
	if partials, _ := fs.Glob(templateFiles, "templates/partials/*.html"); len(partials) > 0 {
		if base, err = base.ParseFS(templateFiles, partials...); err != nil {
			return nil, err
		}
	}
	files, err := fs.Glob(templateFiles, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(templateFiles, f)
		}
		if err != nil {
			return nil, err
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("%s defines no content", f)
		}
		st.pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	for _, need := range []string{"error", "login"} {
		if st.pages[need] == nil {
			return nil, fmt.Errorf("templates/pages/%s.html is missing", need)
		}
	}
	return st, nil
}

// siteFor returns the pages whose money is labelled in currency: the
// server's first set when it is that currency's, else one parsed the
// first time the currency is asked for and kept. A page as of a time
// before an approved change of the currency is computed in the earlier
// one, and had been labelled in today's: euros written "USD". Parsing a
// set takes some tens of milliseconds, once per currency a server meets.
func (s *Server) siteFor(currency string) *site {
	if currency == s.site.currency {
		return s.site
	}
	s.sites.mu.RLock()
	st, ok := s.sites.m[currency]
	s.sites.mu.RUnlock()
	if ok {
		return st
	}
	// Parsed outside the lock, so that the first page in a currency does
	// not hold up every other currency's for the parse; two first
	// requests may both parse it, and the first stored is kept.
	st, err := s.newSite(currency, s.site.assets, s.site.urls)
	if err != nil {
		// The embedded files parsed at start; they cannot fail now. Should
		// they, the default set is kept for the currency, so the failure
		// is logged once rather than parsed and logged on every request.
		s.Log.Error("parsing the pages for a currency; its pages are labelled in the default currency", "currency", currency, "default", s.site.currency, "err", err)
		st = s.site
	}
	s.sites.mu.Lock()
	defer s.sites.mu.Unlock()
	if prev, ok := s.sites.m[currency]; ok {
		return prev
	}
	s.sites.m[currency] = st
	return st
}

// otherSites are the page sets siteFor parsed, by currency (the default
// set for one that failed to parse).
type otherSites struct {
	mu sync.RWMutex
	m  map[string]*site
}

// static serves an embedded file by its fingerprinted name.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	a, ok := s.site.assets[r.PathValue("file")]
	if !ok {
		s.pageError(w, r, notFoundf("no static file %q", r.PathValue("file")))
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	// The name changes with the content, so the content never does.
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(a.body)
}

// Page is what every page template is executed with: what the layout
// shows, and the page's own data under Data.
type Page struct {
	Title string
	// User is who is signed in; nil for an anonymous reader.
	User *PageUser
	Nav  []NavItem
	// Q is the date and filters every link carries (Query.URL).
	Q Query
	// Controls shows the date and filter controls, with Choices.
	Controls bool
	Choices  Choices
	// Keep are the page's own parameters the controls form sends back
	// unchanged (a metric page's breakdown tab and sort order).
	Keep []HiddenField
	// NoFilters leaves the filters out of the controls, for a page whose
	// figures cover the whole organisation; NoWindow leaves out the
	// window, for a page judged at an instant.
	NoFilters, NoWindow bool
	// WindowDefault names the window a page without one uses, for a page
	// of its own window rather than each metric's ("30 days").
	WindowDefault string
	// AsOf is the time the page's numbers are as of, for the footer.
	AsOf time.Time
	// Now is the clock when the page was made: which months have ended
	// is the clock's to say, not AsOf's (a month's page is as of its end,
	// and the months after it have ended too).
	Now time.Time
	// MonthsFrom, when set, leaves out of the calendar months offered
	// those ending at or before it: a customer's page offers months from
	// its first record's (as of the end of one before, there is no
	// customer: a 404).
	MonthsFrom time.Time
	// LastDate is the latest date the date control offers: the clock's
	// date, a day ahead for the zones past UTC (FutureSlack).
	LastDate  string
	Version   string
	CSRF      string
	RequestID string
	// Path is the page's path: the controls form's target.
	Path string
	// QuietClosing leaves out the notice of a closing read (closing=1) on
	// a page that carries it for its links alone (a record's page, whose
	// way back is a closing metric page).
	QuietClosing bool
	// Bare leaves out the navigation and account (the sign-in page).
	Bare bool
	Data any
}

// PageUser is the signed-in principal as the header shows it.
type PageUser struct {
	Name  string
	Roles string
}

// NavItem is a link of the navigation, or a menu of them (Items).
type NavItem struct {
	Label   string
	Href    string
	Current bool
	Items   []NavItem
	// Count, when positive, is shown beside the label (unread in-app
	// notifications beside Alerts).
	Count int
}

// HiddenField is a name and value a form sends as a hidden input.
type HiddenField struct{ Name, Value string }

// Choices are the values the controls offer.
type Choices struct {
	Windows                      []string
	Teams, Services, Environment []string
	BusinessUnits                []string
}

// monthChoices is how many ended calendar months the controls offer.
const monthChoices = 12

// MonthChoice is a calendar month the controls link to: its as_of and
// window, which is how a page carries it (pageQuery).
type MonthChoice struct {
	Label, Href string
	Current     bool
}

// queryMonth is the calendar month q's as_of and window cover exactly, if
// they do.
func queryMonth(q Query) (catalog.Month, bool) {
	if q.AsOf == "" || q.Window == "" {
		return catalog.Month{}, false
	}
	t, err := ParseTime(q.AsOf)
	if err != nil {
		return catalog.Month{}, false
	}
	return catalog.MonthOfWindow(t, q.Window)
}

// MonthWords names the calendar month the page's figures cover ("October
// 2026"), or is empty: the date control alone says only "as of 1 Nov".
func (p *Page) MonthWords() string {
	if m, ok := queryMonth(p.Q); ok {
		return m.Words()
	}
	return ""
}

// InstantHref is the page read at the instant again (closing dropped),
// keeping what the controls form keeps (Keep): a metric page's breakdown,
// scope and records' order, as the link into the closing read kept them.
func (p *Page) InstantHref() string {
	var keep []string
	for _, f := range p.Keep {
		keep = append(keep, f.Name, f.Value)
	}
	return p.Q.URL(p.Path, append(keep, "closing", "")...)
}

// Months are the ended calendar months the controls link to, newest first,
// none ending at or before MonthsFrom.
// Links rather than a select in the controls form: the form also sends
// as_of and window, which a month replaces.
func (p *Page) Months() []MonthChoice {
	cur, isMonth := queryMonth(p.Q)
	var out []MonthChoice
	// A month link keeps what the controls form keeps (Keep): choosing a
	// month is choosing a date, and leaves a metric page's breakdown tab,
	// scope and sort order as they were.
	var keep []string
	for _, f := range p.Keep {
		keep = append(keep, f.Name, f.Value)
	}
	for _, m := range catalog.LastMonths(p.Now, monthChoices) {
		if !m.End().After(p.MonthsFrom) {
			continue
		}
		out = append(out, MonthChoice{
			Label:   m.Start().Format("Jan 2006"),
			Href:    p.Q.URL(p.Path, append([]string{"as_of", m.End().Format(time.DateOnly), "window", catalog.FormatWindow(m.Window())}, keep...)...),
			Current: isMonth && m == cur,
		})
	}
	return out
}

// windowChoices are the windows the date control offers besides the
// metrics' own ("" in the select).
var windowChoices = []string{"7d", "14d", "30d", "90d", "180d", "365d"}

// newPage fills the layout's part of a page for r.
func (s *Server) newPage(r *http.Request, title string, q Query, data any) *Page {
	p := auth.PrincipalFrom(r.Context())
	// The clock read once: AsOf, Now and LastDate of one page agree.
	now := s.Now().UTC()
	pg := &Page{
		Title: title, Q: q, AsOf: now, Now: now, Version: s.Version, CSRF: p.CSRFToken(),
		LastDate:  now.Add(FutureSlack).Format(time.DateOnly),
		RequestID: requestID(r), Path: r.URL.Path, Data: data,
		Choices: Choices{Windows: windowChoices},
	}
	if pg.Version == "" {
		pg.Version = "(devel)"
	}
	if p.Authenticated() {
		name := p.DisplayName
		if name == "" {
			name = p.Name
		}
		pg.User = &PageUser{Name: name, Roles: s.roleNames(p.Roles)}
		pg.Nav = s.nav(r, p, q)
	}
	return pg
}

// roleNames are the roles' display names, in the order held.
func (s *Server) roleNames(ids []string) string {
	roles := s.Auth.Grants().Roles()
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		name := id
		for _, r := range roles {
			if r.ID == id && r.Name != "" {
				name = r.Name
			}
		}
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}

// navPages are the navigation's entries, by the route that serves each;
// an entry shows when its route exists and admits the reader, so a page
// joins the navigation by joining the route table. Entries with a group
// share one menu under the group's name: ten links side by side ran into
// the account on a laptop, and the menus keep the bar to six.
var navPages = []struct {
	label, route, href, group string
	// need is a permission the entry asks beside its route's, and anchor
	// the part of the page it opens at: the quarterly review is a panel
	// of /proposals that only adoption:read shows (a new user had not
	// found it under Definitions).
	need   auth.Permission
	anchor string
}{
	{"Scorecard", "GET /{$}", "/", "", "", ""},
	{"Role views", "GET /views/{role}", "/views/", "", "", ""},
	{"Alerts", "GET /alerts", "/alerts", "", "", ""},
	{"Insights", "GET /insights", "/insights", "", "", ""},
	{"Customers", "GET /customers", "/customers", "", "", ""},
	{"Release impact", "GET /releases", "/releases", "Releases", "", ""},
	{"Release gates", "GET /gates", "/gates", "Releases", "", ""},
	{"Definitions", "GET /proposals", "/proposals", "Governance", "", ""},
	{"Quarterly review", "GET /proposals", "/proposals", "Governance", auth.AdoptionRead, "review"},
	{"Data sources", "GET /sources", "/sources", "Governance", "", ""},
	{"Board packs", "GET /reports", "/reports", "Governance", "", ""},
	{"Share links", "GET /shares", "/shares", "Governance", "", ""},
	{"Admin", "GET /admin", "/admin", "Governance", "", ""},
}

func (s *Server) nav(r *http.Request, p auth.Principal, q Query) []NavItem {
	access := s.Auth.Grants().Access(p.Roles)
	var out []NavItem
	groups := map[string]int{} // group name → its menu's index in out
	for _, np := range navPages {
		rt, ok := s.route(np.route)
		if !ok {
			continue
		}
		if rt.Policy.viewParam != "" {
			menu := NavItem{Label: np.label}
			for _, v := range s.Catalog.ViewsInForce() {
				if access.CanSeeView(v.ID) {
					href := np.href + v.ID
					cur := r.URL.Path == href
					menu.Items = append(menu.Items, NavItem{Label: v.Name, Href: q.For(np.route).URL(href), Current: cur})
					menu.Current = menu.Current || cur
				}
			}
			if len(menu.Items) > 0 {
				out = append(out, menu)
			}
			continue
		}
		if !rt.Policy.anyone && !rt.Policy.signedIn && !access.Can(rt.Policy.perm) || np.need != "" && !access.Can(np.need) {
			continue
		}
		// The customer pages show what the reader's metrics read of
		// customers: nothing for a reader whose metrics read none.
		if np.route == "GET /customers" && !s.seesCustomers(access) {
			continue
		}
		// Release impact is release_impact_score's detail (canSeeImpact):
		// a reader who may not see that metric had a menu entry that
		// answered 403.
		if np.route == "GET /releases" {
			if m, ok := s.Catalog.Metric("release_impact_score"); !ok || !access.CanSeeMetric(m) {
				continue
			}
		}
		item := NavItem{Label: np.label, Href: q.For(np.route).URL(np.href), Current: r.URL.Path == np.href && np.anchor == ""}
		if np.route == "GET /customers" {
			item.Current = strings.HasPrefix(r.URL.Path, "/customers")
		}
		if np.anchor != "" {
			item.Href += "#" + np.anchor
		}
		if np.route == "GET /alerts" {
			item.Count = s.unreadAlerts(r, p)
		}
		if np.group == "" {
			out = append(out, item)
			continue
		}
		i, ok := groups[np.group]
		if !ok {
			i = len(out)
			groups[np.group] = i
			out = append(out, NavItem{Label: np.group})
		}
		out[i].Items = append(out[i].Items, item)
		out[i].Current = out[i].Current || item.Current
	}
	return out
}

// landing is the first page p may open, and its name for a link: the
// scorecard for a reader of it (README: "the scorecard is the first
// page"); else the administration page for an administrator, whose role
// reads no numbers (docs/access.md); else the first page the navigation
// offers them. A sign-in without a page to return to goes there, and an
// error page links there: an admin-only user had landed on a 403 whose
// "Go to the scorecard" was the same 403.
func (s *Server) landing(r *http.Request, p auth.Principal) (href, label string) {
	access := s.Auth.Grants().Access(p.Roles)
	if !p.Authenticated() || access.Can(auth.ScorecardRead) {
		return "/", "the scorecard"
	}
	if _, ok := s.route("GET /admin"); ok && access.Can(auth.UsersAdmin) {
		return "/admin", "Admin"
	}
	for _, item := range s.nav(r, p, Query{}) {
		if len(item.Items) > 0 {
			item = item.Items[0]
		}
		if item.Href != "" {
			return item.Href, item.Label
		}
	}
	return "/", "the scorecard"
}

// route finds a route of the table by "METHOD PATTERN".
func (s *Server) route(key string) (Route, bool) {
	for _, rt := range s.routes {
		if rt.Method+" "+rt.Pattern == key {
			return rt, true
		}
	}
	return Route{}, false
}

// render writes the page template name with p, or an error page when the
// template fails (nothing of the failed page is sent).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	var asOf time.Time
	if p != nil {
		asOf = p.AsOf
	}
	t, ok := s.siteFor(s.currencyAt(asOf)).pages[name]
	var buf bytes.Buffer
	var err error
	if !ok {
		err = fmt.Errorf("no page template %q", name)
	} else {
		err = t.ExecuteTemplate(&buf, "layout", p)
	}
	if err != nil {
		if name == "error" {
			s.logger(r).Error("rendering the error page", "err", err)
			http.Error(w, "internal error; see the server log (request id "+requestID(r)+")", http.StatusInternalServerError)
			return
		}
		s.pageError(w, r, fmt.Errorf("rendering page %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage is the Data of the error page.
type errorPage struct {
	Status  int
	Heading string
	Message string
	// Home and HomeLabel are the way out: the first page the reader may
	// open (landing).
	Home, HomeLabel string
}

var errorHeadings = map[int]string{
	http.StatusBadRequest:            "That request is not valid",
	http.StatusForbidden:             "You do not have access to this page",
	http.StatusNotFound:              "Page not found",
	http.StatusMethodNotAllowed:      "That action is not possible here",
	http.StatusConflict:              "That conflicts with what exists",
	http.StatusRequestEntityTooLarge: "That is too large",
	http.StatusTooManyRequests:       "Too many attempts",
	http.StatusInternalServerError:   "Something went wrong on our side",
	http.StatusNotImplemented:        "Not available yet",
	http.StatusServiceUnavailable:    "Candor is unavailable just now",
}

// pageError answers a page request with err: the sign-in page for a 401,
// else the error page in the layout, with the status of err's code.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.describe(r, err)
	if e == nil {
		return
	}
	if e.status == http.StatusUnauthorized {
		s.toLogin(w, r)
		return
	}
	setErrorHeaders(w, e)
	heading := errorHeadings[e.status]
	if heading == "" {
		heading = http.StatusText(e.status)
	}
	message := e.Message
	if e.status == http.StatusServiceUnavailable {
		// "Not ready yet" is the start-up's: an outage later read as one.
		switch {
		case e.unreachable:
			heading = "Candor cannot reach its database"
			message = "Nothing can be shown or saved until it can. Try again shortly; if this goes on, the server log says why (quote the request id below)."
		case s.Engine != nil && !s.Engine.Ready():
			heading = "Candor is not ready yet"
		}
	}
	if errors.Is(err, auth.ErrCSRF) {
		// Not a matter of access: a form kept open across a sign-out, or
		// posted from another tab's older session, carries a stale token.
		heading = "That form has expired"
		message = "It was not sent: the page it came from is older than your session (signed out and in again since, or opened in another browser tab). Go back, reload the page and send it again."
	}
	ep := errorPage{Status: e.status, Heading: heading, Message: message, Home: "/", HomeLabel: "the scorecard"}
	if !e.unreachable {
		ep.Home, ep.HomeLabel = s.landing(r, auth.PrincipalFrom(r.Context()))
	}
	s.render(w, r, e.status, "error", s.newPage(r, heading, Query{}, ep))
}
