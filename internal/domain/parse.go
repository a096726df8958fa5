package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// FieldError says which field of a record is wrong and why. Import errors
// wrap it with the file and line.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return "field " + e.Field + ": " + e.Reason
}

// FieldErrors is every problem of one record, in the order its fields are
// checked: a record with three bad fields is fixed in one pass, not three.
// The parser returns a *FieldError when a record has one problem and
// FieldErrors when it has several; errors.As finds the first *FieldError
// either way, and Problems lists them all.
type FieldErrors []*FieldError

func (e FieldErrors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Error()
	}
	return strings.Join(parts, "; ")
}

func (e FieldErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, fe := range e {
		out[i] = fe
	}
	return out
}

// Problems returns every *FieldError in err: all of a FieldErrors, the one
// of a *FieldError, none for other errors.
func Problems(err error) []*FieldError {
	var all FieldErrors
	if errors.As(err, &all) {
		return all
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return []*FieldError{fe}
	}
	return nil
}

// Size bounds of SPEC §1. They keep one hostile or corrupt record from
// becoming a 2 MB "service" in every breakdown, and bound what one record
// costs to hold, index and show.
const (
	// MaxName bounds an identifier or name (id, service, team,
	// environment, customer, owner, a list item, a timestamp, …) in bytes.
	MaxName = 256
	// MaxText bounds a free-text field (title, text, a URL) in bytes.
	MaxText = 64 << 10
	// MaxRecord bounds one record in bytes: its field names and values as
	// sent (JSON values as written, CSV cells), not counting the
	// whitespace and punctuation around them.
	MaxRecord = 1 << 20
)

// maxProblems bounds the problems listed for one record, so a record with
// thousands of unknown fields costs a bounded error.
const maxProblems = 20

// Value is one field as it arrived: raw JSON from NDJSON and API bodies, or
// a cell's text from CSV. Parsing is shared so both formats obey one set of
// rules and produce the same errors.
type Value struct {
	Raw  []byte
	Text bool // a CSV cell: plain text, lists ';'-separated
}

// Fields maps field names to values.
type Fields map[string]Value

// ParseOptions supplies the defaults of SPEC §1.
type ParseOptions struct {
	DefaultSource   string // "import" when empty
	DefaultCurrency string // "USD" when empty
	// Currency, when set, is the organisation currency in force at a
	// time, and takes DefaultCurrency's place where it says one: a record
	// without a currency is in the one in force at its own time (a
	// subscription's start, a period's, a deal's creation) — an approved
	// proposal may change the currency, and a record without one had been
	// given the configuration file's. By the record's time, not the
	// import's, the same file imported again gives the same records.
	Currency func(at time.Time) string
}

// currencyAt is the default currency of a record at time at.
func (o *ParseOptions) currencyAt(at time.Time) string {
	cur := o.DefaultCurrency
	if o.Currency != nil && !at.IsZero() {
		if c := o.Currency(at); c != "" {
			cur = c
		}
	}
	cur = strings.ToUpper(strings.TrimSpace(cur))
	if cur == "" {
		cur = "USD"
	}
	return cur
}

// ParseJSON parses one NDJSON line or API record. kind, when non-empty,
// is the kind the caller expects (a record naming another kind is refused).
// A field given twice is refused rather than letting the last one win
// silently.
func ParseJSON(line []byte, kind Kind, opt ParseOptions) (Record, error) {
	f, err := jsonFields(line)
	if err != nil {
		return nil, err
	}
	return ParseFields(f, kind, opt)
}

// jsonFields splits one JSON object into its top-level fields.
func jsonFields(line []byte) (Fields, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &FieldError{Reason: "not a JSON object: got " + describe(line)}
		}
		return nil, &FieldError{Reason: "not a JSON object: " + jsonErr(err)}
	}
	if raw == nil { // null
		return nil, &FieldError{Reason: "not a JSON object: got null"}
	}
	if members(line) != len(raw) {
		name, _ := duplicate(line)
		if name == "" {
			name = `""`
		}
		return nil, &FieldError{Field: clipName(name), Reason: "appears twice in the object"}
	}
	f := make(Fields, len(raw))
	for k, v := range raw {
		f[k] = Value{Raw: v}
	}
	return f, nil
}

// members counts the top-level members of a valid JSON object.
func members(obj []byte) int {
	n, depth, empty := 0, 0, true
	inString, escaped := false, false
	for _, c := range obj {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
			if depth == 1 {
				empty = false
			}
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ',' && depth == 1:
			n++
		}
	}
	if empty {
		return 0
	}
	return n + 1
}

