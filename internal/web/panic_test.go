package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/scorecard"
)

// A handler that panics — directly, or in a worker whose panic the
// scorecard raises again in the request's goroutine — is answered with a
// 500 in the error vocabulary quoting the request id (JSON for the API,
// the error page for a page), and the panic is logged with its stack
// under that id. net/http alone dropped the connection, and a panic on a
// worker goroutine of its own ended the whole server.
func TestPanickingRequestIsA500(t *testing.T) {
	e := newEnv(t, 0)
	logs := recordLog(e.srv)
	workers := func() {
		// A panic on one of the scorecard's workers (no dataset to read),
		// raised again here.
		scorecard.Build(e.srv.Catalog, nil, scorecard.Options{AsOf: time.Now()})
	}
	for _, c := range []struct {
		path string
		fn   func()
		json bool
	}{
		{"/api/v1/scorecard", func() { panic("formula met data it could not handle") }, true},
		{"/metrics/mttr", func() { panic("formula met data it could not handle") }, false},
		{"/api/v1/views/ceo", workers, true},
	} {
		h := e.srv.logRequests(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { c.fn() }))
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", c.path, nil)
		req.Header.Set(RequestIDHeader, "req-panic-0001")
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != 500 || !strings.Contains(body, "req-panic-0001") || strings.Contains(body, "could not handle") {
			t.Errorf("%s: %d %q, want a 500 quoting the request id and not the panic", c.path, rec.Code, body)
		}
		var v map[string]any
		if isJSON := json.Unmarshal(rec.Body.Bytes(), &v) == nil; isJSON != c.json {
			t.Errorf("%s: answered as JSON %v, want %v: %q", c.path, isJSON, c.json, body)
		}
	}
	l := logs.String()
	if !strings.Contains(l, `"msg":"request panicked"`) || !strings.Contains(l, `"request_id":"req-panic-0001"`) || !strings.Contains(l, "panic_test.go") ||
		!strings.Contains(l, "scorecard.Evaluate") {
		t.Errorf("the panic is not logged with the request id and its stack:\n%s", l)
	}

	// A response already begun cannot become a 500: the connection is cut,
	// as net/http does, rather than a second header written into the body.
	h := e.srv.logRequests(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("{\"cards\": ["))
		panic("half way")
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("a panic after the response began: recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/scorecard", nil))
}
