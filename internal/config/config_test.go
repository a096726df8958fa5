package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "candor.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFileThenEnvironment(t *testing.T) {
	p := write(t, `
data: /var/lib/candor
addr: 0.0.0.0:9000
currency: EUR
exchange_rates: {usd: 0.92}
production_environments: [prod, main]
attribution_window: 12h
vulnerability_sla: {critical: 3d}
freshness: {incidents: 72h}
gross_margin: 0.7
funnel_maturation_lag: 60d
pipeline_stages: [Prospecting, Qualification, Proposal, Negotiation]
release_impact_weights: {priority: {Urgent: 5}}
metrics:
  change_failure_rate:
    {owner: VP Eng, target: 10, thresholds: {green: 8, amber: 12}, thresholds_by_tier: {1: {green: 3, amber: 8}}, thresholds_by_service: {payments: {green: 2, amber: 5}}}
  win_rate: {min_sample: 20}
  mttr: {judged_by: baseline}
`)
	c, err := Load(p, env(map[string]string{"CANDOR_DATA": "/srv/candor", "CANDOR_MAX_BODY_BYTES": "1024"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Data != "/srv/candor" || c.Addr != "0.0.0.0:9000" || c.MaxBodyBytes != 1024 {
		t.Errorf("data %q addr %q max body %d: want env over file, file over defaults", c.Data, c.Addr, c.MaxBodyBytes)
	}
	m, err := c.EngineConfig()
	if err != nil {
		t.Fatal(err)
	}
	if m.AttributionWindow != 12*time.Hour || m.VulnerabilitySLA["critical"] != 72*time.Hour || m.VulnerabilitySLA["high"] != 30*24*time.Hour {
		t.Errorf("windows not applied: %v %v", m.AttributionWindow, m.VulnerabilitySLA)
	}
	if m.Currency != "EUR" || m.ExchangeRates["USD"] != 0.92 || m.GrossMargin != 0.7 {
		t.Errorf("money settings: %q %v %v", m.Currency, m.ExchangeRates, m.GrossMargin)
	}
	if m.FunnelLag != 60*24*time.Hour {
		t.Errorf("funnel maturation lag = %v, want 60d", m.FunnelLag)
	}
	if fmt.Sprint(m.PipelineStages) != "[Prospecting Qualification Proposal Negotiation]" {
		t.Errorf("pipeline stages = %v", m.PipelineStages)
	}
	if m.Freshness["incident"] != 72*time.Hour {
		t.Errorf("freshness = %v", m.Freshness)
	}
	if m.ImpactWeights["priority"]["urgent"] != 5 {
		t.Errorf("impact weights = %v", m.ImpactWeights["priority"])
	}
	if len(m.ProductionNames) != 2 || m.ProductionNames[1] != "main" {
		t.Errorf("production names = %v", m.ProductionNames)
	}
	cat, err := c.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	cfr, _ := cat.Metric("change_failure_rate")
	if cfr.Owner != "VP Eng" || cfr.Thresholds.Green != 8 || cfr.Version != 2 {
		t.Errorf("override not applied: owner %q green %v version %d", cfr.Owner, cfr.Thresholds.Green, cfr.Version)
	}
	if th, from := cfr.ThresholdsFor("payments", 1); th.Green != 2 || from != "service payments" {
		t.Errorf("payments' thresholds = %+v from %q, want its own", th, from)
	}
	if th, from := cfr.ThresholdsFor("checkout", 1); th.Green != 3 || from != "tier 1" {
		t.Errorf("a tier-1 service's thresholds = %+v from %q, want tier 1's", th, from)
	}
	if m, _ := cat.Metric("mttr"); m.Thresholds.RelativeTo != "baseline" {
		t.Errorf("mttr judged_by: baseline gave thresholds %+v", m.Thresholds)
	}
	if wr, _ := cat.Metric("win_rate"); wr.MinSample != 20 {
		t.Errorf("win_rate min_sample = %d, want the configured 20", wr.MinSample)
	}
}

// Tier weights and business calendars reach the engine: a service's
// calendar inherits what it does not set from the organisation's.
func TestContextSettings(t *testing.T) {
	p := write(t, `
tier_weights: {1: 5, none: 0.5}
business_hours:
  time_zone: Europe/London
  start: "08:30"
  services:
    checkout: {time_zone: America/New_York, days: [mon, tue, wed, thu, fri, sat]}
`)
	c, err := Load(p, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.EngineConfig()
	if err != nil {
		t.Fatal(err)
	}
	if m.TierWeights["1"] != 5 || m.TierWeights["none"] != 0.5 {
		t.Errorf("tier weights = %v", m.TierWeights)
	}
	if got := m.BusinessHours.String(); got != "mon–fri 08:30–17:00 Europe/London" {
		t.Errorf("organisation calendar = %s", got)
	}
	if got := m.ServiceHours["checkout"].String(); got != "mon, tue, wed, thu, fri, sat 08:30–17:00 America/New_York" {
		t.Errorf("checkout's calendar = %s", got)
	}
}

func TestDefaultsWithoutFile(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Data != "./candor-data" || c.Addr != "127.0.0.1:8080" || c.Currency != "USD" {
		t.Errorf("defaults = %+v", c)
	}
	if m, err := c.EngineConfig(); err != nil || m.FunnelLag != 90*24*time.Hour {
		t.Errorf("default funnel maturation lag = %v (%v), want 90d", m.FunnelLag, err)
	}
}

// A file with no document — empty, comments only, a lone "---", null —
// means every default, as no file does: it had zeroed them (addr "" was
// refused, the data directory became "").
func TestEmptyFileKeepsDefaults(t *testing.T) {
	for _, body := range []string{"", "# only a comment\n", "---\n", "---\n# a comment\n...\n", "\n  \n", "null\n"} {
		c, err := Load(write(t, body), env(nil))
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		d := Default()
		if c.Data != d.Data || c.Addr != d.Addr || c.Currency != d.Currency || c.MaxBodyBytes != d.MaxBodyBytes {
			t.Errorf("%q: data %q, addr %q, currency %q, max_body_bytes %d; want the defaults", body, c.Data, c.Addr, c.Currency, c.MaxBodyBytes)
		}
	}
	// A file that does not parse is still refused with its line.
	if _, err := Load(write(t, "# fine\naddr: [\n"), env(nil)); err == nil || !strings.Contains(err.Error(), "candor.yaml:") {
		t.Errorf("a broken file: err = %v, want one naming the file and line", err)
	}
}

// max_body_bytes and db from the file are refused as their variables are,
// naming the file's line or the variable: a body limit of 0 or -5 in the
// file had become 32 MiB without a word, and a bad db was blamed on --db.
func TestMaxBodyAndDBNamedWhereSet(t *testing.T) {
	cases := []struct {
		file string
		vars map[string]string
		want string
	}{
		{"# limits\nmax_body_bytes: -5\n", nil, "candor.yaml:2: max_body_bytes: -5 is not a positive number of bytes"},
		{"max_body_bytes: 0\n", nil, "candor.yaml:1: max_body_bytes: 0 is not a positive number of bytes"},
		{"", map[string]string{"CANDOR_MAX_BODY_BYTES": "-5"}, `CANDOR_MAX_BODY_BYTES: "-5" is not a positive number of bytes`},
		{"addr: :8080\ndb: mysql://x\n", nil, `candor.yaml:2: db: "mysql://x" is not a postgres:// URL`},
		{"", map[string]string{"CANDOR_DB": "mysql://x"}, `CANDOR_DB: "mysql://x" is not a postgres:// URL`},
		{"db: postgres://u:pw@h/%zz\n", nil, `candor.yaml:1: db: the postgres:// URL cannot be parsed: invalid URL escape "%zz"`},
	}
	for _, c := range cases {
		_, err := Load(write(t, c.file), env(c.vars))
		if err == nil || !strings.HasSuffix(err.Error(), c.want) {
			t.Errorf("%q %v: err = %v, want one ending %q", c.file, c.vars, err, c.want)
		}
	}
	for _, db := range []string{"postgres://u@h/candor", "postgresql://u@h/candor"} {
		if c, err := Load(write(t, "db: "+db+"\n"), env(nil)); err != nil || c.DB != db {
			t.Errorf("db %s: %v", db, err)
		}
	}
}

// Every bad setting stops Candor at start with the field named.
func TestRefused(t *testing.T) {
	cases := []struct{ name, file, want string }{
		{"unknown key", "dta: x\n", "dta"},
		{"bad window", "attribution_window: soon\n", "attribution_window"},
		{"unknown severity", "vulnerability_sla: {urgent: 3d}\n", "vulnerability_sla.urgent"},
		{"unknown freshness kind", "freshness: {deploys2: 1h}\n", "freshness.deploys2"},
		{"gross margin", "gross_margin: 1.5\n", "gross_margin"},
		{"funnel lag", "funnel_maturation_lag: 0d\n", "funnel_maturation_lag"},
		{"funnel lag unit", "funnel_maturation_lag: three months\n", "funnel_maturation_lag"},
		{"currency", "currency: dollars\n", "currency"},
		{"pipeline stage empty", "pipeline_stages: [prospecting, \" \"]\n", "pipeline_stages[1]: an empty stage name"},
		{"pipeline stage twice", "pipeline_stages: [proposal, negotiation, Proposal]\n", `pipeline_stages[2]: "Proposal" is named twice`},
		{"negative rate", "exchange_rates: {EUR: -1}\n", "exchange_rates.EUR"},
		{"impact field", "release_impact_weights: {colour: {red: 2}}\n", "release_impact_weights.colour"},
		{"impact time zone", "impact: {time_zone: Mars/Olympus}\n", "impact.time_zone"},
		{"impact spike alpha", "impact: {spike: {alpha: 2}}\n", "impact.spike.alpha"},
		{"impact insight window", "impact: {insights: {canary_candidate: {window: soon}}}\n", "impact.insights.canary_candidate.window"},
		{"impact webhook", "impact: {survey_webhook: ftp://x}\n", "impact.survey_webhook"},
		{"unknown metric override", "metrics: {no_such_metric: {owner: x}}\n", "no_such_metric"},
		{"inconsistent thresholds", "metrics: {change_failure_rate: {thresholds: {green: 20, amber: 5}}}\n", "change_failure_rate"},
		{"tier thresholds tier", "metrics: {mttr: {thresholds_by_tier: {0: {green: 1, amber: 2}}}}\n", `.yaml:1: metrics.mttr.thresholds_by_tier.0: "0" is not a service tier`},
		{"service thresholds direction", "metrics: {mttr: {thresholds_by_service: {api: {green: 3, amber: 2}}}}\n", "thresholds_by_service.api: green 3 is above amber 2"},
		{"judged_by", "metrics: {mttr: {judged_by: history}}\n", `.yaml:1: metrics.mttr.judged_by: "history"`},
		{"min_sample not whole", "metrics: {csat: {min_sample: 2.5}}\n", ".yaml:1:30: 2.5: want a whole number"},
		{"tier weight tier", "tier_weights: {4: 2}\n", "tier_weights.4"},
		{"tier weight value", "tier_weights: {1: -3}\n", "tier_weights.1"},
		{"business time zone", "business_hours: {time_zone: Mars/Olympus}\n", "business_hours.time_zone"},
		{"business days", "business_hours: {days: [mon, funday]}\n", "business_hours.days"},
		{"service hours", "business_hours: {services: {api: {start: \"18:00\"}}}\n", "business_hours.services.api.end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(write(t, c.file), env(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one naming %q", err, c.want)
			}
		})
	}
	if _, err := Load("", env(map[string]string{"CANDOR_MAX_BODY_BYTES": "lots"})); err == nil || !strings.Contains(err.Error(), "CANDOR_MAX_BODY_BYTES") {
		t.Errorf("bad env var: err = %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), env(nil)); err == nil {
		t.Errorf("a missing config file was accepted")
	}
}

// A metrics: override's mistakes name the file and line and the key path
// once, as every other section's do, each in the file's order.
func TestMetricsOverrideErrorsNameLine(t *testing.T) {
	file := "currency: EUR\n" +
		"metrics:\n" +
		"  mql_volume:\n" +
		"    target: 10.5\n" +
		"  no_such_metric:\n" +
		"    owner: x\n" +
		"  mttr:\n" +
		"    window: 14x\n" +
		"    thresholds_by_tier: {4: {green: 1, amber: 2}}\n" +
		"    priority: P7\n" +
		"  change_failure_rate:\n" +
		"    thresholds: {green: 20, amber: 10}\n" +
		"    judged_by: baseline\n"
	path := write(t, file)
	_, err := Load(path, env(nil))
	if err == nil {
		t.Fatal("accepted")
	}
	got := strings.Split(err.Error(), "\n")
	want := []string{
		"config " + path + ":4: metrics.mql_volume.target: 10.5 is not a whole number",
		path + ":5: metrics.no_such_metric: no metric with this id",
		path + ":8: metrics.mttr.window: ",
		path + ":9: metrics.mttr.thresholds_by_tier.4: ",
		path + ":10: metrics.mttr.priority: ",
		path + ":12: metrics.change_failure_rate.thresholds: ",
		path + ":13: metrics.change_failure_rate.judged_by: ",
	}
	if len(got) != len(want) {
		t.Fatalf("err =\n%v\nwant %d lines", err, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d = %q, want one starting %q", i+1, got[i], want[i])
		}
	}
	if strings.Count(err.Error(), "config") != 1 {
		t.Errorf("err says config more than once: %v", err)
	}
}

// max_lag is a positive duration, 1s by default; anything else is refused
// at load naming the key.
func TestMaxLag(t *testing.T) {
	if got, err := (Config{}).Lag(); err != nil || got != DefaultMaxLag {
		t.Errorf("default: %v, %v", got, err)
	}
	if got, err := (Config{MaxLag: "250ms"}).Lag(); err != nil || got != 250*time.Millisecond {
		t.Errorf("250ms: %v, %v", got, err)
	}
	for _, v := range []string{"0", "-1s", "soon"} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte("max_lag: "+v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), "max_lag") {
			t.Errorf("max_lag %s: err = %v, want one naming max_lag", v, err)
		}
	}
}