// duplicate finds the first key that appears twice in a valid JSON object
// (the slow path, taken only when there is one).
func duplicate(obj []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		name, _ := tok.(string)
		if seen[name] {
			return name, true
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	if err == nil {
		return "invalid JSON"
	}
	return err.Error()
}

// ParseFields validates a record given as fields. The kind comes from the
// "kind" field, or from kind when the source is one kind per file (CSV).
func ParseFields(f Fields, kind Kind, opt ParseOptions) (Record, error) {
	if kind != "" {
		k, err := ParseKind(string(kind))
		if err != nil {
			return nil, &FieldError{Field: "kind", Reason: err.Error()}
		}
		kind = k
	}
	p := parsers.Get().(*parser)
	defer func() {
		p.f, p.errs = nil, nil // the pool must not keep the caller's input alive
		parsers.Put(p)
	}()
	p.f, p.kind, p.errs, p.more = f, "", nil, 0
	p.used = append(p.usedBuf[:0], "kind")
	if v, ok := f["kind"]; ok && !isNull(v) {
		s := p.text("kind", v, MaxName)
		if len(p.errs) > 0 {
			return nil, p.errs[0]
		}
		k, err := ParseKind(s)
		if err != nil {
			return nil, &FieldError{Field: "kind", Reason: err.Error()}
		}
		if kind != "" && k != kind {
			return nil, &FieldError{Field: "kind", Reason: fmt.Sprintf("is %q but %q was expected", k, kind)}
		}
		kind = k
	}
	if kind == "" {
		return nil, &FieldError{Field: "kind", Reason: "required (one of " + kindList(Kinds) + ")"}
	}
	p.kind = kind
	r := New(kind)
	if r == nil {
		return nil, &FieldError{Field: "kind", Reason: fmt.Sprintf("unknown kind %q", kind)}
	}
	m := r.Header()
	m.ID = p.str("id", true)
	m.Source = p.str("source", false)
	if m.Source == "" {
		m.Source = opt.DefaultSource
		if m.Source == "" {
			m.Source = "import"
		}
	}
	p.fill(r, &opt)
	p.unknown()
	if n := recordSize(f); n > MaxRecord {
		p.fail("", "the record is %d bytes; a record is at most 1 MiB (%d bytes)", n, MaxRecord)
	}
	if err := p.result(); err != nil {
		return nil, err
	}
	return r, nil
}

// KindFields lists the fields of kind as ParseFields reads them, "kind"
// among them, and those every record of it must have: what a CSV header of
// one kind is checked against once, rather than every row against it.
func KindFields(kind Kind) (known, required []string) {
	r := New(kind)
	if r == nil {
		return nil, nil
	}
	// ParseFields's reading of an empty record: every field is asked for
	// whatever the values, and each required one fails as "required".
	p := &parser{f: Fields{}, kind: kind}
	p.used = append(p.usedBuf[:0], "kind")
	p.str("id", true)
	p.str("source", false)
	p.fill(r, &ParseOptions{})
	for _, e := range p.errs {
		if e.Reason == "required" {
			required = append(required, e.Field)
		}
	}
	return p.known(), required
}

// recordSize is what MaxRecord bounds: field names and values as sent.
// A JSON line splits into the same fields whichever way it is split, so
// the size is the same through ParseJSON and ingest's fast splitter.
func recordSize(f Fields) int {
	n := 0
	for k, v := range f {
		n += len(k) + len(v.Raw)
	}
	return n
}

// result is the record's error: nil, its one problem, or all of them.
func (p *parser) result() error {
	if p.more > 0 {
		p.errs = append(p.errs, &FieldError{Reason: fmt.Sprintf("… and %d more problems", p.more)})
	}
	switch len(p.errs) {
	case 0:
		return nil
	case 1:
		return p.errs[0]
	}
	return FieldErrors(p.errs)
}

type parser struct {
	f    Fields
	kind Kind
	// used lists the kind's fields, given or not, and "kind". A slice
	// searched in turn, not a map: kinds have a few dozen fields at most,
	// and a map per record was a tenth of what an import allocated.
	used    []string
	usedBuf [40]string
	// errs is the record's problems, at most one per field (the first
	// found): a later check of a field that already failed would only
	// restate it. more counts those past maxProblems.
	errs []*FieldError
	more int
}

// parsers are reused: a parser is bigger than most records it reads.
var parsers = sync.Pool{New: func() any { return new(parser) }}

func (p *parser) isUsed(name string) bool {
	return slices.Contains(p.used, name)
}

func (p *parser) fail(field, format string, args ...any) {
	if field != "" && p.failed(field) {
		return
	}
	if len(p.errs) >= maxProblems {
		p.more++
		return
	}
	p.errs = append(p.errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

// problem returns the field's error, nil when it has none.
func (p *parser) problem(field string) *FieldError {
	for _, e := range p.errs {
		if e.Field == field {
			return e
		}
	}
	return nil
}

func (p *parser) failed(field string) bool { return p.problem(field) != nil }

// ok reports whether none of the fields failed: checks that combine
// fields (period_end after period_start) run only on values that parsed.
func (p *parser) ok(fields ...string) bool {
	for _, f := range fields {
		if p.failed(f) {
			return false
		}
	}
	return true
}

// isNull reports an absent value: an empty or blank CSV cell, and in JSON
// null or a blank string.
func isNull(v Value) bool {
	if v.Text {
		return strings.TrimSpace(string(v.Raw)) == ""
	}
	t := bytes.TrimSpace(v.Raw)
	if len(t) == 0 || string(t) == "null" {
		return true
	}
	if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' {
		in := t[1 : len(t)-1]
		if bytes.IndexByte(in, '\\') < 0 {
			return len(bytes.TrimSpace(in)) == 0
		}
		var s string
		return json.Unmarshal(t, &s) == nil && strings.TrimSpace(s) == ""
	}
	return false
}

// get returns the field's value, or ok=false when absent or empty; a
// missing required field is reported here.
func (p *parser) get(name string, required bool) (Value, bool) {
	if !p.isUsed(name) {
		p.used = append(p.used, name)
	}
	v, ok := p.f[name]
	if !ok || isNull(v) {
		if required {
			p.fail(name, "required")
		}
		return Value{}, false
	}
	return v, true
}

// text decodes a string, trimmed of surrounding blanks in both formats;
// bare JSON numbers are accepted for string fields because exported ids
// are often numeric. Text must be valid UTF-8 without NUL characters: a
// mis-encoded file (Latin-1) would otherwise be stored garbled, and NUL
// cannot be stored in a PostgreSQL text column. max is the field's size
// bound in bytes (MaxName or MaxText), checked on the trimmed text.
func (p *parser) text(name string, v Value, max int) string {
	var s string
	checked := false // valid UTF-8 without NUL, known already
	if v.Text {
		s = string(v.Raw)
	} else {
		raw := bytes.TrimSpace(v.Raw)
		switch {
		case len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && simpleString(raw[1:len(raw)-1]):
			s, checked = string(raw[1:len(raw)-1]), true
		case len(raw) > 0 && raw[0] == '"':
			if !utf8.Valid(raw) {
				p.fail(name, "is not valid UTF-8 text (save the file as UTF-8)")
				return ""
			}
			if err := json.Unmarshal(raw, &s); err != nil {
				p.fail(name, "is not a valid JSON string: %s", clip(raw))
				return ""
			}
		case isJSONNumber(raw):
			s = string(raw)
		default:
			p.fail(name, "must be a string, got %s", describe(raw))
			return ""
		}
	}
	if !checked && !utf8.ValidString(s) {
		p.fail(name, "is not valid UTF-8 text (save the file as UTF-8)")
		return ""
	}
	if !checked && strings.IndexByte(s, 0) >= 0 {
		p.fail(name, "contains a NUL character")
		return ""
	}
	s = strings.TrimSpace(s)
	if len(s) > max {
		p.fail(name, "is %d bytes long; %s", len(s), boundText(max))
		return ""
	}
	return s
}

// boundText words a size bound for an error message.
func boundText(max int) string {
	if max == MaxText {
		return fmt.Sprintf("free text is at most 64 KiB (%d bytes)", MaxText)
	}
	return fmt.Sprintf("an identifier or name is at most %d bytes", max)
}

// simpleString reports whether the inside of a JSON string literal needs
// no decoding: no escapes, no control characters (NUL included), valid
// UTF-8 — in one pass while it is ASCII.
func simpleString(b []byte) bool {
	for i, c := range b {
		if c == '\\' || c == '"' || c < 0x20 {
			return false
		}
		if c >= utf8.RuneSelf {
			for _, c := range b[i:] {
				if c == '\\' || c == '"' || c < 0x20 {
					return false
				}
			}
			return utf8.Valid(b[i:])
		}
	}
	return true
}

func isJSONNumber(b []byte) bool {
	return len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) && json.Valid(b)
}

// describe names what a JSON value is, for "must be X, got Y" messages.
func describe(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string " + clip(raw)
	case '{':
		return "an object " + clip(raw)
	case '[':
		return "a list " + clip(raw)
	case 't', 'f':
		return "a boolean " + clip(raw)
	}
	if isJSONNumber(raw) {
		return "a number " + clip(raw)
	}
	return clip(raw)
}

