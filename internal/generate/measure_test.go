package generate

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

// withoutMeasurements is the digest of the output less its measurement
// lines, and how many there were.
func withoutMeasurements(out []byte) (digest string, measurements int) {
	h := sha256.New()
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte(`{"kind":"measurement"`)) {
			measurements++
			continue
		}
		h.Write(sc.Bytes())
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)), measurements
}

// Measurements come from a random stream of their own, after every other
// record: the rest of the output is byte for byte what the generator wrote
// before it made measurements (digests taken then), so tests and figures
// built on the generated data do not move. A deliberate change to another
// kind's generation updates these digests.
func TestMeasurementsLeaveOtherRecordsAlone(t *testing.T) {
	for _, c := range []struct {
		opt    Options
		digest string
	}{
		{Options{Seed: 7, Scale: 0.05, End: testEnd}, "11a92cc8de421a937c0a48aa1df464648f37249676c6d9e8a526ebb751751488"},
		{Options{Seed: 1, Scale: 0.3, End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Days: 120}, "805ee5b8274eb482b82e034f44e3085151bcf38077d7fd66bf6d23ca760b9bef"},
	} {
		out, _ := generate(t, c.opt)
		digest, n := withoutMeasurements(out)
		if digest != c.digest {
			t.Errorf("%+v: the records other than measurements changed (sha256 %s, was %s)", c.opt, digest, c.digest)
		}
		if n == 0 {
			t.Errorf("%+v: no measurements", c.opt)
		}
	}
}

// The measurements are what their tools would send: a monthly team-health
// score (1–5) per team, weekly feature adoption and conversion shares
// (0–100 %) and daily p95 page latency of each customer-facing service,
// all before End.
func TestMeasurements(t *testing.T) {
	out, _ := generate(t, Options{Seed: 2, Scale: 0.1, End: testEnd, Days: 120})
	byKind := parseAll(t, out, testEnd)
	services := map[string]bool{}
	for _, s := range byKind["service"] {
		if s["customer_facing"] == true {
			services[s.s("id")] = true
		}
	}
	type bounds struct {
		lo, hi float64
		unit   string
	}
	want := map[string]bounds{
		"team_health":      {1, 5, "score"},
		"feature_adoption": {0, 100, "%"},
		"trial_conversion": {0, 100, "%"},
		"page_latency_p95": {50, 2000, "ms"},
	}
	n := map[string]int{}
	latency := map[string]int{}
	for _, m := range byKind["measurement"] {
		metric := m.s("metric")
		b, ok := want[metric]
		if !ok {
			t.Fatalf("unexpected metric %q", metric)
		}
		n[metric]++
		v, err := m["value"].(json.Number).Float64()
		if err != nil || v < b.lo || v > b.hi || m.s("unit") != b.unit {
			t.Errorf("%s %s: value %v %s, want %s in [%v, %v]", metric, m.s("id"), m["value"], m.s("unit"), b.unit, b.lo, b.hi)
		}
		switch metric {
		case "team_health":
			if m.s("team") == "" || m.s("service") != "" {
				t.Errorf("team health %s: team %q service %q, want a team of its own", m.s("id"), m.s("team"), m.s("service"))
			}
		case "page_latency_p95":
			if !services[m.s("service")] {
				t.Errorf("latency %s: %q is not a customer-facing service", m.s("id"), m.s("service"))
			}
			latency[m.s("service")]++
		case "feature_adoption", "trial_conversion":
			if m.t("at").Weekday() != time.Monday || m.s("segment") == "" {
				t.Errorf("%s %s: at %s segment %q, want Mondays per segment", metric, m.s("id"), m.s("at"), m.s("segment"))
			}
		}
	}
	// 120 days: four month starts, seventeen Mondays, 119 full days.
	if n["team_health"] != 4*5 || n["feature_adoption"] != 17*len(features)*len(segments) || n["trial_conversion"] != 17*len(segments) {
		t.Errorf("counts %v", n)
	}
	for s := range services {
		if latency[s] < 118 || latency[s] > 120 {
			t.Errorf("latency of %s on %d days, want one a day", s, latency[s])
		}
	}
}
