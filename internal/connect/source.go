package connect

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// scheme is how a source proves a delivery is its own.
type scheme int

const (
	// schemeSigned: a secret shared with the sender (an HMAC signature or
	// a token header), checked by the connector's verify.
	schemeSigned scheme = iota
	// schemeBearer: an API token with the records:write grant, for senders
	// that can set a header but not sign (Alertmanager, Jenkins, Argo CD,
	// CDEvents senders, Opsgenie).
	schemeBearer
)

// connector is one webhook source.
type connector struct {
	name   string
	scheme scheme
	// verify checks a signed delivery against the configured secret;
	// tolerance bounds the age of a signed timestamp.
	verify func(in *input, secret string, tolerance time.Duration) error
	// headerID reads the delivery id from the headers, when the sender
	// sends one there; it is logged even for a refused delivery.
	// headerEvent likewise reads the event type, when a header says it.
	headerID    func(h http.Header) string
	headerEvent func(h http.Header) string
	// parse decodes a verified payload: its delivery id and event type,
	// and how to build its records.
	parse func(in *input) (*parsed, error)
	// stateful: building reads stored records, so deliveries of the
	// source are serialised from that read to their commit.
	stateful bool
	// keyed: a stateful connector whose builds each read one thing, named
	// by parsed.key; its deliveries are serialised per key rather than
	// per source (a pull request's review and merge wait for each other,
	// two pull requests do not).
	keyed bool
	// headers are the request headers parse reads, kept with the payload
	// for replay (never a credential or a signature).
	headers []string
	// oneEventPerID: the delivery id names one event, whose payload does
	// not change (CloudEvents: a source and id are one event), so a
	// payload other than the one counted under the id is the sender's
	// mistake, refused as a conflict rather than acknowledged and dropped.
	// Off for the rest: a Stripe event's pending_webhooks counts down
	// between its attempts under one id, and a GitHub delivery id is the
	// delivery's, not a promise about the body; theirs are duplicates.
	oneEventPerID bool
}

// keptHeaders are the delivery's headers that parse reads.
func (c connector) keptHeaders(h http.Header) map[string]string {
	var out map[string]string
	for _, name := range c.headers {
		if v := h.Get(name); v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = v
		}
	}
	return out
}

// input is one delivery as received.
type input struct {
	header http.Header
	body   []byte
	now    time.Time
}

// parsed is a decoded delivery.
type parsed struct {
	id    string // "" when the sender gives none: the payload's sha256 stands in
	event string
	// key names the one thing build reads from the store, for a connector
	// whose deliveries are serialised per key (connector.keyed): only the
	// deliveries naming the same key wait for each other. "" for a build
	// that reads nothing.
	key   string
	build func(ctx context.Context, st *state) (built, error)
}

// built is what a delivery maps to: records, or none and why.
type built struct {
	records []domain.Record
	ignored string
	// events holds, beside each record named by the one event it comes
	// from (a CDEvent's context.source and context.id), where that event
	// is in the payload; nil beside a record later events update (an
	// incident, a change). Such a record stored with another body is the
	// same event sent again with another payload, whatever delivery
	// carries it, and is refused as a conflict: a delivery id guards one
	// delivery, not the events a batch or another ce-id carries.
	events []*eventRef
	// origins holds, beside each record, where in the payload its fields
	// come from, so that a record refused for a field names the payload's
	// field at fault; nil beside a record without one.
	origins []*fieldOrigin
}

// fieldOrigin is where in a payload one record's fields come from.
type fieldOrigin struct {
	// where prefixes a refusal's reason ("event 2 of the batch: "),
	// prefix the payload's fields ("[2].data.").
	where, prefix string
	// fields maps a record's field ("environment") to the payload's
	// field it comes from ("subject.content.environment.id").
	fields map[string]string
}

// eventRef is where in a payload the event naming a record is.
type eventRef struct {
	// where prefixes a conflict's reason ("event 2 of the batch: "; ""
	// for the payload's only event); field is the event id's field.
	where, field string
}

// mapped is a parsed delivery whose records need no stored state.
func mapped(id, event string, recs ...domain.Record) *parsed {
	return &parsed{id: id, event: event, build: func(context.Context, *state) (built, error) { return built{records: recs}, nil }}
}

// ignored is a parsed delivery Candor does not map, with the reason.
func ignored(id, event, format string, args ...any) *parsed {
	why := fmt.Sprintf(format, args...)
	return &parsed{id: id, event: event, build: func(context.Context, *state) (built, error) { return built{ignored: why}, nil }}
}

