package importer

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
)

const commitmentCSV = "focus-spec-v1.2.commitment_discount_flexibility_2_resources.csv"
const a2CSV = "focus-spec-v1.2.saas_spend_agreements_a2.csv"

func money(t *testing.T, s string) domain.Money {
	t.Helper()
	m, err := domain.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sumCost(costs map[string]*domain.Cost) domain.Money {
	var s domain.Money
	for _, c := range costs {
		s += c.Amount
	}
	return s
}

// The spec's commitment example: a purchase and two identical usage rows.
// Each row is a charge (the identical ones get their own ids), the default
// amount is EffectiveCost, literal nulls are absent values, the currency
// falls back to the default, and importing again with another cost column
// replaces the same records rather than adding to them.
func TestFOCUSCommitmentExample(t *testing.T) {
	st := newStore(t)
	rep := mustRun(t, st, FOCUS, Options{}, fix(t, commitmentCSV))
	if rep.ByKind[domain.KindCost] == nil || rep.ByKind[domain.KindCost].Inserted != 3 || rep.ByKind[domain.KindUsage] != nil {
		t.Fatalf("summary %+v, want 3 cost records inserted and no usage (hours are not requests)", rep.ByKind)
	}
	costs := stored[*domain.Cost](t, st, domain.KindCost)
	if got, want := sumCost(costs), money(t, "2"); got != want {
		t.Fatalf("Σ EffectiveCost = %s, want %s", got, want)
	}
	var twins int
	for id, c := range costs {
		if c.Source != "focus" || c.Currency != "USD" {
			t.Errorf("%s: source %q currency %q, want focus and the default USD", id, c.Source, c.Currency)
		}
		if !c.PeriodStart.Equal(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)) || !c.PeriodEnd.Equal(time.Date(2023, 1, 1, 1, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: period %s – %s", id, c.PeriodStart, c.PeriodEnd)
		}
		if strings.HasSuffix(id, "-2") && costs[strings.TrimSuffix(id, "-2")] != nil {
			twins++
		}
	}
	if twins != 1 {
		t.Fatalf("ids %v: the two identical usage rows should be id and id-2", keys(costs))
	}

	again := mustRun(t, st, FOCUS, Options{}, fix(t, commitmentCSV))
	if again.Unchanged != 3 || again.Inserted+again.Replaced != 0 {
		t.Fatalf("re-import: %+v, want 3 unchanged", again.Summary.WriteResult)
	}
	billed := mustRun(t, st, FOCUS, Options{FOCUS: FOCUSOptions{CostColumn: "billedcost"}}, fix(t, commitmentCSV))
	if billed.Replaced != 3 || billed.Inserted != 0 {
		t.Fatalf("BilledCost import: %+v, want the 3 records replaced", billed.Summary.WriteResult)
	}
	costs = stored[*domain.Cost](t, st, domain.KindCost)
	if len(costs) != 3 || sumCost(costs) != money(t, "2") {
		t.Fatalf("after BilledCost: %d records, Σ %s; want 3 and 2 (the purchase billed, usage 0)", len(costs), sumCost(costs))
	}
}

// The spec's SaaS example writes M/D/YY dates: refused as ambiguous
// (naming the file, line and column) unless the order is given.
func TestFOCUSSlashDates(t *testing.T) {
	st := newStore(t)
	_, err := run(t, st, FOCUS, Options{}, fix(t, a2CSV))
	ie := invalid(t, err)
	if ie.Count != 13 {
		t.Fatalf("%d invalid, want all 13 rows", ie.Count)
	}
	wantProblem(t, ie, a2CSV+":2:", "ChargePeriodStart", "--slash-dates")
	wantProblem(t, ie, a2CSV+":14:", "ChargePeriodEnd", `"4/1/26"`)
	if n := total(t, st); n != 0 {
		t.Fatalf("%d records stored after a refused import", n)
	}

	mustRun(t, st, FOCUS, Options{SlashDates: "mdy"}, fix(t, a2CSV))
	costs := stored[*domain.Cost](t, st, domain.KindCost)
	if len(costs) != 13 {
		t.Fatalf("%d cost records, want 13", len(costs))
	}
	if got := sumCost(costs); got != money(t, "1200") {
		t.Fatalf("Σ EffectiveCost = %s, want 1200", got)
	}
	var first, last *domain.Cost
	for _, c := range costs {
		if c.Amount == money(t, "48") {
			first = c
		}
		if c.Amount == money(t, "480") {
			last = c
		}
	}
	if first == nil || last == nil {
		t.Fatalf("rows of 48 and 480 missing: %v", costs)
	}
	want := domain.Cost{PeriodStart: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), PeriodEnd: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC),
		Amount: money(t, "48"), Currency: "USD", Service: "AwesomeDB", Category: "Database", Provider: "Acme Co"}
	got := *first
	got.Meta = domain.Meta{}
	if got.PeriodStart != want.PeriodStart || got.PeriodEnd != want.PeriodEnd || got.Amount != want.Amount || got.Currency != want.Currency ||
		got.Service != want.Service || got.Category != want.Category || got.Provider != want.Provider || got.Tags != nil {
		t.Fatalf("first row = %+v\nwant %+v", got, want)
	}
	if !last.PeriodStart.Equal(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)) || !last.PeriodEnd.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("end-of-contract fee period %s – %s, want the contract year", last.PeriodStart, last.PeriodEnd)
	}

	dmy := newStore(t)
	mustRun(t, dmy, FOCUS, Options{SlashDates: "dmy"}, fix(t, a2CSV))
	for _, c := range stored[*domain.Cost](t, dmy, domain.KindCost) {
		if c.Amount == money(t, "48") && !c.PeriodStart.Equal(time.Date(2025, 1, 4, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("dmy: 4/1/25 read as %s, want 4 January 2025", c.PeriodStart)
		}
	}
}

