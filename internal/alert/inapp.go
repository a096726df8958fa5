package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// InboxCollection keeps in-app notifications, one document per user and
// notification; SeenCollection each user's marks of how far they have
// read. Both are keyed by the user (inboxPrefix), so one user's documents
// are read through the store's key index (store.KeyPrefixReader) without
// reading anyone else's: a page view counts its reader's unread with one
// indexed read of their newest mark and one indexed count.
const (
	InboxCollection = "alert_inbox"
	SeenCollection  = "alert_inbox_seen"
)

// Retention pseudonymises the address in each inbox document and read
// mark past the ledger's period (the keys hold only its digest).
func init() {
	spec := ledger.DocSpec{Personal: []string{"user"}, Pseudonymise: []string{"user"}}
	for _, c := range []string{InboxCollection, SeenCollection} {
		ledger.RegisterRewrite(c, func(body []byte, pseudonym func(string) string) ([]byte, bool, error) {
			return ledger.Redact(spec, body, pseudonym)
		})
	}
}

// inboxPrefix starts the keys of a user's inbox documents and read marks:
// a digest of the lower-cased address, not the address, because a key is
// never rewritten and retention pseudonymises the address in the bodies.
// The digest is not keyed, so someone with the database can confirm a
// guessed address: retention's pseudonym key would hide it, but with
// PostgreSQL that key exists only where retention is configured, and
// replacing it would orphan every inbox.
func inboxPrefix(user string) string {
	h := sha256.Sum256([]byte(strings.ToLower(user)))
	return hex.EncodeToString(h[:16]) + "|"
}

// InApp stores a notification in each recipient's inbox in the web app
// (the envelope's addresses: Candor users, chosen by the routes). A
// repeat of one notification for one user stores nothing more.
type InApp struct{ Docs store.DocStore }

// InboxItem is one in-app notification of one user.
type InboxItem struct {
	ID           int64    `json:"-"`
	User         string   `json:"user"`
	Notification int64    `json:"notification"`
	Subject      string   `json:"subject"`
	Lines        []string `json:"lines"`
	// Metrics names each line's metric ("" for an alert of none), so that
	// the inbox is read within the reader's grants as they are when it is
	// read, not as they were when it was sent: a user who lost
	// revenue:read no longer reads the revenue alerts kept for them.
	// Documents stored before it have none (VisibleTo).
	Metrics []string  `json:"metrics,omitempty"`
	At      time.Time `json:"at"`
	Unread  bool      `json:"-"`
	// Withheld counts the lines VisibleTo took out.
	Withheld int `json:"-"`
}

// VisibleTo is the item with only the lines whose metric see admits (a
// line of no metric stays), the others counted in Withheld. An item stored
// before lines named their metric is returned as it is: what it concerned
// is not known.
func (it InboxItem) VisibleTo(see func(metric string) bool) InboxItem {
	if len(it.Metrics) != len(it.Lines) {
		return it
	}
	lines, metrics := make([]string, 0, len(it.Lines)), make([]string, 0, len(it.Metrics))
	for i, l := range it.Lines {
		if m := it.Metrics[i]; m != "" && !see(m) {
			it.Withheld++
			continue
		}
		lines, metrics = append(lines, l), append(metrics, it.Metrics[i])
	}
	it.Lines, it.Metrics = lines, metrics
	return it
}

// Send implements Channel.
func (c InApp) Send(ctx context.Context, e Envelope) error {
	if c.Docs == nil {
		return fmt.Errorf("in-app notifications need a store that keeps documents")
	}
	if len(e.To) == 0 {
		return fmt.Errorf("no recipient: an in-app notification goes to users the routes choose")
	}
	var lines, metrics []string
	for _, a := range e.Message.Firing {
		lines, metrics = append(lines, "Firing: "+a.Summary), append(metrics, a.Metric)
	}
	for _, a := range e.Message.Resolved {
		lines, metrics = append(lines, "Resolved: "+a.Summary), append(metrics, a.Metric)
	}
	for _, to := range e.To {
		user := strings.ToLower(to)
		body, err := json.Marshal(InboxItem{User: user, Notification: e.ID, Subject: Subject(e.Message), Lines: lines, Metrics: metrics, At: e.Message.At})
		if err != nil {
			return err
		}
		if _, _, err := c.Docs.AppendDocOnce(ctx, InboxCollection, fmt.Sprintf("%s%d", inboxPrefix(user), e.ID), body); err != nil {
			return err
		}
	}
	return nil
}

