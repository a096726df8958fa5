package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"strings"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// Kind says how a route answers: API routes with JSON, HTML routes with
// pages (and, on failure, a redirect to the sign-in page or an error page
// instead of a JSON error).
type Kind int

const (
	API Kind = iota + 1
	HTML
)

// Policy says who may call a route. Every route states one; the zero
// Policy is no decision, and Handler refuses a table holding it.
type Policy struct {
	anyone   bool
	signedIn bool
	perm     auth.Permission
	// viewParam names the path parameter holding a role view: the route
	// needs view:ID for the view it names.
	viewParam string
}

var (
	// Anyone may call the route, signed in or not.
	Anyone = Policy{anyone: true}
	// SignedIn admits any principal that is signed in.
	SignedIn = Policy{signedIn: true}
)

// Need admits the principals whose roles grant the permission.
func Need(p auth.Permission) Policy { return Policy{perm: p} }

// NeedView admits the principals that may open the role view named by the
// path parameter param (view:ID, or view:*).
func NeedView(param string) Policy { return Policy{viewParam: param} }

func (p Policy) String() string {
	switch {
	case p.anyone:
		return "anyone"
	case p.signedIn:
		return "signed in"
	case p.viewParam != "":
		return "view:{" + p.viewParam + "}"
	}
	return string(p.perm)
}

// viewExists refuses a role view the catalog does not have (404), naming
// the views the principal may open, as GET /api/v1/views lists them.
func (s *Server) viewExists(r *http.Request, param string, kind Kind) error {
	id := r.PathValue(param)
	if _, ok := s.Catalog.View(id); ok {
		return nil
	}
	access := s.access(r)
	var yours []string
	for _, v := range s.Catalog.ViewsInForce() {
		if access.CanSeeView(v.ID) {
			yours = append(yours, v.ID)
		}
	}
	known := "none"
	if len(yours) > 0 {
		known = strings.Join(yours, ", ")
	}
	near := domain.Closest(id, yours)
	if kind == HTML {
		if near != "" {
			return notFoundf("There is no role view %q: did you mean %s? The views you may open are: %s.", id, near, known)
		}
		return notFoundf("There is no role view %q. The views you may open are: %s.", id, known)
	}
	if near != "" {
		return notFoundf("unknown role view %q (did you mean %s?; the views you may open: %s); GET /api/v1/views lists them", id, near, known)
	}
	return notFoundf("unknown role view %q (the views you may open: %s); GET /api/v1/views lists them", id, known)
}

// permission is what the policy requires of r; "" for Anyone and SignedIn.
func (s *Server) permission(p Policy, r *http.Request) auth.Permission {
	if p.viewParam == "" {
		return p.perm
	}
	id := r.PathValue(p.viewParam)
	// Views are named in any case or by name (CEO, "VP Sales"); the grant
	// is by id.
	if v, ok := s.Catalog.View(id); ok {
		id = v.ID
	}
	return auth.ViewPermission(id)
}

// Route is one line of the route table: a method and ServeMux path
// pattern, who may call it, whether it is an API route or a page, and its
// handler. Handlers find the principal with auth.PrincipalFrom.
type Route struct {
	Method  string
	Pattern string
	Policy  Policy
	Kind    Kind
	Handler http.HandlerFunc
}