// Written for this test (not a real export), with FOCUS 1.2 column names:
// request counts become usage records (times the unit quantity), the
// service comes from a tag when asked, amounts with more than six
// decimals are rounded half to even, and a correction row is cost only.
const requestsCSV = `BilledCost,EffectiveCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ChargeClass,ConsumedQuantity,ConsumedUnit,ProviderName,ServiceName,ServiceCategory,ResourceId,SkuPriceId,Tags
0.000003,0.0000025,EUR,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,,2500,1000 Requests,AWS,AWS Lambda,Compute,arn:fn:checkout,SP1,"{""app"":""checkout"",""env"":""prod""}"
1.25,1.25,EUR,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,,120,Requests,AWS,Amazon API Gateway,Networking,arn:api:1,SP2,"{""app"":""search""}"
-0.5,-0.5,EUR,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,Correction,-10,Requests,AWS,Amazon API Gateway,Networking,arn:api:1,SP2,"{""app"":""search""}"
3.0,3.0,EUR,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,,24,Hours,AWS,Amazon EC2,Compute,i-1,SP3,{}
`

func TestFOCUSRequestsAndServiceTag(t *testing.T) {
	st := newStore(t)
	mustRun(t, st, FOCUS, Options{FOCUS: FOCUSOptions{ServiceTag: "app"}}, file{"requests.csv", []byte(requestsCSV)})
	costs := stored[*domain.Cost](t, st, domain.KindCost)
	usage := stored[*domain.Usage](t, st, domain.KindUsage)
	if len(costs) != 4 || len(usage) != 2 {
		t.Fatalf("%d costs, %d usage records; want 4 and 2", len(costs), len(usage))
	}
	byService := map[string]*domain.Usage{}
	for id, u := range usage {
		if costs[id] == nil {
			t.Errorf("usage %s has no cost record of the same id", id)
		}
		byService[u.Service] = u
	}
	if u := byService["checkout"]; u == nil || u.Requests == nil || *u.Requests != 2_500_000 {
		t.Fatalf("checkout usage = %+v, want 2500 × 1000 requests", u)
	}
	if u := byService["search"]; u == nil || *u.Requests != 120 {
		t.Fatalf("search usage = %+v, want 120 requests (the correction row left out)", u)
	}
	for _, c := range costs {
		switch c.Service {
		case "checkout":
			if c.Amount != money(t, "0.000002") || c.Currency != "EUR" || strings.Join(c.Tags, ",") != "app=checkout,env=prod" {
				t.Errorf("checkout cost = %+v, want 0.0000025 rounded half to even, EUR, both tags", c)
			}
		case "":
			if c.Amount != money(t, "3") || c.Category != "Compute" {
				t.Errorf("untagged row = %+v, want no service (no app tag), amount 3", c)
			}
		}
	}
}

// Cost exports are usually delivered gzipped.
func TestFOCUSGzip(t *testing.T) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(fixture(t, commitmentCSV))
	w.Close()
	st := newStore(t)
	rep := mustRun(t, st, FOCUS, Options{}, file{"focus.csv.gz", b.Bytes()})
	if rep.Inserted != 3 {
		t.Fatalf("%+v, want 3 records", rep.Summary.WriteResult)
	}
	_, err := run(t, st, FOCUS, Options{}, file{"plain.csv.gz", fixture(t, commitmentCSV)})
	if err == nil || !strings.Contains(err.Error(), "plain.csv.gz: not gzip") {
		t.Fatalf("err = %v", err)
	}
}

