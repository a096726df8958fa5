package main

import (
	"compress/gzip"
	"context"
	"crypto/ed25519"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/priority"

	"github.com/candor/candor/internal/adoption"
	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/annotation"
	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/leader"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/postgres"
	"github.com/candor/candor/internal/report"
	"github.com/candor/candor/internal/retention"
	"github.com/candor/candor/internal/schedule"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
	"github.com/candor/candor/internal/web"
)

func init() {
	register(command{name: "serve", args: "[flags]", help: "serve the web pages and the JSON API (scorecard, metrics, role views, reconciliations, record ingestion)", run: runServe})
	register(command{name: "generate", args: "--out FILE [flags]", help: "write a realistic, deterministic demo organisation as NDJSON", run: runGenerate})
	register(command{name: "demo", args: "[flags]", help: "generate demo data into a temporary store and serve it", run: runDemo})
	register(command{name: "catalog", args: "docs|propose|approve|reject|history [flags]", help: "the metric definition guide (docs); definition and setting changes: propose, approve, reject, history", run: runCatalog})
}

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "serve", "[flags]", "Serves the web pages and the HTTP API until interrupted (SIGINT/SIGTERM shut it down gracefully).")
	var c common
	c.bind(fs)
	addr := fs.String("addr", "", "listen address HOST:PORT (or CANDOR_ADDR; default 127.0.0.1:8080)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	cfg, environ, err := readConfig(c, env)
	if err != nil {
		return err
	}
	// The leader sends the alert notifications: a channel it could not
	// sign for is refused now, before a store is made, not found out at
	// the first failed send.
	if err := cfg.CheckAlertSecrets(); err != nil {
		return &exitError{code: 2, err: err}
	}
	// So does it run the scheduled collectors: one without its token
	// is refused now, naming its line, rather than failing every run.
	if err := cfg.CheckSyncReady(); err != nil {
		return &exitError{code: 2, err: err}
	}
	// The address is taken before the store is opened: a mistyped one
	// stops serve before it makes a store in a new --data directory.
	// config.Load checked the configured one's form.
	from := addrSource(cfg, env)
	if *addr != "" {
		cfg.Addr, from = *addr, "--addr"
	}
	ln, err := listen(cfg.Addr, from)
	if err != nil {
		return err
	}
	defer ln.Close()
	log := slog.New(slog.NewJSONHandler(env.Stderr, nil))
	a, err := openWaiting(ctx, log, ln, func() (*app, error) { return openConfig(ctx, cfg, false, environ, true, nil) })
	if errors.Is(err, sqlite.ErrNoStore) || errors.Is(err, postgres.ErrNoSchema) {
		// A new store: no proposal put other gate policies in force, the
		// file's are, and an unset secret they name stops serve before
		// it makes the store.
		if err := cfg.CheckWatchSecret(); err != nil {
			return &exitError{code: 2, err: err}
		}
		a, err = openWaiting(ctx, log, ln, func() (*app, error) { return openConfig(ctx, cfg, true, environ, true, nil) })
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while waiting for the store
		}
		return err
	}
	defer a.Close()
	if m := a.migrated(); m != "" {
		log.Info(m)
	}
	// So does its post-deploy watch's rollback webhook: the gate
	// policies' in force, which an approved proposal may have put in
	// place of the file's, so only once the store is read.
	if err := a.cfg.CheckWatchSecret(); err != nil {
		return &exitError{code: 2, err: err}
	}
	return serve(ctx, env, a, ln, nil)
}

// startWait bounds how long serve waits at start for a store it cannot
// reach (PostgreSQL not up yet, refusing the sign-in, out of connections:
// store.UnreachableError); a test shortens it.
var startWait = time.Minute

// startRetryMax is the longest pause between two attempts.
const startRetryMax = 10 * time.Second

// giveUpAdvice says what to do about a store still unreachable for
// reason (store.UnreachableError's) when serve gives up: the database is
// up when it refuses the sign-in, has no room or lacks the database, and
// "start candor serve once the database takes connections" had sent the
// administrator to wait for what would never change.
func giveUpAdvice(reason string) string {
	switch reason {
	case "authentication failed", "the database refused the sign-in":
		return "check the user and password the URL gives (or PGPASSWORD, ~/.pgpass) and the server's pg_hba.conf, then start candor serve again"
	case "too many connections":
		return "raise the role's CONNECTION LIMIT or the server's max_connections, or lower pool_max_conns in the URL (docs/postgres.md), then start candor serve again"
	case "the database does not exist":
		return "check the database name in the URL, or create the database (docs/postgres.md), then start candor serve again"
	}
	return "start candor serve once the database takes connections"
}

