package domain

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestParseMoney(t *testing.T) {
	ok := []struct {
		in   string
		want Money
	}{
		{"0", 0},
		{"-0", 0},
		{"0.0", 0},
		{"1", MoneyScale},
		{"+1", MoneyScale},
		{"-1", -MoneyScale},
		{"12.34", 12_340_000},
		{" 12.34 ", 12_340_000},
		{"0.1", 100_000},
		{"0.000001", 1},
		{"-0.000001", -1},
		{"1.000000", MoneyScale},
		{"1.0000000", MoneyScale}, // a 7th decimal that is zero loses nothing
		{".5", 500_000},
		{"5.", 5 * MoneyScale},
		{"007.5", 7_500_000},
		{"1e3", 1000 * MoneyScale},
		{"1E3", 1000 * MoneyScale},
		{"1e+3", 1000 * MoneyScale},
		{"1.5e2", 150 * MoneyScale},
		{"25e-1", 2_500_000},
		{"1e-6", 1},
		{"10e-7", 1},
		{"0e999999999", 0},
		{"0.00e-50", 0},
		{"1234567.891011", 1_234_567_891_011},
		{"9223372036854.775807", math.MaxInt64},
		{"-9223372036854.775807", -math.MaxInt64},
	}
	for _, c := range ok {
		got, err := ParseMoney(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, why string }{
		{"", "empty"},
		{"   ", "empty"},
		{"0.0000001", "more than 6 decimal places"},
		{"1.2345678", "more than 6 decimal places"},
		{"1e-7", "more than 6 decimal places"},
		{"1e-99999999999", "more than 6 decimal places"},
		{"9223372036854.775808", "too large"},
		{"-9223372036854.775808", "too large"},
		{"1e13", "too large"},
		{"1e100000000", "too large"},
		{"99999999999999999999999", "too large"},
		{"abc", "not a decimal number"},
		{"1/2", "not a decimal number"},
		{"0x10", "not a decimal number"},
		{"0x1p4", "not a decimal number"},
		{"0b101", "not a decimal number"},
		{"1_000", "not a decimal number"},
		{"1,000.50", "not a decimal number"},
		{"12,50", "not a decimal number"},
		{"$10", "not a decimal number"},
		{"10 USD", "not a decimal number"},
		{"Inf", "not a decimal number"},
		{"NaN", "not a decimal number"},
		{"-", "not a decimal number"},
		{".", "not a decimal number"},
		{"1.2.3", "not a decimal number"},
		{"1e", "not a decimal number"},
		{"1e+", "not a decimal number"},
		{"e5", "not a decimal number"},
		{"--1", "not a decimal number"},
		{"1 000", "not a decimal number"},
	}
	for _, c := range bad {
		got, err := ParseMoney(c.in)
		if err == nil {
			t.Errorf("ParseMoney(%q) = %d, want an error", c.in, got)
			continue
		}
		if !strings.Contains(err.Error(), c.why) {
			t.Errorf("ParseMoney(%q) error %q, want it to say %q", c.in, err, c.why)
		}
	}
}

// Money exists so that sums are exact: 0.1 + 0.2 is 0.3, not
// 0.30000000000000004, and a million cents add up to exactly 10000.
func TestMoneyExactSums(t *testing.T) {
	a, _ := ParseMoney("0.1")
	b, _ := ParseMoney("0.2")
	c, _ := ParseMoney("0.3")
	if a+b != c {
		t.Fatalf("0.1 + 0.2 = %s, want %s", a+b, c)
	}
	cent, _ := ParseMoney("0.01")
	var sum Money
	for range 1_000_000 {
		sum += cent
	}
	if want, _ := ParseMoney("10000"); sum != want {
		t.Fatalf("a million cents = %s, want 10000", sum)
	}
	// An annual price ÷ 12 normalised to six decimals stays exact.
	m, _ := ParseMoney("83.333333")
	if m.String() != "83.333333" {
		t.Fatalf("String() = %s", m)
	}
}

func TestMoneyString(t *testing.T) {
	cases := []struct {
		m    Money
		want string
	}{
		{0, "0"},
		{1, "0.000001"},
		{-1, "-0.000001"},
		{10, "0.00001"},
		{MoneyScale, "1"},
		{-MoneyScale, "-1"},
		{12_340_000, "12.34"},
		{-12_340_000, "-12.34"},
		{1_500_000, "1.5"},
		{100_000_000_000, "100000"},
		{math.MaxInt64, "9223372036854.775807"},
		{math.MinInt64, "-9223372036854.775808"},
		{math.MinInt64 + 1, "-9223372036854.775807"},
	}
	for _, c := range cases {
		if got := c.m.String(); got != c.want {
			t.Errorf("Money(%d).String() = %q, want %q", int64(c.m), got, c.want)
		}
	}
}

func TestMoneyStringParsesBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := []Money{0, 1, -1, 999_999, 1_000_001, math.MaxInt64, -math.MaxInt64}
	for range 10_000 {
		vals = append(vals, Money(rng.Int64()), Money(rng.Int64N(1e12)-5e11))
	}
	for _, m := range vals {
		got, err := ParseMoney(m.String())
		if err != nil || got != m {
			t.Fatalf("ParseMoney(%q) = %d, %v; want %d", m.String(), got, err, m)
		}
	}
}

