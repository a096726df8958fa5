package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/store"
)

// runInboxConversion is the contract of alert.ConvertOldInbox on a store:
// in-app notifications and a read mark stored as the code before the
// digest-keyed inbox stored them are listed and counted again, once, even
// when two instances convert at once.
func runInboxConversion(t *testing.T, open Factory) {
	t.Run("InboxOldFormConverted", func(t *testing.T) {
		ctx := context.Background()
		s := open(t)
		at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		// oldSend stores a notification as the old InApp.Send did: keyed
		// "notification|address".
		oldSend := func(id int64, user, summary string) store.Doc {
			t.Helper()
			body, err := json.Marshal(alert.InboxItem{User: user, Notification: id, Subject: "[Candor] " + summary, Lines: []string{"Firing: " + summary}, At: at})
			if err != nil {
				t.Fatal(err)
			}
			d, _, err := s.AppendDocOnce(ctx, alert.InboxCollection, fmt.Sprintf("%d|%s", id, user), body)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		first := oldSend(1, "ann@example.com", "MTTR is red")
		oldSend(1, "bob@example.com", "MTTR is red")
		// The old MarkRead: an unkeyed mark up to the newest notification
		// of anyone's, then one by someone no notification went to.
		if _, err := s.AppendDoc(ctx, alert.SeenCollection, []byte(fmt.Sprintf(`{"user":"ann@example.com","upto":%d}`, first.ID+1))); err != nil {
			t.Fatal(err)
		}
		oldSend(2, "ann@example.com", "Lead time is red")
		if _, err := s.AppendDoc(ctx, alert.SeenCollection, []byte(`{"user":"cy@example.com","upto":1}`)); err != nil {
			t.Fatal(err)
		}

		// Two instances starting at once.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		copied := make([]int, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, m, err := alert.ConvertOldInbox(ctx, s)
				copied[i], errs[i] = n+m, err
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || copied[0]+copied[1] != 4 {
			t.Fatalf("converting at once: %v, %v; %d copies (want 3 notifications and 1 mark)", errs[0], errs[1], copied[0]+copied[1])
		}
		if n, m, err := alert.ConvertOldInbox(ctx, s); err != nil || n+m != 0 {
			t.Errorf("converting again: %d notifications, %d marks (%v)", n, m, err)
		}

		check := func(user string, subjects []string, unread int) {
			t.Helper()
			items, n, err := alert.Inbox(ctx, s, user, 10)
			got := make([]string, len(items))
			for i, it := range items {
				got[i] = fmt.Sprintf("%s unread=%v", it.Subject, it.Unread)
			}
			if err != nil || n != unread || fmt.Sprint(got) != fmt.Sprint(subjects) {
				t.Errorf("%s's inbox: %q, %d unread (%v); want %q, %d unread", user, got, n, err, subjects, unread)
			}
			if c, err := alert.Unread(ctx, s, user); err != nil || c != unread {
				t.Errorf("%s's unread count: %d (%v), want %d", user, c, err, unread)
			}
		}
		check("Ann@example.com", []string{"[Candor] Lead time is red unread=true", "[Candor] MTTR is red unread=false"}, 1)
		check("bob@example.com", []string{"[Candor] MTTR is red unread=true"}, 1)
		check("cy@example.com", []string{}, 0)

		// The converted inbox goes on like a new one.
		if err := (alert.InApp{Docs: s}).Send(ctx, alert.Envelope{ID: 2, To: []string{"ann@example.com"}, Message: alert.Message{Group: "r", At: at}}); err != nil {
			t.Fatal(err)
		}
		if err := (alert.InApp{Docs: s}).Send(ctx, alert.Envelope{ID: 3, To: []string{"bob@example.com"}, Message: alert.Message{Group: "r", At: at}}); err != nil {
			t.Fatal(err)
		}
		check("ann@example.com", []string{"[Candor] Lead time is red unread=true", "[Candor] MTTR is red unread=false"}, 1)
		if err := alert.MarkRead(ctx, s, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		if n, err := alert.Unread(ctx, s, "ann@example.com"); err != nil || n != 0 {
			t.Errorf("ann's unread after marking read: %d (%v)", n, err)
		}
		if n, err := alert.Unread(ctx, s, "bob@example.com"); err != nil || n != 2 {
			t.Errorf("bob's unread after a new one: %d (%v), want 2", n, err)
		}
	})
}
