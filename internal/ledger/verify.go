package ledger

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/candor/candor/internal/priority"
	"github.com/candor/candor/internal/store"
)

// VerifyOptions say what Verify trusts.
type VerifyOptions struct {
	// Keys are the public keys whose signatures are accepted (the current
	// key's and any retired one's). At least one is required.
	Keys []ed25519.PublicKey
	// Head, when set, is a head published earlier (Head.String or a bare
	// hash): the ledger must still hold it, so entries cut from the end
	// are caught.
	Head string
	// UpTo, when positive, is the last entry checked: the ledger as it
	// stood when that entry was its head (an evidence pack verifies the
	// ledger as of its period's end, so later entries do not change it).
	UpTo int64
}

// Broken is the first entry that fails verification.
type Broken struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

func (b *Broken) Error() string { return fmt.Sprintf("entry %d: %s", b.Seq, b.Reason) }

// Report is a verification's outcome. Broken is nil when the ledger is
// intact.
type Report struct {
	Entries int64            `json:"entries"`
	Head    store.LedgerHead `json:"head"`
	Broken  *Broken          `json:"broken,omitempty"`
	// Published is the published head (VerifyOptions.Head) as found in
	// the ledger, its position given for a bare hash: said, so that a
	// reader sees it was checked.
	Published *store.LedgerHead `json:"published_head,omitempty"`
}

// ParseHead reads a published head: "SEQ:HASH" (Head.String) or a bare
// hash (Seq 0: any position).
func ParseHead(s string) (store.LedgerHead, error) {
	s = strings.TrimSpace(s)
	var h store.LedgerHead
	if seq, hash, ok := strings.Cut(s, ":"); ok {
		n, err := strconv.ParseInt(seq, 10, 64)
		if err != nil || n < 1 {
			return h, fmt.Errorf("%q is not a ledger head: want SEQ:HASH or HASH", s)
		}
		h.Seq, s = n, hash
	}
	if b, err := hex.DecodeString(s); err != nil || len(b) != 32 {
		return h, fmt.Errorf("%q is not a ledger head: want SEQ:HASH or HASH (64 hex digits)", s)
	}
	h.Hash = strings.ToLower(s)
	return h, nil
}

// FormatHead is a head as `candor ledger head` prints it for publishing.
func FormatHead(h store.LedgerHead) string { return fmt.Sprintf("%d:%s", h.Seq, h.Hash) }

// verifyChunk is the rows whose signatures are checked together, on every
// core, before they are walked in order.
const verifyChunk = 2048

// Verify reads the whole ledger and checks every entry: its position
// follows the one before (1, 2, 3 …), it carries the previous entry's
// hash, its hash matches its content, its signature is valid by a trusted
// key, its personal data (unless erased) matches its digest, and, with
// opt.Head, that the published head is still there. It stops at the first
// broken entry. An error is a failure to read, not a broken ledger.
func Verify(ctx context.Context, st store.LedgerStore, opt VerifyOptions) (*Report, error) {
	if len(opt.Keys) == 0 {
		return nil, errors.New("ledger: verify needs the public key the entries are signed with")
	}
	var published store.LedgerHead
	if opt.Head != "" {
		var err error
		if published, err = ParseHead(opt.Head); err != nil {
			return nil, err
		}
	}
	keys := map[string]ed25519.PublicKey{}
	for _, k := range opt.Keys {
		keys[KeyID(k)] = k
	}
	v := &verifier{keys: keys, rep: &Report{}, prev: store.LedgerHead{Hash: zeroHash}, published: published.Hash}
	chunk := make([]store.LedgerRow, 0, verifyChunk)
	errStop := errors.New("stop")
	flush := func() error {
		if v.walk(chunk) {
			return errStop
		}
		chunk = chunk[:0]
		return ctx.Err()
	}
	err := st.LedgerScan(ctx, 1, opt.UpTo, func(r store.LedgerRow) error {
		chunk = append(chunk, r)
		if len(chunk) == verifyChunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	rep := v.rep
	if rep.Broken == nil && published.Hash != "" {
		if rep.Broken = v.checkPublished(published); rep.Broken == nil {
			rep.Published = &store.LedgerHead{Seq: v.found, Hash: published.Hash}
		}
	}
	return rep, nil
}

type verifier struct {
	keys map[string]ed25519.PublicKey
	rep  *Report
	prev store.LedgerHead
	// published is the published head's hash; found its entry, once seen.
	published string
	found     int64
}

// walk checks rows in order and reports whether one is broken.
func (v *verifier) walk(rows []store.LedgerRow) bool {
	sigOK := v.signatures(rows)
	for i, r := range rows {
		if b := v.check(r, sigOK[i]); b != nil {
			v.rep.Broken = b
			return true
		}
		v.prev = store.LedgerHead{Seq: r.Seq, Hash: r.Hash}
		v.rep.Entries++
		v.rep.Head = v.prev
		if r.Hash == v.published {
			v.found = r.Seq
		}
	}
	return false
}

// signatures checks every row's signature over its stored hash, on every
// core (the costly part); the hash itself is checked in order by check.
func (v *verifier) signatures(rows []store.LedgerRow) []string {
	out := make([]string, len(rows))
	var wg sync.WaitGroup
	workers := max(1, priority.Cores())
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(rows); i += workers {
				out[i] = v.signature(rows[i])
			}
		}()
	}
	wg.Wait()
	return out
}