func clip(b []byte) string {
	if utf8.RuneCount(b) > 40 {
		r := []rune(string(b))
		return string(r[:40]) + "…"
	}
	return string(b)
}

// str reads an identifier or name (at most MaxName bytes).
func (p *parser) str(name string, required bool) string {
	v, ok := p.get(name, required)
	if !ok {
		return ""
	}
	return p.text(name, v, MaxName)
}

// prose reads an optional free-text field (at most MaxText bytes): a
// title, a ticket's text, a URL.
func (p *parser) prose(name string) string {
	v, ok := p.get(name, false)
	if !ok {
		return ""
	}
	return p.text(name, v, MaxText)
}

// enum accepts one of the allowed values, case-insensitively, and returns
// it in its canonical spelling ("High" → "high", "p1" → "P1").
func (p *parser) enum(name string, required bool, allowed ...string) string {
	s := p.str(name, required)
	if s == "" {
		return ""
	}
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a
		}
	}
	p.fail(name, "%q is not one of %s", s, strings.Join(allowed, ", "))
	return s
}

// Timestamps must lie in years 1–9999 once converted to UTC: the zero
// time 0001-01-01T00:00:00Z is what many exporters write for "none", and
// years outside the range cannot be written back as RFC 3339.
var minTime, maxTime = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)

