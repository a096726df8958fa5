package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/candor/candor/internal/store"
)

// InboxCollection keeps in-app notifications, one document per user and
// notification; SeenCollection the marks of how far each user has read.
const (
	InboxCollection = "alert_inbox"
	SeenCollection  = "alert_inbox_seen"
)

// inboxScan bounds the documents read for one user's inbox: the latest
// this many of every user's.
const inboxScan = 500

// InApp stores a notification in each recipient's inbox in the web app
// (the envelope's addresses: Candor users, chosen by the routes). A
// repeat of one notification for one user stores nothing more.
type InApp struct{ Docs store.DocStore }

// InboxItem is one in-app notification of one user.
type InboxItem struct {
	ID           int64     `json:"-"`
	User         string    `json:"user"`
	Notification int64     `json:"notification"`
	Subject      string    `json:"subject"`
	Lines        []string  `json:"lines"`
	At           time.Time `json:"at"`
	Unread       bool      `json:"-"`
}

// Send implements Channel.
func (c InApp) Send(ctx context.Context, e Envelope) error {
	if c.Docs == nil {
		return fmt.Errorf("in-app notifications need a store that keeps documents")
	}
	if len(e.To) == 0 {
		return fmt.Errorf("no recipient: an in-app notification goes to users the routes choose")
	}
	var lines []string
	for _, a := range e.Message.Firing {
		lines = append(lines, "Firing: "+a.Summary)
	}
	for _, a := range e.Message.Resolved {
		lines = append(lines, "Resolved: "+a.Summary)
	}
	for _, to := range e.To {
		user := strings.ToLower(to)
		body, err := json.Marshal(InboxItem{User: user, Notification: e.ID, Subject: Subject(e.Message), Lines: lines, At: e.Message.At})
		if err != nil {
			return err
		}
		if _, _, err := c.Docs.AppendDocOnce(ctx, InboxCollection, fmt.Sprintf("%d|%s", e.ID, user), body); err != nil {
			return err
		}
	}
	return nil
}

type seenMark struct {
	User string `json:"user"`
	Upto int64  `json:"upto"`
}

// Inbox returns the user's in-app notifications, newest first, at most
// limit, and how many are unread (newer than the user's last MarkRead).
func Inbox(ctx context.Context, docs store.DocStore, user string, limit int) ([]InboxItem, int, error) {
	user = strings.ToLower(user)
	seen, err := docs.Docs(ctx, SeenCollection, inboxScan)
	if err != nil {
		return nil, 0, err
	}
	var upto int64
	for _, d := range seen {
		var m seenMark
		if json.Unmarshal(d.Body, &m) == nil && m.User == user {
			upto = m.Upto
			break
		}
	}
	all, err := docs.Docs(ctx, InboxCollection, inboxScan)
	if err != nil {
		return nil, 0, err
	}
	var out []InboxItem
	unread := 0
	for _, d := range all {
		var it InboxItem
		if err := json.Unmarshal(d.Body, &it); err != nil || it.User != user {
			continue
		}
		it.ID, it.Unread = d.ID, d.ID > upto
		if it.Unread {
			unread++
		}
		if len(out) < limit {
			out = append(out, it)
		}
	}
	return out, unread, nil
}

// MarkRead marks the user's notifications up to the newest as read.
func MarkRead(ctx context.Context, docs store.DocStore, user string) error {
	all, err := docs.Docs(ctx, InboxCollection, 1)
	if err != nil || len(all) == 0 {
		return err
	}
	body, err := json.Marshal(seenMark{User: strings.ToLower(user), Upto: all[0].ID})
	if err != nil {
		return err
	}
	_, err = docs.AppendDoc(ctx, SeenCollection, body)
	return err
}
