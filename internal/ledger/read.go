package ledger

import (
	"context"
	"encoding/json"
	"time"

	"github.com/candor/candor/internal/store"
)

// View is an entry as the API shows it: everything an auditor needs to
// check it without Candor (docs/ledger.md), the personal data included
// unless erased.
type View struct {
	Seq            int64           `json:"seq"`
	At             time.Time       `json:"at"`
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	Personal       json.RawMessage `json:"personal"`
	Salt           string          `json:"salt,omitempty"`
	PersonalDigest string          `json:"personal_digest,omitempty"`
	Prev           string          `json:"prev"`
	Hash           string          `json:"hash"`
	KeyID          string          `json:"key_id"`
	Sig            string          `json:"sig"`
}

// ViewOf is a row's View.
func ViewOf(r store.LedgerRow) View {
	v := View{Seq: r.Seq, At: r.At, Type: r.Type, Data: json.RawMessage(r.Data), Salt: r.Salt, PersonalDigest: r.PersonalDigest,
		Prev: r.Prev, Hash: r.Hash, KeyID: r.KeyID, Sig: r.Sig}
	if r.Personal != nil {
		v.Personal = json.RawMessage(r.Personal)
	}
	return v
}

// Range selects entries by position, by time, or both (all bounds that
// are set apply): FromSeq ≤ seq ≤ ToSeq, From ≤ at < To. Zero bounds are
// open.
type Range struct {
	FromSeq, ToSeq int64
	From, To       time.Time
}

// Page is a run of entries in seq order; Next, when set, is the FromSeq
// of the following page.
type Page struct {
	Head    store.LedgerHead `json:"head"`
	Entries []View           `json:"entries"`
	Next    int64            `json:"next,omitempty"`
}

// Read returns up to limit entries of r.
func Read(ctx context.Context, st store.LedgerStore, r Range, limit int) (*Page, error) {
	head, err := st.LedgerHead(ctx)
	if err != nil {
		return nil, err
	}
	from, to := max(r.FromSeq, 1), head.Seq
	if r.ToSeq > 0 {
		to = min(to, r.ToSeq)
	}
	if !r.From.IsZero() || !r.To.IsZero() {
		first, last, err := st.LedgerSeqs(ctx, r.From, r.To)
		if err != nil {
			return nil, err
		}
		from, to = max(from, first), min(to, last)
	}
	p := &Page{Head: head, Entries: []View{}}
	if from > to {
		return p, nil
	}
	end := to
	if limit > 0 && to-from+1 > int64(limit) {
		end = from + int64(limit) - 1
		p.Next = end + 1
	}
	err = st.LedgerScan(ctx, from, end, func(row store.LedgerRow) error {
		p.Entries = append(p.Entries, ViewOf(row))
		return nil
	})
	return p, err
}
