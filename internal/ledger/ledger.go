// Package ledger is Candor's audit ledger (SPEC §5): an append-only list of
// entries, each chained to the one before by a SHA-256 hash over a
// canonical encoding and signed with an Ed25519 key kept outside the
// database. Whoever can write to the database can delete or rewrite rows,
// but cannot make them verify again: the chain names the first entry that
// was altered, removed, inserted or reordered, the signature catches a
// chain recomputed from the altered rows, and a head published elsewhere
// (Head) catches entries cut from the end. docs/ledger.md states the format
// precisely enough to verify it without Candor.
//
// The store keeps the rows and serialises appends (store.LedgerStore);
// this package seals them (Sealer), appends (Append), reads and verifies.
package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/store"
)

// Entry types. A type names what happened; its data's fields are
// documented with it in docs/ledger.md. Others extend the set by adding a
// constant here, to Types, and a row to docs/ledger.md: Append refuses a
// type not in Types, so a typo cannot start a type of its own.
const (
	// TypeRecords is a committed batch of records: an import, an API
	// request group, a connector delivery. Data: origin, sources, counts
	// per kind, content_sha256 (RecordsData).
	TypeRecords = "records"
	// TypeAccess is an access event (auth.Event): sign-ins, failed
	// sign-ins, sign-outs, user, role and token changes.
	TypeAccess = "access"
	// TypeSnapshot is a KPI snapshot, weekly or on demand: its document,
	// the SHA-256 of its body and each metric's status.
	TypeSnapshot = "kpi_snapshot"
	// TypeAcknowledgement is an action recorded on an amber, red or
	// degrading metric: owner, note, due date.
	TypeAcknowledgement = "acknowledgement"
	// TypeEscalation is an escalation raised for an amber or red metric
	// nobody acted on (package escalation).
	TypeEscalation = "escalation"

	// Reserved for the work that will append them: definition proposals
	// and their approvals or rejections, release gate decisions, connector
	// deliveries and retention runs.
	TypeProposal     = "proposal"
	TypeDecision     = "decision"
	TypeGateDecision = "gate_decision"
	TypeDelivery     = "delivery"
	TypeRetention    = "retention"
	// TypeRetroValidation is an emergency change validated after the fact
	// (package gate).
	TypeRetroValidation = "gate_retro_validation"
	// TypeReport is an archived report (weekly digest, monthly board pack;
	// package report): its document's digest, kind, period and the
	// definition versions it used. TypeReportSend is one sending of it.
	TypeReport     = "report"
	TypeReportSend = "report_send"
	// TypeAnnotation is a business-cycle annotation posted or withdrawn over the API (package
	// annotation).
	TypeAnnotation = "annotation"
	// TypeAlertAck and TypeAlertSilence are an alert acknowledged and
	// alerts silenced, TypeAlertUnsilence a silence ended before its end
	// (package alert).
	TypeAlertAck       = "alert_ack"
	TypeAlertSilence   = "alert_silence"
	TypeAlertUnsilence = "alert_unsilence"
	// TypeGateApproval is an escalated gate decision approved or rejected;
	// TypeRollbackWatch is a post-deploy watch's outcome (package gate).
	TypeGateApproval  = "gate_approval"
	TypeRollbackWatch = "rollback_watch"
	// TypeSectionInForce is an approved governed section put in force in
	// a running server (package governance).
	TypeSectionInForce = "section_in_force"
)

// Types lists every entry type.
var Types = []string{
	TypeRecords, TypeAccess, TypeSnapshot, TypeAcknowledgement, TypeEscalation,
	TypeProposal, TypeDecision, TypeGateDecision, TypeDelivery, TypeRetention,
	TypeRetroValidation, TypeReport, TypeReportSend,
	TypeAnnotation,
	TypeAlertAck, TypeAlertSilence, TypeAlertUnsilence,
	TypeGateApproval, TypeRollbackWatch,
	TypeSectionInForce,
}

// Entry builds a store entry of type typ from data and personal, each
// marshalled to a JSON object (encoding/json: struct fields in order, map
// keys sorted, so the same values always give the same bytes). personal
// nil means none.
func Entry(typ string, data, personal any) (store.LedgerEntry, error) {
	if !slices.Contains(Types, typ) {
		return store.LedgerEntry{}, fmt.Errorf("ledger: unknown entry type %q (add it to ledger.Types)", typ)
	}
	e := store.LedgerEntry{Type: typ}
	var err error
	if e.Data, err = object(data, "data"); err != nil {
		return e, err
	}
	if personal != nil {
		if e.Personal, err = object(personal, "personal data"); err != nil {
			return e, err
		}
	}
	return e, nil
}