func (p *parser) time(name string, required bool) time.Time {
	v, ok := p.get(name, required)
	if !ok {
		return time.Time{}
	}
	if !v.Text && bytes.TrimSpace(v.Raw)[0] != '"' {
		p.fail(name, "must be an RFC 3339 timestamp string (e.g. \"2026-03-01T12:00:00Z\"), got %s", describe(v.Raw))
		return time.Time{}
	}
	s := p.text(name, v, MaxName)
	if p.failed(name) {
		return time.Time{}
	}
	// RFC 3339 allows a lower-case t and z; they are its only letters.
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	if err != nil || !rfc3339Shape(s) {
		p.fail(name, "%q is not an RFC 3339 timestamp (e.g. 2026-03-01T12:00:00Z)", s)
		return time.Time{}
	}
	t = t.UTC()
	if t.IsZero() {
		if required {
			p.fail(name, "required (%s is the zero time, not a timestamp)", s)
		}
		return time.Time{}
	}
	if t.Before(minTime) || t.After(maxTime) {
		p.fail(name, "%q is outside the years 0001–9999 in UTC", s)
		return time.Time{}
	}
	return t
}

// rfc3339Shape checks the strict RFC 3339 form
// YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM); time.Parse alone also takes
// one-digit hours, a comma before the fraction and offsets of 24 hours.
func rfc3339Shape(s string) bool {
	const shape = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(shape)+1 {
		return false
	}
	for i := range len(shape) {
		c := s[i]
		switch shape[i] {
		case 'd':
			if c < '0' || c > '9' {
				return false
			}
		case 'T':
			if c != 'T' && c != 't' {
				return false
			}
		default:
			if c != shape[i] {
				return false
			}
		}
	}
	rest := s[len(shape):]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return false
		}
		rest = rest[n:]
	}
	switch {
	case rest == "Z" || rest == "z":
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		for _, i := range []int{1, 2, 4, 5} {
			if rest[i] < '0' || rest[i] > '9' {
				return false
			}
		}
		return rest[1:3] <= "23" && rest[4:6] <= "59"
	}
	return false
}

// isDecimal reports whether s is a plain decimal number: optional sign,
// digits with an optional point, optional exponent. It excludes what
// strconv.ParseFloat also takes (hexadecimal, Inf, NaN, underscores).
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	nd := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		nd++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			nd++
		}
	}
	if nd == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		ne := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			ne++
		}
		if ne == 0 {
			return false
		}
	}
	return i == len(s)
}

// numeral returns the text of a number field: a CSV cell, or a bare JSON
// number (a JSON string is refused: the wrong type, even if numeric).
func (p *parser) numeral(name string, v Value) (string, bool) {
	raw := strings.TrimSpace(string(v.Raw))
	if !v.Text && !isJSONNumber([]byte(raw)) {
		p.fail(name, "must be a number, got %s", describe(v.Raw))
		return "", false
	}
	return raw, true
}

func (p *parser) number(name string, required bool) (float64, bool) {
	v, ok := p.get(name, required)
	if !ok {
		return 0, false
	}
	raw, ok := p.numeral(name, v)
	if !ok {
		return 0, false
	}
	if !isDecimal(raw) {
		p.fail(name, "%q is not a number", clip([]byte(raw)))
		return 0, false
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.fail(name, "%q is not a number in range", clip([]byte(raw)))
		return 0, false
	}
	return f, true
}

func (p *parser) optNumber(name string) *float64 {
	f, ok := p.number(name, false)
	if !ok {
		return nil
	}
	return &f
}

func (p *parser) rangeCheck(name string, f float64, lo, hi float64) {
	if f < lo || f > hi {
		p.fail(name, "%v is out of range [%v, %v]", f, lo, hi)
	}
}

func (p *parser) money(name string, required bool) Money {
	v, ok := p.get(name, required)
	if !ok {
		return 0
	}
	raw, ok := p.numeral(name, v)
	if !ok {
		return 0
	}
	m, err := ParseMoney(raw)
	if err != nil {
		p.fail(name, "%v", err)
	}
	return m
}

// notNegative is nonNegative for a count: a bound of [0, MaxFloat64] had
// been written out as "out of range [0, 1.7976931348623157e+308]".
func (p *parser) notNegative(name string, f float64) {
	if f < 0 {
		p.fail(name, "%v must not be negative", f)
	}
}

