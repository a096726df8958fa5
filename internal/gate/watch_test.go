package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/sqlite"
)

// watchData is a dataset of production deployments (source "ci", ids as
// given) finished at their times, and pushed availability samples.
func watchData(deps map[string]time.Time, slis ...domain.SLI) *metrics.Dataset {
	ds := metrics.NewDataset(metrics.DefaultConfig())
	for id, at := range deps {
		svc, _, _ := strings.Cut(id, "-")
		ds.Apply(&domain.Deployment{Meta: domain.Meta{ID: id, Source: "ci"}, Service: svc, Environment: "production", FinishedAt: at, Status: "success"}, at)
	}
	for i := range slis {
		s := slis[i]
		s.ID, s.Source = fmt.Sprintf("s%d", i), "push"
		ds.Apply(&s, s.PeriodEnd)
	}
	ds.Prepare()
	return ds
}

func sli(svc string, start time.Time, good, total float64) domain.SLI {
	return domain.SLI{Service: svc, PeriodStart: start, PeriodEnd: start.Add(time.Minute), Good: good, Total: total}
}

func reader(ds *metrics.Dataset) func(context.Context, func(*metrics.Dataset) error) error {
	var mu sync.Mutex
	return func(_ context.Context, fn func(*metrics.Dataset) error) error {
		mu.Lock()
		defer mu.Unlock()
		return fn(ds)
	}
}

// hook records the webhook's calls signed with hookSecret (one that is
// not is answered 401 and not recorded); it answers its first calls with
// the statuses in fail, the rest 202.
type hook struct {
	srv   *httptest.Server
	mu    sync.Mutex
	fail  []int
	tries int
	calls []map[string]any
}

// hookSecret is the rollback webhook's secret, held by the variable
// CANDOR_ROLLBACK_SECRET of hookEnv.
const hookSecret = "rollback-secret"

func hookEnv(name string) string {
	if name == "CANDOR_ROLLBACK_SECRET" {
		return hookSecret
	}
	return ""
}

