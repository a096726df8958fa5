package main

import (
	"context"
	"strings"
	"testing"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/sqlite"
)

// TestServeConvertsOldInbox: candor serve converts an inbox stored in the
// old form before it serves, so the user's notification is listed.
func TestServeConvertsOldInbox(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := sqlite.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = st.AppendDocOnce(ctx, alert.InboxCollection, "7|ann@example.com", []byte(`{"user":"ann@example.com","notification":7,"subject":"MTTR is red"}`))
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	p.waitFor(t, "the listening log line", p.listeningURL)
	p.stop(t)
	if !strings.Contains(p.errb.String(), "in-app inboxes converted") {
		t.Errorf("no conversion log line:\n%s", p.errb.String())
	}
	st, err = sqlite.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	items, unread, err := alert.Inbox(ctx, st, "ann@example.com", 10)
	if err != nil || len(items) != 1 || items[0].Subject != "MTTR is red" || unread != 1 {
		t.Errorf("ann's inbox after serve: %+v, %d unread (%v)", items, unread, err)
	}
}
