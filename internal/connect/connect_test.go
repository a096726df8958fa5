package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// Free text over SPEC §1's bound is cut with a marker and counted; the
// delivery is not lost.
func TestFreeTextTruncated(t *testing.T) {
	e := ghEnv(t, GitHub{})
	long := strings.Repeat("é", domain.MaxText) // twice the bound, in two-byte characters
	body := edit(t, fixture(t, "github/derived.pull_request.closed.merged.payload.json"), func(m map[string]any) {
		obj(m, "pull_request")["title"] = long
	})
	a := e.ghPost("pull_request", "p-1", body).want(t, http.StatusOK, store.DeliveryAccepted)
	if a.body["truncated"] != 1.0 {
		t.Fatalf("truncated %v, want 1", a.body["truncated"])
	}
	c := e.record(domain.KindChange, "github", "Codertocat/Hello-World#2").(*domain.Change)
	if len(c.Title) > domain.MaxText || !strings.HasSuffix(c.Title, truncationMarker) || !strings.HasPrefix(long, strings.TrimSuffix(c.Title, truncationMarker)) {
		t.Fatalf("title of %d bytes, want at most %d ending with the marker", len(c.Title), domain.MaxText)
	}
	if ds := e.deliveries("github"); ds[0].Truncated != 1 {
		t.Fatalf("logged %d truncated fields, want 1", ds[0].Truncated)
	}
}

// An identifier over its bound rejects the delivery, naming the field and
// the bound; nothing is stored.
func TestIdentifierOverBoundRejected(t *testing.T) {
	e := ghEnv(t, GitHub{})
	body := edit(t, fixture(t, "github/deployment_status.payload.json"), func(m map[string]any) {
		obj(m, "deployment_status")["environment"] = strings.Repeat("p", 300)
	})
	e.malformed("github", body, "field environment: is 300 bytes long; an identifier or name is at most 256 bytes", ghHeaders("deployment_status", "d-1", body)...)
	long := strings.Repeat("x", 300)
	a := e.ghPost("deployment_status", long, fixture(t, "github/deployment_status.payload.json")).want(t, http.StatusBadRequest, store.DeliveryRejected)
	if !strings.Contains(a.raw, "the delivery id is 300 bytes long") {
		t.Fatalf("answer %s", a.raw)
	}
}

// Every free-text field of SPEC §1 (the domain parser bounds it at 64 KiB)
// is one finish may cut, and no identifier is.
func TestProseFieldsAreTheDomainsFreeText(t *testing.T) {
	base := map[domain.Kind]string{
		domain.KindDeployment:    `{"id":"d","service":"s","environment":"e","finished_at":"2026-01-01T00:00:00Z","status":"success"}`,
		domain.KindChange:        `{"id":"c","service":"s","merged_at":"2026-01-01T00:00:00Z"}`,
		domain.KindIncident:      `{"id":"i","service":"s","severity":"P1","opened_at":"2026-01-01T00:00:00Z"}`,
		domain.KindTicket:        `{"id":"t","created_at":"2026-01-01T00:00:00Z"}`,
		domain.KindSurvey:        `{"id":"v","at":"2026-01-01T00:00:00Z","type":"csat","score":4}`,
		domain.KindSubscription:  `{"id":"b","customer":"c","started_at":"2026-01-01T00:00:00Z","mrr":1}`,
		domain.KindVulnerability: `{"id":"x","severity":"high","opened_at":"2026-01-01T00:00:00Z"}`,
		domain.KindControl:       `{"id":"k","control":"c","checked_at":"2026-01-01T00:00:00Z","passed":true}`,
	}
	for kind, js := range base {
		r := domain.New(kind)
		v := reflect.ValueOf(r).Elem()
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type.Kind() != reflect.String || name == "" || name == "source" || name == "currency" {
				continue
			}
			var m map[string]any
			json.Unmarshal([]byte(js), &m)
			m[name] = strings.Repeat("a", domain.MaxName+1)
			_, err := domain.ParseJSON(mustJSON(m), kind, domain.ParseOptions{})
			identifier := err != nil && strings.Contains(err.Error(), "an identifier or name is at most")
			rec := domain.New(kind)
			json.Unmarshal([]byte(js), rec)
			var prose bool
			target := reflect.ValueOf(rec).Elem().FieldByName(f.Name).Addr().Interface()
			for _, p := range proseFields(rec) {
				prose = prose || p == target
			}
			if err == nil && !prose {
				t.Errorf("%s.%s takes long text but finish does not cut it", kind, name)
			}
			if identifier && prose {
				t.Errorf("%s.%s is an identifier but finish would cut it", kind, name)
			}
		}
	}
}