// openWaiting runs open until it succeeds, fails with anything but an
// unreachable store, or startWait has passed: PostgreSQL started beside
// Candor (a machine's boot, a compose file) may take connections only
// after serve has started, which had exited at once with "dial error …
// connection refused". Each attempt that fails is logged with its cause;
// the pause doubles from a second up to startRetryMax. Meanwhile ln
// answers every request 503 with Retry-After (waitingAnswers), so a
// health check is told at once rather than waiting for its own timeout.
func openWaiting(ctx context.Context, log *slog.Logger, ln net.Listener, open func() (*app, error)) (*app, error) {
	start := time.Now()
	deadline := start.Add(startWait)
	pause := time.Second
	var answering func()
	defer func() {
		if answering != nil {
			answering()
		}
	}()
	for attempt := 1; ; attempt++ {
		a, err := open()
		var down *store.UnreachableError
		if err == nil || !errors.As(err, &down) {
			return a, err
		}
		if answering == nil {
			answering = waitingAnswers(ln, down.Reason)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("%w\ngave up after %s (%s): %s, and let a service manager restart it when it exits (systemd Restart=on-failure)",
				err, time.Since(start).Round(time.Second), plural.Count(attempt, "attempt"), giveUpAdvice(down.Reason))
		}
		wait := min(pause, left)
		log.Warn("store unreachable at start; trying again", "url", "http://"+ln.Addr().String(), "attempt", attempt, "retry_in", wait.String(), "gives_up_in", left.Round(time.Second).String(), "reason", down.Reason, "err", err.Error())
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		pause = min(2*pause, startRetryMax)
	}
}

