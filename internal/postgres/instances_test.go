package postgres

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/pgtest"
	"github.com/candor/candor/internal/web"
)

// Two Candor instances behind a load balancer on one database: records
// ingested through either are served by both, with identical figures.
func TestTwoInstancesServeIdenticalFigures(t *testing.T) {
	url := pgtest.NewDatabase(t)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	g, err := auth.NewGrants(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	var bases []string
	var token string
	for i := 0; i < 2; i++ {
		db := open(t, url)
		svc, err := auth.NewService(db, g, auth.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// One token for both: the instances share the database.
			if token, _, err = svc.CreateToken(context.Background(), auth.CLIActor("test"), auth.NewToken{Name: "lb", Roles: []string{"executive", "ingest"}}); err != nil {
				t.Fatal(err)
			}
		}
		srv := httptest.NewServer((&web.Server{Engine: engine.New(db, metrics.DefaultConfig()), Catalog: cat, Store: db, Auth: svc}).Handler())
		t.Cleanup(srv.Close)
		bases = append(bases, srv.URL)
	}
	do := func(method, url, body string) (*http.Response, error) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		return http.DefaultClient.Do(req)
	}
	post := func(base, body string) {
		t.Helper()
		resp, err := do("POST", base+"/api/v1/records", body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("POST to %s: %s %s", base, resp.Status, b)
		}
	}
	get := func(base, path string) []byte {
		t.Helper()
		resp, err := do("GET", base+path, "")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s%s: %s %s", base, path, resp.Status, b)
		}
		return b
	}
	asOf := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	// Interleave writes through both instances.
	for i := 0; i < 20; i++ {
		at := asOf.Add(-time.Duration(i+1) * 13 * time.Hour).Format(time.RFC3339)
		status := "success"
		if i%5 == 0 {
			status = "failure"
		}
		body := fmt.Sprintf(`{"kind":"deployment","id":"d%d","service":"api","environment":"production","finished_at":%q,"status":%q}`+"\n", i, at, status)
		if i%3 == 0 {
			body += fmt.Sprintf(`{"kind":"incident","id":"i%d","service":"api","severity":"P2","opened_at":%q,"resolved_at":%q}`+"\n", i, at, asOf.Add(-time.Duration(i)*13*time.Hour).Format(time.RFC3339))
		}
		post(bases[i%2], body)
	}
	paths := []string{
		"/api/v1/scorecard?as_of=" + asOf.Format(time.RFC3339),
		"/api/v1/metrics/change_failure_rate?as_of=" + asOf.Format(time.RFC3339) + "&by=service",
		"/api/v1/metrics/mttr?as_of=" + asOf.Format(time.RFC3339),
	}
	for _, p := range paths {
		a, b := get(bases[0], p), get(bases[1], p)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between instances:\n%s\n---\n%s", p, a, b)
		}
	}
	if !bytes.Contains(get(bases[0], paths[1]), []byte(`"count": 20`)) {
		t.Errorf("change_failure_rate does not count all 20 deployments written through both instances")
	}
	// A write through one instance is visible through the other at once.
	post(bases[0], `{"kind":"deployment","id":"late","service":"api","environment":"production","finished_at":"2026-03-30T23:00:00Z","status":"success"}`+"\n")
	if !bytes.Contains(get(bases[1], paths[1]), []byte(`"count": 21`)) {
		t.Errorf("instance 2 did not reflect a record written through instance 1 at its next read")
	}
}