// Routes is the route table: every route the server answers. The mux is
// built from it, each handler wrapped in its route's policy, and a test
// generated from it checks every route for every role.
func (s *Server) Routes() []Route {
	return []Route{
		{"GET", "/healthz", Anyone, API, s.healthz},
		{"GET", "/readyz", Anyone, API, s.readyz},
		{"GET", "/api/v1/scorecard", Need(auth.ScorecardRead), API, s.getScorecard},
		{"GET", "/api/v1/metrics", Need(auth.MetricRead), API, s.listMetrics},
		{"GET", "/api/v1/metrics/{id}", Need(auth.MetricRead), API, s.getMetric},
		{"POST", "/api/v1/records", Need(auth.RecordsWrite), API, s.postRecords},
		{"GET", "/api/v1/records/{kind}/{source}/{id...}", Need(auth.RecordsRead), API, s.getRecord},
		{"GET", "/api/v1/views", SignedIn, API, s.listViews},
		{"GET", "/api/v1/views/{role}", NeedView("role"), API, s.getView},
		{"POST", "/api/v1/reconciliations", Need(auth.ReconcileWrite), API, s.postReconciliation},
		{"GET", "/api/v1/reconciliations", Need(auth.SourcesRead), API, s.listReconciliations},
		{"GET", "/api/v1/sources", Need(auth.SourcesRead), API, s.getSources},
		// Each pack is judged again for the reader: every metric it shows
		// must be one their roles open (boardWithheld).
		{"GET", "/api/v1/reports/board", Need(auth.ScorecardRead), API, s.listBoardPacks},
		{"GET", "/api/v1/reports/board/{id}", Need(auth.ScorecardRead), API, s.getBoardPack},
		{"GET", "/reports", Need(auth.ScorecardRead), HTML, s.boardPacksList},
		{"GET", "/reports/board/{id}", Need(auth.ScorecardRead), HTML, s.boardPackFile},
		// The connector, not the session or token check, decides: each
		// sender signs its own way (internal/connect).
		{"POST", "/webhooks/{source}", Anyone, API, s.webhooks},
		{"GET", "/api/v1/ledger", Need(auth.LedgerRead), API, s.getLedger},
		{"GET", "/api/v1/evidence", Need(auth.EvidenceRead), API, s.getEvidence},
		{"POST", "/api/v1/metrics/{id}/acknowledgements", Need(auth.MetricAcknowledge), API, s.postAcknowledgement},
		{"GET", "/api/v1/metrics/{id}/acknowledgements", Need(auth.MetricRead), API, s.listAcknowledgements},
		{"GET", "/api/v1/escalations", Need(auth.MetricRead), API, s.getEscalations},
		{"GET", "/api/v1/alerts", Need(auth.MetricRead), API, s.getAlerts},
		{"POST", "/api/v1/alerts/ack", Need(auth.MetricAcknowledge), API, s.ackAlert},
		{"GET", "/api/v1/alerts/silences", Need(auth.MetricRead), API, s.getSilences},
		{"POST", "/api/v1/alerts/silences", Need(auth.MetricAcknowledge), API, s.postSilence},
		{"POST", "/api/v1/alerts/silences/{id}/end", Need(auth.MetricAcknowledge), API, s.endSilence},
		{"POST", "/api/v1/proposals", Need(auth.DefinitionsPropose), API, s.postProposal},
		{"GET", "/api/v1/proposals", Need(auth.MetricRead), API, s.listProposals},
		{"GET", "/api/v1/proposals/{id}", Need(auth.MetricRead), API, s.getProposal},
		{"POST", "/api/v1/proposals/{id}/approve", Need(auth.DefinitionsApprove), API, s.approveProposal},
		{"POST", "/api/v1/proposals/{id}/reject", Need(auth.DefinitionsApprove), API, s.rejectProposal},
		{"GET", "/api/v1/metrics/{id}/history", Need(auth.MetricRead), API, s.metricHistory},
		{"GET", "/api/v1/adoption", Need(auth.AdoptionRead), API, s.getAdoption},
		{"GET", "/api/v1/adoption/review", Need(auth.AdoptionRead), API, s.getReview},
		// Anyone signed in may share what they can see; the handler checks the subject.
		{"POST", "/api/v1/shares", SignedIn, API, s.createShare},
		{"GET", "/api/v1/shares", SignedIn, API, s.listShares},
		{"POST", "/api/v1/shares/{id}/revoke", SignedIn, API, s.revokeShare},
		{"POST", "/api/v1/gates/evaluate", Need(auth.GatesCheck), API, s.postGateEvaluate},
		{"GET", "/api/v1/gates/decisions", Need(auth.RecordsRead), API, s.listGateDecisions},
		// A retro-validation is a record (domain.RetroValidation), written
		// by whoever may write records: the review's pipeline or person.
		{"POST", "/api/v1/gates/retro-validations", Need(auth.RecordsWrite), API, s.postRetroValidation},
		{"POST", "/api/v1/annotations", Need(auth.MetricAcknowledge), API, s.postAnnotation},
		{"GET", "/api/v1/annotations", Need(auth.MetricRead), API, s.listAnnotations},
		{"POST", "/api/v1/annotations/{id}/withdraw", Need(auth.MetricAcknowledge), API, s.withdrawAnnotation},
		{"GET", "/api/v1/sections/{name}/history", Need(auth.MetricRead), API, s.sectionHistory},
		// The pipeline polls with its gates:check token; an approver holds
		// one of the roles the escalating rules name (the handlers check).
		{"GET", "/api/v1/gates/decisions/{id}", SignedIn, API, s.getGateDecision},
		{"POST", "/api/v1/gates/decisions/{id}/approve", SignedIn, API, s.approveGate},
		{"POST", "/api/v1/gates/decisions/{id}/reject", SignedIn, API, s.rejectGate},

		{"GET", "/{$}", Need(auth.ScorecardRead), HTML, s.home},
		{"GET", "/metrics/{id}", Need(auth.MetricRead), HTML, s.metricPage},
		{"POST", "/metrics/{id}/acknowledgements", Need(auth.MetricAcknowledge), HTML, s.ackForm},
		{"GET", "/metrics/{id}/acknowledgements", Need(auth.MetricRead), HTML, s.ackFormBack},
		{"GET", "/records/{kind}/{source}/{id...}", Need(auth.RecordsRead), HTML, s.recordPage},
		{"GET", "/login", Anyone, HTML, s.loginForm},
		{"POST", "/login", Anyone, HTML, s.login},
		{"POST", "/logout", SignedIn, HTML, s.logout},
		{"GET", "/auth/oidc/start", Anyone, HTML, s.oidcStart},
		{"GET", "/auth/oidc/callback", Anyone, HTML, s.oidcCallback},
		{"GET", "/static/{file}", Anyone, HTML, s.static},
		{"GET", "/views/{role}", NeedView("role"), HTML, s.roleView},
		{"GET", "/sources", Need(auth.SourcesRead), HTML, s.sourcesPage},
		{"GET", "/proposals", Need(auth.MetricRead), HTML, s.proposalsPage},
		{"POST", "/proposals", Need(auth.DefinitionsPropose), HTML, s.proposeForm},
		{"POST", "/proposals/{id}/approve", Need(auth.DefinitionsApprove), HTML, s.approveForm},
		{"POST", "/proposals/{id}/reject", Need(auth.DefinitionsApprove), HTML, s.rejectForm},
		{"GET", "/admin", Need(auth.UsersAdmin), HTML, s.admin},
		{"POST", "/admin/users", Need(auth.UsersAdmin), HTML, s.adminAddUser},
		{"POST", "/admin/users/roles", Need(auth.UsersAdmin), HTML, s.adminSetRoles},
		{"POST", "/admin/users/disable", Need(auth.UsersAdmin), HTML, s.adminDisableUser},
		{"POST", "/admin/users/enable", Need(auth.UsersAdmin), HTML, s.adminEnableUser},
		{"POST", "/admin/tokens", Need(auth.TokensAdmin), HTML, s.adminCreateToken},
		{"POST", "/admin/tokens/revoke", Need(auth.TokensAdmin), HTML, s.adminRevokeToken},
		{"POST", "/shares", SignedIn, HTML, s.shareForm},
		// The link's secret, not the caller, decides: it opens with its creator's grants.
		{"GET", "/share/{secret}", Anyone, HTML, s.sharePage},
		{"GET", "/share/{secret}/card.svg", Anyone, HTML, s.shareImage("svg")},
		{"GET", "/share/{secret}/card.png", Anyone, HTML, s.shareImage("png")},
		// The reader's own links (every link for users:admin); Auth.RevokeShare checks whose.
		{"GET", "/shares", SignedIn, HTML, s.sharesList},
		{"POST", "/shares/{id}/revoke", SignedIn, HTML, s.sharesRevoke},
		{"GET", "/alerts", Need(auth.MetricRead), HTML, s.alertsPage},
		{"POST", "/alerts/ack", Need(auth.MetricAcknowledge), HTML, s.ackAlertForm},
		{"POST", "/alerts/silences", Need(auth.MetricAcknowledge), HTML, s.silenceForm},
		{"POST", "/alerts/silences/{id}/end", Need(auth.MetricAcknowledge), HTML, s.unsilenceForm},
		{"POST", "/alerts/inbox/read", SignedIn, HTML, s.inboxReadForm},
		{"GET", "/api/v1/releases", Need(auth.MetricRead), API, s.getReleases},
		{"GET", "/api/v1/releases/{source}/{id...}", Need(auth.MetricRead), API, s.getRelease},
		{"GET", "/releases", Need(auth.MetricRead), HTML, s.releasesPage},
		{"GET", "/api/v1/insights", Need(auth.MetricRead), API, s.getInsights},
		{"GET", "/insights", Need(auth.MetricRead), HTML, s.insightsPage},
		{"GET", "/api/v1/themes", Need(auth.RecordsRead), API, s.getThemes},
		// A customer is seen through the metrics that read its records:
		// the handlers show the kinds those metrics read (customerOptions).
		{"GET", "/api/v1/customers", Need(auth.MetricRead), API, s.getCustomers},
		{"GET", "/api/v1/customers/{id}", Need(auth.MetricRead), API, s.getCustomer},
		{"GET", "/customers", Need(auth.MetricRead), HTML, s.customersPage},
		{"GET", "/customers/{id}", Need(auth.MetricRead), HTML, s.customerPage},
		{"GET", "/gates", SignedIn, HTML, s.gatesPage},
		{"POST", "/gates/{id}/approve", SignedIn, HTML, s.approveGateForm},
		{"POST", "/gates/{id}/reject", SignedIn, HTML, s.rejectGateForm},
	}
}

