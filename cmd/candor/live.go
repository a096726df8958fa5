package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/metrics"
)

// liveParts are what the governed sections make, each built once per app:
// the access grants (custom views grant their roles), the gate policies
// and the alert service. The web server, the leader's jobs and the alert
// router hold these same values, so putting an approved section in force
// (applySections) changes what all of them use.
type liveParts struct {
	mu sync.Mutex
	// custom is the custom_metrics value the engine and catalog compute
	// (nil: the configuration's as the app opened it).
	custom     []byte
	alertsOnce sync.Once
	grants     *auth.Grants
	gates      *gate.Current
	alerts     *alert.Service
	alertSet   alert.Settings
	alertErr   error
}

// grants are the app's access grants.
func (a *app) grants() (*auth.Grants, error) {
	a.live.mu.Lock()
	defer a.live.mu.Unlock()
	if a.live.grants == nil {
		g, err := a.cfg.Grants(a.catalog)
		if err != nil {
			return nil, err
		}
		a.live.grants = g
	}
	return a.live.grants, nil
}

// gatePolicies are the app's gate policies in force.
func (a *app) gatePolicies() (*gate.Current, error) {
	a.live.mu.Lock()
	defer a.live.mu.Unlock()
	if a.live.gates == nil {
		p, err := a.cfg.GatePolicies(a.catalog)
		if err != nil {
			return nil, err
		}
		a.live.gates = gate.NewCurrent(p)
	}
	return a.live.gates, nil
}

// applySections builds what cfg's governed sections make — the role views
// with the grants they give, the gate policies, the alert rules — checked
// as at start, and only when every part is valid puts them in force in
// the app's catalog, grants, gate policies and alert service. Each is
// swapped whole. The grants go first: while the views follow, a view
// just added is not found yet and one just removed is no longer granted,
// so no one sees a view neither value grants them.
func (a *app) applySections(cfg config.Config) error {
	base, err := catalog.Default()
	if err != nil {
		return err
	}
	withViews, err := cfg.AddViews(base)
	if err != nil {
		return err
	}
	custom, err := json.Marshal(cfg.CustomEras())
	if err != nil {
		return err
	}
	customSet, err := cfg.CustomSet()
	if err != nil {
		return err
	}
	customEras, err := cfg.CustomCatalogEras(base, config.OwnMetrics(withViews))
	if err != nil {
		return err
	}
	g, err := cfg.Grants(withViews)
	if err != nil {
		return err
	}
	// Checked against the organisation's metrics the value brings, built
	// on the app's catalog once those are in force in it.
	if _, err := cfg.GatePolicies(withViews); err != nil {
		return err
	}
	// As serve checks at start: a rollback webhook this server could not
	// sign for is refused, and the server keeps the policies it has.
	if err := cfg.CheckWatchSecret(); err != nil {
		return err
	}
	if _, err := cfg.AlertSettings(withViews); err != nil {
		return err
	}
	a.live.mu.Lock()
	defer a.live.mu.Unlock()
	if err := a.applyCustom(custom, customSet, customEras); err != nil {
		return err
	}
	policies, err := cfg.GatePolicies(a.catalog)
	if err != nil {
		return err
	}
	set, err := cfg.AlertSettings(a.catalog)
	if err != nil {
		return err
	}
	if a.live.grants != nil {
		a.live.grants.Replace(g)
	}
	if err := a.catalog.SetViews(withViews.Views); err != nil {
		return err
	}
	if a.live.gates != nil {
		a.live.gates.Set(policies)
	}
	if a.live.alerts != nil {
		a.live.alerts.SetRules(set.Rules)
	}
	return nil
}

// applyCustom puts the organisation's metrics of an approved custom_metrics
// value in force, when it differs from those the app computes (a.live.mu
// held): the catalog's entries first — the one step that can still refuse
// (an approved change naming a metric no longer there), leaving everything
// as it was — then the engine's computations, whose results cached under
// the old definitions are dropped. Between the two steps a card may show
// the new entry with the old number for an instant; the number always
// cites the formula version that computed it.
func (a *app) applyCustom(value []byte, set metrics.CustomSet, eras []catalog.CustomEra) error {
	was := a.live.custom
	if was == nil {
		b, err := json.Marshal(a.cfg.CustomEras())
		if err != nil {
			return err
		}
		was = b
	}
	if bytes.Equal(was, value) {
		return nil
	}
	if err := a.catalog.SetCustomVersions(eras); err != nil {
		return err
	}
	a.engine.SetCustom(set)
	a.live.custom = value
	return nil
}

// liveSections follows the governed sections approved while serving:
// the instance that records an approval puts the section in force at
// once, the others at their next poll of the proposals (followDefinitions).
// addr, the address the server listens at, tells its records from those
// of another server in the same process.
func (a *app) liveSections(addr string, log *slog.Logger) *governance.Live {
	host, _ := os.Hostname()
	l := &governance.Live{Registry: a.gov, Config: a.loaded, Applied: a.sections, Apply: a.applySections,
		Instance: fmt.Sprintf("%s %s (pid %d)", host, addr, os.Getpid())}
	a.gov.Decided = func(ctx context.Context) {
		if err := syncSections(ctx, l, log); err != nil {
			log.Error("approved configuration sections", "err", err)
		}
	}
	return l
}

// syncSections puts the approved sections in force, logs those it did and
// returns why it could not.
func syncSections(ctx context.Context, l *governance.Live, log *slog.Logger) error {
	changed, err := l.Sync(ctx)
	if len(changed) > 0 {
		log.Info("approved configuration sections put in force", "sections", changed, "instance", l.Instance)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