func TestMoneyFloat(t *testing.T) {
	m, _ := ParseMoney("12.5")
	if m.Float() != 12.5 {
		t.Fatalf("Float() = %v", m.Float())
	}
}

func TestMoneyJSON(t *testing.T) {
	type wrap struct {
		A Money  `json:"a"`
		B *Money `json:"b,omitempty"`
	}
	m, _ := ParseMoney("-1234.5")
	b, err := json.Marshal(wrap{A: m})
	if err != nil || string(b) != `{"a":-1234.5}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	for in, want := range map[string]Money{
		`{"a":-1234.5}`:   m,
		`{"a":"-1234.5"}`: m, // stores written as strings elsewhere
		`{"a":1e3}`:       1000 * MoneyScale,
		`{"a":0.000001}`:  1,
	} {
		var w wrap
		if err := json.Unmarshal([]byte(in), &w); err != nil || w.A != want {
			t.Errorf("Unmarshal(%s) = %s, %v; want %s", in, w.A, err, want)
		}
	}
	w := wrap{A: 7}
	if err := json.Unmarshal([]byte(`{"a":null}`), &w); err != nil || w.A != 7 {
		t.Errorf("null: A = %s, %v; want it unchanged", w.A, err)
	}
	for _, in := range []string{`{"a":0.0000001}`, `{"a":"x"}`, `{"a":true}`, `{"a":"1/2"}`} {
		var w wrap
		if err := json.Unmarshal([]byte(in), &w); err == nil {
			t.Errorf("Unmarshal(%s) = %s, want an error", in, w.A)
		}
	}
}

func TestDate(t *testing.T) {
	d, err := ParseDate("2026-04-30")
	if err != nil {
		t.Fatal(err)
	}
	if !d.Equal(time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)) || d.Location() != time.UTC {
		t.Fatalf("ParseDate = %v, want midnight UTC", d.Time)
	}
	if d.String() != "2026-04-30" {
		t.Fatalf("String() = %q", d)
	}
	// Compared as a UTC calendar date: a timestamp late on 29 April in
	// New York is already 30 April in UTC.
	ts, _ := time.Parse(time.RFC3339, "2026-04-29T21:00:00-04:00")
	if ts.Before(d.Time) {
		t.Fatalf("%v is before %v", ts, d)
	}
	for _, in := range []string{"", "2026-4-30", "30/04/2026", "2026-04-31", "2026-04-30T00:00:00Z", "tomorrow"} {
		if _, err := ParseDate(in); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
			t.Errorf("ParseDate(%q) error = %v, want one naming YYYY-MM-DD", in, err)
		}
	}
	type wrap struct {
		D Date `json:"d,omitzero"`
	}
	b, err := json.Marshal(wrap{D: d})
	if err != nil || string(b) != `{"d":"2026-04-30"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	if b, _ := json.Marshal(wrap{}); string(b) != `{}` {
		t.Fatalf("zero date marshals as %s, want it omitted", b)
	}
	var w wrap
	if err := json.Unmarshal([]byte(`{}`), &w); err != nil || !w.D.IsZero() {
		t.Fatalf("Unmarshal({}) = %v, %v", w.D, err)
	}
	for _, in := range []string{`{"d":null}`, `{"d":""}`} {
		w := wrap{D: d}
		if err := json.Unmarshal([]byte(in), &w); err != nil || !w.D.Equal(d.Time) {
			t.Errorf("Unmarshal(%s) = %v, %v; want it unchanged", in, w.D, err)
		}
	}
	for _, in := range []string{`{"d":"2026-02-30"}`, `{"d":20260430}`, `{"d":"x"}`} {
		var w wrap
		if err := json.Unmarshal([]byte(in), &w); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", in, w.D)
		}
	}
	if err := json.Unmarshal([]byte(`{"d":"2026-04-30"}`), &w); err != nil || !w.D.Equal(d.Time) {
		t.Fatalf("Unmarshal = %v, %v", w.D, err)
	}
}

func TestIsCurrency(t *testing.T) {
	for _, c := range []string{"USD", "EUR", "GBP", "JPY", "CHF", "INR", "BRL", "MRU", "VES", "SLE", "ZWG", "XCG", "HRK", "DEM"} {
		if !IsCurrency(c) {
			t.Errorf("IsCurrency(%q) = false", c)
		}
	}
	for _, c := range []string{"", "usd", "US", "USDD", "XYZ", "ABC", "US$", "123", "€", "EU R"} {
		if IsCurrency(c) {
			t.Errorf("IsCurrency(%q) = true", c)
		}
	}
}
