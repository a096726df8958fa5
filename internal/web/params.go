package web

import (
	"net/http"
	"slices"
	"sort"
	"strings"
)

// routeParams lists, per GET route and per POST route of the API ("GET
// PATTERN" as in the route table), the query parameters it reads. A
// parameter not listed is refused with 400 naming it and the known ones:
// a mistyped ?windo=7d silently ignored would answer a question the client
// did not ask, and a POST's ?skip-invalid=true (for skip_invalid) had
// posted all or nothing, a POST /api/v1/reconciliations?as_of=… kept a
// result as of now. Every such route has an entry
// (TestEveryGETRouteDeclaresParams), nil for one that reads none. The
// pages' form posts are not checked: a form's action may carry the page's
// own query back.
var routeParams = map[string][]string{
	"POST /api/v1/records":                       {"kind", "skip_invalid"},
	"POST /api/v1/reconciliations":               nil,
	"POST /api/v1/metrics/{id}/acknowledgements": nil,
	"POST /api/v1/proposals":                     nil,
	"POST /api/v1/proposals/{id}/approve":        nil,
	"POST /api/v1/proposals/{id}/reject":         nil,
	"POST /api/v1/shares":                        nil,
	"POST /api/v1/shares/{id}/revoke":            nil,
	"POST /api/v1/annotations":                   nil,
	"POST /api/v1/annotations/{id}/withdraw":     nil,
	"POST /api/v1/alerts/ack":                    nil,
	"GET /api/v1/alerts/silences":                nil,
	"POST /api/v1/alerts/silences":               nil,
	"POST /api/v1/alerts/silences/{id}/end":      nil,
	"POST /api/v1/gates/evaluate":                nil,
	"POST /api/v1/gates/retro-validations":       nil,
	"POST /api/v1/gates/decisions/{id}/approve":  nil,
	"POST /api/v1/gates/decisions/{id}/reject":   nil,

	"GET /healthz": nil,
	"GET /readyz":  nil,
	// The API's reads take their page's filters, and scope as the CLI's --scope.
	"GET /api/v1/scorecard":                       apiFilterParams,
	"GET /api/v1/metrics":                         nil,
	"GET /api/v1/metrics/{id}":                    append(slices.Clone(apiFilterParams), "by", "limit", "offset"),
	"GET /api/v1/records/{kind}/{source}/{id...}": nil,
	"GET /api/v1/views":                           nil,
	// A role view covers the whole organisation: its filters are read to
	// be refused saying so (viewNotFiltered), as its page says they do not apply.
	"GET /api/v1/views/{role}":                  apiFilterParams,
	"GET /api/v1/reconciliations":               {"limit"},
	"GET /api/v1/sources":                       {"as_of", "period"},
	"GET /api/v1/ledger":                        {"from", "to", "limit"},
	"GET /api/v1/evidence":                      {"from", "to"},
	"GET /api/v1/reports/board":                 nil,
	"GET /api/v1/reports/board/{id}":            nil,
	"GET /reports":                              nil,
	"GET /reports/board/{id}":                   nil,
	"GET /api/v1/metrics/{id}/acknowledgements": nil,
	"GET /api/v1/escalations":                   {"as_of", "scope"},
	"GET /api/v1/alerts":                        nil,
	"GET /api/v1/proposals":                     nil,
	"GET /api/v1/proposals/{id}":                nil,
	"GET /api/v1/metrics/{id}/history":          nil,
	"GET /api/v1/adoption":                      {"from", "to"},
	"GET /api/v1/adoption/review":               {"as_of"},
	"GET /api/v1/shares":                        nil,
	"GET /api/v1/gates/decisions":               {"service", "limit", "before"},
	"GET /api/v1/annotations":                   {"from", "to"},
	// A governed configuration section's history.
	"GET /api/v1/sections/{name}/history": nil,
	"GET /api/v1/gates/decisions/{id}":    nil,

	"GET /{$}":           closingPageParams,
	"GET /login":         {"next"},
	"GET /static/{file}": nil,
	"GET /metrics/{id}":  metricPageParams,
	// The action form's address, reloaded: back to the page with its query.
	"GET /metrics/{id}/acknowledgements":   metricPageParams,
	"GET /records/{kind}/{source}/{id...}": recordPageParams,
	"GET /auth/oidc/start":                 {"next"},
	// A role view ignores the filters but takes them, to say they do not
	// apply, rather than refuse a link carried from the scorecard.
	"GET /views/{role}": closingPageParams,
	"GET /sources":      queryKeys,
	"GET /admin":        {"done"},
	"GET /proposals":    {"done", "proposal"},
	// The identity provider decides what its redirect carries: code and
	// state, and extensions of its own (iss, scope, session_state,
	// authuser, …), which must not fail a sign-in.
	"GET /auth/oidc/callback": anyParams,
	// A share link's filters are fixed in it: a query cannot widen or change what it shows.
	"GET /share/{secret}":          nil,
	"GET /share/{secret}/card.svg": nil,
	"GET /share/{secret}/card.png": nil,
	"GET /shares":                  {"done"},
	"GET /alerts":                  {"done"},

	"GET /api/v1/releases":                  monthPageParams,
	"GET /api/v1/releases/{source}/{id...}": {"as_of"},
	"GET /releases":                         releasesPageParams,
	"GET /api/v1/customers":                 {"as_of", "window", "month", "at_risk"},
	"GET /api/v1/customers/{id}":            {"as_of", "window", "month"},
	"GET /customers":                        customersPageParams,
	"GET /customers/{id}":                   monthPageParams,
	"GET /api/v1/insights":                  {"as_of", "window", "month"},
	"GET /insights":                         {"as_of", "window", "month"},
	"GET /api/v1/themes":                    {"as_of", "window", "month", "service", "release"},
	"GET /gates":                            append([]string{"done"}, queryKeys...),
}