// read_copies is 1 or 2 (1 by default), from the file or CANDOR_READ_COPIES;
// anything else is refused at load naming the key or variable.
func TestReadCopies(t *testing.T) {
	if got, err := (Config{}).Copies(); err != nil || got != 1 {
		t.Errorf("default: %v, %v", got, err)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	for _, c := range []struct {
		file, env string
		want      int
		bad       string
	}{
		{file: "read_copies: 1\n", want: 1},
		{file: "read_copies: 2\n", want: 2},
		{file: "read_copies: 1\n", env: "2", want: 2},
		{file: "read_copies: 3\n", bad: "read_copies"},
		// 0 in the file had been read as unset (1) without a word.
		{file: "# copies\nread_copies: 0\n", bad: "c.yaml:2: read_copies: 0 is not 1 or 2"},
		{file: "read_copies: 0\n", env: "2", want: 2},
		{file: "", env: "0", bad: "CANDOR_READ_COPIES"},
		{file: "", env: "two", bad: "CANDOR_READ_COPIES"},
	} {
		if err := os.WriteFile(path, []byte(c.file), 0o644); err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{}
		if c.env != "" {
			vars["CANDOR_READ_COPIES"] = c.env
		}
		cfg, err := Load(path, env(vars))
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("%q env %q: err = %v, want one naming %s", c.file, c.env, err, c.bad)
			}
			continue
		}
		if got, _ := cfg.Copies(); err != nil || got != c.want {
			t.Errorf("%q env %q: %d, %v; want %d", c.file, c.env, got, err, c.want)
		}
	}
}

