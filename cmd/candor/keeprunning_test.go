package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A leader's job that panics (alerts, escalations, reports, …) is logged
// with its stack and started again, where the panic had ended the whole
// server; one that returns is not started again.
func TestLeadersJobKeepsRunningAfterAPanic(t *testing.T) {
	defer func(d time.Duration) { jobRestart = d }(jobRestart)
	jobRestart = time.Millisecond
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	var runs atomic.Int32
	keepRunning(context.Background(), log, func(context.Context) error {
		if runs.Add(1) < 3 {
			panic("formula met data it could not handle")
		}
		return nil
	})
	if n := runs.Load(); n != 3 {
		t.Errorf("the job ran %d times, want 3 (twice panicking, then returning)", n)
	}
	if n := strings.Count(buf.String(), "a leader's job panicked"); n != 2 || !strings.Contains(buf.String(), "keeprunning_test.go") {
		t.Errorf("%d panics logged, want 2 with their stack:\n%s", n, buf.String())
	}
	// A job panicking as its context ends is not started again.
	ctx, cancel := context.WithCancel(context.Background())
	jobRestart = time.Hour
	done := make(chan struct{})
	go func() {
		keepRunning(ctx, log, func(context.Context) error { cancel(); panic("at shutdown") })
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("keepRunning waited to start a job again after its context ended")
	}
}
