package jsonenc

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// same fails the test unless Append writes v as json.Marshal does, error
// for error.
func same(t *testing.T, v any) {
	t.Helper()
	a, errA := Append([]byte("prefix"), v)
	m, errM := json.Marshal(v)
	if (errA == nil) != (errM == nil) {
		t.Fatalf("%T: Append's error %v, Marshal's %v", v, errA, errM)
	}
	if errM != nil {
		if errA.Error() != errM.Error() {
			t.Fatalf("%T: Append's error %q, Marshal's %q", v, errA, errM)
		}
		return
	}
	if !bytes.HasPrefix(a, []byte("prefix")) || !bytes.Equal(a[len("prefix"):], m) {
		t.Fatalf("%T:\nAppend  %s\nMarshal %s", v, a, m)
	}
	// As an answer, v is written as json.Marshal writes it with each of
	// its float64s tidied (and nothing else changed: MarshalJSON's output,
	// a domain.Money's digits and integers stay as they are).
	ans, err := AppendAnswer(nil, v)
	if err != nil {
		t.Fatalf("%T: AppendAnswer: %v", v, err)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer {
		return // not tidied in place; Append's own tests cover it
	}
	tidyFloats(rv)
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ans, want) {
		t.Fatalf("%T:\nAppendAnswer %s\ntidied       %s\nexact        %s", v, ans, want, m)
	}
}