func (p *parser) nonNegative(name string, m Money) {
	if m < 0 {
		p.fail(name, "%s must not be negative", m)
	}
}

func (p *parser) boolean(name string, required bool) bool {
	v, ok := p.get(name, required)
	if !ok {
		return false
	}
	s := strings.TrimSpace(string(v.Raw))
	if v.Text {
		switch strings.ToLower(s) {
		case "true", "1", "yes", "y", "t":
			return true
		case "false", "0", "no", "n", "f":
			return false
		}
		p.fail(name, "%q is not a boolean (true or false)", clip([]byte(s)))
		return false
	}
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	p.fail(name, "must be a boolean true or false, got %s", describe(v.Raw))
	return false
}

// list reads a list of strings: a JSON array, or a CSV cell with the items
// ';'-separated. Items are trimmed and blank or null ones dropped; an empty
// list is nil (absent), so a record reads back the same after it is
// stored. With keyValue (cost and measurement tags), a JSON object is also accepted, as
// "key=value" items in key order: FOCUS files and cloud bills send tags
// that way. Each item is a name (MaxName bytes); a tag's key and value are
// each one.
func (p *parser) list(name string, keyValue bool) []string {
	v, ok := p.get(name, false)
	if !ok {
		return nil
	}
	before := len(p.errs) + p.more
	itemMax := MaxName
	if keyValue {
		itemMax = 2*MaxName + 1 // "key=value", each part checked below
	}
	var out []string
	if v.Text {
		for _, s := range strings.Split(string(v.Raw), ";") {
			if s = p.text(name, Value{Raw: []byte(s), Text: true}, itemMax); s != "" {
				out = append(out, s)
			}
		}
		return p.listDone(name, keyValue, out, before)
	}
	raw := bytes.TrimSpace(v.Raw)
	switch {
	case raw[0] == '[':
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			p.fail(name, "is not a valid JSON list: %s", clip(raw))
			return nil
		}
		for i, e := range arr {
			if isNull(Value{Raw: e}) {
				continue
			}
			if s := p.text(fmt.Sprintf("%s[%d]", name, i), Value{Raw: e}, itemMax); s != "" {
				out = append(out, s)
			}
		}
	case raw[0] == '{' && keyValue:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			p.fail(name, "is not a valid JSON object: %s", clip(raw))
			return nil
		}
		for k, e := range obj {
			field := name + "." + clipName(k)
			key := p.text(field, Value{Raw: []byte(k), Text: true}, MaxName)
			if key == "" {
				if !p.failed(field) {
					p.fail(name, "has a tag with an empty key")
				}
				return nil
			}
			val := ""
			switch t := bytes.TrimSpace(e); {
			case isNull(Value{Raw: t}):
			case string(t) == "true" || string(t) == "false":
				val = string(t)
			default:
				val = p.text(field, Value{Raw: t}, MaxName)
			}
			out = append(out, key+"="+val)
		}
		sort.Strings(out)
	default:
		if keyValue {
			p.fail(name, "must be a list of strings or an object of key → value, got %s", describe(raw))
		} else {
			p.fail(name, "must be a list of strings, got %s", describe(raw))
		}
		return nil
	}
	return p.listDone(name, keyValue, out, before)
}

// listDone checks each tag's key and value against MaxName and returns
// the list, nil when it is empty or any item failed (problems since
// before).
func (p *parser) listDone(name string, keyValue bool, out []string, before int) []string {
	if keyValue {
		for _, item := range out {
			k, v, _ := strings.Cut(item, "=")
			if len(k) > MaxName || len(v) > MaxName {
				p.fail(name, "tag %q: a tag's key and value are each at most %d bytes (%d and %d here)", clip([]byte(item)), MaxName, len(k), len(v))
			}
		}
	}
	if len(p.errs)+p.more > before || len(out) == 0 {
		return nil
	}
	return out
}

// clipName shortens a field name for an error message: an unknown field
// may be named with megabytes.
func clipName(name string) string {
	if len(name) <= 64 {
		return name
	}
	return clip([]byte(name))
}

// currency reads an ISO 4217 code, case-insensitively ("usd", as Stripe
// sends it, is stored as "USD").
func (p *parser) currency() string {
	c := p.str("currency", false)
	if c == "" {
		return ""
	}
	u := strings.ToUpper(c)
	if !IsCurrency(u) {
		p.fail("currency", "%q is not an ISO 4217 currency code (e.g. USD, EUR)", c)
		return c
	}
	return u
}

func (p *parser) order(early, late string, a, b time.Time) {
	if !a.IsZero() && !b.IsZero() && b.Before(a) {
		p.fail(late, "%s is before %s %s", b.Format(time.RFC3339), early, a.Format(time.RFC3339))
	}
}