// outcome turns what a mapping shared by a webhook and a collector gives
// (a record, or none and why it is ignored, or the rejection) into a
// parsed delivery.
func outcome(id, event string) func(rec domain.Record, why string, err error) (*parsed, error) {
	return func(rec domain.Record, why string, err error) (*parsed, error) {
		switch {
		case err != nil:
			return nil, known(id, event, err)
		case rec == nil:
			return ignored(id, event, "%s", why), nil
		}
		return mapped(id, event, rec), nil
	}
}

// rejection is a delivery's own fault: malformed, an identifier over its
// bound, a required field missing. It is answered 400 and logged with its
// payload.
type rejection struct {
	reason string
	// field is the payload's field at fault ("context.id"), when one is:
	// the answer names it apart from the reason, for a sender's log to
	// point at.
	field string
	// id and event are the delivery id and event type the parse had read
	// before it refused the delivery ("" when it had not): the delivery
	// log keeps them, as it does a mapped delivery's.
	id, event string
}

func (e *rejection) Error() string { return e.reason }

// known notes on a rejection the delivery id and event type read before
// it, where it names none; any other error is returned as it is.
func known(id, event string, err error) error {
	var re *rejection
	if errors.As(err, &re) {
		re.id = cmp.Or(re.id, id)
		re.event = cmp.Or(re.event, event)
	}
	return err
}

func rejectf(format string, args ...any) error {
	return &rejection{reason: fmt.Sprintf(format, args...)}
}

// rejectField is rejectf for a payload field at fault; the reason starts
// with the field's name.
func rejectField(field, format string, args ...any) error {
	return &rejection{reason: field + ": " + fmt.Sprintf(format, args...), field: field}
}

// prefixed is prefix and v, or "" when v is empty: an event type made of
// a payload's field that may be missing.
func prefixed(prefix, v string) string {
	if v == "" {
		return ""
	}
	return prefix + v
}

// rejectMissing is the rejection of a payload missing one or more of
// the fields its reason names, given as name, value pairs: the field at
// fault is the first of them that is empty.
func rejectMissing(reason string, fieldValues ...string) error {
	re := &rejection{reason: reason}
	for i := 0; i+1 < len(fieldValues); i += 2 {
		if fieldValues[i+1] == "" {
			re.field = fieldValues[i]
			break
		}
	}
	return re
}

// decode unmarshals a JSON payload, rejecting one that is not. The fast
// path (pick) decodes most payloads; what it gives up on is decoded again
// from scratch by encoding/json, which words the errors.
func decode(body []byte, v any) error {
	if pick(body, v) {
		return nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv.Elem().SetZero()
	}
	if err := json.Unmarshal(body, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return rejectf("the payload is not valid JSON: %v (at byte %d)", se, se.Offset)
		case errors.As(err, &te) && te.Field == "":
			return rejectf("the payload is a JSON %s, not an object", te.Value)
		case errors.As(err, &te):
			return &rejection{reason: fmt.Sprintf("the payload's %s is %s, want %s", te.Field, jsonValueWords(te.Value), domain.JSONTypeWords(te.Type)), field: te.Field}
		}
		return rejectf("the payload cannot be read: %v", err)
	}
	return nil
}

// decodeAt is decode for a part of the payload, at prefix
// ("data.object."): a field of the wrong type is named from the payload's
// top, as the sender sees it.
func decodeAt(prefix string, body []byte, v any) error {
	err := decode(body, v)
	var re *rejection
	if errors.As(err, &re) && re.field != "" {
		re.reason = strings.Replace(re.reason, "the payload's "+re.field, "the payload's "+prefix+re.field, 1)
		re.field = prefix + re.field
	}
	return err
}

// jsonValueWords is what encoding/json names in an error — a JSON type
// ("string", "number"), given its article, or the value itself.
func jsonValueWords(v string) string {
	switch {
	case v == "array", v == "object":
		return "an " + v
	case v == "":
		return "a value"
	case strings.HasPrefix(v, `"`):
		return v // the value itself, quoted
	}
	return "a " + v
}

