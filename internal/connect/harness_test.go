package connect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// testNow is the clock of the tests' services.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is a service on a fresh SQLite store with a clock the test sets,
// reached through its HTTP handler.
type env struct {
	t     *testing.T
	st    *sqlite.DB
	svc   *Service
	h     http.Handler
	now   time.Time
	auth  *auth.Service
	token string // an API token with the ingest role
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, now: testNow}
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	grants, err := auth.NewGrants(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.auth, err = auth.NewService(st, grants, auth.Options{}); err != nil {
		t.Fatal(err)
	}
	if e.token, _, err = e.auth.CreateToken(context.Background(), auth.CLIActor("test"), auth.NewToken{Name: "ci", Roles: []string{"ingest"}}); err != nil {
		t.Fatal(err)
	}
	e.svc, err = New(Options{Store: st, Config: cfg, Tokens: e.auth, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	e.h = e.svc.Handler(writeTestError)
	return e
}

// fixture reads a payload of testdata (testdata/README.md says where each
// comes from).
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// answer is a decoded response.
type answer struct {
	status int
	body   map[string]any
	raw    string
}

func (a answer) outcome() string { s, _ := a.body["outcome"].(string); return s }

func (a answer) records() []string {
	var out []string
	for _, r := range asList(a.body["records"]) {
		out = append(out, r.(string))
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }

// post sends a delivery through the handler; header holds name, value
// pairs.
func (e *env) post(source string, body []byte, header ...string) answer {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/"+source, bytes.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/{source}", e.h)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	a := answer{status: rec.Code, raw: rec.Body.String()}
	if err := json.Unmarshal(rec.Body.Bytes(), &a.body); err != nil {
		e.t.Fatalf("answer %d is not JSON: %s", rec.Code, rec.Body)
	}
	return a
}

// want fails unless the answer has the status and outcome.
func (a answer) want(t *testing.T, status int, outcome string) answer {
	t.Helper()
	if a.status != status || a.outcome() != outcome {
		t.Fatalf("answer %d %s, want %d %s: %s", a.status, a.outcome(), status, outcome, a.raw)
	}
	return a
}

// record returns the stored record of the key, decoded.
func (e *env) record(kind domain.Kind, source, id string) domain.Record {
	e.t.Helper()
	got, err := e.st.Get(context.Background(), domain.Key{Kind: kind, Source: source, ID: id})
	if err != nil {
		e.t.Fatalf("record %s/%s/%s: %v", kind, source, id, err)
	}
	r := domain.New(kind)
	if err := json.Unmarshal(got.Body, r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// recordCount is how many records the store holds.
func (e *env) recordCount() int64 {
	e.t.Helper()
	counts, err := e.st.Counts(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

// deliveries are the logged deliveries of a source, newest first.
func (e *env) deliveries(source string) []store.Delivery {
	e.t.Helper()
	ds, err := e.st.Deliveries(context.Background(), store.DeliveryFilter{Source: source})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// kept is the payload kept of a delivery, nil when none.
func (e *env) kept(source, id string) []byte {
	e.t.Helper()
	var out []byte
	err := e.st.KeptPayloads(context.Background(), source, time.Time{}, func(d store.Delivery) error {
		if d.DeliveryID == id {
			out = d.Payload
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hexHMAC(secret string, parts ...[]byte) string {
	return hex.EncodeToString(hmacSHA256(secret, parts...))
}

func b64HMAC(secret string, parts ...[]byte) string {
	return base64.StdEncoding.EncodeToString(hmacSHA256(secret, parts...))
}

// sameRecord compares a stored record with the one wanted, as JSON.
func sameRecord(t *testing.T, got, want domain.Record) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Fatalf("record\n got %s\nwant %s", g, w)
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// sourceCase is the signature checks every signed source passes: valid,
// invalid, missing, and no secret configured. sign returns the headers of
// a delivery of body signed with secret (at the env's clock).
type sourceCase struct {
	source string
	cfg    func(secret string) Config
	body   []byte
	sign   func(e *env, secret string, body []byte) []string
	// extra headers every delivery carries (the event type).
	extra []string
	// tokenOnly: the sender signs no body, it sends the secret itself
	// (GitLab), so a changed body cannot be told.
	tokenOnly bool
}

func runSignatureChecks(t *testing.T, c sourceCase) {
	const secret = "It's a Secret to Everybody"
	t.Run("valid", func(t *testing.T) {
		e := newEnv(t, c.cfg(secret))
		a := e.post(c.source, c.body, append(c.sign(e, secret, c.body), c.extra...)...)
		if a.status != http.StatusOK {
			t.Fatalf("signed delivery answered %d: %s", a.status, a.raw)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		e := newEnv(t, c.cfg(secret))
		a := e.post(c.source, c.body, append(c.sign(e, "another secret", c.body), c.extra...)...)
		a.want(t, http.StatusUnauthorized, store.DeliveryRejected)
		if c.tokenOnly {
			e.checkNothingStored(1)
			return
		}
		tampered := append(bytes.Clone(c.body), ' ')
		e.post(c.source, tampered, append(c.sign(e, secret, c.body), c.extra...)...).want(t, http.StatusUnauthorized, store.DeliveryRejected)
		e.checkNothingStored(2)
	})
	t.Run("missing", func(t *testing.T) {
		e := newEnv(t, c.cfg(secret))
		e.post(c.source, c.body, c.extra...).want(t, http.StatusUnauthorized, store.DeliveryRejected)
		e.checkNothingStored(1)
	})
	t.Run("no secret configured", func(t *testing.T) {
		e := newEnv(t, c.cfg(""))
		a := e.post(c.source, c.body, append(c.sign(e, secret, c.body), c.extra...)...).want(t, http.StatusForbidden, store.DeliveryRejected)
		if !strings.Contains(a.raw, SecretEnv(c.source)) {
			t.Errorf("the refusal does not say how to set the secret: %s", a.raw)
		}
		e.checkNothingStored(1)
	})
}

// checkNothingStored requires no records, and n logged rejections without
// their payloads.
func (e *env) checkNothingStored(n int) {
	e.t.Helper()
	if got := e.recordCount(); got != 0 {
		e.t.Fatalf("%d records stored by refused deliveries", got)
	}
	ds, err := e.st.Deliveries(context.Background(), store.DeliveryFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(ds) != n {
		e.t.Fatalf("%d deliveries logged, want %d", len(ds), n)
	}
	for _, d := range ds {
		if d.Outcome != store.DeliveryRejected || d.Reason == "" {
			e.t.Fatalf("logged %+v, want a rejection with its reason", d)
		}
	}
	err = e.st.KeptPayloads(context.Background(), ds[0].Source, time.Time{}, func(d store.Delivery) error {
		return errors.New("a refused delivery's payload was kept")
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// redelivery posts the same delivery twice and requires the second to be
// a duplicate that changed nothing.
func (e *env) redelivery(source string, body []byte, header ...string) {
	e.t.Helper()
	first := e.post(source, body, header...)
	if first.status != http.StatusOK {
		e.t.Fatalf("first delivery answered %d: %s", first.status, first.raw)
	}
	records, seq := e.recordCount(), e.lastSeq()
	second := e.post(source, body, header...).want(e.t, http.StatusOK, store.DeliveryDuplicate)
	if second.body["delivery_id"] != first.body["delivery_id"] {
		e.t.Fatalf("redelivery id %v, first %v", second.body["delivery_id"], first.body["delivery_id"])
	}
	if e.recordCount() != records || e.lastSeq() != seq {
		e.t.Fatal("a redelivery wrote records")
	}
	counted := 0
	for _, d := range e.deliveries(source) {
		if store.Counted(d.Outcome) && d.DeliveryID == first.body["delivery_id"] {
			counted++
		}
	}
	if counted != 1 {
		e.t.Fatalf("delivery %v counted %d times, want once", first.body["delivery_id"], counted)
	}
}

func (e *env) lastSeq() int64 {
	n, err := e.st.LastSeq(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// malformed posts a delivery that verifies but cannot be mapped and
// requires a 400 with the reason and nothing stored but the rejection,
// payload kept.
func (e *env) malformed(source string, body []byte, reason string, header ...string) {
	e.t.Helper()
	a := e.post(source, body, header...).want(e.t, http.StatusBadRequest, store.DeliveryRejected)
	if msg, _ := a.body["error"].(string); !strings.Contains(msg, reason) {
		e.t.Fatalf("400 says %q, want it to say %q", msg, reason)
	}
	if n := e.recordCount(); n != 0 {
		e.t.Fatalf("%d records stored by a malformed delivery", n)
	}
	ds := e.deliveries(source)
	if len(ds) == 0 || ds[0].Outcome != store.DeliveryRejected || !strings.Contains(ds[0].Reason, reason) {
		e.t.Fatalf("logged %+v, want the rejection", ds)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// edit decodes a JSON payload, lets fn change it and encodes it again:
// real-shaped variants of a real delivery.
func edit(t testing.TB, body []byte, fn func(m map[string]any)) []byte {
	t.Helper()
	m := mustDecode(t, body)
	fn(m)
	return mustJSON(m)
}

func mustDecode(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// obj walks a decoded JSON object down the path of keys.
func obj(m map[string]any, path ...string) map[string]any {
	for _, k := range path {
		next, ok := m[k].(map[string]any)
		if !ok {
			panic(fmt.Sprintf("no object %q in %v", k, reflect.ValueOf(m).MapKeys()))
		}
		m = next
	}
	return m
}

// runBearerChecks is the token checks every bearer-token source passes: a
// token with records:write (as Bearer, and as HTTP Basic's password), an
// unknown one, none, a revoked one, and one without the grant.
func runBearerChecks(t *testing.T, source string, body []byte, extra ...string) {
	t.Run("valid", func(t *testing.T) {
		e := newEnv(t, Config{})
		if a := e.post(source, body, append(extra, "Authorization", "Bearer "+e.token)...); a.status != http.StatusOK {
			t.Fatalf("delivery with a token answered %d: %s", a.status, a.raw)
		}
		e = newEnv(t, Config{})
		basic := base64.StdEncoding.EncodeToString([]byte("candor:" + e.token))
		if a := e.post(source, body, append(extra, "Authorization", "Basic "+basic)...); a.status != http.StatusOK {
			t.Fatalf("delivery with the token as the Basic password answered %d: %s", a.status, a.raw)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		e := newEnv(t, Config{})
		e.post(source, body, append(extra, "Authorization", "Bearer cdr_aaaaaaaaaaaaa_"+strings.Repeat("a", 52))...).want(t, http.StatusUnauthorized, store.DeliveryRejected)
		if _, err := e.auth.RevokeToken(context.Background(), auth.CLIActor("test"), "ci", 0); err != nil {
			t.Fatal(err)
		}
		e.post(source, body, append(extra, "Authorization", "Bearer "+e.token)...).want(t, http.StatusUnauthorized, store.DeliveryRejected)
		e.checkNothingStored(2)
	})
	t.Run("missing", func(t *testing.T) {
		e := newEnv(t, Config{})
		e.post(source, body, extra...).want(t, http.StatusUnauthorized, store.DeliveryRejected)
		e.checkNothingStored(1)
	})
	t.Run("no records:write grant", func(t *testing.T) {
		e := newEnv(t, Config{})
		tok, _, err := e.auth.CreateToken(context.Background(), auth.CLIActor("test"), auth.NewToken{Name: "viewer", Roles: []string{"engineering"}})
		if err != nil {
			t.Fatal(err)
		}
		a := e.post(source, body, append(extra, "Authorization", "Bearer "+tok)...).want(t, http.StatusForbidden, store.DeliveryRejected)
		if !strings.Contains(a.raw, "records:write") {
			t.Errorf("the refusal does not name the grant: %s", a.raw)
		}
		e.checkNothingStored(1)
	})
}

// bearer is the Authorization header of the env's ingest token.
func (e *env) bearer() []string { return []string{"Authorization", "Bearer " + e.token} }

// metric computes a metric over what the deliveries stored.
func (e *env) metric(id string, asOf time.Time, window time.Duration) metrics.Result {
	e.t.Helper()
	var res metrics.Result
	err := engine.New(e.st, metrics.DefaultConfig()).Read(context.Background(), func(ds *metrics.Dataset) error {
		var err error
		res, err = ds.Compute(id, metrics.Query{AsOf: asOf, Window: window})
		return err
	})
	if err != nil {
		e.t.Fatalf("%s: %v", id, err)
	}
	return res
}

func value(r metrics.Result) float64 {
	if r.Value == nil {
		return math.NaN()
	}
	return *r.Value
}

// writeTestError stands in for the web layer's error writer (which maps
// codes to statuses in internal/web, which imports this package): it
// answers with the code's status and the body that writer gives a
// refusal — error, code, outcome and the field at fault — and nothing
// more, so that no test here leans on an answer the server does not give
// (internal/web's TestWebhookRoute reads the real one).
func writeTestError(w http.ResponseWriter, r *http.Request, err error) {
	status := map[domain.Code]int{
		domain.EInvalid: 400, domain.EUnauthorized: 401, domain.EForbidden: 403, domain.ENotFound: 404,
		domain.EMethodNotAllowed: 405, domain.EConflict: 409, domain.ETooLarge: 413,
	}[domain.CodeOf(err)]
	if status == 0 {
		status = 500
	}
	body := map[string]any{"error": err.Error(), "code": domain.CodeOf(err)}
	var ref *Refusal
	if errors.As(err, &ref) {
		body["outcome"] = ref.Result.Outcome
		if ref.Result.Field != "" {
			body["field"] = ref.Result.Field
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
