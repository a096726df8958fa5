package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// Collections of the archive: the reports, and each sending of one.
const (
	Collection     = "report"
	SendCollection = "report_send"
)

// Report kinds.
const (
	KindDigest = "digest"
	KindBoard  = "board"
)

// Report is an archived report: what was produced, for whom, from which
// definition versions.
type Report struct {
	ID   int64  `json:"-"`
	Kind string `json:"kind"`
	// AsOf is the digest's as_of, or the end of the board pack's month.
	AsOf time.Time `json:"as_of"`
	// Month is the board pack's month, YYYY-MM.
	Month string `json:"month,omitempty"`
	// Slot is the schedule's slot the report was made for; zero on demand.
	Slot      time.Time `json:"slot,omitzero"`
	By        string    `json:"by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Definitions are the metric definitions the report used, by id.
	Definitions []Definition `json:"definitions"`
	// Messages are the digest's messages, one per recipient, as sent.
	Messages []Message `json:"messages,omitempty"`
	// PDF is the board pack.
	PDF []byte `json:"pdf,omitempty"`
}

// Message is one recipient's archived e-mail.
type Message struct {
	To string `json:"to"`
	// Grants names whose grants shaped it: "user x@y" or "roles a, b".
	Grants string `json:"grants"`
	// Metrics are the metrics the message shows, which its recipient must
	// still be allowed to see when it is sent again (Service.Resend). A
	// message archived before it has none: the report's Definitions stand
	// for them.
	Metrics []string `json:"metrics,omitempty"`
	EML     []byte   `json:"eml"`
}

// Send is one sending of a report to one address.
type Send struct {
	Report int64     `json:"report"`
	To     string    `json:"to"`
	At     time.Time `json:"at"`
	OK     bool      `json:"ok"`
	Error  string    `json:"error,omitempty"`
	Resend bool      `json:"resend,omitempty"`
	By     string    `json:"by,omitempty"`
}

func init() {
	ledger.RegisterDocs(Collection, ledger.DocSpec{Type: ledger.TypeReport, Digest: true, Summary: summary})
	ledger.RegisterDocs(SendCollection, ledger.DocSpec{Type: ledger.TypeReportSend, Personal: []string{"to", "by"}})
	ledger.RegisterRewrite(Collection, redactRecipients)
}

// redactRecipients rewrites an archived report for retention: each
// recipient's address becomes its pseudonym — the message's To, the
// grants that shaped it, every place the address is written in its EML —
// and so does who made it; the archive keeps what was sent, not to whom.
// (Its ledger entry names the body as archived, by digest.)
func redactRecipients(body []byte, pseudonym func(string) string) ([]byte, bool, error) {
	var r Report
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, false, fmt.Errorf("not a report: %w", err)
	}
	changed := false
	if r.By != "" {
		if p := pseudonym(r.By); p != r.By {
			r.By, changed = p, true
		}
	}
	for i := range r.Messages {
		m := &r.Messages[i]
		if m.To == "" {
			continue
		}
		p := pseudonym(m.To)
		if p == m.To {
			continue // a pseudonym already
		}
		m.EML = replaceFold(m.EML, m.To, p)
		m.Grants = string(replaceFold([]byte(m.Grants), m.To, p))
		m.To, changed = p, true
	}
	if !changed {
		return body, false, nil
	}
	out, err := json.Marshal(r)
	return out, true, err
}

// replaceFold replaces every occurrence of old in b, in any ASCII case (a
// header may capitalise an address), with new.
func replaceFold(b []byte, old, new string) []byte {
	lower, want := bytes.ToLower(b), bytes.ToLower([]byte(old))
	if len(lower) != len(b) || len(want) == 0 {
		return bytes.ReplaceAll(b, []byte(old), []byte(new))
	}
	var out []byte
	for {
		i := bytes.Index(lower, want)
		if i < 0 {
			return append(out, b...)
		}
		out = append(append(out, b[:i]...), new...)
		b, lower = b[i+len(want):], lower[i+len(want):]
	}
}

// summary is a report's ledger data beside its digest: never an address
// (personal) or a number.
func summary(body []byte) (map[string]any, error) {
	var r Report
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("not a report: %w", err)
	}
	defs := map[string]int{}
	for _, d := range r.Definitions {
		defs[d.Metric] = d.Version
	}
	out := map[string]any{"kind": r.Kind, "as_of": r.AsOf, "definitions": defs, "recipients": len(r.Messages)}
	if r.Month != "" {
		out["month"] = r.Month
	}
	return out, nil
}

// SlotKey is the document key of a scheduled report: its kind and slot.
func SlotKey(kind string, slot time.Time) string {
	return kind + "|" + slot.UTC().Format(time.RFC3339)
}

// Save archives r: keyed by its slot when scheduled, so that of several
// instances only one stores (and then sends) it; created is false when
// another stored the slot's report first, which is then returned.
func Save(ctx context.Context, docs store.DocStore, r *Report) (saved Report, created bool, err error) {
	body, err := json.Marshal(r)
	if err != nil {
		return Report{}, false, err
	}
	var d store.Doc
	if r.Slot.IsZero() {
		d, err = docs.AppendDoc(ctx, Collection, body)
		created = true
	} else {
		d, created, err = docs.AppendDocOnce(ctx, Collection, SlotKey(r.Kind, r.Slot), body)
	}
	if err != nil {
		return Report{}, false, fmt.Errorf("archiving the %s: %w", r.Kind, err)
	}
	out, err := decode(d)
	return out, created, err
}

func decode(d store.Doc) (Report, error) {
	var r Report
	if err := json.Unmarshal(d.Body, &r); err != nil {
		return r, fmt.Errorf("report %d is corrupt: %w", d.ID, err)
	}
	r.ID = d.ID
	return r, nil
}

// List returns the archived reports, newest first, at most limit (all
// when limit <= 0).
func List(ctx context.Context, docs store.DocStore, limit int) ([]Report, error) {
	ds, err := docs.Docs(ctx, Collection, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Report, 0, len(ds))
	for _, d := range ds {
		r, err := decode(d)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Listed is an archived report as a list shows it: without its files —
// a board pack's PDF, a digest's messages — and with its PDF's size.
type Listed struct {
	Report
	PDFBytes int
}

// Listing returns the archived reports newest first, as a list shows
// them: the store reads neither a pack's PDF nor a digest's messages
// (store.DocsOmitting). The board packs' page and API had decoded every
// report's files on each request to show their months and sizes.
func Listing(ctx context.Context, docs store.DocStore) ([]Listed, error) {
	return listing(ctx, docs, []string{"pdf", "messages"})
}

// ListingWithMessages is Listing keeping a digest's messages, whose
// recipients candor report list names; a board pack's PDF is still left
// in the store.
func ListingWithMessages(ctx context.Context, docs store.DocStore) ([]Listed, error) {
	return listing(ctx, docs, []string{"pdf"})
}

func listing(ctx context.Context, docs store.DocStore, omit []string) ([]Listed, error) {
	ds, err := store.DocsOmitting(ctx, docs, Collection, omit, "pdf")
	if err != nil {
		return nil, err
	}
	out := make([]Listed, 0, len(ds))
	for _, d := range ds {
		r, err := decode(d.Doc)
		if err != nil {
			return nil, err
		}
		out = append(out, Listed{Report: r, PDFBytes: d.Size})
	}
	return out, nil
}

// Get returns the archived report id, read by its id (store.DocByID), not
// with every other report and its files.
func Get(ctx context.Context, docs store.DocStore, id int64) (Report, error) {
	d, ok, err := store.DocByID(ctx, docs, Collection, id)
	if err != nil {
		return Report{}, err
	}
	if !ok {
		return Report{}, domain.Errorf(domain.ENotFound, "no report %d (candor report list shows them)", id)
	}
	return decode(d)
}

// Sends returns the sendings of report id (every report when id is 0),
// newest first.
func Sends(ctx context.Context, docs store.DocStore, id int64) ([]Send, error) {
	all, err := store.DecodeDocs[Send](ctx, docs, SendCollection, func(*Send, int64) {})
	if err != nil {
		return nil, err
	}
	if id == 0 {
		return all, nil
	}
	return slices.DeleteFunc(all, func(s Send) bool { return s.Report != id }), nil
}

// Mailer sends a composed message (alert.SMTP.Deliver).
type Mailer interface {
	Deliver(ctx context.Context, msg *mail.Msg) error
}

var _ Mailer = alert.SMTP{}

// deliver sends msgs, archived messages of r, and records every attempt
// (SendCollection); it returns the failures joined.
func deliver(ctx context.Context, docs store.DocStore, m Mailer, r Report, msgs []Message, resend bool, by string, now time.Time) error {
	var errs []error
	for _, msg := range msgs {
		m2, err := mail.EMLToMsgFromString(string(msg.EML))
		if err == nil {
			err = m.Deliver(ctx, m2)
		}
		s := Send{Report: r.ID, To: msg.To, At: now.UTC(), OK: err == nil, Resend: resend, By: by}
		if err != nil {
			s.Error = err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", msg.To, err))
		}
		if _, err := store.AppendJSON(ctx, docs, SendCollection, s); err != nil {
			return errors.Join(append(errs, fmt.Errorf("recording the send to %s: %w", msg.To, err))...)
		}
	}
	return errors.Join(errs...)
}

// pick keeps the messages addressed to one of to (all when to is empty);
// an address with no message is an error naming the report's recipients.
func pick(msgs []Message, to []string) ([]Message, error) {
	if len(to) == 0 {
		return msgs, nil
	}
	by := map[string]Message{}
	for _, m := range msgs {
		by[strings.ToLower(m.To)] = m
	}
	var out []Message
	for _, a := range to {
		m, ok := by[strings.ToLower(a)]
		if !ok {
			return nil, domain.InvalidParam("to", "%s did not get this report; its recipients: %s", a, strings.Join(slices.Sorted(maps.Keys(by)), ", "))
		}
		out = append(out, m)
	}
	return out, nil
}

// Withheld says why a reader whom visible judges may not open the report
// whole ("" when they may): the metrics it shows that visible does not,
// judged by the definitions in force at its as_of (a metric retired or
// redefined since does not lock it away), and any the catalog does not
// hold even then, whose visibility cannot be judged. An archived pack is
// never filtered after the fact: its figures and pages were made whole.
func (r Report) Withheld(cat *catalog.Catalog, visible func(*catalog.Metric) bool) string {
	ids := make([]string, len(r.Definitions))
	for i, d := range r.Definitions {
		ids[i] = d.Metric
	}
	hidden, unknown := cat.At(r.AsOf).Unseen(ids, visible)
	var why []string
	if len(hidden) > 0 {
		why = append(why, "it shows metrics your roles do not open: "+strings.Join(hidden, ", "))
	}
	if len(unknown) > 0 {
		why = append(why, "it shows metrics no longer defined: "+strings.Join(unknown, ", "))
	}
	return strings.Join(why, "; ")
}