// maxFormBody bounds a page's form post.
const maxFormBody = 64 << 10

// mux builds the ServeMux from the route table. A route without a policy,
// or a pattern twice, is a programming error: it panics at start-up.
func (s *Server) mux(routes []Route) *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range routes {
		if rt.Policy == (Policy{}) || rt.Kind == 0 || rt.Handler == nil {
			panic(fmt.Sprintf("web: route %s %s lacks a policy, kind or handler", rt.Method, rt.Pattern))
		}
		mux.Handle(rt.Method+" "+rt.Pattern, s.guard(rt))
	}
	return mux
}

// guard runs a route's checks inside the mux, where the matched route is
// known: cross-origin refusal, authentication, the policy, CSRF. Failures
// answer in the route's kind: JSON errors for the API; for pages a
// redirect to the sign-in page or an error page.
func (s *Server) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(r)
		info.pattern = rt.Method + " " + rt.Pattern
		fail := func(err error) {
			if rt.Kind == HTML {
				s.pageError(w, r, err)
				return
			}
			s.writeError(w, r, err)
		}
		if err := s.cop.Check(r); err != nil {
			fail(domain.Errorf(domain.EForbidden, "cross-origin request refused: a state-changing request must come from Candor's own pages"))
			return
		}
		p, err := s.Auth.Authenticate(r)
		var down *store.UnreachableError
		if err != nil && (rt.Pattern == "/healthz" || rt.Pattern == "/readyz") && errors.As(store.Classify(s.Store, err), &down) {
			// A health check with a token that cannot be checked, the
			// store being unreachable, is answered as anyone's: with the
			// store's state (503 and the reason), not the lookup's
			// failure.
			err = auth.ErrUnauthenticated
		}
		if err != nil {
			if domain.CodeOf(err) != domain.EUnauthorized {
				fail(err) // the store failed, not the client
				return
			}
			if r.Header.Get("Authorization") == "" {
				s.Auth.ClearSessionCookie(w, r)
			}
			if !rt.Policy.anyone {
				if rt.Kind == HTML {
					s.toLogin(w, r)
					return
				}
				fail(err)
				return
			}
			p = auth.Principal{}
		}
		info.principal = p
		r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		if !rt.Policy.anyone {
			if !p.Authenticated() {
				if rt.Kind == HTML {
					s.toLogin(w, r)
					return
				}
				fail(auth.ErrUnauthenticated)
				return
			}
			if rt.Policy.viewParam != "" {
				// An unknown view is not found, whoever asks: refused for
				// a permission "view:nosuch", it had read as a view that
				// exists and is withheld.
				if err := s.viewExists(r, rt.Policy.viewParam, rt.Kind); err != nil {
					fail(err)
					return
				}
			}
			if perm := s.permission(rt.Policy, r); perm != "" {
				if err := s.Auth.Grants().Require(p, perm); err != nil {
					fail(err)
					return
				}
			}
		}
		if rt.Kind == HTML && r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		}
		if err := auth.CheckCSRF(r, p); err != nil {
			fail(err)
			return
		}
		if err := checkParams(rt, r); err != nil {
			fail(err)
			return
		}
		if err := checkRest(rt, r); err != nil {
			fail(err)
			return
		}
		if err := checkJSONBody(rt, r); err != nil {
			fail(err)
			return
		}
		if p.Authenticated() {
			// What a signed-in principal sees is theirs: no shared cache
			// or back button keeps it after sign-out.
			w.Header().Set("Cache-Control", "no-store")
			s.noteOpen(r, rt, p)
		}
		rt.Handler(w, r)
	})
}