func TestHandlerAnswers(t *testing.T) {
	e := newEnv(t, Config{GitHub: GitHub{Secret: ghSecret}, MaxBodyBytes: 1000})
	// A route without the {source} wildcard works too.
	req := httptest.NewRequest(http.MethodPost, "/hooks/nope", strings.NewReader("{}"))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `no webhook source \"nope\" (known: alertmanager, argocd, cdevents, github, gitlab, jenkins, jira, opsgenie, pagerduty, stripe, zendesk)`) {
		t.Fatalf("unknown source: %d %s", rec.Code, rec.Body)
	}
	req = httptest.NewRequest(http.MethodGet, "/webhooks/github", nil)
	rec = httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
		t.Fatalf("GET: %d %v", rec.Code, rec.Header())
	}
	big := fixture(t, "github/deployment_status.payload.json")
	a := e.ghPost("deployment_status", "d-1", big).want(t, http.StatusRequestEntityTooLarge, store.DeliveryRejected)
	if !strings.Contains(a.raw, "larger than 1000 bytes") {
		t.Fatalf("413 says %s", a.raw)
	}
	e.checkNothingStored(1)
	if ds := e.deliveries("github"); ds[0].DeliveryID != "d-1" {
		t.Fatalf("the refused delivery's id %q was not logged", ds[0].DeliveryID)
	}
}

// Refused, unverified deliveries are logged up to a rate; past it they
// cost no write.
func TestRefusalsLoggedUpToARate(t *testing.T) {
	e := ghEnv(t, GitHub{})
	body := fixture(t, "github/ping.payload.json")
	for range refusalRate.Attempts + 5 {
		e.post("github", body, "X-GitHub-Event", "ping", "X-Hub-Signature-256", "sha256=00").want(t, http.StatusUnauthorized, store.DeliveryRejected)
	}
	if n := len(e.deliveries("github")); n != refusalRate.Attempts {
		t.Fatalf("%d refusals logged, want %d", n, refusalRate.Attempts)
	}
	// A verified delivery is logged whatever the refusals.
	e.ghPost("ping", "ping-1", body).want(t, http.StatusOK, store.DeliveryIgnored)
	e.now = e.now.Add(time.Minute)
	e.post("github", body, "X-GitHub-Event", "ping", "X-Hub-Signature-256", "sha256=00")
	if n := len(e.deliveries("github")); n != refusalRate.Attempts+2 {
		t.Fatalf("%d deliveries logged a minute later, want %d", n, refusalRate.Attempts+2)
	}
}

// A store that fails answers 500 and leaves nothing half-done.
func TestStoreFailureIs500(t *testing.T) {
	e := ghEnv(t, GitHub{})
	e.st.Close()
	a := e.ghPost("pull_request", "p-1", fixture(t, "github/derived.pull_request.closed.merged.payload.json"))
	if a.status != http.StatusInternalServerError || !strings.Contains(a.raw, "send it again") {
		t.Fatalf("answer %d %s", a.status, a.raw)
	}
	if _, err := e.svc.Receive(context.Background(), Request{Source: "github"}); err == nil {
		t.Fatal("Receive on a closed store: no error")
	}
}

// A body is held as it arrives, not as its header announces it: a request
// claiming 25 MiB that sends one byte and stalls (until the read timeout
// ends it) costs the server kilobytes, not the 25 MiB it claimed; the
// body is read whole when it does come, however it is split.
func TestReadBodyHoldsWhatArrives(t *testing.T) {
	const claimed = 25 << 20
	stalled := io.MultiReader(strings.NewReader("{"), iotest.ErrReader(os.ErrDeadlineExceeded))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	body, buf, err := readBody(stalled, claimed, claimed)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, os.ErrDeadlineExceeded) || body != nil {
		t.Fatalf("readBody of a stalled request = %d bytes, %v; want the read's error", len(body), err)
	}
	releaseBody(buf)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("a stalled request claiming %d bytes allocated %d bytes, want under 1 MiB", claimed, got)
	}

	payload := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB, over the pooled size
	body, buf, err = readBody(iotest.OneByteReader(io.LimitReader(bytes.NewReader(payload), 70_000)), 70_000, claimed)
	if err != nil || !bytes.Equal(body, payload[:70_000]) {
		t.Fatalf("readBody byte by byte = %d bytes, %v; want the 70000 sent", len(body), err)
	}
	releaseBody(buf)
	body, buf, err = readBody(iotest.HalfReader(bytes.NewReader(payload)), int64(len(payload)), claimed)
	if err != nil || !bytes.Equal(body, payload) {
		t.Fatalf("readBody in halves = %d bytes, %v; want the %d sent", len(body), err, len(payload))
	}
	releaseBody(buf)
	if _, _, err := readBody(strings.NewReader("{}"), 10, claimed); err != io.ErrUnexpectedEOF {
		t.Errorf("a body shorter than its length: %v, want io.ErrUnexpectedEOF", err)
	}
}

// A delivery's body is read into a reused buffer: reading one after
// another allocates nothing.
func TestReadBodyReusesItsBuffer(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 25<<10)
	rd := bytes.NewReader(payload)
	read := func() {
		rd.Reset(payload)
		body, buf, err := readBody(rd, int64(len(payload)), 1<<20)
		if err != nil || !bytes.Equal(body, payload) {
			t.Fatalf("readBody = %d bytes, %v; want the %d sent", len(body), err, len(payload))
		}
		releaseBody(buf)
	}
	read()
	if n := testing.AllocsPerRun(20, read); n != 0 {
		t.Fatalf("%.0f allocations a body, want none", n)
	}
}
