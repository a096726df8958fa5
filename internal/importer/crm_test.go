package importer

import (
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func date(t *testing.T, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSalesforceExport(t *testing.T) {
	st := newStore(t)
	mustRun(t, st, Salesforce, Options{}, fix(t, "salesforce.opportunities.csv"))
	ops := stored[*domain.Opportunity](t, st, domain.KindOpportunity)
	if len(ops) != 4 {
		t.Fatalf("%d opportunities, want 4", len(ops))
	}
	won := *ops["0065e00000K1AaAAAV"]
	want := domain.Opportunity{Meta: domain.Meta{ID: "0065e00000K1AaAAAV", Source: "salesforce"},
		CreatedAt: time.Date(2026, 1, 5, 14, 2, 11, 0, time.UTC), Amount: money(t, "120000"), Currency: "USD", Stage: "Closed Won",
		Owner: "0055e000001AbCdAAK", ClosedAt: day(2026, 2, 27), Won: true, CloseDate: date(t, "2026-02-27"), Channel: "Web"}
	if won != want {
		t.Fatalf("won opportunity = %+v\nwant %+v", won, want)
	}
	lost := ops["0065e00000K1AbBAAV"]
	if lost.Won || !lost.ClosedAt.Equal(day(2026, 3, 10)) || lost.Channel != "Partner Referral" {
		t.Fatalf("lost opportunity = %+v", lost)
	}
	open := ops["0065e00000K1AcCAAV"]
	if open.Won || !open.ClosedAt.IsZero() || open.CloseDate != date(t, "2026-04-30") || open.Stage != "Negotiation/Review" || !open.QualifiedAt.IsZero() {
		t.Fatalf("open opportunity = %+v", open)
	}
	again := mustRun(t, st, Salesforce, Options{}, fix(t, "salesforce.opportunities.csv"))
	if again.Unchanged != 4 {
		t.Fatalf("re-import: %+v, want 4 unchanged", again.Summary.WriteResult)
	}
}

// Without IsClosed and IsWon the stage decides, by the configured names;
// report-export labels are accepted; qualified_at can be taken from
// created_at; times without an offset are read in the given zone.
func TestSalesforceStagesAndLabels(t *testing.T) {
	csv := strings.Join([]string{
		"Opportunity ID,Opportunity Owner,Stage,Amount,Close Date,Created Date,Lead Source",
		"006A,Ann Smith,Signed,1000,2026-03-31,2026-01-10 09:00,Web",
		"006B,Bob Jones,Dead,2000,2026-03-15,2026-01-11 09:00,",
		"006C,Ann Smith,Closed Won,3000,2026-04-30,2026-01-12 09:00,",
	}, "\n")
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	st := newStore(t)
	opt := Options{Location: berlin, CRM: CRMOptions{WonStages: []string{"signed"}, LostStages: []string{"Dead"}, QualifiedFrom: "created"}}
	mustRun(t, st, Salesforce, opt, file{"report.csv", []byte(csv)})
	ops := stored[*domain.Opportunity](t, st, domain.KindOpportunity)
	a, b, c := ops["006A"], ops["006B"], ops["006C"]
	if !a.Won || a.Owner != "Ann Smith" || !a.ClosedAt.Equal(time.Date(2026, 3, 30, 22, 0, 0, 0, time.UTC)) || a.CloseDate != date(t, "2026-03-31") {
		t.Fatalf("Signed = %+v, want won, closed at midnight Berlin time", a)
	}
	if created := time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC); !a.CreatedAt.Equal(created) || !a.QualifiedAt.Equal(created) {
		t.Fatalf("created %s qualified %s, want both 09:00 Berlin", a.CreatedAt, a.QualifiedAt)
	}
	if b.Won || b.ClosedAt.IsZero() {
		t.Fatalf("Dead = %+v, want closed and lost", b)
	}
	if c.Won || !c.ClosedAt.IsZero() {
		t.Fatalf("Closed Won with the won stages replaced = %+v, want open", c)
	}
}

func TestHubSpotExport(t *testing.T) {
	st := newStore(t)
	mustRun(t, st, HubSpot, Options{CRM: CRMOptions{QualifiedFrom: "created"}}, fix(t, "hubspot.deals.csv"))
	ops := stored[*domain.Opportunity](t, st, domain.KindOpportunity)
	if len(ops) != 4 {
		t.Fatalf("%d deals, want 4", len(ops))
	}
	won := *ops["18342915001"]
	created := time.Date(2026, 1, 8, 10, 15, 0, 0, time.UTC)
	want := domain.Opportunity{Meta: domain.Meta{ID: "18342915001", Source: "hubspot"}, CreatedAt: created, Amount: money(t, "24000"),
		Currency: "USD", Stage: "Closed Won", Owner: "Jane Doe", QualifiedAt: created, ClosedAt: day(2026, 2, 20), Won: true, CloseDate: date(t, "2026-02-20")}
	if won != want {
		t.Fatalf("won deal = %+v\nwant %+v", won, want)
	}
	if d := ops["18342915002"]; d.Won || !d.ClosedAt.Equal(day(2026, 3, 1)) {
		t.Fatalf("lost deal = %+v", d)
	}
	if d := ops["18342915004"]; !d.ClosedAt.IsZero() || d.Owner != "" || d.Stage != "Appointment Scheduled" {
		t.Fatalf("open deal = %+v", d)
	}
}

// HubSpot's internal property names work as column names too.
func TestHubSpotInternalNames(t *testing.T) {
	csv := "hs_object_id,dealname,dealstage,amount,closedate,createdate,hubspot_owner_id\n" +
		"9001,Deal,closedwon,500,2026-03-31T00:00:00.000Z,2026-01-10T09:15:30.234Z,77\n"
	st := newStore(t)
	mustRun(t, st, HubSpot, Options{}, file{"api.csv", []byte(csv)})
	d := stored[*domain.Opportunity](t, st, domain.KindOpportunity)["9001"]
	if d == nil || !d.Won || d.Owner != "77" || !d.CreatedAt.Equal(time.Date(2026, 1, 10, 9, 15, 30, 234e6, time.UTC)) {
		t.Fatalf("deal = %+v", d)
	}
}

func TestCRMInvalidRows(t *testing.T) {
	csv := strings.Join([]string{
		"Record ID,Deal Stage,Amount,Close Date,Create Date",
		"1,Closed Won,abc,2026-03-01,2026-01-01",
		"2,Closed Won,10,,2026-01-01",
		"3,Contract Sent,10,2026-03-01,1/2/26",
		"4,Contract Sent,,2026-03-01,2026-01-01",
		"5,Contract Sent,10,2026-03-01,2026-01-01",
	}, "\n")
	st := newStore(t)
	_, err := run(t, st, HubSpot, Options{}, file{"deals.csv", []byte(csv)})
	ie := invalid(t, err)
	if ie.Count != 4 {
		t.Fatalf("%d invalid, want 4:\n%v", ie.Count, ie)
	}
	wantProblem(t, ie, "deals.csv:2:", "Amount", "not a decimal number")
	wantProblem(t, ie, "deals.csv:3:", "Close Date", "closed")
	wantProblem(t, ie, "deals.csv:4:", "Create Date", "--slash-dates")
	wantProblem(t, ie, "deals.csv:5:", "Amount", "required")
	if n := total(t, st); n != 0 {
		t.Fatalf("%d records stored", n)
	}
	_, err = run(t, st, HubSpot, Options{}, file{"x.csv", []byte("Deal Name,Amount\nA,1\n")})
	if err == nil || !strings.Contains(err.Error(), "x.csv:1: no Record ID or Deal ID or hs_object_id column") {
		t.Fatalf("err = %v", err)
	}
}