func TestSnapshotInterval(t *testing.T) {
	for _, c := range []struct {
		v    string
		want time.Duration
		bad  bool
	}{
		{"", DefaultSnapshotInterval, false},
		{"0", 0, false},
		{"1d", 24 * time.Hour, false},
		{"200ms", 200 * time.Millisecond, false},
		{"-1h", 0, true},
		{"weekly", 0, true},
	} {
		_, err := Load("", func(k string) string {
			if k == "CANDOR_SNAPSHOT_INTERVAL" {
				return c.v
			}
			return ""
		})
		got, err2 := Config{SnapshotInterval: c.v}.SnapshotEvery()
		if c.bad {
			if err == nil || err2 == nil {
				t.Errorf("%q: Load err %v, SnapshotEvery err %v; want errors", c.v, err, err2)
			}
			continue
		}
		if err != nil || err2 != nil || got != c.want {
			t.Errorf("%q: %v, %v, %v; want %v", c.v, got, err, err2, c.want)
		}
	}
}

// A number with a fraction where the configuration holds a whole number
// is refused naming the file, line and key: the YAML library had
// truncated read_copies: 1.5 to 1 with nothing said. A whole number
// written 2.0, and fractions where fractions belong, stay accepted.
func TestFractionsInWholeFields(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ file, want string }{
		{"read_copies: 1.5\n", "c.yaml:1: read_copies: 1.5 is not a whole number"},
		{"addr: 127.0.0.1:0\nmax_body_bytes: 1048576.5\n", "c.yaml:2: max_body_bytes: 1048576.5 is not a whole number"},
		// Through a struct inlined into another (connect.Sync in GitHubSync).
		{"connectors:\n  github:\n    sync:\n      repos: [acme/payments]\n      page_size: 50.5\n", "c.yaml:5: connectors.github.sync.page_size: 50.5 is not a whole number"},
		{"read_copies: 2.0\n", ""},
	} {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte(c.file), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, env(nil))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.file, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: err = %v, want %q", c.file, err, c.want)
		}
	}
	if catalog.TypeAt(reflect.TypeFor[Config](), "$.metrics.lead_time.thresholds.green") != nil {
		t.Error("a path into a type that decodes itself (catalog thresholds) is followed")
	}
}