func (p *parser) period() (time.Time, time.Time) {
	s := p.time("period_start", true)
	e := p.time("period_end", true)
	if !s.IsZero() && !e.IsZero() && !e.After(s) {
		p.fail("period_end", "must be after period_start")
	}
	return s, e
}

// unknown refuses fields the kind does not have, each with the field that
// was probably meant. An unknown field that resembles a missing required
// one is named in that field's error instead ("required (the record has
// "servce": a typo?)").
func (p *parser) unknown() {
	var extra []string
	for k := range p.f {
		if !p.isUsed(k) {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return
	}
	sort.Strings(extra)
	for i, x := range extra {
		if i >= maxProblems { // bounded work on hostile input
			p.more += len(extra) - i
			return
		}
		field := clipName(x)
		if field == "" {
			field = `""`
		}
		if len(x) > MaxName {
			p.fail(field, "is an unknown field, and its name is %d bytes; a field name is at most %d bytes", len(x), MaxName)
			continue
		}
		s := p.suggest(x)
		if e := p.problem(s); s != "" && e != nil && strings.HasPrefix(e.Reason, "required") {
			if !strings.Contains(e.Reason, "a typo?") {
				e.Reason += fmt.Sprintf(" (the record has %q: a typo?)", x)
			}
			continue
		}
		if s != "" {
			p.fail(field, "unknown field for kind %s (did you mean %q?)", p.kind, s)
			continue
		}
		p.fail(field, "unknown field for kind %s (known: %s)", p.kind, strings.Join(p.known(), ", "))
	}
}

// known lists the kind's field names: every field fill asked for.
func (p *parser) known() []string {
	names := slices.Clone(p.used)
	sort.Strings(names)
	return names
}

// suggest returns the known field an unknown name most likely means.
func (p *parser) suggest(x string) string { return Closest(x, p.known()) }

// Closest returns the name in known that x most likely means, "" when
// none is close: the same name ignoring case, '-', '_' and spaces
// ("Finished At", "finishedAt"), else the nearest within two edits. Record
// fields, configuration keys and environment variables share it.
func Closest(x string, known []string) string {
	nx := foldName(x)
	best, bestD := "", 3
	for _, k := range known {
		nk := foldName(k)
		if nk == nx {
			return k
		}
		if d := editDistance(nx, nk); d < bestD && d < len(nk) {
			best, bestD = k, d
		}
	}
	return best
}

// Misspelling returns the name in known that x, a name no record uses, is
// a typo of, "" when the evidence is not strong: Closest's suggestion is a
// hint beside an error, while this one changes a decision (a release gate
// judging "prodution" as production), so a new name must not be taken for
// an old one. Both names, ignoring case, '-', '_' and spaces, have five
// characters or more (pr-7, perf and dr are not typos of prd); they are
// one edit apart, two from eight characters on; neither starts with the
// other (prod-eu, live2 and staging2 add to a name, they do not misspell
// it); and they do not differ in digits alone (stage1, stage2).
func Misspelling(x string, known []string) string {
	letters := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return -1
			}
			return r
		}, s)
	}
	nx := foldName(x)
	if len(nx) < 5 {
		return ""
	}
	best, bestD := "", 3
	for _, k := range known {
		nk := foldName(k)
		if len(nk) < 5 || nk == nx || strings.HasPrefix(nx, nk) || strings.HasPrefix(nk, nx) || letters(nx) == letters(nk) {
			continue
		}
		limit := 1
		if len(nk) >= 8 {
			limit = 2
		}
		if d := editDistance(nx, nk); d <= limit && d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// foldName is a name as Closest and Misspelling compare it: lower case,
// without '-', '_' and spaces ("Finished At", "finished_at").
func foldName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(s))
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (p *parser) fill(r Record, opt *ParseOptions) {
	switch r := r.(type) {
	case *Service:
		r.Name = p.str("name", true)
		r.Team = p.str("team", false)
		r.Owner = p.str("owner", false)
		if f, ok := p.number("tier", false); ok {
			if f != math.Trunc(f) || f < 1 || f > 3 {
				p.fail("tier", "%v is not a tier 1, 2 or 3", f)
			}
			r.Tier = int(f)
		}
		r.CustomerFacing = p.boolean("customer_facing", false)
		r.BusinessUnit = p.str("business_unit", false)
		if f, ok := p.number("slo_target", false); ok {
			if f <= 0 || f >= 1 {
				p.fail("slo_target", "%v must be a fraction between 0 and 1 exclusive (e.g. 0.999)", f)
			}
			r.SLOTarget = f
		}
		r.Repo = p.str("repo", false)
		r.Paths = p.list("paths", false)
	case *Deployment:
		r.Service = p.str("service", true)
		r.Environment = p.str("environment", true)
		r.FinishedAt = p.time("finished_at", true)
		r.Status = p.enum("status", true, StatusSuccess, StatusFailure, StatusRolledBack)
		r.EnvType = p.enum("env_type", false, EnvProduction, EnvStaging, EnvTest, EnvDev)
		r.StartedAt = p.time("started_at", false)
		r.CutoverAt = p.time("cutover_at", false)
		p.order("started_at", "finished_at", r.StartedAt, r.FinishedAt)
		r.Version = p.str("version", false)
		r.Commit = p.str("commit", false)
		r.Changes = p.list("changes", false)
		r.ChangeRequest = p.str("change_request", false)
		r.Reason = p.enum("reason", false, ReasonPlanned, ReasonHotfix, ReasonRollback)
		r.RollbackOf = p.str("rollback_of", false)
		if r.RollbackOf != "" && r.RollbackOf == r.ID {
			p.fail("rollback_of", "a deployment cannot roll itself back")
		}
		r.Emergency = p.boolean("emergency", false)
		r.RetroValidatedAt = p.time("retro_validated_at", false)
		if r.RiskScore = p.optNumber("risk_score"); r.RiskScore != nil {
			p.rangeCheck("risk_score", *r.RiskScore, 0, 100)
		}
		if r.Coverage = p.optNumber("coverage"); r.Coverage != nil && (*r.Coverage < 0 || *r.Coverage > 1) {
			p.fail("coverage", "%v is out of range [0, 1] (a fraction: 0.85 for 85%%)", *r.Coverage)
		}
		r.PipelineURL = p.prose("pipeline_url")
	case *Change:
		r.Service = p.str("service", true)
		r.MergedAt = p.time("merged_at", true)
		r.AuthoredAt = p.time("authored_at", false)
		r.OpenedAt = p.time("opened_at", false)
		r.FirstReviewAt = p.time("first_review_at", false)
		p.order("opened_at", "first_review_at", r.OpenedAt, r.FirstReviewAt)
		r.Title = p.prose("title")
		r.Author = p.str("author", false)
		r.Commit = p.str("commit", false)
		r.URL = p.prose("url")
	case *Incident:
		r.Service = p.str("service", true)
		r.Severity = p.enum("severity", true, "P0", "P1", "P2", "P3", "P4")
		r.OpenedAt = p.time("opened_at", true)
		r.DetectedAt = p.time("detected_at", false)
		r.ResolvedAt = p.time("resolved_at", false)
		p.order("opened_at", "resolved_at", r.OpenedAt, r.ResolvedAt)
		r.CausedBy = p.str("caused_by", false)
		r.CausedByChangeRequest = p.str("caused_by_change_request", false)
		r.CustomerFacing = p.boolean("customer_facing", false)
		r.Origin = p.enum("origin", false, "monitoring", "customer", "internal")
		r.Category = p.str("category", false)
		r.Fingerprint = p.str("fingerprint", false)
		r.PostmortemDueAt = p.time("postmortem_due_at", false)
		r.PostmortemDoneAt = p.time("postmortem_done_at", false)
		r.URL = p.prose("url")
	case *SLI:
		r.Service = p.str("service", true)
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Good, _ = p.number("good", true)
		r.Total, _ = p.number("total", true)
		counted := p.ok("good", "total")
		if counted && (r.Good < 0 || r.Total < 0) {
			p.fail("good", "counts must not be negative")
		}
		if counted && r.Good > r.Total {
			p.fail("good", "%v is greater than total %v", r.Good, r.Total)
		}
		r.Objective = p.enum("objective", false, "availability", "latency")
	case *Ticket:
		r.CreatedAt = p.time("created_at", true)
		r.Customer = p.str("customer", false)
		r.Segment = p.str("segment", false)
		r.ResolvedAt = p.time("resolved_at", false)
		p.order("created_at", "resolved_at", r.CreatedAt, r.ResolvedAt)
		r.Priority = p.str("priority", false)
		r.Category = p.str("category", false)
		r.UserRole = p.str("user_role", false)
		r.Criticality = p.str("criticality", false)
		r.Escalated = p.boolean("escalated", false)
		r.SLADueAt = p.time("sla_due_at", false)
		r.Release = p.str("release", false)
		r.Text = p.prose("text")
		r.Service = p.str("service", false)
	case *Survey:
		r.At = p.time("at", true)
		r.Type = p.enum("type", true, "csat", "nps")
		r.Score, _ = p.number("score", true)
		if r.Type != "" && p.ok("type", "score") {
			if r.Type == "csat" {
				p.rangeCheck("score", r.Score, 1, 5)
			} else {
				p.rangeCheck("score", r.Score, 0, 10)
			}
		}
		r.Customer = p.str("customer", false)
		r.Release = p.str("release", false)
	case *Vulnerability:
		r.Severity = p.enum("severity", true, Severities...)
		r.OpenedAt = p.time("opened_at", true)
		r.Service = p.str("service", false)
		r.FixedAt = p.time("fixed_at", false)
		p.order("opened_at", "fixed_at", r.OpenedAt, r.FixedAt)
		r.CVE = p.str("cve", false)
		r.KEV = p.boolean("kev", false)
		r.Package = p.str("package", false)
		r.URL = p.prose("url")
	case *Control:
		r.Control = p.str("control", true)
		r.CheckedAt = p.time("checked_at", true)
		r.Passed = p.boolean("passed", true)
		r.Name = p.str("name", false)
		r.Framework = p.str("framework", false)
		r.EvidenceURL = p.prose("evidence_url")
	case *Cost:
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Amount = p.money("amount", true)
		r.Currency = p.currencyOr(opt.currencyAt(r.PeriodStart))
		r.Service = p.str("service", false)
		r.Category = p.str("category", false)
		r.Provider = p.str("provider", false)
		r.Tags = p.list("tags", true)
	case *Usage:
		r.PeriodStart, r.PeriodEnd = p.period()
		if r.Requests = p.optNumber("requests"); r.Requests != nil {
			p.notNegative("requests", *r.Requests)
		}
		if r.ActiveCustomers = p.optNumber("active_customers"); r.ActiveCustomers != nil {
			p.notNegative("active_customers", *r.ActiveCustomers)
		}
		r.Service = p.str("service", false)
	case *Budget:
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Amount = p.money("amount", true)
		// A cost may be a credit; a budget below zero is no plan: budget
		// variance divides by it, and a negative budget had turned an
		// overspend into a green variance below 0 %.
		p.nonNegative("amount", r.Amount)
		r.Currency = p.currencyOr(opt.currencyAt(r.PeriodStart))
		r.Category = p.str("category", false)
	case *Subscription:
		r.Customer = p.str("customer", true)
		r.StartedAt = p.time("started_at", true)
		r.MRR = p.money("mrr", true)
		p.nonNegative("mrr", r.MRR)
		r.Currency = p.currencyOr(opt.currencyAt(r.StartedAt))
		r.EndedAt = p.time("ended_at", false)
		p.order("started_at", "ended_at", r.StartedAt, r.EndedAt)
		r.Plan = p.str("plan", false)
		r.Segment = p.str("segment", false)
		r.Interval = p.str("interval", false)
		r.Quantity = p.optNumber("quantity")
		r.Discount = p.optNumber("discount")
	case *Opportunity:
		r.CreatedAt = p.time("created_at", true)
		r.Amount = p.money("amount", true)
		p.nonNegative("amount", r.Amount)
		r.Currency = p.currencyOr(opt.currencyAt(r.CreatedAt))
		r.Stage = p.str("stage", true)
		r.Owner = p.str("owner", false)
		r.QualifiedAt = p.time("qualified_at", false)
		r.ClosedAt = p.time("closed_at", false)
		r.Won = p.boolean("won", false)
		if r.Won && r.ClosedAt.IsZero() && p.ok("closed_at") {
			p.fail("won", "true requires closed_at (when the deal was won)")
		}
		if s := p.str("close_date", false); s != "" {
			d, err := ParseDate(s)
			if err != nil {
				p.fail("close_date", "%v", err)
			}
			r.CloseDate = d
		}
		r.Channel = p.str("channel", false)
	case *Lead:
		r.CreatedAt = p.time("created_at", true)
		r.MQLAt = p.time("mql_at", false)
		r.SQLAt = p.time("sql_at", false)
		r.Opportunity = p.str("opportunity", false)
		r.Channel = p.str("channel", false)
		r.Campaign = p.str("campaign", false)
	case *Quota:
		r.Owner = p.str("owner", true)
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Amount = p.money("amount", true)
		p.nonNegative("amount", r.Amount)
		r.Currency = p.currencyOr(opt.currencyAt(r.PeriodStart))
	case *Spend:
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Category = p.enum("category", true, "sales", "marketing")
		r.Amount = p.money("amount", true)
		r.Currency = p.currencyOr(opt.currencyAt(r.PeriodStart))
	case *Target:
		r.Metric = p.str("metric", true)
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Value, _ = p.number("value", true)
		r.Scope = p.str("scope", false)
	case *Measurement:
		r.Metric = p.str("metric", true)
		r.At = p.time("at", true)
		// number refuses NaN and infinities: a value is a finite number.
		r.Value, _ = p.number("value", true)
		r.Service = p.str("service", false)
		r.Team = p.str("team", false)
		r.Customer = p.str("customer", false)
		r.Segment = p.str("segment", false)
		r.Unit = p.str("unit", false)
		r.Tags = p.list("tags", true)
	}
}

// currencyOr reads the record's currency, else takes the configured
// default, which must itself be valid: a record stored with a code the
// parser refuses could not be reloaded.
func (p *parser) currencyOr(def string) string {
	if c := p.currency(); c != "" {
		return c
	}
	if !IsCurrency(def) {
		p.fail("currency", "absent, and the default currency %q (configuration) is not an ISO 4217 code", def)
	}
	return def
}