type seenMark struct {
	User string `json:"user"`
	Upto int64  `json:"upto"`
}

// prefixReader is the store's key index, or an error saying there is none.
func prefixReader(docs store.DocStore) (store.KeyPrefixReader, error) {
	r, ok := docs.(store.KeyPrefixReader)
	if !ok {
		return nil, fmt.Errorf("in-app notifications need a store that reads documents by key (%T does not)", docs)
	}
	return r, nil
}

// readUpto is the newest document id the user has marked read (0: none).
func readUpto(ctx context.Context, r store.KeyPrefixReader, user string) (int64, error) {
	marks, err := r.DocsByKeyPrefix(ctx, SeenCollection, inboxPrefix(user), 0, 1)
	if err != nil || len(marks) == 0 {
		return 0, err
	}
	var m seenMark
	if err := json.Unmarshal(marks[0].Body, &m); err != nil {
		return 0, fmt.Errorf("read mark %d: %w", marks[0].ID, err)
	}
	return m.Upto, nil
}

// Unread counts the user's notifications newer than their last MarkRead.
func Unread(ctx context.Context, docs store.DocStore, user string) (int, error) {
	r, err := prefixReader(docs)
	if err != nil {
		return 0, err
	}
	upto, err := readUpto(ctx, r, user)
	if err != nil {
		return 0, err
	}
	n, err := r.CountDocsByKeyPrefix(ctx, InboxCollection, inboxPrefix(user), upto)
	return int(n), err
}

// Inbox returns the user's in-app notifications, newest first, at most
// limit, and how many are unread (newer than the user's last MarkRead).
func Inbox(ctx context.Context, docs store.DocStore, user string, limit int) ([]InboxItem, int, error) {
	r, err := prefixReader(docs)
	if err != nil {
		return nil, 0, err
	}
	upto, err := readUpto(ctx, r, user)
	if err != nil {
		return nil, 0, err
	}
	unread, err := r.CountDocsByKeyPrefix(ctx, InboxCollection, inboxPrefix(user), upto)
	if err != nil || limit <= 0 {
		return nil, int(unread), err
	}
	list, err := r.DocsByKeyPrefix(ctx, InboxCollection, inboxPrefix(user), 0, limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]InboxItem, 0, len(list))
	for _, d := range list {
		var it InboxItem
		if err := json.Unmarshal(d.Body, &it); err != nil {
			return nil, 0, fmt.Errorf("in-app notification %d: %w", d.ID, err)
		}
		it.ID, it.Unread = d.ID, d.ID > upto
		out = append(out, it)
	}
	return out, int(unread), nil
}

// MarkRead marks the user's notifications up to their newest as read: a
// mark of their own, which no one else's marks can push out.
func MarkRead(ctx context.Context, docs store.DocStore, user string) error {
	r, err := prefixReader(docs)
	if err != nil {
		return err
	}
	newest, err := r.DocsByKeyPrefix(ctx, InboxCollection, inboxPrefix(user), 0, 1)
	if err != nil || len(newest) == 0 {
		return err
	}
	upto := newest[0].ID
	body, err := json.Marshal(seenMark{User: strings.ToLower(user), Upto: upto})
	if err != nil {
		return err
	}
	// Keyed by the user and how far: marking the same again stores nothing.
	_, _, err = docs.AppendDocOnce(ctx, SeenCollection, fmt.Sprintf("%s%020d", inboxPrefix(user), upto), body)
	return err
}

