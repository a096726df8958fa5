package metrics

import "testing"

// A record may carry any year 1–9999, and exporters write 9999-12-31 for
// "never": a subscription ending then runs now, counts in MRR, and is not
// churned. The dataset's nanoseconds hold only 1678–2262; the year 9999
// had wrapped round to 1815, and the subscription was counted as ended
// before it began. A year before 1678 had wrapped into the future too.
func TestRecordTimesBeyondTheNanosecondRange(t *testing.T) {
	d := load(t, nil, `{"kind":"subscription","id":"s1","customer":"acme","started_at":"2026-01-01T00:00:00Z","mrr":100}
{"kind":"subscription","id":"s2","customer":"bolt","started_at":"2026-01-01T00:00:00Z","mrr":10,"ended_at":"9999-12-31T23:59:59Z"}
{"kind":"subscription","id":"s3","customer":"core","started_at":"1500-01-01T00:00:00Z","mrr":1,"ended_at":"2300-01-01T00:00:00Z"}`)
	q := Query{AsOf: ts(t, "2026-06-01T00:00:00Z"), Window: 30 * day}
	r, err := d.Compute("mrr", q)
	if err != nil || r.Value == nil {
		t.Fatalf("mrr: no value (%v)", err)
	}
	if *r.Value != 111 {
		t.Errorf("mrr = %v, want 111: every subscription runs as of 2026", *r.Value)
	}
}