// The reports' mail server names where a bad part of it was set, as the
// alert settings do at load: a report command had said only "smtp url:
// scheme …".
func TestMailServerNamesItsSource(t *testing.T) {
	c := Config{}
	c.Alerts.SMTP.URL, c.Alerts.SMTP.From = "ftp://mail.example.com", "c@example.com"
	c.env = env(nil)
	if _, _, err := c.MailServer(); err == nil || !strings.HasPrefix(err.Error(), `alerts.smtp.url: scheme "ftp"`) {
		t.Errorf("file: %v", err)
	}
	c.Alerts.SMTP.URL = "smtp://mail.example.com"
	c.env = env(map[string]string{"CANDOR_SMTP_URL": "smtps://mail.example.com?tls=none"})
	if _, _, err := c.MailServer(); err == nil || !strings.HasPrefix(err.Error(), "CANDOR_SMTP_URL: smtps is always TLS") {
		t.Errorf("variable: %v", err)
	}
	c.env = env(map[string]string{"CANDOR_SMTP_URL": "smtp://alerts:hunter 2@mail.example.com"})
	if _, _, err := c.MailServer(); err == nil || strings.Contains(err.Error(), "hunter") {
		t.Errorf("a URL that does not parse: %v", err)
	}
	c.env = env(map[string]string{"CANDOR_SMTP_FROM": "c@example.com"})
	if srv, ok, err := c.MailServer(); err != nil || !ok || srv.Host != "mail.example.com" {
		t.Errorf("good: %+v %v %v", srv, ok, err)
	}
}