func TestRoundMoney(t *testing.T) {
	for in, want := range map[string]string{
		"48": "48.000000", "0.0000025": "0.000002", "0.0000035": "0.000004", "-0.0000025": "-0.000002",
		"1.23456789": "1.234568", "4.2E-7": "0.000000", "5e-7": "0.000000", "1.5e-6": "0.000002", "12.": "12.000000",
		"abc": "abc", "1e999": "1e999", "": "",
	} {
		if got := roundMoney(in); got != want {
			t.Errorf("roundMoney(%q) = %q, want %q", in, got, want)
		}
	}
}

// Problems name the file, the line and the file's own column (with the
// Candor field it was to fill), and nothing is stored; with SkipInvalid
// the good rows land.
func TestFOCUSInvalidRows(t *testing.T) {
	csv := strings.Join([]string{
		"BilledCost,EffectiveCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,Tags",
		"1,abc,USD,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,",
		"1,1,USD,2026-03-02T00:00:00Z,2026-03-01T00:00:00Z,",
		"1,1,XYZ,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,{not json",
		"2,2,USD,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,",
	}, "\n")
	st := newStore(t)
	_, err := run(t, st, FOCUS, Options{}, file{"bill.csv", []byte(csv)})
	ie := invalid(t, err)
	wantProblem(t, ie, "bill.csv:2:", "EffectiveCost", "Candor field amount")
	wantProblem(t, ie, "bill.csv:3:", "ChargePeriodEnd", "after period_start")
	wantProblem(t, ie, "bill.csv:4:", "BillingCurrency", "ISO 4217")
	wantProblem(t, ie, "bill.csv:4:", "Tags", "JSON")
	if n := total(t, st); n != 0 {
		t.Fatalf("%d records stored", n)
	}
	rep, err := Import(context.Background(), st, FOCUS, []ingest.Source{{Name: "bill.csv", Reader: strings.NewReader(csv)}}, Options{}, ingest.Options{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inserted != 1 || rep.Invalid != 3 {
		t.Fatalf("skip invalid: %+v, want 1 inserted and 3 invalid", rep.Summary)
	}
}

// A row with no billing currency in a file that has the column is refused
// naming the column, not read as the default currency (a euro bill had
// been counted as dollars); an empty charge period names its FOCUS column,
// not Candor's field. A file without the column takes the default.
func TestFOCUSEmptyCells(t *testing.T) {
	csv := strings.Join([]string{
		"EffectiveCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd",
		"100,EUR,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z",
		"100,,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z",
		"100,null,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z",
		"100,EUR,,2026-03-02T00:00:00Z",
		"100,EUR,2026-03-01T00:00:00Z,",
	}, "\n")
	st := newStore(t)
	_, err := run(t, st, FOCUS, Options{}, file{"bill.csv", []byte(csv)})
	ie := invalid(t, err)
	wantProblem(t, ie, "bill.csv:3:", "BillingCurrency", "empty")
	wantProblem(t, ie, "bill.csv:4:", "BillingCurrency", "empty")
	wantProblem(t, ie, "bill.csv:5:", "ChargePeriodStart", "required")
	wantProblem(t, ie, "bill.csv:6:", "ChargePeriodEnd", "required")
	if n := total(t, st); n != 0 {
		t.Fatalf("%d records stored", n)
	}
	noColumn := "EffectiveCost,ChargePeriodStart,ChargePeriodEnd\n100,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z\n"
	if _, err := run(t, st, FOCUS, Options{}, file{"usd.csv", []byte(noColumn)}); err != nil {
		t.Fatalf("a file without BillingCurrency: %v", err)
	}
}

func TestFOCUSNotAFOCUSFile(t *testing.T) {
	st := newStore(t)
	_, err := run(t, st, FOCUS, Options{}, file{"x.csv", []byte("id,amount\n1,2\n")})
	if err == nil || !strings.Contains(err.Error(), "x.csv:1: no ChargePeriodStart column") {
		t.Fatalf("err = %v", err)
	}
	_, err = run(t, st, FOCUS, Options{FOCUS: FOCUSOptions{CostColumn: "Cost"}}, fix(t, commitmentCSV))
	if err == nil || !strings.Contains(err.Error(), "EffectiveCost, BilledCost, ListCost, ContractedCost") {
		t.Fatalf("err = %v", err)
	}
	if n := total(t, st); n != 0 {
		t.Fatalf("%d records stored", n)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
