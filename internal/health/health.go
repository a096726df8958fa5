// Package health describes the connection health of Candor's connectors
// (SPEC §4, §5 data quality): for each source, what it feeds, whether it
// is configured, its deliveries and its collector's runs, and the last
// time it worked. The connectors (internal/connect) report it from the
// store; the scorecard judges it — a state kind fed by a configured
// connector that has not worked within the kind's freshness limit is
// stale. It is plain data, so both can use it without depending on each
// other.
package health

import (
	"fmt"
	"time"
)

// Connector is one connector source's health as of a time.
type Connector struct {
	Source string `json:"source"`
	// Kinds are the record kinds the source maps onto.
	Kinds []string `json:"kinds"`
	// Webhook: deliveries are expected — the source's secret is set, or,
	// for a source verified by API token, it has sent deliveries.
	// Collector: its pull collector is configured (a token, what to read).
	// Configured is either: only a configured connector's staleness
	// counts.
	Webhook    bool `json:"webhook"`
	Collector  bool `json:"collector"`
	Configured bool `json:"configured"`
	// SyncEvery is the collector's schedule ("1h"); empty when it runs
	// only when asked.
	SyncEvery string `json:"sync_every,omitempty"`
	// LastDelivery is when the newest delivery of any outcome arrived: the
	// last event time.
	LastDelivery *time.Time `json:"last_delivery"`
	// Period is what Counts cover, ending at as_of ("7d"); Counts are the
	// deliveries received in it by outcome (accepted, duplicate, ignored,
	// rejected — every outcome present, zero or not).
	Period string           `json:"period"`
	Counts map[string]int64 `json:"counts"`
	// NotLogged is how many of the rejected deliveries were counted
	// without being logged: refused for their signature, token, size or
	// a missing secret past the rate each instance logs them at
	// (RefusalsLogged a minute per source), so not among Rejects and
	// without their reasons. It covers the minutes beginning in the
	// period (to the minute, not the second), summed over every instance
	// sharing the store, each up to its last flush (every NotLoggedEvery,
	// and when it stops); the answering server's own are included up to
	// the moment, another's of the last seconds are not yet, nor those of
	// an instance that died before it flushed them.
	NotLogged int64 `json:"not_logged"`
	// Rejects are the latest rejected deliveries with their reasons,
	// newest first; never their payloads.
	Rejects []Reject `json:"rejects"`
	// LastSync is the collector's latest run; LastSyncOK when its latest
	// successful run finished; SyncErrors the failed runs since then,
	// newest first.
	LastSync   *Run       `json:"last_sync"`
	LastSyncOK *time.Time `json:"last_sync_ok"`
	SyncErrors []Run      `json:"sync_errors"`
	// LastOK is the last time the connection worked: a successful delivery
	// (accepted, ignored or a duplicate) or a successful sync, whichever
	// is later; nil when neither happened by as_of.
	LastOK *time.Time `json:"last_ok"`
	// Limit and Status are the scorecard's judgement (scorecard.Sources):
	// the tightest freshness limit of the kinds it feeds, and fresh, stale
	// or never_sent for a configured connector, not_configured otherwise.
	Limit  string `json:"limit,omitempty"`
	Status string `json:"status,omitempty"`
}

// RefusalsLogged is how many refused, unverified deliveries of a source
// an instance logs a minute (a burst of as many, then one a second);
// past it they are counted in NotLogged. NotLoggedEvery is how often an
// instance adds those it counted to the store's counts.
const (
	RefusalsLogged = 60
	NotLoggedEvery = 10 * time.Second
)

// NotLoggedNote says what a connector's "not logged" count is, where the
// text report and the data sources page show one that is not zero.
var NotLoggedNote = fmt.Sprintf("Not logged: deliveries refused unverified (a bad signature or token, no secret set, a body too large) "+
	"past the %d a minute each instance logs of a source; counted among the rejected, without their reasons, so not among the rejects listed. "+
	"Each instance sharing the store adds those it counted to the store's count every %v (a server's own report has its own up to the moment).",
	RefusalsLogged, NotLoggedEvery)

// Reject is a rejected delivery as the health report shows it.
type Reject struct {
	At         time.Time `json:"at"`
	DeliveryID string    `json:"delivery_id"`
	Event      string    `json:"event,omitempty"`
	Reason     string    `json:"reason"`
}

// Run is a collector's run as the health report shows it.
type Run struct {
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Outcome    string    `json:"outcome"`
	Error      string    `json:"error,omitempty"`
	Pages      int       `json:"pages"`
	Accepted   int       `json:"accepted"`
	Ignored    int       `json:"ignored"`
	Rejected   int       `json:"rejected"`
	Inserted   int64     `json:"inserted"`
	Replaced   int64     `json:"replaced"`
	Unchanged  int64     `json:"unchanged"`
}

// Feeds reports whether the connector maps onto kind.
func (c Connector) Feeds(kind string) bool {
	for _, k := range c.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// StaleFor reports whether, as of asOf, a configured connector has not
// worked within limit (or never has).
func (c Connector) StaleFor(asOf time.Time, limit time.Duration) bool {
	return c.Configured && (c.LastOK == nil || asOf.Sub(*c.LastOK) > limit)
}