// A bad CANDOR_SMTP_URL is named as the variable at load, not as the
// configuration file, which was fine.
func TestSMTPVariableNotBlamedOnTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	conf := "alerts:\n  smtp: {url: \"smtp://mail.example.com\", from: c@example.com}\n  channels:\n    - {name: exec, type: email, to: [ceo@example.com]}\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, env(map[string]string{"CANDOR_SMTP_URL": "ftp://mail.example.com"}))
	if err == nil || err.Error() != `CANDOR_SMTP_URL: scheme "ftp" is not smtp or smtps` {
		t.Errorf("err = %v", err)
	}
}

// An exchange rate's key is an ISO 4217 code, refused otherwise with the file, line and key at
// load — before the store's recorded settings are compared, where EURO had been reported as a
// governance change (or accepted silently on a fresh store); a proposal's value is checked alike.
// A lower-case key is its code (usd is USD), so two keys for one code are refused.
func TestExchangeRateKeys(t *testing.T) {
	p := write(t, "currency: USD\nexchange_rates:\n  EUR: 1.08\n  EURO: 1.1\n")
	_, err := Load(p, env(nil))
	if want := "config " + p + `:4: exchange_rates.EURO: "EURO" is not an ISO 4217 code`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("EURO: %v, want %s…", err, want)
	}
	_, err = Load(write(t, "exchange_rates: {eur: 1.08, EUR: 1.1}\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "exchange_rates.eur: EUR has a rate already (EUR)") {
		t.Errorf("eur and EUR: %v", err)
	}
	c, err := Load(write(t, "exchange_rates: {gbp: 1.27}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WithSettings(map[string]json.RawMessage{"exchange_rates": json.RawMessage(`{"EURO": 1.1}`)}); err == nil || !strings.Contains(err.Error(), `exchange_rates.EURO: "EURO" is not an ISO 4217 code`) {
		t.Errorf("a proposal's EURO: %v", err)
	}
}

// A gates.policies file that cannot be read is refused naming the configuration file and line that
// named it (it had said only "gate policies: open missing.yaml: no such file or directory").
func TestMissingGatePoliciesNamesConfigLine(t *testing.T) {
	p := write(t, "currency: USD\ngates:\n  policies: missing.yaml\n")
	_, err := Load(p, env(nil))
	want := "config " + p + ":3: gates.policies: open " + filepath.Join(filepath.Dir(p), "missing.yaml") + ": "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want %s…", err, want)
	}
}

// A bad mail server is refused at load where the reports send through it,
// though no e-mail channel does; where nothing sends mail it stops nothing.
func TestBadMailServerForTheReports(t *testing.T) {
	_, err := Load(write(t, "alerts:\n  smtp:\n    url: http://mail.example.com\n    from: c@example.com\nreports:\n  recipients:\n    - {address: ceo@example.com, roles: [ceo]}\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), `smtp.url: scheme "http" is not smtp or smtps`) {
		t.Errorf("a digest's bad mail server: %v", err)
	}
	if _, err := Load(write(t, "alerts:\n  smtp:\n    url: http://mail.example.com\n    from: c@example.com\n"), env(nil)); err != nil {
		t.Errorf("a mail server nothing sends through: %v", err)
	}
}