// toLogin sends a page request without a (valid) sign-in to the sign-in
// page, which brings the reader back here afterwards.
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// isAPIPath tells, for a request no route takes, whether to answer it as
// JSON or with a page.
func isAPIPath(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/webhooks/") || path == "/healthz" || path == "/readyz"
}

// unrouted answers requests no route takes (404, and 405 with its Allow
// header) in the vocabulary of every other error; ServeMux would write
// plain text.
func (s *Server) unrouted(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if reflect.TypeOf(h) == redirectType && isAPIPath(path.Clean(r.URL.Path)) {
			// ServeMux's own redirects would answer an API client with a
			// 307 and an HTML body. To the trailing slash of an {id...}
			// route, where the id is missing: a JSON 404 naming it. To a
			// cleaned path (a base URL ending in "/": //api/v1/records):
			// a 308 in JSON, which clients follow with the method and
			// body as they had followed the 307.
			loc, err := apiRedirect(h, pattern, r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			w.Header().Set("Location", loc)
			writeJSON(w, http.StatusPermanentRedirect, map[string]string{"location": loc,
				"message": fmt.Sprintf("%s is written %s: send the request there", r.URL.Path, strings.SplitN(loc, "?", 2)[0])})
			return
		}
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &probeWriter{header: http.Header{}}
		h.ServeHTTP(probe, r)
		var err error
		switch probe.status {
		case http.StatusMethodNotAllowed:
			allow := probe.header.Get("Allow")
			w.Header().Set("Allow", allow)
			err = domain.Errorf(domain.EMethodNotAllowed, "method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow)
		case http.StatusNotFound:
			err = domain.Errorf(domain.ENotFound, "no route %s %s", r.Method, r.URL.Path)
		default:
			// A redirect ServeMux makes itself (a cleaned path).
			mux.ServeHTTP(w, r)
			return
		}
		if isAPIPath(r.URL.Path) {
			s.writeError(w, r, err)
			return
		}
		if probe.status == http.StatusNotFound {
			err = domain.Errorf(domain.ENotFound, "There is no page at %s.", r.URL.Path)
		}
		// The error page shows the reader's navigation when they are
		// signed in; anything else about their credentials is for routes
		// to judge.
		if p, aerr := s.Auth.Authenticate(r); aerr == nil {
			r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		}
		s.pageError(w, r, err)
	})
}

