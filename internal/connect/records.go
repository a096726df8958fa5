package connect

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/candor/candor/internal/domain"
)

// truncationMarker ends a free-text field that was cut to SPEC §1's bound,
// so a reader sees that it was.
const truncationMarker = " […truncated by Candor]"

// finish gives the records their source, cuts free text over its bound
// (counting the fields cut) and validates them exactly as an import
// would: each is written out and parsed again by the domain parser, so a
// connector can produce no record that `candor import` would refuse. An
// identifier over its bound, or any other invalid field, rejects the
// delivery with the record and the field named.
func finish(b built, source string, opt domain.ParseOptions) ([]domain.Record, int, error) {
	opt.DefaultSource = source
	recs := b.records
	out := make([]domain.Record, 0, len(recs))
	truncated := 0
	for i, r := range recs {
		r.Header().Source = source
		for _, f := range proseFields(r) {
			if len(*f) > domain.MaxText {
				*f = truncateUTF8(*f, domain.MaxText-len(truncationMarker)) + truncationMarker
				truncated++
			}
		}
		body, err := json.Marshal(r)
		if err != nil {
			return nil, 0, err
		}
		v, err := domain.ParseJSON(body, r.Kind(), opt)
		if err != nil {
			var o *fieldOrigin
			if i < len(b.origins) {
				o = b.origins[i]
			}
			return nil, 0, refusedRecord(r, err, o)
		}
		out = append(out, v)
	}
	return out, truncated, nil
}

// refusedRecord is the rejection of record r, refused by the parser with
// err: the reason names the record and its field, and, where o says which
// field of the payload the first of them came from, the field is that
// one — what the sender can fix — and the reason says so.
func refusedRecord(r domain.Record, err error, o *fieldOrigin) error {
	re := &rejection{reason: fmt.Sprintf("%s %s: %v", r.Kind(), clip(r.Header().ID), err)}
	if o == nil {
		return re
	}
	re.reason = o.where + re.reason
	for _, p := range domain.Problems(err) {
		if from, ok := o.fields[p.Field]; ok {
			re.field = o.prefix + from
			re.reason += fmt.Sprintf(" (the record's %s comes from the payload's %s)", p.Field, re.field)
			break
		}
	}
	return re
}

// proseFields are a record's free-text fields (SPEC §1: title, text, a
// URL), which may be cut to their bound; every other field is an
// identifier or a value, which may not.
func proseFields(r domain.Record) []*string {
	switch r := r.(type) {
	case *domain.Deployment:
		return []*string{&r.PipelineURL}
	case *domain.Change:
		return []*string{&r.Title, &r.URL}
	case *domain.Incident:
		return []*string{&r.URL}
	case *domain.Ticket:
		return []*string{&r.Text}
	case *domain.Vulnerability:
		return []*string{&r.URL}
	case *domain.Control:
		return []*string{&r.EvidenceURL}
	}
	return nil
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