// notApplied are, per route, parameters it reads only to refuse or to say
// they do not apply (a role view's filters): a refusal of an unknown
// parameter does not offer them as known, where it had listed team,
// service, … to a client that a view then refused for each.
var notApplied = map[string][]string{
	"GET /api/v1/views/{role}": {"team", "service", "environment", "business_unit", "scope"},
	"GET /views/{role}":        {"team", "service", "environment", "business_unit"},
}

// offeredParams are the parameters a refusal of an unknown one names for
// the route key ("GET PATTERN"): those it reads, less notApplied.
func offeredParams(key string) []string {
	return slices.DeleteFunc(slices.Clone(routeParams[key]), func(p string) bool { return slices.Contains(notApplied[key], p) })
}

// monthPageParams are a page's carried parameters and month, which a page
// takes in place of as_of and window and carries as them (pageQuery).
var monthPageParams = append(slices.Clone(queryKeys), "month")

// closingPageParams are monthPageParams and closing, for the pages whose
// figures a closing read changes (the scorecard, a role view; a metric
// page lists it among its own).
var closingPageParams = append(slices.Clone(monthPageParams), "closing")

// anyParams marks a route whose query another party writes: not checked.
var anyParams = []string{"*"}

// checkParams refuses a query parameter the route does not read, or one
// given twice (which of the two would count is a guess). Routes without an
// entry are not checked; the test above keeps that set empty.
func checkParams(rt Route, r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	known, ok := routeParams[rt.Method+" "+rt.Pattern]
	if !ok || slices.Equal(known, anyParams) {
		return nil
	}
	q := r.URL.Query()
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !slices.Contains(known, k) {
			if len(known) == 0 {
				return badParam(k, "unknown parameter %q: %s %s takes no query parameters", k, rt.Method, r.URL.Path)
			}
			return badParam(k, "unknown parameter %q (known: %s)", k, strings.Join(offeredParams(rt.Method+" "+rt.Pattern), ", "))
		}
		if len(q[k]) > 1 {
			return badParam(k, "parameter %q is given %d times; give it once", k, len(q[k]))
		}
	}
	return nil
}