// checkRest refuses a request to an {id...} route whose path ends where
// the id should begin (/api/v1/records/deployment/github/): ServeMux
// matches it with an empty id, which had been looked up and answered "no
// deployment record with source "github" and id """. It is worded as
// the same route's path without the slash is (apiRedirect).
func checkRest(rt Route, r *http.Request) error {
	name, ok := strings.CutSuffix(rt.Pattern, "...}")
	if !ok {
		return nil
	}
	name = name[strings.LastIndex(name, "{")+1:]
	if r.PathValue(name) != "" {
		return nil
	}
	route := strings.ReplaceAll(rt.Pattern, "...}", "}")
	if rt.Kind == HTML {
		// As a page not found is said (unrouted).
		return domain.Errorf(domain.ENotFound, "There is no page at %s: the address lacks {%s}, the last part of %s.", r.URL.Path, name, route)
	}
	return domain.Errorf(domain.ENotFound, "no route %s %s: the path lacks {%s}, the last part of %s", r.Method, r.URL.Path, name, route)
}

// redirectType is the type of ServeMux's redirect handlers.
var redirectType = reflect.TypeOf(http.RedirectHandler("/", http.StatusTemporaryRedirect))

// apiRedirect is where an API request ServeMux would redirect (h) goes: a
// path lacking the last segment of an {id...} route is a 404 naming what
// is missing; a path not in its canonical form ("//api/v1//metrics") goes
// to that form, its query kept.
func apiRedirect(h http.Handler, pattern string, r *http.Request) (string, error) {
	probe := &probeWriter{header: http.Header{}}
	h.ServeHTTP(probe, r)
	loc := probe.header.Get("Location")
	to, _ := url.Parse(loc)
	if to != nil && to.Path == r.URL.Path+"/" {
		_, route, _ := strings.Cut(pattern, " ")
		route = strings.ReplaceAll(route, "...}", "}")
		last := route[strings.LastIndex(route, "/")+1:]
		return "", domain.Errorf(domain.ENotFound, "no route %s %s: the path lacks %s, the last part of %s", r.Method, r.URL.Path, last, route)
	}
	if to == nil || loc == "" {
		loc = path.Clean(r.URL.Path)
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
	}
	return loc, nil
}

// probeWriter records what ServeMux's own 404 and 405 handlers would write.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header         { return p.header }
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *probeWriter) WriteHeader(code int)        { p.status = code }

// webhooks hands a delivery to the connectors.
func (s *Server) webhooks(w http.ResponseWriter, r *http.Request) {
	if s.hooks == nil {
		s.writeError(w, r, domain.Errorf(domain.ENotFound, "no webhook connectors on this server"))
		return
	}
	s.hooks.ServeHTTP(w, r)
}
