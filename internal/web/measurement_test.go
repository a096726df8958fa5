package web

import "testing"

// POST /api/v1/records takes measurements as NDJSON and as CSV; posting
// them again changes nothing; a bad one is refused naming its line and
// field; a stored one reads back.
func TestPostMeasurements(t *testing.T) {
	e := newEnv(t, 0)
	body := `{"kind":"measurement","id":"th-1","metric":"team_health","at":"2026-03-01T09:00:00Z","value":3.9,"team":"payments","unit":"score"}` + "\n" +
		`{"kind":"measurement","id":"lat-1","metric":"page_latency_p95","at":"2026-03-02T00:00:00Z","value":412,"service":"api","unit":"ms","tags":{"region":"eu"}}` + "\n"
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: body, status: 200,
		fields: map[string]string{"inserted": "2", "by_kind.measurement.inserted": "2"}})
	csv := "id,metric,at,value,segment,unit\nconv-1,trial_conversion,2026-03-02T06:00:00Z,17.5,smb,%\n"
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=measurement", body: csv, headers: map[string]string{"Content-Type": "text/csv"}, status: 200,
		fields: map[string]string{"inserted": "1", "by_kind.measurement.inserted": "1"}})

	seq := e.lastSeq(t)
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: body, status: 200,
		fields: map[string]string{"records": "2", "inserted": "0", "unchanged": "2"}})
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=measurement", body: "id,metric,at,value\nconv-2,trial_conversion,2026-03-09T06:00:00Z,18\nconv-3,trial_conversion,2026-03-16T06:00:00Z,NaN\n",
		headers: map[string]string{"Content-Type": "text/csv"}, status: 400,
		fields: map[string]string{"errors.0.line": "3", "errors.0.field": "value"}})
	if got := e.lastSeq(t); got != seq {
		t.Errorf("re-posting and a refused body changed the store: seq %d → %d", seq, got)
	}

	e.run(t, scenario{url: "/api/v1/records/measurement/import/lat-1", status: 200,
		fields: map[string]string{"kind": "measurement", "record.metric": "page_latency_p95", "record.value": "412", "record.tags.0": "region=eu"}})
}