func newHook(t *testing.T, fail ...int) *hook {
	h := &hook{fail: fail}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.Header.Get(alert.SignatureHeader) != alert.Sign([]byte(hookSecret), b) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if h.tries++; h.tries <= len(h.fail) {
			w.WriteHeader(h.fail[h.tries-1])
			return
		}
		var body map[string]any
		json.Unmarshal(b, &body)
		h.calls = append(h.calls, body)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// TestWatchPushedSamples: from pushed sli samples, a deployment whose
// error rate stays under 5 % passes once its 15 minutes are over; one
// above it fails at once — a rollback, the webhook called with the
// deployment and the evidence; one without samples, or with less traffic
// than the guard, is inconclusive, never a pass; each is judged once,
// and a new watcher (a restart) judges only what is left.
func TestWatchPushedSamples(t *testing.T) {
	ctx := context.Background()
	h := newHook(t)
	p := load(t, "watch: {open_incident: true, webhook: "+h.srv.URL+", webhook_secret_env: CANDOR_ROLLBACK_SECRET}\n")
	t0 := now.Add(-time.Hour)
	ds := watchData(map[string]time.Time{
		"checkout-1": t0, "search-1": t0, "billing-1": t0, "quiet-1": t0, "cart-1": now.Add(-5 * time.Minute), "hourly-1": t0, "quarter-1": t0.Add(5 * time.Minute),
		"stopped-1": t0,
	},
		// Five-minute samples that stopped before the deployment, and a
		// daily one over it: the feed stopped, not too coarse.
		domain.SLI{Service: "stopped", PeriodStart: t0.Add(-10 * time.Minute), PeriodEnd: t0.Add(-5 * time.Minute), Good: 1000, Total: 1000},
		domain.SLI{Service: "stopped", PeriodStart: t0.Add(-12 * time.Hour), PeriodEnd: t0.Add(12 * time.Hour), Good: 1000, Total: 1000},
		// Samples as long as the period, the deployment 5 minutes into one:
		// neither lies inside its period.
		domain.SLI{Service: "quarter", PeriodStart: t0, PeriodEnd: t0.Add(15 * time.Minute), Good: 0, Total: 1000},
		domain.SLI{Service: "quarter", PeriodStart: t0.Add(15 * time.Minute), PeriodEnd: t0.Add(30 * time.Minute), Good: 0, Total: 1000},
		// Hourly samples: the feed works, but none can say the 15 minutes.
		domain.SLI{Service: "hourly", PeriodStart: t0.Add(-10 * time.Minute), PeriodEnd: t0.Add(50 * time.Minute), Good: 0, Total: 1000},
		sli("checkout", t0.Add(time.Minute), 990, 1000), sli("checkout", t0.Add(5*time.Minute), 985, 1000),
		sli("search", t0.Add(2*time.Minute), 900, 1000),
		sli("quiet", t0.Add(2*time.Minute), 40, 50),
		sli("cart", now.Add(-4*time.Minute), 1000, 1000),
		// Outside the period: not read.
		sli("billing", t0.Add(20*time.Minute), 0, 1000),
	)
	st := openDocs(t)
	w := &Watcher{Policies: p, Docs: st, Read: reader(ds), Now: func() time.Time { return now }, Getenv: hookEnv}
	out, err := w.Once(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Watch{}
	for _, o := range out {
		got[o.Deployment] = o
	}
	want := map[string]string{"ci/checkout-1": WatchPass, "ci/search-1": WatchFail, "ci/billing-1": WatchInconclusive, "ci/quiet-1": WatchInconclusive, "ci/hourly-1": WatchInconclusive, "ci/quarter-1": WatchInconclusive, "ci/stopped-1": WatchInconclusive}
	if len(got) != len(want) {
		t.Errorf("judged %d deployments, want %d (cart-1 is still in its period): %+v", len(got), len(want), out)
	}
	for dep, o := range want {
		if got[dep].Outcome != o {
			t.Errorf("%s: %s (%s), want %s", dep, got[dep].Outcome, got[dep].Reason, o)
		}
	}
	if r := got["ci/checkout-1"]; r.Evidence.Requests != 2000 || *r.Evidence.ErrorRate != 0.0125 || r.Evidence.From != "sli" || r.Webhook != "" {
		t.Errorf("pass evidence: %+v", r)
	}
	// The period written as the gates file writes it: "15m", not Go's "15m0s".
	if r := got["ci/checkout-1"]; r.Reason != "error rate 1.3% over 2000 requests ≤ 5% within the 15m observation period" {
		t.Errorf("pass reason: %q", r.Reason)
	}
	if r := got["ci/search-1"]; !r.Rollback || !strings.Contains(r.Reason, "error rate 10% over 1000 requests is above 5% within 15m of the deployment") || r.Webhook != "answered 202 Accepted" {
		t.Errorf("fail: %+v", r)
	}
	if r := got["ci/search-1"]; r.Incident != "candor/rollback-ci-search-1" {
		t.Errorf("incident: %q", r.Incident)
	} else if inc, err := st.Get(ctx, domain.Key{Kind: domain.KindIncident, Source: "candor", ID: "rollback-ci-search-1"}); err != nil || !strings.Contains(string(inc.Body), `"caused_by":"search-1"`) {
		t.Errorf("incident record: %s %v", inc.Body, err)
	}
	if r := got["ci/quiet-1"]; !strings.Contains(r.Reason, "fewer than the minimum 100") {
		t.Errorf("quiet: %s", r.Reason)
	}
	if r := got["ci/billing-1"]; !strings.Contains(r.Reason, "no traffic data") || r.Evidence.ErrorRate != nil {
		t.Errorf("no data: %+v", r)
	}
	if r := got["ci/hourly-1"]; r.Reason != "the service's sli samples cover 1h each and none lies inside the 15m observation period, so no error rate can be read for it: send sli samples covering half the period or less, or have the watch read the service's traffic from Prometheus (a prometheus section under watch in gates.yaml: docs/gates.md, Post-deploy watch); not judged, and not a pass" || r.Evidence.ErrorRate != nil {
		t.Errorf("hourly samples: %+v", r)
	}
	if r := got["ci/quarter-1"]; !strings.HasPrefix(r.Reason, "the service's sli samples cover 15m each and none lies inside the 15m observation period") {
		t.Errorf("samples as long as the period: %+v", r)
	}
	// The demo's api-gateway: its hourly samples had stopped before the
	// deployment, and the watch had asked for hourly samples.
	stoppedAt := t0.Add(-5 * time.Minute).UTC().Format("2 Jan 15:04 MST")
	if r := got["ci/stopped-1"]; !strings.HasPrefix(r.Reason, "none of the service's sli samples lies inside the 15m observation period (") ||
		!strings.Contains(r.Reason, "its samples of 7m30s or less end at "+stoppedAt+", so no error rate can be read for it (a feed late or stopped)") {
		t.Errorf("a feed that stopped: %+v", r)
	}
	h.mu.Lock()
	if len(h.calls) != 1 || h.calls[0]["deployment"] != "ci/search-1" || h.calls[0]["event"] != "rollback" {
		t.Errorf("webhook calls: %v", h.calls)
	} else if ev, _ := h.calls[0]["evidence"].(map[string]any); ev["error_rate"] != 0.1 || ev["requests"] != 1000.0 || ev["from"] != "sli" {
		t.Errorf("webhook evidence: %v", ev)
	}
	h.mu.Unlock()

	// A restart: a new watcher over the same store judges nothing twice;
	// once cart-1's period is over (its samples clean), it passes.
	w = &Watcher{Policies: p, Docs: st, Read: reader(ds), Now: func() time.Time { return now }}
	if out, err := w.Once(ctx); err != nil || len(out) != 0 {
		t.Errorf("again: %v %+v", err, out)
	}
	w.Now = func() time.Time { return now.Add(11 * time.Minute) }
	if out, err := w.Once(ctx); err != nil || len(out) != 1 || out[0].Deployment != "ci/cart-1" || out[0].Outcome != WatchPass {
		t.Errorf("after cart-1's period: %v %+v", err, out)
	}
	all, _ := Watches(ctx, st)
	if len(all) != 8 {
		t.Errorf("%d outcomes stored, want 8", len(all))
	}
}

// TestWatchWebhookSignedAndRetried: the rollback webhook is signed with
// the secret its variable holds; a 5xx or a failed connection is tried
// again with a backoff, up to 4 times; another refusal is not; the final
// failure, or a secret not set (no unsigned call), is logged with the
// deployment and kept with the outcome.
func TestWatchWebhookSignedAndRetried(t *testing.T) {
	t0 := now.Add(-time.Hour)
	ds := watchData(map[string]time.Time{"search-1": t0}, sli("search", t0.Add(2*time.Minute), 900, 1000))
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for _, c := range []struct {
		name      string
		fail      []int
		url       string
		getenv    func(string) string
		want      string
		tries     int
		logged    string
		delivered bool
	}{
		{name: "recovers", fail: []int{503, 502}, want: "answered 202 Accepted (attempt 3)", tries: 3, delivered: true},
		{name: "keeps failing", fail: []int{503, 503, 503, 503, 503}, want: "failed after 4 attempts: answered 503 Service Unavailable", tries: 4,
			logged: `"msg":"rollback webhook failed","deployment":"ci/search-1","service":"search"`},
		{name: "refused", fail: []int{400}, want: "answered 400 Bad Request", tries: 1, logged: `"msg":"rollback webhook refused the decision","deployment":"ci/search-1"`},
		{name: "unreachable", url: down.URL, want: "failed after 4 attempts: failed: ", logged: `"deployment":"ci/search-1"`},
		{name: "no secret", getenv: func(string) string { return "" }, want: "not called: the environment variable CANDOR_ROLLBACK_SECRET (watch.webhook_secret_env) is not set",
			logged: `"deployment":"ci/search-1"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHook(t, c.fail...)
			target := h.srv.URL
			if c.url != "" {
				target = c.url
			}
			getenv := hookEnv
			if c.getenv != nil {
				getenv = c.getenv
			}
			p := load(t, "watch: {webhook: "+target+", webhook_secret_env: CANDOR_ROLLBACK_SECRET}\n")
			var log bytes.Buffer
			w := &Watcher{Policies: p, Docs: openDocs(t), Read: reader(ds), Now: func() time.Time { return now }, Getenv: getenv,
				Backoff: time.Millisecond, Log: slog.New(slog.NewJSONHandler(&log, nil))}
			out, err := w.Once(context.Background())
			if err != nil || len(out) != 1 || out[0].Outcome != WatchFail {
				t.Fatalf("Once = %+v, %v", out, err)
			}
			if got := out[0].Webhook; !strings.HasPrefix(got, c.want) {
				t.Errorf("webhook %q, want %q", got, c.want)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.tries != c.tries || (len(h.calls) == 1) != c.delivered {
				t.Errorf("%d signed attempts, %d delivered; want %d, delivered %v", h.tries, len(h.calls), c.tries, c.delivered)
			}
			if !strings.Contains(log.String(), c.logged) {
				t.Errorf("log %s, want %s", log.String(), c.logged)
			}
		})
	}
}

// A receiver that hangs holds a decision's webhook for its budget, not
// for four client timeouts and the waits between them.
func TestWatchWebhookBounded(t *testing.T) {
	t0 := now.Add(-time.Hour)
	ds := watchData(map[string]time.Time{"search-1": t0}, sli("search", t0.Add(2*time.Minute), 900, 1000))
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second):
		}
	}))
	defer hang.Close()
	p := load(t, "watch: {webhook: "+hang.URL+", webhook_secret_env: CANDOR_ROLLBACK_SECRET}\n")
	w := &Watcher{Policies: p, Docs: openDocs(t), Read: reader(ds), Now: func() time.Time { return now }, Getenv: hookEnv,
		Backoff: time.Millisecond, WebhookBudget: 200 * time.Millisecond, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	start := time.Now()
	out, err := w.Once(context.Background())
	if err != nil || len(out) != 1 {
		t.Fatalf("Once = %+v, %v", out, err)
	}
	if got := out[0].Webhook; !strings.HasPrefix(got, "failed: no answer within 200ms") {
		t.Errorf("webhook %q, want it to say the budget ran out", got)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the pass took %v with a budget of 200ms", took)
	}
}

// TestWatchConfigErrors: a bad watch setting is refused at load, naming it.
func TestWatchConfigErrors(t *testing.T) {
	for src, want := range map[string]string{
		"watch: {error_rate: 5}":                                   "watch.error_rate: 5 is not a fraction",
		"watch: {within: soon}":                                    "watch.within",
		"watch: {webhook: 'ftp://x'}":                              "watch.webhook",
		"watch: {webhook: 'https://x'}":                            "watch.webhook_secret_env: the rollback webhook is signed",
		"watch: {webhook_secret_env: X}":                           "watch.webhook_secret_env: X signs the rollback webhook, but watch.webhook names none",
		"watch: {open_incident: true, incident_severity: sev1}":    "watch.incident_severity",
		"watch: {prometheus: {url: 'http://p:9090', errors: 'x'}}": "errors and requests",
		"watch: {services: {api: {prometheus: {url: 'nope'}}}}":    "watch.services.api.prometheus.url",
	} {
		if _, err := Load("gates.yaml", []byte(src), testCatalog(t)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
}

// startPrometheus runs the Debian prometheus binary on a loopback port,
// scraping target every second, and returns its URL. Without the binary
// the test is skipped, unless CANDOR_REQUIRE_PROMETHEUS=1 (CI).
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CANDOR_REQUIRE_PROMETHEUS") == "1" {
			t.Fatal("CANDOR_REQUIRE_PROMETHEUS=1 but no prometheus binary on PATH (apt-get install prometheus)")
		}
		t.Skip("no prometheus binary on PATH")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(conf, []byte(fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: app\n    static_configs: [{targets: [%q]}]\n", target)), 0o600)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	logf, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("prometheus did not get ready: %v\n%s", err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWatchPrometheus: against a real Prometheus scraping a small
// exporter, a service answering 10 % errors fails (webhook called, the
// query and its points in the evidence), one answering 1 % passes, and a
// service Prometheus has no series for is inconclusive.
func TestWatchPrometheus(t *testing.T) {
	// Every scrape, each service has served 100 more requests.
	var scrapes atomic.Int64
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := scrapes.Add(1) * 100
		io.WriteString(w, "# TYPE http_requests_total counter\n")
		for _, s := range []struct {
			svc  string
			errs int64
		}{{"checkout", 10}, {"search", 1}} {
			fmt.Fprintf(w, "http_requests_total{service=%q,code=\"200\"} %d\n", s.svc, n*(100-s.errs)/100)
			fmt.Fprintf(w, "http_requests_total{service=%q,code=\"500\"} %d\n", s.svc, n*s.errs/100)
		}
	}))
	defer exporter.Close()
	prom := startPrometheus(t, strings.TrimPrefix(exporter.URL, "http://"))
	// Wait for a few scrapes, then deploy.
	for scrapes.Load() < 3 {
		time.Sleep(100 * time.Millisecond)
	}
	finished := time.Now().UTC()
	h := newHook(t)
	p := load(t, fmt.Sprintf(`watch:
  within: 4s
  min_requests: 50
  webhook: %s
  webhook_secret_env: CANDOR_ROLLBACK_SECRET
  prometheus:
    url: %s
    step: 1s
    errors: sum(rate(http_requests_total{service="$service",code=~"5.."}[3s]))
    requests: sum(rate(http_requests_total{service="$service"}[3s]))
`, h.srv.URL, prom))
	ds := watchData(map[string]time.Time{"checkout-9": finished, "search-9": finished, "ghost-9": finished})
	time.Sleep(time.Until(finished.Add(4500 * time.Millisecond)))
	st := openDocs(t)
	w := &Watcher{Policies: p, Docs: st, Read: reader(ds), Getenv: hookEnv}
	out, err := w.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Watch{}
	for _, o := range out {
		got[o.Deployment] = o
	}
	if r := got["ci/checkout-9"]; r.Outcome != WatchFail || r.Evidence.From != "prometheus" || len(r.Evidence.Points) < 3 || !strings.Contains(r.Evidence.Query, `service="checkout"`) ||
		r.Evidence.ErrorRate == nil || *r.Evidence.ErrorRate < 0.09 || *r.Evidence.ErrorRate > 0.11 || r.Webhook != "answered 202 Accepted" {
		t.Errorf("checkout: %+v", r)
	}
	if r := got["ci/search-9"]; r.Outcome != WatchPass || *r.Evidence.ErrorRate > 0.02 {
		t.Errorf("search: %+v", r)
	}
	if r := got["ci/ghost-9"]; r.Outcome != WatchInconclusive || !strings.Contains(r.Reason, "no traffic data") {
		t.Errorf("ghost: %+v", r)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.calls) != 1 || h.calls[0]["deployment"] != "ci/checkout-9" {
		t.Errorf("webhook calls: %v", h.calls)
	}
}

// TestDocsExamples: the approvers and watch examples of docs/gates.md load.
func TestDocsExamples(t *testing.T) {
	p := load(t, `risk: {threshold: 60, approvers: [executive, engineering]}
coverage: {severity: escalate}
policies:
  - id: cab
    require: change_request != ""
    severity: escalate
    approvers: [executive]
watch:
  error_rate: 0.05
  within: 15m
  min_requests: 100
  webhook: https://deploy.example.com/hooks/rollback
  webhook_secret_env: CANDOR_ROLLBACK_WEBHOOK_SECRET
  prometheus:
    url: http://prometheus:9090
    step: 15s
    errors: sum(rate(http_requests_total{service="$service",code=~"5.."}[1m]))
    requests: sum(rate(http_requests_total{service="$service"}[1m]))
  services:
    search: {within: 30m}
    status-page: {enabled: false}
`)
	if r := p.watch.rule("search"); r.within != 30*time.Minute || r.prom == nil || r.prom.step != 15*time.Second {
		t.Errorf("search's watch: %+v", r)
	}
	if p.watch.rule("status-page").on || !p.watch.rule("checkout").on || p.Approvers("cab")[0] != "executive" || p.Approvers("coverage")[0] != "executive" {
		t.Errorf("watch or approvers: %+v %v", p.watch, p.approvers)
	}
}

// A rollback webhook answering with a redirect does not get the decision
// re-posted where it points: the outcome names the status and the
// Location, and it is not tried again (the URL is wrong until someone
// sets it), as a 4xx is not.
func TestWatchWebhookFollowsNoRedirect(t *testing.T) {
	t0 := now.Add(-time.Hour)
	ds := watchData(map[string]time.Time{"search-1": t0}, sli("search", t0.Add(2*time.Minute), 900, 1000))
	h := newHook(t)
	var tries int
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tries++
		http.Redirect(w, r, h.srv.URL+"/elsewhere", http.StatusPermanentRedirect)
	}))
	defer moved.Close()
	p := load(t, "watch: {webhook: "+moved.URL+", webhook_secret_env: CANDOR_ROLLBACK_SECRET}\n")
	w := &Watcher{Policies: p, Docs: openDocs(t), Read: reader(ds), Now: func() time.Time { return now }, Getenv: hookEnv,
		Backoff: time.Millisecond, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	out, err := w.Once(context.Background())
	if err != nil || len(out) != 1 || out[0].Outcome != WatchFail {
		t.Fatalf("Once = %+v, %v", out, err)
	}
	if got := out[0].Webhook; !strings.Contains(got, "308") || !strings.Contains(got, "Location "+h.srv.URL+"/elsewhere") {
		t.Errorf("webhook %q, want the redirect's status and Location", got)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if tries != 1 || h.tries != 0 {
		t.Errorf("%d attempts, the redirect's target called %d times; want 1 and none", tries, h.tries)
	}
}

// TestWatchAndRetroByDeployment: a deployment's outcome and
// retro-validation are read by the key they are kept under, and the
// /gates page's newest outcomes a page at a time — each the same as the
// read of every document it replaced (a deployment's page had decoded
// every outcome and retro-validation of the store to find its own).
func TestWatchAndRetroByDeployment(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	// 700 outcomes over three services (more than two of RecentWatches'
	// pages), the rarest service's oldest.
	for i := range 700 {
		svc := []string{"api", "web", "rare"}[min(i%2, 1)]
		if i < 3 {
			svc = "rare"
		}
		w := Watch{Deployment: fmt.Sprintf("ci/d-%d", i), Service: svc, Outcome: WatchPass, At: at.Add(time.Duration(i) * time.Minute)}
		body, _ := json.Marshal(w)
		if _, _, err := st.AppendDocOnce(ctx, WatchCollection, w.Deployment, body); err != nil {
			t.Fatal(err)
		}
	}
	all, err := Watches(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range []string{"ci/d-0", "ci/d-350", "ci/d-699"} {
		w, err := WatchOf(ctx, st, dep)
		i := slices.IndexFunc(all, func(w Watch) bool { return w.Deployment == dep })
		if err != nil || w == nil || !reflect.DeepEqual(*w, all[i]) {
			t.Errorf("WatchOf(%s) = %+v, %v; want %+v", dep, w, err, all[i])
		}
	}
	if w, err := WatchOf(ctx, st, "ci/none"); w != nil || err != nil {
		t.Errorf("WatchOf a deployment never judged = %+v, %v", w, err)
	}
	for _, c := range []struct {
		service string
		n       int
	}{{"", 50}, {"api", 50}, {"rare", 50}, {"", 700}, {"web", 1000}} {
		var want []Watch
		for _, w := range all {
			if c.service == "" || w.Service == c.service {
				want = append(want, w)
			}
		}
		more := len(want) > c.n
		want = want[:min(c.n, len(want))]
		got, gotMore, err := RecentWatches(ctx, st, c.service, c.n)
		if err != nil || !reflect.DeepEqual(got, want) || gotMore != more {
			t.Errorf("RecentWatches(%q, %d): %d outcomes, more %v, %v; want %d, more %v", c.service, c.n, len(got), gotMore, err, len(want), more)
		}
	}

	v := RetroValidation{Deployment: "ci/e-1", By: "user:cto@example.com", Note: "reviewed", At: at}
	body, _ := json.Marshal(v)
	if _, _, err := st.AppendDocOnce(ctx, RetroCollection, v.Deployment, body); err != nil {
		t.Fatal(err)
	}
	vs, _ := RetroValidations(ctx, st)
	if got, err := RetroValidationOf(ctx, st, "ci/e-1"); err != nil || got == nil || !reflect.DeepEqual(*got, vs[0]) {
		t.Errorf("RetroValidationOf = %+v, %v; want %+v", got, err, vs[0])
	}
	if got, err := RetroValidationOf(ctx, st, "ci/d-1"); got != nil || err != nil {
		t.Errorf("RetroValidationOf a deployment never validated = %+v, %v", got, err)
	}
}
