package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// failingSeq is a store whose sequence cannot be read.
type failingSeq struct{ store.Store }

func (failingSeq) LastSeq(context.Context) (int64, error) { return 0, errors.New("store down") }

// An engine is loaded after its first successful refresh, even of an
// empty store, and not after a failed one.
func TestReadyAfterFirstLoad(t *testing.T) {
	st := open(t, t.TempDir())
	bad := engine.New(failingSeq{st}, metrics.DefaultConfig())
	if bad.Refresh(context.Background()) == nil || bad.Ready() {
		t.Errorf("a failed refresh: Ready = %v", bad.Ready())
	}
	e := engine.New(st, metrics.DefaultConfig())
	if e.Ready() {
		t.Fatal("a new engine is ready")
	}
	if err := e.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !e.Ready() {
		t.Error("an empty store refreshed: not ready")
	}
}