// signature is "" when r's signature is valid, else why not.
func (v *verifier) signature(r store.LedgerRow) string {
	key, ok := v.keys[r.KeyID]
	if !ok {
		return fmt.Sprintf("signed by key %q, which is not a trusted ledger key", r.KeyID)
	}
	sum, err1 := hex.DecodeString(r.Hash)
	sig, err2 := base64.StdEncoding.DecodeString(r.Sig)
	if err1 != nil || err2 != nil || !ed25519.Verify(key, sum, sig) {
		return "its signature does not verify: the row was written or rewritten without the ledger key"
	}
	return ""
}

func (v *verifier) check(r store.LedgerRow, sig string) *Broken {
	want := v.prev.Seq + 1
	switch {
	case r.Seq > want:
		return &Broken{Seq: want, Reason: fmt.Sprintf("missing: the ledger goes from entry %d to entry %d (removed)", v.prev.Seq, r.Seq)}
	case r.Seq < want:
		return &Broken{Seq: r.Seq, Reason: "out of sequence"}
	case r.Prev != v.prev.Hash:
		if v.prev.Seq == 0 {
			return &Broken{Seq: r.Seq, Reason: "the first entry does not start the chain (its previous hash is not zero): entries before it were removed"}
		}
		return &Broken{Seq: r.Seq, Reason: fmt.Sprintf("does not follow entry %d (its previous hash differs): an entry was removed, inserted or reordered", v.prev.Seq)}
	}
	h, err := Hash(r)
	if err != nil || h != r.Hash {
		return &Broken{Seq: r.Seq, Reason: "altered: its content does not match its hash"}
	}
	if sig != "" {
		return &Broken{Seq: r.Seq, Reason: sig}
	}
	if r.Personal != nil {
		if d, err := PersonalDigest(r.Salt, r.Personal); err != nil || d != r.PersonalDigest {
			return &Broken{Seq: r.Seq, Reason: "altered: its personal data does not match its digest"}
		}
	}
	return nil
}

// checkPublished checks that an intact ledger still holds a head
// published earlier.
func (v *verifier) checkPublished(h store.LedgerHead) *Broken {
	switch {
	case v.found > 0 && (h.Seq == 0 || h.Seq == v.found):
		return nil
	case h.Seq > v.rep.Head.Seq:
		return &Broken{Seq: v.rep.Head.Seq + 1, Reason: fmt.Sprintf("missing: the published head is entry %d, but the ledger ends at entry %d (entries were cut from its end)", h.Seq, v.rep.Head.Seq)}
	case h.Seq > 0:
		// Every entry verified, so whoever changed it held the key: all that
		// is known is that the entry at the published position is another
		// one, rewritten in place or after a cut; naming either would guess.
		return &Broken{Seq: h.Seq, Reason: fmt.Sprintf("differs from the published head: entry %d no longer has the published hash, so the ledger was rewritten at or before entry %d "+
			"(entries altered and re-signed with the ledger key, or the ledger cut back and appended to again)", h.Seq, h.Seq)}
	}
	return &Broken{Seq: v.rep.Head.Seq + 1, Reason: fmt.Sprintf("the published head %s is not in the ledger, which ends at entry %d: entries were cut from its end, "+
		"or the ledger was rewritten at or before the entry it named", h.Hash, v.rep.Head.Seq)}
}
