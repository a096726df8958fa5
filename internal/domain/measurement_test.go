package domain

import (
	"slices"
	"strings"
	"testing"
)

// A measurement is any number: negative, zero, fractional or large, but a
// number — never text, a boolean, NaN or infinity — with its metric and
// unit as names and its tags read as cost tags are.
func TestMeasurementRules(t *testing.T) {
	runRules(t, []ruleCase{
		{name: "value as string", kind: KindMeasurement, set: patch("value", SJ("4.2")), field: "value", why: "must be a number, got a string"},
		{name: "value as boolean", kind: KindMeasurement, set: patch("value", J("true")), field: "value", why: "must be a number, got a boolean"},
		{name: "value as list", kind: KindMeasurement, set: patch("value", J("[4]")), field: "value", why: "must be a number, got a list"},
		{name: "CSV word", kind: KindMeasurement, set: patch("value", C("high")), field: "value", why: `"high" is not a number`},
		{name: "CSV percent sign", kind: KindMeasurement, set: patch("value", C("42%")), field: "value", why: "not a number"},
		{name: "CSV NaN", kind: KindMeasurement, set: patch("value", C("NaN")), field: "value", why: "not a number"},
		{name: "CSV infinity", kind: KindMeasurement, set: patch("value", C("-Inf")), field: "value", why: "not a number"},
		{name: "overflow", kind: KindMeasurement, set: patch("value", N("1e999")), field: "value", why: "not a number in range"},
		{name: "negative and fractional", kind: KindMeasurement, set: patch("value", N("-0.125")), check: func(t *testing.T, r Record) {
			if r.(*Measurement).Value != -0.125 {
				t.Fatal(r.(*Measurement).Value)
			}
		}},
		{name: "exponent", kind: KindMeasurement, set: patch("value", N("1.5e6")), check: func(t *testing.T, r Record) {
			if r.(*Measurement).Value != 1.5e6 {
				t.Fatal(r.(*Measurement).Value)
			}
		}},
		{name: "at not RFC 3339", kind: KindMeasurement, set: patch("at", S("2026-03-01")), field: "at", why: "not an RFC 3339 timestamp"},
		{name: "metric as object", kind: KindMeasurement, set: patch("metric", J(`{"name":"x"}`)), field: "metric", why: "must be a string, got an object"},
		{name: "unit as list", kind: KindMeasurement, set: patch("unit", J(`["ms"]`)), field: "unit", why: "must be a string, got a list"},
		{name: "tags as object", kind: KindMeasurement, set: patch("tags", J(`{"region":"eu","beta":true,"cohort":null}`)), check: func(t *testing.T, r Record) {
			if got := r.(*Measurement).Tags; !slices.Equal(got, []string{"beta=true", "cohort=", "region=eu"}) {
				t.Fatal(got)
			}
		}},
		{name: "tags in CSV", kind: KindMeasurement, set: patch("tags", C("region=eu; browser=firefox ;")), check: func(t *testing.T, r Record) {
			if got := r.(*Measurement).Tags; !slices.Equal(got, []string{"region=eu", "browser=firefox"}) {
				t.Fatal(got)
			}
		}},
		{name: "tags as number", kind: KindMeasurement, set: patch("tags", J("3")), field: "tags", why: "must be a list of strings or an object of key → value"},
		{name: "tag with empty key", kind: KindMeasurement, set: patch("tags", J(`{"":"x"}`)), field: "tags", why: "a tag with an empty key"},
		{name: "unknown field", kind: KindMeasurement, set: patch("score", N("4")), field: "score", why: "unknown field for kind measurement"},
		{name: "typo of value", kind: KindMeasurement, set: patch("value", del(), "valeu", N("4")), field: "value", why: `required (the record has "valeu": a typo?)`},
	})
}

// Every problem of a bad measurement is named, field by field, in both
// formats.
func TestMeasurementEveryProblem(t *testing.T) {
	in := map[string]any{"id": "m1", "metric": strings.Repeat("m", MaxName+1), "at": "last week", "value": "n/a", "unit": "ms"}
	_, err := ParseFields(csvFields(t, in), KindMeasurement, ParseOptions{})
	var got []string
	for _, fe := range Problems(err) {
		got = append(got, fe.Field)
	}
	if want := []string{"metric", "at", "value"}; !slices.Equal(got, want) {
		t.Fatalf("problems of %v, want %v (error %v)", got, want, err)
	}
	if !strings.Contains(err.Error(), "an identifier or name is at most 256 bytes") {
		t.Fatalf("error %q does not state the metric's bound", err)
	}
}