// convertedCollection records, under convertedKey, that the inbox
// documents and read marks stored in the old form were converted.
const (
	convertedCollection = "alert_inbox_converted"
	convertedKey        = "user-digest-keys"
)

// oldInboxKey parses an inbox document key of the old form, the
// notification and the address ("42|ann@example.com"). The new form's
// first part, 32 hex digits, is never an int64.
func oldInboxKey(key string) (notification int64, user string, ok bool) {
	left, user, found := strings.Cut(key, "|")
	if !found || user == "" {
		return 0, "", false
	}
	n, err := strconv.ParseInt(left, 10, 64)
	return n, user, err == nil
}

// ConvertOldInbox gives the in-app notifications and read marks stored
// before their keys began with the user's digest (inbox keys
// "notification|address", read marks unkeyed and shared by everyone)
// keys of the new form, so that each user's earlier notifications are
// listed and counted again: each is copied once under the key Send now
// uses, in the order they were stored, and each user's last old mark
// becomes a mark of their own up to the copy of the newest notification
// it covered. The store is append-only, so the old documents stay. It
// runs once: when done it is recorded, and later calls read that record
// only. Two instances converting at once write each copy once
// (AppendDocOnce) and agree on the copies' ids. A mark whose address
// retention has already pseudonymised names no one and is left; that
// user's old notifications then show as unread. It returns how many
// notifications and marks it copied.
func ConvertOldInbox(ctx context.Context, docs store.DocStore) (notifications, marks int, err error) {
	if _, done, err := docs.DocByKey(ctx, convertedCollection, convertedKey); err != nil || done {
		return 0, 0, err
	}
	all, err := docs.Docs(ctx, InboxCollection, 0)
	if err != nil {
		return 0, 0, err
	}
	// copied is each user's old notifications' ids and their copies',
	// oldest first.
	type copied struct{ old, new int64 }
	byUser := map[string][]copied{}
	for i := len(all) - 1; i >= 0; i-- {
		d := all[i]
		id, user, ok := oldInboxKey(d.Key)
		if !ok {
			continue
		}
		// The key, written by the old Send, holds the address even when
		// retention has pseudonymised the body's.
		user = strings.ToLower(user)
		c, created, err := docs.AppendDocOnce(ctx, InboxCollection, fmt.Sprintf("%s%d", inboxPrefix(user), id), d.Body)
		if err != nil {
			return notifications, marks, fmt.Errorf("converting in-app notification %d: %w", d.ID, err)
		}
		if created {
			notifications++
		}
		byUser[user] = append(byUser[user], copied{d.ID, c.ID})
	}
	seen, err := docs.Docs(ctx, SeenCollection, 0)
	if err != nil {
		return notifications, marks, err
	}
	done := map[string]bool{}
	for _, d := range seen { // newest first: a user's first is their last
		var m seenMark
		if d.Key != "" || json.Unmarshal(d.Body, &m) != nil {
			continue // a new mark, or one the old code ignored too
		}
		user := strings.ToLower(m.User)
		if done[user] {
			continue
		}
		done[user] = true
		var upto int64
		for _, c := range byUser[user] {
			if c.old <= m.Upto && c.new > upto {
				upto = c.new
			}
		}
		if upto == 0 {
			continue
		}
		body, err := json.Marshal(seenMark{User: user, Upto: upto})
		if err != nil {
			return notifications, marks, err
		}
		_, created, err := docs.AppendDocOnce(ctx, SeenCollection, fmt.Sprintf("%s%020d", inboxPrefix(user), upto), body)
		if err != nil {
			return notifications, marks, fmt.Errorf("converting read mark %d: %w", d.ID, err)
		}
		if created {
			marks++
		}
	}
	body, err := json.Marshal(map[string]int{"notifications": notifications, "marks": marks})
	if err != nil {
		return notifications, marks, err
	}
	_, _, err = docs.AppendDocOnce(ctx, convertedCollection, convertedKey, body)
	return notifications, marks, err
}
