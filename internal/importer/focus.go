package importer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
)

// FOCUSOptions say how a FOCUS cost and usage file maps onto cost records.
type FOCUSOptions struct {
	// CostColumn is the column whose amount a cost record carries:
	// EffectiveCost (the default: amortised, commitment purchases spread
	// over the usage they cover, so a service's cost includes its share
	// of them), BilledCost (what the invoice charges, purchases on the day
	// they are bought), ListCost or ContractedCost.
	CostColumn string
	// ServiceTag, when set, names the tag (a key of the Tags column) whose
	// value is the Candor service a row's cost belongs to; a row without
	// the tag has no service. Empty names the service by ServiceName, the
	// provider's offering (e.g. "Amazon EC2").
	ServiceTag string
}

var costColumns = []string{"EffectiveCost", "BilledCost", "ListCost", "ContractedCost"}

func (o *FOCUSOptions) check() error {
	if o.CostColumn == "" {
		o.CostColumn = "EffectiveCost"
		return nil
	}
	for _, c := range costColumns {
		if strings.EqualFold(o.CostColumn, c) {
			o.CostColumn = c
			return nil
		}
	}
	return domain.InvalidParam("cost_column", "%q: use one of %s", o.CostColumn, strings.Join(costColumns, ", "))
}

// focusKeyColumns identify a charge: a row's id is a hash of these, so a
// re-export of the same period (providers rewrite the month-to-date file
// several times a day) replaces the rows it restates instead of adding
// them again. Amounts, quantities and prices are left out because a
// restatement changes them; names, descriptions and tags because they can
// be edited after the fact; InvoiceId because it is only set once the
// invoice is issued.
var focusKeyColumns = []string{
	"BillingAccountId", "SubAccountId", "BillingCurrency",
	"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
	"ChargeCategory", "ChargeClass", "ChargeFrequency", "PricingCategory",
	"ProviderName", "ServiceProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName",
	"RegionId", "AvailabilityZone", "ResourceId",
	"SkuId", "SkuPriceId", "SkuMeter", "PricingUnit", "ConsumedUnit",
	"CommitmentDiscountId", "CommitmentDiscountStatus",
	"CapacityReservationId", "CapacityReservationStatus",
}

// requestsUnit matches the FOCUS units that count requests: "Requests",
// or with a unit quantity, "1000 Requests" (FOCUS Unit Format). Compound
// and ratio units ("Request-Tokens", "Requests/Second") are not counts of
// requests.
var requestsUnit = regexp.MustCompile(`(?i)^(?:([1-9][0-9]{0,15}) +)?requests?$`)

// focusColumns are the positions of the columns a FOCUS row maps from.
type focusColumns struct {
	start, end, cost, currency, provider, category, service, tags int
	unit, quantity, chargeCategory, chargeClass                   int
	key                                                           []int
}

// readFOCUS maps a FOCUS (1.0–1.2 column names) cost and usage CSV: each
// row becomes a cost record, and a usage row that counts requests also a
// usage record with the same id. Timestamps are UTC, as FOCUS requires.
func readFOCUS(name string, r io.Reader, opt Options, maxLine int, add func(ingest.Entry) error) error {
	var c focusColumns
	// seen counts the rows of each identity: rows alike in every
	// identifying column are distinct charges all the same, numbered in
	// file order.
	seen := map[uint64]uint32{}
	tr := timeReader{loc: time.UTC, slash: opt.SlashDates}
	header := func(t *table) error {
		c = focusColumns{
			start: t.col("ChargePeriodStart"), end: t.col("ChargePeriodEnd"), cost: t.col(opt.FOCUS.CostColumn),
			currency: t.col("BillingCurrency"), provider: t.col("ProviderName", "ServiceProviderName"),
			category: t.col("ServiceCategory"), service: t.col("ServiceName"), tags: t.col("Tags"),
			unit: t.col("ConsumedUnit"), quantity: t.col("ConsumedQuantity"),
			chargeCategory: t.col("ChargeCategory"), chargeClass: t.col("ChargeClass"),
		}
		for _, req := range []struct {
			col  int
			name string
		}{{c.start, "ChargePeriodStart"}, {c.end, "ChargePeriodEnd"}, {c.cost, opt.FOCUS.CostColumn}} {
			if req.col < 0 {
				return fmt.Errorf("%s:1: no %s column: is this a FOCUS cost and usage file? (FOCUS 1.0–1.2 columns: ChargePeriodStart, ChargePeriodEnd, BilledCost, EffectiveCost, …)", name, req.name)
			}
		}
		for _, k := range focusKeyColumns {
			c.key = append(c.key, t.col(k))
		}
		return nil
	}
	row := func(t *table, line int, cells []string) error {
		get := func(i int) string {
			v := cell(cells, i)
			// FOCUS columns are NULL when absent; exports write it out.
			if strings.EqualFold(v, "null") {
				return ""
			}
			return v
		}
		at := where{file: name, line: line}
		id := focusID(t, c.key, get, seen)
		fs := newFields()
		fs.text("id", "", id)
		fs.text("source", "", opt.Source)
		for _, p := range []struct {
			field string
			col   int
		}{{"period_start", c.start}, {"period_end", c.end}} {
			v := get(p.col)
			if v == "" {
				// Absent, so that "required" names the column, not
				// Candor's field the user cannot find in their file.
				fs.text(p.field, t.name(p.col), "")
				continue
			}
			tm, _, err := tr.read(v)
			if err != nil {
				fs.fail(p.field, at.problem(t.name(p.col), "%v", err))
				continue
			}
			fs.time(p.field, t.name(p.col), tm)
		}
		fs.text("amount", t.name(c.cost), roundMoney(get(c.cost)))
		// The default currency stands in only for a file without the
		// column. FOCUS never leaves a row's BillingCurrency null: an empty
		// cell in a file that has the column is a broken row, and reading
		// its amount as the organisation currency would misstate it (a
		// euro bill counted as dollars) without a word.
		if cur := get(c.currency); c.currency >= 0 && cur == "" {
			fs.fail("currency", at.problem(t.name(c.currency), "empty: FOCUS gives every row its billing currency, and the amount is not read as the default currency while the file has the column (Candor field currency)"))
		} else {
			fs.text("currency", t.name(c.currency), cur)
		}
		fs.text("provider", t.name(c.provider), get(c.provider))
		fs.text("category", t.name(c.category), get(c.category))
		tags := get(c.tags)
		if tags != "" {
			fs.json("tags", t.name(c.tags), []byte(tags))
		}
		service, serviceFrom := get(c.service), t.name(c.service)
		if opt.FOCUS.ServiceTag != "" {
			service, serviceFrom = tagValue(tags, opt.FOCUS.ServiceTag), t.name(c.tags)
		}
		fs.text("service", serviceFrom, service)
		rec, problems := fs.parse(domain.KindCost, opt.Parse, at)
		if problems != nil {
			return add(ingest.Entry{Problems: problems})
		}
		raw := ingest.RowHash(t.cols, cells)
		if err := add(ingest.Entry{Record: rec, Raw: raw}); err != nil {
			return err
		}
		requests, ok := focusRequests(get(c.unit), get(c.quantity), get(c.chargeCategory), get(c.chargeClass))
		if !ok {
			return nil
		}
		cost := rec.(*domain.Cost)
		us := newFields()
		us.text("id", "", id)
		us.text("source", "", opt.Source)
		us.time("period_start", t.name(c.start), cost.PeriodStart)
		us.time("period_end", t.name(c.end), cost.PeriodEnd)
		us.text("requests", t.name(c.quantity), requests)
		us.text("service", serviceFrom, cost.Service)
		urec, problems := us.parse(domain.KindUsage, opt.Parse, at)
		if problems != nil {
			return add(ingest.Entry{Problems: problems})
		}
		return add(ingest.Entry{Record: urec, Raw: raw})
	}
	return readTable(name, r, maxLine, header, row, add)
}

// focusID is the row's id: a hash of its identifying columns, with "-2",
// "-3", … for the second and later rows alike in all of them.
func focusID(t *table, key []int, get func(int) string, seen map[uint64]uint32) string {
	h := sha256.New()
	for i, col := range key {
		h.Write([]byte(focusKeyColumns[i]))
		h.Write([]byte{0})
		h.Write([]byte(get(col)))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	id := hex.EncodeToString(sum[:12])
	k := binary.BigEndian.Uint64(sum)
	seen[k]++
	if n := seen[k]; n > 1 {
		id += "-" + strconv.FormatUint(uint64(n), 10)
	}
	return id
}

// focusRequests is the number of requests a row counts: its
// ConsumedQuantity times the unit quantity, for usage rows whose
// ConsumedUnit counts requests. Corrections are left out: SPEC's usage
// counts cannot be negative, and a correction's quantity may be.
func focusRequests(unit, quantity, category, class string) (string, bool) {
	m := requestsUnit.FindStringSubmatch(unit)
	if m == nil || quantity == "" || !strings.EqualFold(category, "Usage") || strings.EqualFold(class, "Correction") {
		return "", false
	}
	if m[1] == "" {
		return quantity, true
	}
	q, err := strconv.ParseFloat(quantity, 64)
	if err != nil {
		return quantity, true // the parser names the bad number
	}
	per, _ := strconv.ParseFloat(m[1], 64)
	return strconv.FormatFloat(q*per, 'g', -1, 64), true
}

// tagValue is the value of key in a FOCUS Tags object, "" when the tags
// are not an object or have no such key (the tags' own problems are
// reported when they are validated).
func tagValue(tags, key string) string {
	var m map[string]any
	if json.Unmarshal([]byte(tags), &m) != nil {
		return ""
	}
	switch v := m[key].(type) {
	case string:
		return v
	case float64, bool:
		return fmt.Sprint(v)
	}
	return ""
}

var decimal = regexp.MustCompile(`^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]([+-]?[0-9]{1,3}))?$`)

// roundMoney rounds a decimal to six places, half to even. Candor keeps
// money in millionths; FOCUS amounts often carry more decimals (a
// fraction of a cent per request), and refusing them would refuse most
// real files. Anything that is not a plain decimal is returned as it is
// for the record parser to name.
func roundMoney(s string) string {
	m := decimal.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	if exp, _ := strconv.Atoi(m[1]); exp > 30 || exp < -30 {
		return s
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return s
	}
	n := new(big.Rat).Mul(r, big.NewRat(domain.MoneyScale, 1))
	q, rem := new(big.Int).QuoRem(n.Num(), n.Denom(), new(big.Int))
	twice := new(big.Int).Lsh(rem.Abs(rem), 1)
	if c := twice.Cmp(n.Denom()); c > 0 || (c == 0 && q.Bit(0) == 1) {
		if n.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	digits := new(big.Int).Abs(q).String()
	if len(digits) <= 6 {
		digits = strings.Repeat("0", 7-len(digits)) + digits
	}
	out := digits[:len(digits)-6] + "." + digits[len(digits)-6:]
	if q.Sign() < 0 {
		out = "-" + out
	}
	return out
}