// state reads the source's stored records, for mappings that update a
// record a previous delivery wrote.
type state struct {
	st     store.Store
	source string
	// dryRun keeps what a mapping would remember (event clocks, first
	// reviews) to itself: a dry run writes nothing.
	dryRun bool
	// docs are the event clocks the build advanced, to be appended with
	// its records, and clocks their times by record ("<source>/<kind>/<id>#0")
	// for the build's later steps; earlier holds those of a collector's
	// page's earlier objects, not committed yet either.
	docs            []store.KeyedDoc
	clocks, earlier map[string]clock
}

// get decodes the stored record of the kind and id into r; false when
// there is none.
func (s *state) get(ctx context.Context, kind domain.Kind, id string, r domain.Record) (bool, error) {
	got, err := s.st.Get(ctx, domain.Key{Kind: kind, Source: s.source, ID: id})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, s.decodeStored(kind, id, got.Body, r)
}

// decodeStored decodes the body of the stored record of the kind and id
// into r.
func (s *state) decodeStored(kind domain.Kind, id string, body []byte, r domain.Record) error {
	if err := json.Unmarshal(body, r); err != nil {
		return fmt.Errorf("stored %s %s/%s: %w", kind, s.source, id, err)
	}
	return nil
}

// text is a JSON string or number read as text: senders write ids both
// ways (GitHub's numeric ids, Opsgenie's priority 3 or "P3").
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		// This type of error gets the field's name added by encoding/json.
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[string]()}
	}
	*t = text(n.String())
	return nil
}

// whole is a number its sender always writes as a JSON integer (a GitHub
// pull request's number, a GitLab merge request's iid, a Jenkins build's
// number), kept as its decimal text like text; a string of digits is
// taken too, as a relay re-encoding numbers sends it. Anything else is
// refused: as text, a pull request "abc" had become the change "repo#abc".
type whole string

func (w *whole) UnmarshalJSON(b []byte) error {
	var t text
	err := t.UnmarshalJSON(b)
	if err == nil && t != "" {
		_, err = strconv.ParseUint(string(t), 10, 63)
	}
	if err != nil {
		v := jsonKind(b)
		if b[0] == '"' {
			v = clip(string(b)) // worded as the value itself
		}
		return &json.UnmarshalTypeError{Value: v, Type: reflect.TypeFor[int64]()}
	}
	*w = whole(t)
	return nil
}

// when is a timestamp as senders write it: RFC 3339, GitLab's
// "2021-04-28 21:50:00 +0200" and "2016-08-12 15:23:28 UTC", Jira's
// "2019-08-27T12:43:24.193-0700", or unix seconds or milliseconds as a
// number. null, "" and Go's zero time are no time.
type when struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05Z07:00",
}

func parseWhen(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "<no value>" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() <= 1 {
				return time.Time{}, nil
			}
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		// A number of the wrong unit (microseconds read as milliseconds)
		// lands tens of thousands of years away, which no record can
		// hold (its JSON stops at year 9999): the sender's mistake, not
		// a time.
		if t := unixAny(n); t.Year() >= 1 && t.Year() <= 9999 {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("%s is not a time between the years 1 and 9999 as unix seconds, milliseconds or nanoseconds", s)
	}
	return time.Time{}, fmt.Errorf("%q is not a time", clip(s))
}

// unixAny reads unix seconds, milliseconds or nanoseconds by magnitude.
func unixAny(n int64) time.Time {
	switch {
	case n > 1e17 || n < -1e17:
		return time.Unix(0, n).UTC()
	case n > 1e11 || n < -1e11:
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

func (w *when) UnmarshalJSON(b []byte) error {
	var t text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	v, err := parseWhen(string(t))
	if err != nil {
		return &json.UnmarshalTypeError{Value: strconv.Quote(clip(string(t))), Type: reflect.TypeFor[time.Time]()}
	}
	w.Time = v
	return nil
}

// jsonKind names a JSON value's type for an error message, a string or
// number by its value.
func jsonKind(b []byte) string {
	switch k := domain.JSONKind(b); k {
	case "object", "array", "bool":
		return k
	}
	return "value " + clip(string(b))
}

func clip(s string) string {
	if len(s) > 60 {
		return truncateUTF8(s, 60) + "…"
	}
	return s
}

// firstOf is the first non-empty string.
func firstOf(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" && s != "<no value>" {
			return s
		}
	}
	return ""
}

// lastSegment is what follows the last slash ("org/repo" → "repo").
func lastSegment(s string) string {
	if i := strings.LastIndexByte(strings.TrimRight(s, "/"), '/'); i >= 0 {
		return strings.TrimRight(s, "/")[i+1:]
	}
	return s
}