// tidyFloats replaces every float64 reachable from v (exported fields,
// elements, map values, interfaces' values) with Tidy's.
func tidyFloats(v reflect.Value) {
	switch v.Kind() {
	case reflect.Float64:
		if v.CanSet() {
			v.SetFloat(Tidy(v.Float()))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			tidyFloats(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				tidyFloats(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			tidyFloats(v.Index(i))
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			e := reflect.New(it.Value().Type()).Elem()
			e.Set(it.Value())
			tidyFloats(e)
			v.SetMapIndex(it.Key(), e)
		}
	case reflect.Interface:
		if !v.IsNil() && v.CanSet() {
			e := reflect.New(v.Elem().Type()).Elem()
			e.Set(v.Elem())
			tidyFloats(e)
			v.Set(e)
		}
	}
}

// Every record of a generated organisation.
func TestGeneratedRecordsAsMarshal(t *testing.T) {
	kinds := map[domain.Kind]int{}
	_, err := generate.Records(generate.Options{Seed: 3, Scale: 0.01, End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Days: 120}, func(r domain.Record) {
		kinds[r.Kind()]++
		same(t, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(kinds) < 15 {
		t.Fatalf("only %d kinds generated: %v", len(kinds), kinds)
	}
}

// Every record kind, each field empty, zero or set to values chosen to
// trip an encoder: strings with every escape, floats at the format's
// edges, times in other zones and years, nil and empty slices.
func TestRandomRecordsAsMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range domain.Kinds {
		if domain.New(k) == nil {
			t.Fatalf("no record type for %s", k)
		}
		if planOf(reflect.TypeOf(domain.New(k)).Elem(), exact) == nil {
			t.Fatalf("%s: left to json.Marshal; every record kind is written here", k)
		}
		for range 3000 {
			r := domain.New(k)
			filler{rng, true}.fill(reflect.ValueOf(r).Elem(), 0)
			same(t, r)
		}
	}
}

var (
	strs = []string{"", "a", "checkout", `quote " and \ back`, "<b>&amp;</b>", "tab\tnl\nret\rbs\bff\f", "\x00\x01\x1f\x7f",
		"é ü 日本", "\u2028\u2029", "bad \xff utf8 \xe2\x80", "\xed\xa0\x80", "emoji 🙂", " lead and trail "}
	floats = []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99e-7, 1e-7, 1.5e-9, 1e20, 1e21, 123456789.125, -2.5e-300,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1)}
	zones = []*time.Location{time.UTC, time.FixedZone("x", 5*3600+1800), time.FixedZone("y", -11*3600), time.FixedZone("z", 24*3600), time.FixedZone("s", 59)}
)

func randFloat(rng *rand.Rand) float64 {
	if rng.IntN(2) == 0 {
		return floats[rng.IntN(len(floats))]
	}
	return math.Float64frombits(rng.Uint64())
}

type (
	recSlice []recSlice
	recMap   map[string]recMap
	holdsRec struct {
		M recMap `json:"m"`
	}
	taggedEmbed struct {
		inner `json:"in"`
		B     int
	}
	taggedEmbedPtr struct {
		*inner `json:"in"`
		B      int
	}
	withNumber struct {
		N json.Number `json:"n"`
	}
	// inner is a struct to embed and nest.
	inner struct {
		A string `json:"a"`
	}
)

// rawJSON marshals as its own text, whatever it is.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// Types it does not handle are json.Marshal's, value and error alike.
func TestOtherTypesAreMarshals(t *testing.T) {
	type clash struct {
		inner
		A string `json:"a"`
	}
	type withMap struct {
		M map[string]int `json:"m"`
	}
	type stringOpt struct {
		N int `json:"n,string"`
	}
	type nested struct {
		In inner `json:"in"`
	}
	type ptrEmbed struct {
		*inner
		B bool
	}
	type untagged struct {
		Name  string
		skip  string
		Skip  string `json:"-"`
		Dash  string `json:"-,"`
		inner        // promoted though unexported
	}
	for _, v := range []any{
		&clash{inner{"x"}, "y"}, &withMap{map[string]int{"b": 1, "a": 2}}, &stringOpt{5}, &nested{inner{"<"}},
		&ptrEmbed{&inner{"p"}, true}, &ptrEmbed{nil, false}, &untagged{"n", "s", "S", "d", inner{"i"}},
		inner{"by value"}, (*inner)(nil), 3.5, []string{"a"}, nil,
		&struct {
			F float64 `json:"f"`
		}{math.NaN()},
		&struct {
			T time.Time `json:"t"`
		}{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		// Recursive without a struct, directly and in a field.
		recSlice{recSlice{}, nil}, &holdsRec{M: recMap{"a": nil, "b": recMap{}}},
		// An unexported embedded struct with a name is a field of that name.
		&taggedEmbed{inner{"x"}, 2}, &taggedEmbedPtr{&inner{"y"}, 3},
		// json.Number is written as the number it holds, "" as 0, and
		// refused when it holds none.
		&withNumber{N: "12.5"}, &withNumber{}, &withNumber{N: "abc"}, map[string]json.Number{"a": "1"},
		// A field's MarshalJSON output that json.Marshal compacts or
		// escapes, or refuses, is left to it.
		&struct {
			A, B, C, D rawJSON
		}{`{ "a" : 1 }`, `"<b>"`, `{"a":`, `7`},
	} {
		same(t, v)
	}
	if planOf(reflect.TypeFor[clash](), exact) != nil || planOf(reflect.TypeFor[stringOpt](), exact) != nil {
		t.Fatal("a type this package cannot write exactly got a plan")
	}
	if planOf(reflect.TypeFor[untagged](), exact) == nil {
		t.Fatal("untagged, skipped and promoted fields: no plan")
	}
}

func TestAppendStringAndFloat(t *testing.T) {
	var all strings.Builder
	for c := range 256 {
		all.WriteByte(byte(c))
	}
	for _, s := range append(strs, all.String(), strings.Repeat("é<", 100)) {
		m, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, m) {
			t.Fatalf("%q: %s, want %s", s, got, m)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200000 {
		f := randFloat(rng)
		if i < len(floats) {
			f = floats[i]
		}
		m, err := json.Marshal(f)
		got, ok := AppendFloat(nil, f)
		if ok != (err == nil) || ok && !bytes.Equal(got, m) {
			t.Fatalf("%v: %s %v, want %s %v", f, got, ok, m, err)
		}
	}
}

func BenchmarkIncident(b *testing.B) {
	r := &domain.Incident{Meta: domain.Meta{ID: "INC-123456", Source: "pagerduty"}, Service: "checkout", Severity: "P2",
		OpenedAt: time.Date(2026, 5, 1, 10, 4, 5, 0, time.UTC), ResolvedAt: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
		CausedBy: "deploy-991", CustomerFacing: true, Category: "latency"}
	b.Run("Append", func(b *testing.B) {
		for b.Loop() {
			if _, err := Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Nested values: structs in structs, slices of them, maps with string
// keys, pointers, interfaces and every integer kind, as an API answer (a
// scorecard, a metric page) holds them, filled at random many times over.
type (
	leaf struct {
		S   string            `json:"s,omitempty"`
		U8  uint8             `json:"u8"`
		U16 uint16            `json:"u16,omitempty"`
		U32 uint32            `json:"u32"`
		U   uint              `json:"u,omitempty"`
		I8  int8              `json:"i8"`
		I16 int16             `json:"i16,omitempty"`
		F   *float64          `json:"f"`
		T   *time.Time        `json:"t,omitempty"`
		TZ  *time.Time        `json:"tz,omitzero"`
		D   *domain.Date      `json:"d,omitzero"`
		MZ  map[string]int    `json:"mz,omitzero"`
		FZ  float64           `json:"fz,omitzero"`
		PZ  *float64          `json:"pz,omitzero"`
		SZ  string            `json:"sz,omitzero"`
		LZ  []string          `json:"lz,omitzero"`
		IZ  int32             `json:"iz,omitzero"`
		BZ  bool              `json:"bz,omitzero"`
		AZ  any               `json:"az,omitzero"`
		M   domain.Money      `json:"m"`
		PM  *domain.Money     `json:"pm"`
		Any any               `json:"any"`
		Raw rawJSON           `json:"raw,omitempty"`
		Tag map[string]string `json:"tag,omitempty"`
	}
	branch struct {
		Name   string              `json:"name"`
		Leaves []leaf              `json:"leaves"`
		Ptrs   []*leaf             `json:"ptrs,omitempty"`
		ByKey  map[string]*float64 `json:"by_key"`
		Counts map[string]int      `json:"counts,omitempty"`
		One    leaf                `json:"one"`
		Opt    *leaf               `json:"opt,omitempty"`
		Zero   leaf                `json:"zero,omitzero"`
		Nested [][]string          `json:"nested"`
		Lists  map[string][]leaf   `json:"lists"`
	}
	tree struct {
		Branches []branch `json:"branches"`
		Root     branch   `json:"root"`
		Any      any      `json:"any,omitempty"`
		When     time.Time
	}
	// A type that holds itself is left to json.Marshal.
	loop struct {
		Name string `json:"name"`
		Next *loop  `json:"next"`
	}
)

func TestNestedValuesAsMarshal(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[tree](), reflect.TypeFor[branch](), reflect.TypeFor[leaf]()} {
		if planOf(typ, exact) == nil {
			t.Fatalf("%v: left to json.Marshal", typ)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		v := &tree{}
		filler{rng, false}.fill(reflect.ValueOf(v).Elem(), 0)
		same(t, v)
	}
	if planOf(reflect.TypeFor[loop](), exact) != nil {
		t.Fatal("a recursive type got a plan")
	}
	same(t, &loop{"a", &loop{"b", nil}})
	// Once left to json.Marshal, a type stays so, and the types around it
	// are planned alone.
	if planOf(reflect.TypeFor[leaf](), exact) == nil {
		t.Fatal("leaf lost its plan")
	}
}

// filler fills values at random, down to a few levels: a part zero a
// quarter of the time, nil and empty slices and maps among the rest. refused adds
// values json.Marshal refuses too (NaN and infinities, times of years
// outside 0–9999 or in a zone of 24 hours), for Append to refuse alike;
// without it a value of many floats and times would nearly always be one
// json.Marshal refuses.
type filler struct {
	rng     *rand.Rand
	refused bool
}

func (f filler) fill(v reflect.Value, depth int) {
	rng := f.rng
	if depth > 0 && rng.IntN(4) == 0 || depth > 6 {
		return // the value itself (depth 0) is never left zero
	}
	switch x := v.Addr().Interface().(type) {
	case *time.Time:
		sec, zone := rng.Int64N(4e9)-1e9, zones[rng.IntN(len(zones))]
		if !f.refused && zone == zones[3] {
			zone = time.UTC
		}
		if f.refused && rng.IntN(20) == 0 {
			sec = []int64{-62167219200 - 1, 253402300800, -62135596800}[rng.IntN(3)] // years -1, 10000 and 1
		}
		*x = time.Unix(sec, rng.Int64N(3)*rng.Int64N(1e9)).In(zone)
		return
	case *domain.Money:
		*x = domain.Money(rng.Int64() >> rng.IntN(63))
		if rng.IntN(2) == 0 {
			*x = -*x
		}
		return
	case *domain.Date:
		x.Time = time.Date(1990+rng.IntN(50), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		return
	case *rawJSON:
		*x = []rawJSON{`1`, `"x"`, `{"a":[1,2]}`, `null`, `{ "spaced" : 1 }`}[rng.IntN(5)]
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(strs[rng.IntN(len(strs))])
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(rng.Int64() >> (rng.IntN(64) | 1) * int64(1-2*rng.IntN(2)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(rng.Uint64() >> rng.IntN(64))
	case reflect.Float64:
		x := randFloat(rng)
		if !f.refused && (math.IsNaN(x) || math.IsInf(x, 0)) {
			x = 0.5
		}
		if rng.IntN(8) == 0 {
			x = math.Copysign(0, -1) // zero to omitempty and omitzero
		}
		v.SetFloat(x)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		n := rng.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range rng.IntN(4) {
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e, depth+1)
			m.SetMapIndex(reflect.ValueOf(strs[rng.IntN(len(strs))]).Convert(v.Type().Key()), e)
		}
		v.Set(m)
	case reflect.Interface:
		if x := []any{"s <&>", 1.5, nil, []string{"a"}, map[string]any{"b": 1, "a": []int{2}}, leaf{S: "in"}}[rng.IntN(6)]; x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if fv := v.Field(i); fv.CanSet() {
				f.fill(fv, depth+1)
			}
		}
	default:
		panic("fill: " + v.Kind().String())
	}
}

// fast writes itself by hand, as an Appender.
type fast struct{ N int }

func (f *fast) AppendJSON(b []byte) ([]byte, error) {
	if f.N < 0 {
		return nil, errNegative
	}
	return strconv.AppendInt(append(b, `{"by_hand":`...), int64(f.N), 10), nil
}

var errNegative = errors.New("negative")

// A value that writes itself is left to its AppendJSON, after what b held,
// and its error leaves b as it was.
func TestAppenderWritesItself(t *testing.T) {
	got, err := Append([]byte("x"), &fast{7})
	if err != nil || string(got) != `x{"by_hand":7` {
		t.Fatalf("Append = %q, %v", got, err)
	}
	got, err = Append([]byte("x"), &fast{-1})
	if !errors.Is(err, errNegative) || string(got) != "x" {
		t.Fatalf("Append of a failing Appender = %q, %v", got, err)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range append(strs, "dep-0001", `a"b\c<d>e&f`, "\u2028\u2029é\xff\x01") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, m) {
			t.Fatalf("%q: %s, want %s", s, got, m)
		}
	})
}

// BenchmarkAppendString quotes the strings of a drill-down row: ids,
// names, a time.
func BenchmarkAppendString(b *testing.B) {
	ss := []string{"dep-0001234", "github", "payments-api", "production", "2026-10-01T12:34:56.123Z", "finished_at", "status", "success"}
	var dst []byte
	for b.Loop() {
		dst = dst[:0]
		for _, s := range ss {
			dst = AppendString(dst, s)
		}
	}
}

// An answer's computed floats are tidied, wherever they sit; a stored
// document quoted in it (json.RawMessage), a MarshalJSON's output, money
// and integers keep their bytes, and Append stays json.Marshal's.
func TestAnswerTidiesComputedFloatsOnly(t *testing.T) {
	type card struct {
		Value   *float64           `json:"value"`
		Points  []float64          `json:"points"`
		Detail  map[string]any     `json:"detail"`
		Money   domain.Money       `json:"money"`
		Seq     int64              `json:"seq"`
		Record  json.RawMessage    `json:"record"`
		ByMonth map[string]float64 `json:"by_month"`
	}
	arr := 12 * 226.81
	v := &card{Value: &arr, Points: []float64{0.1 + 0.2, 5.0 / 30}, Detail: map[string]any{"hours": 4.704750000000001, "n": 3},
		Money: domain.Money(1_000_000_000_000_001), Seq: 1733456789012345678,
		Record: json.RawMessage(`{"amount":0.30000000000000004}`), ByMonth: map[string]float64{"2026-11": 0.1 + 0.7}}
	got, err := AppendAnswer(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"value":2721.72,"points":[0.3,0.16666666666666666],"detail":{"hours":4.70475,"n":3},"money":1000000000.000001,` +
		`"seq":1733456789012345678,"record":{"amount":0.30000000000000004},"by_month":{"2026-11":0.8}}`
	if string(got) != want {
		t.Errorf("AppendAnswer:\n%s\nwant\n%s", got, want)
	}
	exact, _ := json.Marshal(v)
	if got, _ := Append(nil, v); !bytes.Equal(got, exact) {
		t.Errorf("Append:\n%s\nwant json.Marshal's\n%s", got, exact)
	}
	if !Planned(reflect.TypeFor[card]()) {
		t.Error("card is left to json.Marshal")
	}
}

// Tidy's shortcut (noisy: the written digits' 13th to 15th) changes
// nothing it decides: against the rule worked out in full — 16 or more
// significant digits, and at most 12 once rounded to 15 — on many values,
// random ones and sums and products of short decimals.
func TestTidyAsItsRule(t *testing.T) {
	rule := func(f float64) float64 {
		e := strconv.FormatFloat(f, 'e', -1, 64)
		mant, _, _ := strings.Cut(strings.TrimPrefix(e, "-"), "e")
		if len(strings.ReplaceAll(mant, ".", "")) < 16 {
			return f
		}
		r := strconv.FormatFloat(f, 'e', 14, 64)
		mant, _, _ = strings.Cut(strings.TrimPrefix(r, "-"), "e")
		if len(strings.TrimRight(strings.ReplaceAll(mant, ".", ""), "0")) > 12 {
			return f
		}
		g, _ := strconv.ParseFloat(r, 64)
		return g
	}
	rng := rand.New(rand.NewPCG(9, 2026))
	changed := 0
	for i := range 300000 {
		var f float64
		switch i % 3 {
		case 0:
			f = math.Float64frombits(rng.Uint64())
		case 1:
			f = float64(rng.IntN(1e6))/100*float64(rng.IntN(40)) + float64(rng.IntN(1e4))/1000
		default:
			f = float64(rng.IntN(1e7)) / 3600 * math.Pow(10, float64(rng.IntN(12)-6))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		if got, want := Tidy(f), rule(f); got != want {
			t.Fatalf("Tidy(%v) = %v, the rule %v", f, got, want)
		}
		if Tidy(f) != f {
			changed++
		}
		got, _ := AppendTidyFloat(nil, f)
		if want, _ := AppendFloat(nil, Tidy(f)); !bytes.Equal(got, want) {
			t.Fatalf("AppendTidyFloat(%v) = %s, want %s", f, got, want)
		}
	}
	if changed < 1000 {
		t.Errorf("only %d values tidied: the cases test too little", changed)
	}
}

func TestTidy(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{12 * 226.81, "2721.72"},                   // 2721.7200000000003
		{0.1 + 0.2, "0.3"},                         // 0.30000000000000004
		{0.1 + 0.7, "0.8"},                         // 0.7999999999999999
		{4.704750000000001, "4.70475"},             // a week's median hours
		{-16.060000000000002, "-16.06"},            // signs kept
		{1.0000000000000002e-9, "1e-9"},            // small
		{5.0 / 30, "0.16666666666666666"},          // a true ratio keeps its digits
		{2.0 / 3, "0.6666666666666666"},            //
		{123456.78901234567, "123456.78901234567"}, // 17 digits that are all meant
		{1234567.8901, "1234567.8901"},             // short: never touched
		{1e21, "1e+21"},
		{0, "0"},
		{12641.319999999832, "12641.319999999832"}, // a subtraction's noise of larger figures: left (reconcile subtracts with care)
	} {
		if got, _ := AppendFloat(nil, Tidy(tc.in)); string(got) != tc.want {
			t.Errorf("Tidy(%v) = %s, want %s", tc.in, got, tc.want)
		}
		if d := math.Abs(Tidy(tc.in) - tc.in); d > 5e-15*math.Abs(tc.in) {
			t.Errorf("Tidy(%v) moved it by %g", tc.in, d)
		}
		got, _ := AppendTidyFloat([]byte("x"), tc.in)
		if want, _ := AppendFloat([]byte("x"), Tidy(tc.in)); !bytes.Equal(got, want) {
			t.Errorf("AppendTidyFloat(%v) = %s, want %s", tc.in, got, want)
		}
	}
	if g := Tidy(math.NaN()); !math.IsNaN(g) {
		t.Errorf("Tidy(NaN) = %v", g)
	}
	if _, ok := AppendTidyFloat(nil, math.Inf(-1)); ok {
		t.Error("AppendTidyFloat wrote an infinity")
	}
}

// Every byte, at every place of the words AppendString checks eight bytes
// at a time, among plain ones: quoted as json.Marshal quotes it.
func TestAppendStringEachByteInAWord(t *testing.T) {
	for c := range 256 {
		for p := range 17 {
			b := []byte(strings.Repeat("a", 17))
			b[p] = byte(c)
			s := string(b)
			m, _ := json.Marshal(s)
			if got := AppendString(nil, s); !bytes.Equal(got, m) {
				t.Fatalf("byte %#x at %d: %s, want %s", c, p, got, m)
			}
		}
	}
}