func object(v any, what string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("ledger: encoding the entry's %s: %w", what, err)
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("ledger: the entry's %s must be a JSON object, got %.40s", what, b)
	}
	return b, nil
}

// Append appends one entry (see Entry) in a transaction of its own.
func Append(ctx context.Context, st store.LedgerStore, typ string, data, personal any) (store.LedgerRow, error) {
	e, err := Entry(typ, data, personal)
	if err != nil {
		return store.LedgerRow{}, err
	}
	rows, err := st.AppendLedger(ctx, e)
	if err != nil {
		return store.LedgerRow{}, err
	}
	return rows[0], nil
}

// zeroHash is the prev of the first entry.
var zeroHash = strings.Repeat("0", 64)

// encodingTag starts the canonical encoding, naming its version.
const encodingTag = "candor-ledger-v1"

// Canonical is the encoding an entry's hash is taken over: the tag and a
// zero byte, seq (uint64) and at (int64 unix nanoseconds), big-endian;
// type, data and personal_digest, each as a uint32 big-endian length and
// the bytes; and prev as 32 raw bytes. Lengths make it unambiguous; prev
// makes each hash depend on every entry before.
func Canonical(r store.LedgerRow) ([]byte, error) {
	prev, err := hex.DecodeString(r.Prev)
	if err != nil || len(prev) != sha256.Size {
		return nil, fmt.Errorf("prev %q is not a hex SHA-256", r.Prev)
	}
	b := make([]byte, 0, len(encodingTag)+1+16+12+len(r.Type)+len(r.Data)+len(r.PersonalDigest)+32)
	b = append(b, encodingTag...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(r.At.UnixNano()))
	for _, f := range []string{r.Type, string(r.Data), r.PersonalDigest} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return append(b, prev...), nil
}

// Hash is the hex SHA-256 of the row's canonical encoding.
func Hash(r store.LedgerRow) (string, error) {
	c, err := Canonical(r)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:]), nil
}

// PersonalDigest is the hex SHA-256 of the salt's bytes then the personal
// data: what the chain holds of personal data. The salt keeps a guessable
// value (an e-mail address) from being confirmed against the digest.
func PersonalDigest(saltHex string, personal []byte) (string, error) {
	salt, err := hex.DecodeString(saltHex)
	if err != nil {
		return "", fmt.Errorf("salt %q is not hex", saltHex)
	}
	h := sha256.New()
	h.Write(salt)
	h.Write(personal)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Sealer chains and signs entries with a key (store.Sealer). Install it
// on a store with st.SetSealer.
type Sealer struct {
	key   ed25519.PrivateKey
	keyID string
	// rand draws salts (crypto/rand unless a test sets it).
	rand io.Reader
}

var _ store.Sealer = (*Sealer)(nil)

// NewSealer returns a sealer signing with key.
func NewSealer(key ed25519.PrivateKey) *Sealer {
	return &Sealer{key: key, keyID: KeyID(key.Public().(ed25519.PublicKey)), rand: rand.Reader}
}

// KeyID names the key that signed an entry: the first 16 hex digits of the
// SHA-256 of the public key.
func (s *Sealer) KeyID() string { return s.keyID }

// Seal implements store.Sealer.
func (s *Sealer) Seal(head store.LedgerHead, at time.Time, entries []store.LedgerEntry) ([]store.LedgerRow, error) {
	prev := head.Hash
	if head.Seq == 0 {
		prev = zeroHash
	}
	rows := make([]store.LedgerRow, len(entries))
	for i, e := range entries {
		if !slices.Contains(Types, e.Type) {
			return nil, fmt.Errorf("unknown entry type %q", e.Type)
		}
		r := store.LedgerRow{Seq: head.Seq + int64(i) + 1, At: at.UTC(), Type: e.Type, Data: e.Data, Prev: prev, KeyID: s.keyID}
		if e.Personal != nil {
			var salt [16]byte
			if _, err := io.ReadFull(s.rand, salt[:]); err != nil {
				return nil, err
			}
			r.Personal, r.Salt = e.Personal, hex.EncodeToString(salt[:])
			r.PersonalDigest, _ = PersonalDigest(r.Salt, r.Personal)
		}
		var err error
		if r.Hash, err = Hash(r); err != nil {
			return nil, err
		}
		sum, _ := hex.DecodeString(r.Hash)
		r.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, sum))
		rows[i] = r
		prev = r.Hash
	}
	return rows, nil
}

// PublicKey is the public half of the signing key: what verifies the
// entries this sealer signs.
func (s *Sealer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }
