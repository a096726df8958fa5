package connect

import (
	"encoding/json"
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
func finish(recs []domain.Record, source string, opt domain.ParseOptions) ([]domain.Record, int, error) {
	opt.DefaultSource = source
	out := make([]domain.Record, 0, len(recs))
	truncated := 0
	for _, r := range recs {
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
			return nil, 0, rejectf("%s %s: %v", r.Kind(), clip(r.Header().ID), err)
		}
		out = append(out, v)
	}
	return out, truncated, nil
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
