package web

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The warmer computes the current minute once per data sequence, the next
// minute within warmLead of it, and nothing it has already computed.
func TestWarmerDue(t *testing.T) {
	m := func(min, sec int) time.Time { return time.Date(2026, 3, 31, 9, min, sec, 0, time.UTC) }
	var w warmer
	steps := []struct {
		now  time.Time
		seq  int64
		want []time.Time
	}{
		{m(15, 10), 7, []time.Time{m(15, 0)}},           // cold: the current minute
		{m(15, 20), 7, nil},                             // computed, no new data
		{m(15, 30), 8, []time.Time{m(15, 0)}},           // new data: again
		{m(15, 46), 8, []time.Time{m(16, 0)}},           // within warmLead of the next minute
		{m(15, 50), 8, nil},                             // both computed
		{m(15, 55), 9, []time.Time{m(15, 0), m(16, 0)}}, // new data: both again
		{m(16, 1), 9, nil},                              // the minute began computed
		{m(16, 2), 10, []time.Time{m(16, 0)}},           // new data in it
	}
	for i, st := range steps {
		got := w.due(st.now, st.seq)
		if !slices.EqualFunc(got, st.want, time.Time.Equal) {
			t.Fatalf("step %d (%s, seq %d): due %v, want %v", i, st.now.Format(time.TimeOnly), st.seq, got, st.want)
		}
		for _, at := range got {
			w.did(st.now, at, st.seq)
		}
	}
	if len(w.done) > 2 {
		t.Errorf("the warmer remembers %d minutes, want at most 2: %v", len(w.done), w.done)
	}
}

// Warm computes the default pages once the data is loaded and stops with
// its context.
func TestWarmRuns(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 50, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	if err := e.srv.warmAt(context.Background(), now.Truncate(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.srv.Warm(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Warm did not stop with its context")
	}
}

// A panic while warming (a formula meeting data it cannot handle) is
// logged with its stack and the warmer goes on: on the warmer's goroutine
// it had ended the whole server. Not tried again for the same minute and
// data, which would panic again every second.
func TestWarmSurvivesAPanic(t *testing.T) {
	now := time.Date(2026, 3, 31, 9, 15, 10, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	logs := &lockedBuffer{}
	e.srv.Log = slog.New(slog.NewJSONHandler(logs, nil))
	e.srv.Catalog = nil // the scorecard's computation panics on it
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.srv.Warm(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "warming the default pages panicked") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond) // two more of the warmer's looks
	cancel()
	<-done
	if n := strings.Count(logs.String(), "warming the default pages panicked"); n != 1 || !strings.Contains(logs.String(), `"stack":"goroutine`) {
		t.Errorf("%d panics logged (want 1, with its stack):\n%s", n, logs)
	}
}

// lockedBuffer is a log's buffer read while the logger writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