// httpServer is serve's server with the configured timeouts. Headers get
// at most 10 s, less when read_timeout is shorter: read_timeout is the
// longest time to read a request, its headers included.
func httpServer(h http.Handler, t config.Timeouts, log *slog.Logger) *http.Server {
	header := 10 * time.Second
	if t.Read > 0 && t.Read < header {
		header = t.Read
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: header,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// waitingAnswers serves on ln, until the function it returns is called,
// a 503 with Retry-After to every request, saying the server waits for its
// database (reason: the failure's class, no address). The listener stays
// open for the server that follows: the stop unblocks its Accept with a
// deadline in the past, then clears it. A listener without deadlines is
// left unanswered.
func waitingAnswers(ln net.Listener, reason string) (stop func()) {
	dl, ok := ln.(interface{ SetDeadline(time.Time) error })
	if !ok {
		return func() {}
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: web.Waiting(reason)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(keptListener{ln, dl})
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
		dl.SetDeadline(time.Time{})
	}
}

// keptListener is a listener whose Close only stops Accept, for a server
// that hands the listener on.
type keptListener struct {
	net.Listener
	dl interface{ SetDeadline(time.Time) error }
}

func (l keptListener) Close() error { return l.dl.SetDeadline(time.Unix(1, 0)) }

// addrSource names where the configured listen address came from.
func addrSource(cfg config.Config, env *Env) string {
	switch {
	case env.Getenv("CANDOR_ADDR") != "":
		return "CANDOR_ADDR"
	case cfg.Addr != config.Default().Addr && cfg.Path() != "":
		return "addr (config " + cfg.Path() + ")"
	}
	return "the default address"
}

// listen listens at addr, an error naming from, the flag, variable or key
// it came from: net's own ("address nope: missing port in address") names
// neither.
func listen(addr, from string) (net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usagef("%s: %q is not HOST:PORT, such as 127.0.0.1:8080 or :8080", from, addr)
	}
	// A port out of range is the address's mistake too, not the
	// listener's failure (which had exited 1).
	if _, err := net.LookupPort("tcp", port); err != nil {
		return nil, usagef("%s: %q: port %s is not a port number (0 to 65535) or service name", from, addr, port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", from, addr, err)
	}
	return ln, nil
}

// serve runs the HTTP server on ln until ctx ends. It serves at once, so
// /healthz answers while the data loads and /readyz says when it has;
// ready, when set, receives the base URL once the data is loaded.
func serve(ctx context.Context, env *Env, a *app, ln net.Listener, ready func(url string)) error {
	// Reads get a scheduler slot at once beside bulk work (priority.ForServing).
	defer priority.ForServing()()
	// What this starts (the follower, the warming, the definitions'
	// follower) stops when it returns, before the caller closes the store:
	// after a failed first load the follower went on and logged "sql:
	// statement is closed", which read as the cause.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	log := slog.New(slog.NewJSONHandler(env.Stderr, nil))
	svc, err := a.authService()
	if err != nil {
		return err
	}
	oc, err := a.oidcClient(svc)
	if err != nil {
		return err
	}
	if oc != nil {
		log.Info("sign-in through OpenID Connect", "provider", oc.Name(), "via", oc.Via(), "password_login", oc.PasswordLogin())
	}
	users, err := svc.Users(ctx)
	if err != nil {
		return err
	} else if len(users) == 0 && (oc == nil || !oc.CreatesUsers()) {
		log.Warn("no users yet, so nobody can sign in: add one with `candor user add --email you@example.com --role admin --role executive` (it asks for a password)")
	}
	logLedgerKey(log, a)
	// An alert route whose roles nobody holds sends nothing over a channel
	// without a to of its own: said now, not found later as missing mail.
	if alerts, _, err := a.alerts(log); err == nil && alerts.Router != nil {
		for _, w := range alerts.Router.Unreached(users) {
			log.Warn(w)
		}
		// What that costs, and what routes by owner or by a role that may
		// not see a pillar lose without resolving to nobody.
		if un, err := alerts.Unreached(ctx); err != nil {
			return err
		} else {
			for _, u := range un {
				log.Warn(u.String())
			}
		}
	}
	// Before serving, so no page reads an inbox of the old form.
	if n, m, err := alert.ConvertOldInbox(ctx, a.store); err != nil {
		return fmt.Errorf("converting the in-app inboxes to keys by user: %w", err)
	} else if n+m > 0 {
		log.Info("in-app inboxes converted to keys by user", "notifications", n, "read_marks", m)
	}
	timeouts, err := a.cfg.Timeouts()
	if err != nil {
		return err
	}
	hooks, err := connect.New(connect.Options{Store: a.store, Tokens: svc, Config: a.cfg.Connectors, Parse: a.parseOptions(), Log: log})
	if err != nil {
		return err
	}
	// Refused deliveries counted rather than logged (past the rate each
	// source's are logged at) go to the store's counts every few seconds,
	// and once more when the server has stopped taking deliveries.
	notLoggedCtx, stopNotLogged := context.WithCancel(ctx)
	notLoggedDone := make(chan struct{})
	go func() {
		defer close(notLoggedDone)
		hooks.RunNotLogged(notLoggedCtx, connect.NotLoggedEvery)
	}()
	defer func() {
		stopNotLogged()
		<-notLoggedDone
		fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hooks.FlushNotLogged(fctx); err != nil {
			log.Warn("adding the refused deliveries not logged to the store's counts", "err", err)
		}
	}()
	// Listen at once and load in the background: /healthz answers and
	// /readyz says not ready until the first load is published; requests
	// that need the data wait for it.
	start := time.Now()
	a.engine.Log = log
	a.engine.MaxLag, _ = a.cfg.Lag() // validated by config.Load
	a.engine.Copies, _ = a.cfg.Copies()
	a.engine.Start(ctx)
	imageEvery, _ := a.cfg.ImageEvery() // validated by config.Load
	if _, ok := a.store.(*postgres.DB); ok {
		// Each instance keeps its own image, in its own data directory.
		go a.engine.KeepImage(ctx, imageEvery)
	}
	ledgerKeys, err := a.ledgerKeys()
	if err != nil {
		return err
	}
	// A retention that cannot run (no pseudonym key) stops serve now
	// rather than failing on the leader later.
	if _, _, err := a.retentionPolicy(false); err != nil {
		return err
	}
	gates, err := a.gatePolicies()
	if err != nil {
		return err
	}
	opens := &adoption.Recorder{Store: a.store, Log: log}
	defer func() {
		fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := opens.Flush(fctx); err != nil {
			log.Warn("adding adoption counts", "err", err)
		}
	}()
	go followDefinitions(ctx, a, a.liveSections(ln.Addr().String(), log), log)
	// Checked by config.Load; a store that keeps no alerts leaves the routes answering 501.
	alerts, _, _ := a.alerts(log)
	impact, err := a.cfg.Impact.Resolve()
	if err != nil {
		return err
	}
	ws := &web.Server{
		Engine: a.engine, Catalog: a.catalog, Store: a.store, Auth: svc, OIDC: oc, Parse: a.parseOptions(),
		MaxBody: a.cfg.MaxBodyBytes, Log: log, Version: shortVersion(), Webhooks: hooks, Connectors: hooks,
		Governance: a.gov, Adoption: opens, Alerts: alerts,
		LedgerKeys:          ledgerKeys,
		ShareFrameAncestors: a.cfg.Share.FrameAncestors,
		BaseURL:             a.cfg.Reports.BaseURL,
		Annotations:         a.cfg.Annotations,
		Gates:               gates,
		Impact:              &impact,
	}
	srv := httpServer(ws.Handler(), timeouts, log)
	url := "http://" + ln.Addr().String()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// The first reader of each minute finds the scorecard and role views
	// computed (see web.Server.Warm).
	go ws.Warm(ctx)
	log.Info("listening", "url", url)
	// Announce the server ready (the demo prints its sign-in then) once the
	// first load is published, so the first reader does not pay for it.
	if err := a.engine.WaitFor(ctx, 0); err != nil {
		srv.Close()
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	log.Info("data loaded", "seq", a.engine.Seq(), "seconds", time.Since(start).Seconds())
	if ready != nil {
		ready(url)
	}
	// Scheduled work runs on the elected leader only; it stops (and gives
	// up leadership) before serve returns and the store is closed.
	sched, stopSched := context.WithCancel(ctx)
	schedDone := startScheduled(sched, a, hooks, log)
	pruneDone := pruneSessions(sched, svc, log)
	defer func() {
		stopSched()
		<-schedDone
		<-pruneDone
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// definitionsPoll is how often an instance looks for definition changes
// approved by another instance sharing the store.
var definitionsPoll = 2 * time.Second

// followDefinitions keeps the governed definitions, settings and
// configuration sections (gate policies, alert rules, custom views) in
// step with proposals approved elsewhere until ctx ends: a section
// approved on another instance is in force here within definitionsPoll.
func followDefinitions(ctx context.Context, a *app, live *governance.Live, log *slog.Logger) {
	t := time.NewTicker(definitionsPoll)
	defer t.Stop()
	told := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.gov.Refresh(ctx); err != nil && ctx.Err() == nil {
			log.Warn("following definition changes", "err", err)
		}
		// A section that cannot be put in force is told once, not at
		// every poll; the next poll tries again.
		if err := syncSections(ctx, live, log); err != nil && ctx.Err() == nil && err.Error() != told {
			log.Error("approved configuration sections", "err", err)
			told = err.Error()
		} else if err == nil {
			told = ""
		}
	}
}

// logLedgerKey says which key signs the audit ledger, and warns while it
// lives beside the database it protects.
func logLedgerKey(log *slog.Logger, a *app) {
	id := ledger.KeyID(a.ledgerKey.Public().(ed25519.PublicKey))
	log.Info("audit ledger key", "key_id", id, "from", a.ledgerFrom, "created", a.keyCreated)
	if a.cfg.Ledger.Key == "" && a.cfg.Ledger.KeyFile == "" {
		log.Warn("the audit ledger's signing key is in the data directory, beside the database it protects: " +
			"move it elsewhere and set ledger.key_file (or CANDOR_LEDGER_KEY_FILE), so that a copy of the data directory cannot re-sign the ledger")
	}
}

// pruneSessions deletes ended sessions hourly until ctx ends (they are
// refused anyway; this frees their rows). The returned channel closes then.
func pruneSessions(ctx context.Context, svc *auth.Service, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Hour)
		defer tick.Stop()
		for {
			if n, err := svc.PruneSessions(ctx); err != nil && ctx.Err() == nil {
				log.Warn("pruning ended sessions", "err", err)
			} else if n > 0 {
				log.Info("ended sessions pruned", "sessions", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return done
}

// shortVersion is the version the pages' footer shows.
func shortVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

// leaderRetry is how often a follower instance tries to take leadership.
var leaderRetry = leader.DefaultRetry

// startScheduled runs the elector and, while this instance leads, the KPI
// snapshot job, the escalation watcher, retention and the scheduled collectors
// (connectors.<source>.sync.every) and the scheduled reports (reports.digest
// and reports.board), until ctx ends; the returned channel
// closes then.
func startScheduled(ctx context.Context, a *app, hooks *connect.Service, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	every, _ := a.cfg.SnapshotEvery() // validated by config.Load
	syncEvery := a.cfg.Connectors.SyncEvery()
	var locker leader.Locker
	if db, ok := a.store.(*postgres.DB); ok {
		locker = leader.LockFunc(db.TryLeaderLock)
	} else {
		locker = leader.FileLock(a.cfg.Data)
	}
	el := &leader.Elector{Locker: locker, Retry: leaderRetry, Log: log}
	// Escalations are logged and become alerts (escalation rules), told
	// through the alert channels; the rules are evaluated on the leader too.
	var tell escalation.Notifier = escalation.LogNotifier{Log: log}
	var jobs []func(context.Context) error
	var watchAlerts func(context.Context, gate.Watch) error
	if svc, set, err := a.alerts(log); err == nil {
		tell = notifiers{tell, svc}
		watchAlerts = func(ctx context.Context, w gate.Watch) error {
			return svc.NotifyWatch(ctx, alert.RollbackWatch{Deployment: w.Deployment, Service: w.Service, Outcome: w.Outcome, Reason: w.Reason})
		}
		jobs = append(jobs, func(ctx context.Context) error {
			svc.Run(ctx, set.Every, func(ctx context.Context, asOf time.Time) (scorecard.Options, error) {
				cs, err := hooks.Feeds(ctx, asOf)
				if err != nil {
					return scorecard.Options{}, err
				}
				// The degrading rule skips the weeks a metric is exempt during, as pages do.
				anns, err := annotation.List(ctx, a.store, a.cfg.Annotations)
				return scorecard.Options{Connectors: cs, Annotations: annotation.Annotations(anns)}, err
			})
			return nil
		})
	} else {
		log.Error("alerts off", "err", err)
	}
	watch := &escalation.Watcher{Docs: a.store, Engine: a.engine, Catalog: a.catalog, Notifier: tell, Log: log, Annotations: a.cfg.Annotations}
	jobs = append(jobs, func(ctx context.Context) error { watch.Run(ctx); return nil })
	if every > 0 {
		jobs = append(jobs, (&schedule.Snapshots{Docs: a.store, Engine: a.engine, Catalog: a.catalog, Interval: every, Log: log, Connectors: hooks.Feeds}).Run)
	}
	if len(syncEvery) > 0 {
		jobs = append(jobs, (&schedule.Syncs{Runs: a.store, Every: syncEvery, Log: log, Sync: func(ctx context.Context, source string) error {
			sum, err := hooks.Sync(ctx, source, connect.SyncOptions{})
			if err == nil {
				log.Info("scheduled sync", "source", source, "pages", sum.Pages, "accepted", sum.Accepted, "inserted", sum.Inserted, "replaced", sum.Replaced, "rejected", sum.Rejected)
			}
			return err
		}}).Run)
	}
	// The post-deploy watch judges each production deployment's rollback
	// trigger; its state is the deployments and outcomes in the store, so
	// the next leader carries on. It runs whether or not the policies in
	// force watch, since an approved gates section may turn it on. (The
	// policies were checked by serve.)
	if gates, err := a.gatePolicies(); err == nil {
		jobs = append(jobs, func(ctx context.Context) error {
			(&gate.Watcher{Current: gates, Docs: a.store, Read: a.engine.Read, Log: log, Notify: watchAlerts, Getenv: a.cfg.Getenv}).Run(ctx)
			return nil
		})
	}
	// Checked by serve before it started.
	if p, retainEvery, err := a.retentionPolicy(false); err == nil && p.Enabled() {
		jobs = append(jobs, (&retention.Job{Store: a.store, Policy: p, Every: retainEvery, Applied: a.engine.Notify, Log: log}).Run)
	}
	// The embedded store's instances share one data directory, so one
	// image: the leader writes it.
	if _, ok := a.store.(*postgres.DB); !ok {
		imageEvery, _ := a.cfg.ImageEvery()
		jobs = append(jobs, func(ctx context.Context) error { a.engine.KeepImage(ctx, imageEvery); return nil })
	}
	if svc, err := a.reports(); err == nil {
		svc.Log = log
		jobs = append(jobs, (&report.Scheduler{Service: svc}).Run)
	} else {
		log.Error("scheduled reports off", "err", err)
	}
	go func() {
		defer close(done)
		el.Run(ctx, func(ctx context.Context) {
			var wg sync.WaitGroup
			for _, job := range jobs {
				wg.Go(func() { keepRunning(ctx, log, job) })
			}
			wg.Wait()
		})
	}()
	return done
}

// genFlags are the generator's flags.
type genFlags struct {
	seed  int64
	scale float64
	end   string
	days  int
}

func (g *genFlags) bind(fs *flag.FlagSet, scale float64) {
	fs.Int64Var(&g.seed, "seed", 1, "random seed; the same seed, scale and end give the same data")
	fs.Float64Var(&g.scale, "scale", scale, "volume: 1 ≈ one year with 100k deployments, 300k changes, 10k incidents, 100k tickets, 20k opportunities")
	fs.StringVar(&g.end, "end", "", "end of the generated period, RFC 3339 or YYYY-MM-DD (default: now, to the hour)")
	fs.IntVar(&g.days, "days", 365, "length of the generated period in days")
}

func (g *genFlags) options() (generate.Options, error) {
	opt := generate.Options{Seed: g.seed, Scale: g.scale, Days: g.days, End: time.Now().UTC().Truncate(time.Hour)}
	if g.scale <= 0 {
		return opt, usagef("--scale must be positive")
	}
	if g.days <= 0 {
		return opt, usagef("--days must be positive")
	}
	if g.end != "" {
		t, err := web.ParseTime(g.end)
		if err != nil {
			return opt, usagef("--end: %v", err)
		}
		opt.End = t
	}
	return opt, nil
}

func runGenerate(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "generate", "--out FILE [flags]", "Writes a realistic organisation covering every record kind as NDJSON (- for stdout; a FILE ending in .gz is gzipped).")
	out := fs.String("out", "", "output file (- for stdout)")
	var g genFlags
	g.bind(fs, 1)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	// A bad --scale or --end is reported with a missing --out, not
	// hidden behind it.
	opt, err := g.options()
	if *out == "" {
		if err != nil {
			return usagef("%v; --out is required", err)
		}
		return usagef("--out is required")
	}
	if err != nil {
		return err
	}
	w := env.Stdout
	var f *os.File
	if *out != "-" {
		f, err = os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	// A .gz name gets gzip, as import expects of it.
	var gz *gzip.Writer
	if strings.HasSuffix(strings.ToLower(*out), ".gz") {
		gz = gzip.NewWriter(w)
		w = gz
	}
	start := time.Now()
	st, err := generate.Write(w, opt)
	if err != nil {
		return err
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return err
		}
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stderr, "wrote %s in %.1f s\n", plural.Count(st.Records, "record"), time.Since(start).Seconds())
	return nil
}

// demoConfig is the demo organisation's configuration: the order of its
// sales stages and its own metrics.
//
//go:embed demo.yaml
var demoConfig []byte

// demoConfigAt is demoConfig with reports.base_url set to the demo's own
// address, so that its digest links to its pages: without it the review
// of 2026-12-07 found a digest with no link at all.
func demoConfigAt(url string) []byte {
	return fmt.Appendf(append([]byte(nil), demoConfig...), "\n# The digest's links (candor report digest) lead to this demo's pages (docs/configuration.md, Reports).\nreports:\n  base_url: %s\n", url)
}

// writeDemoConfig writes the demo's configuration (conf) as demo.yaml in
// dir, and the gates file it names beside it.
func writeDemoConfig(dir string, conf []byte) error {
	if err := os.WriteFile(filepath.Join(dir, "demo.yaml"), conf, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "demo-gates.yaml"), []byte(demoGates), 0o600)
}

// demoGates is the demo's gates file (demo.yaml's gates.policies): the
// built-in policies, and a post-deploy watch over two hours, since the
// demo's services send hourly sli samples — over the default 15 minutes
// every watch of the demo had been inconclusive, and showed nothing of
// what a pass or a fail looks like.
const demoGates = `# The demo's release gates (docs/gates.md): the built-in policies with their defaults, and a
# post-deploy watch over 2 hours, which the demo's hourly SLI samples can judge (a real service
# pushes samples of half the period or less, or the watch reads Prometheus: docs/gates.md).
watch:
  within: 2h
`

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "demo", "[flags]", "Generates a demo organisation into a temporary store, prints the URL and serves it until interrupted.")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address HOST:PORT (port 0 picks a free one)")
	keep := fs.String("data", "", "keep the demo store in this directory instead of a temporary one")
	var g genFlags
	g.bind(fs, 0.1)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	opt, err := g.options()
	if err != nil {
		return err
	}
	ln, err := listen(*addr, "--addr")
	if err != nil {
		return err
	}
	defer ln.Close()
	dir := *keep
	if dir == "" {
		dir, err = os.MkdirTemp("", "candor-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		// A directory to keep the demo in is made, as serve's data
		// directory is, rather than failing on the file written into it.
		return fmt.Errorf("--data: %w", err)
	}
	var c common
	c.data = dir
	if env.Getenv("CANDOR_CONFIG") == "" {
		// The demo organisation's own metrics (custom_metrics) come with
		// it, unless a configuration is given. A kept directory's file is
		// left as it is: its store recorded the definitions it holds.
		c.config = filepath.Join(dir, "demo.yaml")
		if _, err := os.Stat(c.config); *keep == "" || errors.Is(err, os.ErrNotExist) {
			if err := writeDemoConfig(dir, demoConfigAt("http://"+ln.Addr().String())); err != nil {
				return err
			}
		}
	}
	// A new store's ledger begins when the demo's history does.
	from := demoHistoryStart(opt)
	c.clock = func() time.Time { return from }
	a, err := c.openOrCreate(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	if cl, ok := a.store.(store.Clocked); ok {
		defer cl.SetClock(nil)
	}
	a.cfg.Addr = ln.Addr().String()
	held, err := a.store.LastSeq(ctx)
	if err != nil {
		return err
	}
	incomplete, err := demoIncomplete(ctx, a.store)
	if err != nil {
		return err
	}
	if incomplete {
		return fmt.Errorf("the demo store in %s was stopped while its records were being stored: remove the directory to generate the demo again", dir)
	}
	if held > 0 {
		// A kept demo is served as it was made: generating again would
		// mix a second organisation's records into the first's (ids are
		// generated per run) and change the records its pages had shown.
		if set := generationFlagsSet(fs); set != "" {
			return usagef("%s: the demo store in %s was generated already; remove the directory to generate another", set, dir)
		}
		fmt.Fprintf(env.Stderr, "serving the demo store kept in %s as it was generated (remove the directory to generate another)\n", dir)
		// A demo stopped between its import and its owners' actions
		// (killed, Ctrl-C) had kept a store every amber and red metric of
		// which was escalated for good.
		if cl, ok := a.store.(store.Clocked); ok {
			cl.SetClock(nil)
		}
		if err := recordDemoActions(ctx, env, a); err != nil {
			return err
		}
		return serveDemo(ctx, env, a, ln, c, dir, *keep != "")
	}
	fmt.Fprintf(env.Stderr, "generating demo data (scale %g, seed %d) into %s …\n", opt.Scale, opt.Seed, dir)
	n, seconds, err := importDemo(ctx, a, dir, opt, from)
	if err != nil {
		return fmt.Errorf("importing the demo data: %w", err)
	}
	fmt.Fprintf(env.Stderr, "imported %s in %.1f s\n", plural.Count(n, "record"), seconds)
	if err := recordDemoActions(ctx, env, a); err != nil {
		return err
	}
	return serveDemo(ctx, env, a, ln, c, dir, *keep != "")
}

// recordDemoActions records the demo owners' actions, unless the store
// has them, and says so.
func recordDemoActions(ctx context.Context, env *Env, a *app) error {
	n, left, err := demoActions(ctx, a, time.Now())
	if err == nil && n > 0 {
		fmt.Fprintf(env.Stderr, "recorded the owners' actions on %s; %s left to escalate\n", plural.Count(n, "amber or red metric"), plural.Count(left, "metric"))
	}
	return err
}

// readWith is the flags another command reads the demo's store with:
// its data directory and, unless CANDOR_CONFIG gave one, the demo's
// configuration.
func readWith(c common) string {
	s := " --data " + shellWord(c.data)
	if c.config != "" {
		s += " --config " + shellWord(c.config)
	}
	return s
}

// generationFlagsSet names the flags given that say what to generate
// ("--scale, --seed"), "" when none was.
func generationFlagsSet(fs *flag.FlagSet) string {
	var set []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "addr" && f.Name != "data" {
			set = append(set, "--"+f.Name)
		}
	})
	return strings.Join(set, ", ")
}

// serveDemo makes the demo's administrator and, in a new store, its API
// token, and serves; keep says the store is kept in dir.
func serveDemo(ctx context.Context, env *Env, a *app, ln net.Listener, c common, dir string, keep bool) error {
	signIn, token, err := demoAccess(ctx, a)
	if err != nil {
		return err
	}
	// A kept store is read by the other commands with the demo's
	// configuration: its custom metrics are recorded in the store, and
	// without them a command refuses to open it (the review of 2026-12-05
	// found no way to tell).
	var kept string
	if keep && c.config != "" {
		kept = fmt.Sprintf("The store is kept in %s; other commands read it with the demo's configuration, for example:\n    candor scorecard%s\n",
			dir, readWith(c))
	}
	url := "http://" + ln.Addr().String()
	tokenText := "  API token: shown when this demo directory was made; another: candor token create --name NAME --role executive" + readWith(c) + "\n"
	if token != "" {
		tokenText = fmt.Sprintf("  API token (executive, ingest; shown only now): %s\n    curl -H 'Authorization: Bearer %s' %s/api/v1/scorecard\n", token, token, url)
		// Shown at once, not when the data is loaded: a demo stopped
		// during the load (Ctrl-C, killed) had made them and shown
		// neither, and a kept directory's administrator could never sign
		// in.
		fmt.Fprintf(env.Stdout, "Candor demo at %s, once its data is loaded:\n%s%s", url, signIn, tokenText)
		// The sign-in is said again once the demo runs: the server's log
		// lines of its start (a post-deploy watch's for each recent
		// deployment) had pushed the password off the screen.
		signIn = strings.Replace(signIn, "(shown only now)", "(as above)", 1)
		tokenText = "  API token: shown above\n"
	}
	return serve(ctx, env, a, ln, func(url string) {
		fmt.Fprintf(env.Stdout, "Candor demo is running at %s\n%s%s%sPress Ctrl-C to stop.\n", url, signIn, tokenText, kept)
	})
}

// shellWord quotes s for a POSIX shell when it needs it, so a printed
// command can be pasted as it is.
func shellWord(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// demoEmail is the demo administrator's sign-in name.
const demoEmail = "admin@example.com"

// demoAccess creates the demo's administrator (roles admin and executive,
// a generated password) and an API token, and says how to sign in. In a
// kept demo directory (--data) that has them already, the password and
// token were shown when they were made and cannot be shown again.
func demoAccess(ctx context.Context, a *app) (signIn, token string, err error) {
	svc, err := a.authService()
	if err != nil {
		return "", "", err
	}
	by := auth.CLIActor("demo")
	pw, err := auth.GeneratePassword()
	if err != nil {
		return "", "", err
	}
	_, err = svc.AddUser(ctx, by, auth.NewUser{Email: demoEmail, Name: "Demo Admin", Roles: []string{"admin", "executive"}, Password: pw})
	var ie *auth.InputError
	switch {
	case errors.As(err, &ie) && ie.Field == "email":
		// The token too was shown then: another at every start would
		// pile up tokens nobody revokes.
		return fmt.Sprintf("  sign in as %s with the password shown when this demo directory was made\n", demoEmail), "", nil
	case err != nil:
		return "", "", err
	default:
		signIn = fmt.Sprintf("  sign in as %s with password %s (shown only now)\n", demoEmail, pw)
	}
	token, _, err = svc.CreateToken(ctx, by, auth.NewToken{Name: fmt.Sprintf("demo-%d", time.Now().Unix()), Roles: []string{"executive", "ingest"}})
	return signIn, token, err
}

func runCatalog(ctx context.Context, env *Env, args []string) error {
	subs := map[string]func(context.Context, *Env, []string) error{"docs": runCatalogDocs}
	maps.Copy(subs, catalogSubs)
	return subcommand(ctx, env, "catalog", args, subs, []string{"docs", "propose", "approve", "reject", "history"})
}

func runCatalogDocs(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "catalog docs", "[--out FILE]", "Prints the metric definition guide generated from the catalog (with overrides from the configuration).")
	out := fs.String("out", "", "write to FILE instead of stdout")
	var c common
	c.bind(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c, env)
	if err != nil {
		return err
	}
	cat, err := cfg.Catalog()
	if err != nil {
		return err
	}
	doc := catalog.Docs(cat)
	if *out == "" {
		_, err = fmt.Fprint(env.Stdout, doc)
		return err
	}
	return os.WriteFile(*out, []byte(doc), 0o644)
}

// jobRestart is how long after a panic a leader's job starts again.
var jobRestart = time.Minute

// keepRunning runs a leader's job (alerts, escalations, snapshots, syncs,
// the post-deploy watch, retention, the image, reports) until it returns
// or ctx ends. A panic in it (a formula meeting data it cannot handle, a
// defect) is logged with its stack and the job started again a minute
// later: raised on the job's goroutine it ended the whole server, pages
// and webhooks with it, and a restarted server met the same data again.
func keepRunning(ctx context.Context, log *slog.Logger, job func(context.Context) error) {
	for {
		if !runOnce(log, func() { job(ctx) }) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(jobRestart):
		}
	}
}

// runOnce runs fn and says whether it panicked (logged with its stack).
func runOnce(log *slog.Logger, fn func()) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			wp := scorecard.AsPanic(v)
			log.Error("a leader's job panicked; it starts again in "+jobRestart.String(), "panic", fmt.Sprint(wp.Value), "stack", string(wp.Stack))
			panicked = true
		}
	}()
	fn()
	return false
}
