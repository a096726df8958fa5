package web

import (
	"html/template"
	"net/http"
	"time"

	"github.com/candor/candor/internal/domain"
)

// waitingRetry is the Retry-After of a server still waiting for its
// database at start.
const waitingRetry = 5 * time.Second

// Waiting answers every request while `candor serve` waits for its
// database at start, before any Server exists: 503 with Retry-After, in
// the error vocabulary every other response uses (the API's JSON error,
// code "unavailable"; a page for a browser), saying why (reason: the
// failure's class, never the database's address). A health check is told
// at once rather than waiting for its own timeout.
func Waiting(reason string) http.Handler {
	msg := "Candor is starting and waits for its database (" + reason + "); try again shortly"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := &apiError{Code: domain.EUnavailable, Message: msg, status: Status(domain.EUnavailable), retryAfter: waitingRetry}
		setErrorHeaders(w, e)
		w.Header().Set("Cache-Control", "no-store")
		if isAPIPath(r.URL.Path) {
			writeJSON(w, e.status, e)
			return
		}
		// The pages' templates and assets belong to a Server, which is
		// made once the database answers: a page of its own, no assets.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(e.status)
		waitingPage.Execute(w, msg)
	})
}

var waitingPage = template.Must(template.New("waiting").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Candor is starting</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2933">
<h1 style="font-size:1.4rem">Candor is starting</h1>
<p>{{.}}.</p>
<p>This page does not reload by itself: reload it in a few seconds.</p>
</body></html>
`))
