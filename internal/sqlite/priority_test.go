package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/candor/candor/internal/priority"
)

// A page waiting for the writer an import holds does not count as a read
// in progress (priority.Blocked): the import would otherwise give way to
// the very page that waits for its commit.
func TestWaitForTheWriterIsNotForeground(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	b, err := st.Begin(ctx) // an import holding the writer
	if err != nil {
		t.Fatal(err)
	}
	fctx, done := priority.Foreground(ctx)
	defer done()
	counted := priority.InProgress()
	appended := make(chan error, 1)
	go func() {
		_, err := st.AppendDoc(fctx, "page_views", []byte(`{"page":"scorecard"}`))
		appended <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for priority.InProgress() != counted-1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests in progress while the page waits for the writer, want %d", priority.InProgress(), counted-1)
		}
		time.Sleep(time.Millisecond)
	}
	if err := b.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	if n := priority.InProgress(); n != counted {
		t.Errorf("%d requests in progress once the page has the writer, want %d", n, counted)
	}
}
