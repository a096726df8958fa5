// Package connect takes events straight from the tools teams already use —
// signed webhooks from GitHub, GitLab, Jenkins, Argo CD, CDEvents senders,
// PagerDuty, Opsgenie, Alertmanager, Jira, Zendesk and Stripe — and turns
// them into SPEC §1 records. Each delivery is verified with its sender's own
// scheme, mapped by configurable rules, and committed with its row in the
// delivery log through the same group-commit path as POST /api/v1/records
// (ingest.Committer): all or nothing, acknowledged only once stored, never
// counted twice. The payload is kept for a retention period so a mapping
// fix can be replayed.
package connect

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/store"
)

// Tokens authenticates the API tokens that bearer-token sources send
// (auth.Service does).
type Tokens interface {
	AuthenticateToken(ctx context.Context, token string) (auth.Principal, error)
	Grants() *auth.Grants
}

// Options wire a Service.
type Options struct {
	Store store.Store
	// Committer commits deliveries; nil makes one on Store. Sharing the
	// one POST /api/v1/records uses groups both into the same
	// transactions.
	Committer *ingest.Committer
	// Tokens verifies the bearer tokens of Alertmanager, Jenkins, Argo CD,
	// CDEvents and Opsgenie; without it those sources refuse every
	// delivery.
	Tokens Tokens
	Config Config
	// Parse supplies record defaults (the organisation currency).
	Parse domain.ParseOptions
	Now   func() time.Time
	Log   *slog.Logger
	// HTTPClient is what the pull collectors ask the APIs with (default:
	// one with a 60 s timeout per request).
	HTTPClient *http.Client
	// Sleep waits between the collectors' retries (default: a timer that
	// ends with the context); tests record the waits instead.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Service receives webhook deliveries.
type Service struct {
	st         store.Store
	commit     *ingest.Committer
	tokens     Tokens
	cfg        Config
	parse      domain.ParseOptions
	now        func() time.Time
	log        *slog.Logger
	retention  time.Duration
	maxBody    int64
	connectors map[string]connector
	// stateful serialises, per source (or per key of a keyed connector),
	// the deliveries of connectors whose mapping reads stored records (an
	// incident's opening, a subscription's current segment, a pull
	// request's first review), from the read to the commit.
	stateful map[string]*sourceLock
	// refusals bounds how many unverified deliveries a source logs: they
	// cost a write each and anyone can send them. Those past it are
	// counted in notLogged.
	refusals  *auth.Limiter
	notLogged notLogged
	// forgotAt is when payloads past their retention were last forgotten
	// (unix nanoseconds).
	forgotAt atomic.Int64
	// The collectors' HTTP client and wait.
	httpClient *http.Client
	sleep      func(ctx context.Context, d time.Duration) error
}

// New checks the configuration and returns the service.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("connect: no store")
	}
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	s := &Service{st: o.Store, commit: o.Committer, tokens: o.Tokens, cfg: o.Config, parse: o.Parse, now: o.Now, log: o.Log,
		connectors: map[string]connector{}, stateful: map[string]*sourceLock{}, httpClient: o.HTTPClient, sleep: o.Sleep}
	if s.httpClient == nil {
		s.httpClient = &http.Client{Timeout: 60 * time.Second}
	}
	if s.sleep == nil {
		s.sleep = sleepCtx
	}
	if s.commit == nil {
		s.commit = ingest.NewCommitter(o.Store)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.retention, _ = o.Config.Retention() // validated above
	s.maxBody = o.Config.BodyLimit()
	s.refusals = auth.NewLimiter(refusalRate, s.now)
	for _, c := range connectorsOf(o.Config) {
		s.connectors[c.name] = c
		if c.stateful {
			s.stateful[c.name] = &sourceLock{}
		}
	}
	return s, nil
}

// refusalRate is how many refused, unverified deliveries each source
// logs, per instance; past it they are counted (notLogged), and the data
// sources report says how many were not logged.
var refusalRate = auth.Rate{Attempts: health.RefusalsLogged, Per: time.Minute}

// Sources lists the webhook sources, sorted.
func Sources() []string {
	var out []string
	for _, c := range connectorsOf(Config{}) {
		out = append(out, c.name)
	}
	slices.Sort(out)
	return out
}

// Result is the answer to one delivery.
type Result struct {
	// Code is why a delivery was refused (domain's error vocabulary; the
	// web layer turns it into the HTTP status); "" for a delivery taken,
	// ignored or recognised as a duplicate.
	Code       domain.Code  `json:"-"`
	Outcome    string       `json:"outcome"`
	Source     string       `json:"source"`
	DeliveryID string       `json:"delivery_id,omitempty"`
	Event      string       `json:"event,omitempty"`
	Reason     string       `json:"reason,omitempty"`
	Keys       []domain.Key `json:"-"`
	Records    []string     `json:"records,omitempty"`
	Truncated  int          `json:"truncated,omitempty"`
	Inserted   int64        `json:"inserted"`
	Replaced   int64        `json:"replaced"`
	Unchanged  int64        `json:"unchanged"`
	// Field is the payload's field at fault in a refusal, when one is
	// (the web layer writes it beside the error).
	Field string `json:"-"`
}

// Request is one delivery as received.
type Request struct {
	Source string
	Header http.Header
	Body   []byte
}

// Receive verifies, maps and commits one delivery and logs it. Its error
// is the store's (the caller answers 503 for a store that cannot be
// reached, else 500); everything about the delivery
// itself, refusals included, is in the Result.
func (s *Service) Receive(ctx context.Context, req Request) (Result, error) {
	now := s.now().UTC()
	c, ok := s.connectors[req.Source]
	if !ok {
		return Result{Code: domain.ENotFound, Outcome: store.DeliveryRejected, Source: req.Source,
			Reason: fmt.Sprintf("no webhook source %q (known: %s)", req.Source, strings.Join(Sources(), ", "))}, nil
	}
	sum := sha256.Sum256(req.Body)
	d := store.Delivery{Source: c.name, ReceivedAt: now, PayloadSHA256: hex.EncodeToString(sum[:])}
	in := &input{header: req.Header, body: req.Body, now: now}
	c.fromHeaders(&d, req.Header)
	code, reason, err := s.verify(ctx, c, in)
	if err != nil {
		return Result{}, err
	}
	if code != "" {
		d.Outcome, d.Reason = store.DeliveryRejected, reason
		return s.refuse(ctx, d, code)
	}
	d.Headers = c.keptHeaders(req.Header)
	p, err := c.parse(in)
	if err != nil {
		// What the parse had read before it refused is kept: the
		// delivery id and event of a payload refused for a field.
		var re *rejection
		if errors.As(err, &re) {
			d.DeliveryID, d.Event = cmp.Or(bound(re.id), d.DeliveryID), cmp.Or(bound(re.event), d.Event)
		}
		return s.reject(ctx, d, req.Body, err)
	}
	if p.id == "" {
		p.id = "sha256:" + d.PayloadSHA256
	}
	d.DeliveryID, d.Event = p.id, p.event
	if len(d.DeliveryID) > domain.MaxName {
		return s.reject(ctx, d, req.Body, rejectf("the delivery id is %d bytes long; at most %d", len(d.DeliveryID), domain.MaxName))
	}
	if !s.commit.LogsDeliveriesFirst() {
		// Else the commit finds a redelivery before it writes anything,
		// in the writer's transaction, and this read is saved (it was the
		// largest read of a delivery).
		if prior, found, err := s.counted(ctx, d); found || err != nil {
			return s.duplicate(ctx, c, d, prior, err)
		}
	}
	d.Payload = s.keep(req.Body)
	res, err := s.commitParsed(ctx, c, p, d, sum, false)
	if err == nil && res.Outcome != store.DeliveryRejected {
		s.maybeForget(ctx)
	}
	return res, err
}

// commitParsed maps a parsed delivery and commits its records with d. A
// replay (replay set) answers a delivery whose id is counted already as
// re-mapped rather than as a duplicate.
func (s *Service) commitParsed(ctx context.Context, c connector, p *parsed, d store.Delivery, sum [32]byte, replay bool) (Result, error) {
	if l := s.stateful[c.name]; l != nil {
		defer l.lock(c, p)()
	}
	fail := func(err error) (Result, error) {
		if replay {
			return replayRejected(d, err) // its payload is logged already
		}
		var re *rejection
		if errors.As(err, &re) && s.commit.LogsDeliveriesFirst() {
			// A redelivery was not looked for before mapping: it is
			// answered as one, whatever its mapping says now.
			if prior, found, err := s.counted(ctx, d); found || err != nil {
				return s.duplicate(ctx, c, d, prior, err)
			}
		}
		return s.reject(ctx, d, d.Payload, err)
	}
	st := &state{st: s.st, source: c.name}
	out, err := p.build(ctx, st)
	if err != nil {
		return fail(err)
	}
	recs, truncated, err := finish(out, c.name, s.parse)
	if err != nil {
		return fail(err)
	}
	var fixed []bool
	if !replay {
		// A replay writes the counted event's records again, remapped:
		// they may differ from the stored ones, and must replace them.
		var reason, field string
		fixed, reason, field, err = changedInDelivery(recs, out.events)
		if err != nil {
			return Result{}, err
		}
		if reason != "" {
			if s.commit.LogsDeliveriesFirst() {
				// A redelivery is answered as one, as fail does.
				if prior, found, err := s.counted(ctx, d); found || err != nil {
					return s.duplicate(ctx, c, d, prior, err)
				}
			}
			d.Reason = reason
			return s.conflict(ctx, d, field)
		}
	}
	d.Outcome, d.Truncated = store.DeliveryAccepted, truncated
	if len(recs) == 0 {
		d.Outcome, d.Reason = store.DeliveryIgnored, out.ignored
		if d.Reason == "" {
			d.Reason = "nothing to record"
		}
	}
	for _, r := range recs {
		d.Keys = append(d.Keys, domain.KeyOf(r))
	}
	var w ingest.DeliveryResult
	along := ingest.Along{Fixed: fixed, Docs: st.docs}
	if replay {
		w, err = s.commit.Replay(ctx, recs, sum, d, along)
	} else {
		w, err = s.commit.Deliver(ctx, recs, sum, d, along)
	}
	var changed *store.ChangedError
	if errors.As(err, &changed) {
		// A record one event names is stored with another body: the
		// writer found it in its transaction, so of two instances
		// carrying the event with two payloads the second is refused.
		var field string
		d.Reason, field = changedStored(recs, out.events, changed)
		return s.conflict(ctx, d, field)
	}
	if err != nil {
		return Result{}, err
	}
	res := result(d, "")
	res.Inserted, res.Replaced, res.Unchanged = w.Inserted, w.Replaced, w.Unchanged
	if w.Duplicate && !replay {
		if s.commit.LogsDeliveriesFirst() {
			// A redelivery, found by the commit, which wrote nothing.
			prior, found, err := s.counted(ctx, d)
			if found {
				return s.duplicate(ctx, c, d, prior, err)
			}
		}
		// Another instance, or a concurrent redelivery, committed it
		// first: the records just written were its records again.
		res.Outcome = store.DeliveryDuplicate
		d.Outcome, d.Payload = store.DeliveryDuplicate, nil
		if _, _, err := s.st.LogDelivery(ctx, d); err != nil {
			s.log.Error("webhook: logging a duplicate delivery", "source", d.Source, "delivery", d.DeliveryID, "err", err)
		}
	}
	return res, nil
}

// counted finds the counted delivery with d's source and id: found
// false, with no error, when there is none.
func (s *Service) counted(ctx context.Context, d store.Delivery) (prior store.Delivery, found bool, err error) {
	prior, err = s.st.CountedDelivery(ctx, d.Source, d.DeliveryID)
	switch {
	case err == nil:
		return prior, true, nil
	case errors.Is(err, store.ErrNotFound):
		return prior, false, nil
	}
	return prior, false, err
}

func result(d store.Delivery, code domain.Code) Result {
	r := Result{Code: code, Outcome: d.Outcome, Source: d.Source, DeliveryID: d.DeliveryID, Event: d.Event, Reason: d.Reason,
		Keys: d.Keys, Truncated: d.Truncated}
	for _, k := range d.Keys {
		r.Records = append(r.Records, k.String())
	}
	return r
}

// refuse logs and answers a delivery that failed verification, without
// its payload: it is not known to come from the sender. Past refusalRate
// it is counted instead of logged (notLogged).
func (s *Service) refuse(ctx context.Context, d store.Delivery, code domain.Code) (Result, error) {
	ok, _, first := s.refusals.Take(d.Source)
	if ok {
		if _, _, err := s.st.LogDelivery(ctx, d); err != nil {
			return Result{}, err
		}
		return result(d, code), nil
	}
	s.notLogged.add(d.Source, d.ReceivedAt)
	if first {
		s.log.Warn(fmt.Sprintf("webhook: more than %d refused deliveries a minute; counting them without logging each for a while (the sources report's not_logged)", refusalRate.Attempts),
			"source", d.Source, "reason", d.Reason)
	}
	return result(d, code), nil
}

// reject logs and answers a verified delivery that cannot be recorded,
// keeping its payload so that it can be replayed once the mapping or the
// sender is fixed. An error that is not the delivery's fault is returned
// as is.
func (s *Service) reject(ctx context.Context, d store.Delivery, body []byte, err error) (Result, error) {
	var re *rejection
	if !errors.As(err, &re) {
		return Result{}, err
	}
	d.Outcome, d.Reason, d.Payload, d.Keys = store.DeliveryRejected, bound(re.reason), s.keep(body), nil
	if _, _, err := s.st.LogDelivery(ctx, d); err != nil {
		return Result{}, err
	}
	res := result(d, domain.EInvalid)
	res.Field = re.field
	return res, nil
}

// duplicate logs and answers a redelivery of a counted delivery (err:
// the store failed to look for it), or refuses one whose id names one
// event and whose payload is not that event's (connector.oneEventPerID).
func (s *Service) duplicate(ctx context.Context, c connector, d store.Delivery, prior store.Delivery, err error) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	d.Payload, d.Truncated, d.Keys = nil, 0, nil
	when := fmt.Sprintf("%s at %s", prior.Outcome, prior.ReceivedAt.Format(time.RFC3339))
	if prior.PayloadSHA256 != d.PayloadSHA256 && c.oneEventPerID {
		d.Reason = fmt.Sprintf("its id was %s with a different payload: the id names one event, whose payload cannot change; a new event needs a new id", when)
		return s.conflict(ctx, d, "")
	}
	d.Outcome = store.DeliveryDuplicate
	d.Reason = fmt.Sprintf("delivery %s was %s", d.DeliveryID, when)
	if prior.PayloadSHA256 != d.PayloadSHA256 {
		d.Reason += " with a different payload"
	}
	if _, _, err := s.st.LogDelivery(ctx, d); err != nil {
		return Result{}, err
	}
	res := result(d, "")
	res.Keys, res.Records = prior.Keys, nil
	return res, nil
}

// conflict logs and answers a delivery carrying an event counted already
// with another payload (d.Reason says which), field the event id's field
// at fault when known. It is logged without its payload: a replay writes
// a counted delivery's records again, and this one's would overwrite the
// event's.
func (s *Service) conflict(ctx context.Context, d store.Delivery, field string) (Result, error) {
	d.Outcome, d.Payload, d.Truncated, d.Keys = store.DeliveryRejected, nil, 0, nil
	d.Reason = bound(d.Reason)
	if _, _, err := s.st.LogDelivery(ctx, d); err != nil {
		return Result{}, err
	}
	res := result(d, domain.EConflict)
	res.Field = field
	return res, nil
}

// changedInDelivery marks the records named by one event (refs[i] not
// nil), for the writer to refuse if stored with another body
// (store.Item.Fixed), and finds the first of them that is earlier in the
// same delivery with another body: the event twice in a batch, with two
// payloads. It returns why, and the field naming the event; "" when there
// is none. Stored records are not read here: a check before the commit
// would race another instance's delivery of the same event.
func changedInDelivery(recs []domain.Record, refs []*eventRef) (fixed []bool, reason, field string, err error) {
	var seen map[domain.Key]string
	for i, r := range recs {
		if i >= len(refs) || refs[i] == nil {
			continue
		}
		if fixed == nil {
			fixed = make([]bool, len(recs))
		}
		fixed[i] = true
		_, sum, err := ingest.Canonical(r)
		if err != nil {
			return nil, "", "", err
		}
		hash, key := hex.EncodeToString(sum[:]), domain.KeyOf(r)
		if h, ok := seen[key]; ok && h != hash {
			return nil, changedWords(refs[i], r, sameBatchWords), refs[i].field, nil
		}
		if seen == nil {
			seen = map[domain.Key]string{}
		}
		seen[key] = hash
	}
	return fixed, "", "", nil
}

const sameBatchWords = "another event of the batch has the same context.source and context.id with a different payload"

// changedWords is the reason for refusing record r, named by the event
// at ref, whose payload changed (why says how it is known).
func changedWords(ref *eventRef, r domain.Record, why string) string {
	return fmt.Sprintf("%s%s %s: %s: its context.source and context.id name one event, whose payload cannot change; a new event needs a new id",
		ref.where, r.Kind(), clip(domain.KeyOf(r).ID), why)
}

// changedStored words the writer's refusal of a delivery's record as
// changedInDelivery does, with the field naming the event.
func changedStored(recs []domain.Record, refs []*eventRef, ce *store.ChangedError) (reason, field string) {
	why := sameBatchWords
	if !ce.InBatch {
		why = fmt.Sprintf("the event was recorded at %s (store sequence %d) with a different payload", ce.IngestedAt.UTC().Format(time.RFC3339), ce.Seq)
	}
	for i, r := range recs {
		if i < len(refs) && refs[i] != nil && domain.KeyOf(r) == ce.Key {
			return changedWords(refs[i], r, why), refs[i].field
		}
	}
	return ce.Error(), "" // only a record an event names is fixed; said as the store says it, should that change
}

// verify checks the delivery's signature or token; a non-empty code is a
// refusal with its reason, err the store's.
func (s *Service) verify(ctx context.Context, c connector, in *input) (domain.Code, string, error) {
	if c.scheme == schemeBearer {
		return s.verifyBearer(ctx, in.header)
	}
	secret := s.cfg.secret(c.name)
	if secret == "" {
		return domain.EForbidden, fmt.Sprintf("no secret configured for %s: set connectors.%s.secret or %s", c.name, c.name, SecretEnv(c.name)), nil
	}
	if err := c.verify(in, secret, s.cfg.tolerance()); err != nil {
		return domain.EUnauthorized, err.Error(), nil
	}
	return "", "", nil
}

// bound cuts a logged string to an identifier's bound: delivery ids and
// reasons come from outside.
func bound(s string) string {
	if len(s) <= domain.MaxName*4 {
		return s
	}
	return truncateUTF8(s, domain.MaxName*4-len(truncationMarker)) + truncationMarker
}

// keep is the payload to keep with a delivery: none when payloads are not
// kept (connectors.payload_retention: 0).
func (s *Service) keep(body []byte) []byte {
	if s.retention <= 0 {
		return nil
	}
	return body
}

// maybeForget forgets payloads past their retention, at most once an
// hour: an indexed update of the few rows that aged out since.
func (s *Service) maybeForget(ctx context.Context) {
	now := s.now().UnixNano()
	last := s.forgotAt.Load()
	if now-last < int64(time.Hour) || !s.forgotAt.CompareAndSwap(last, now) {
		return
	}
	if _, err := s.Forget(ctx); err != nil {
		s.log.Error("webhook: forgetting payloads past their retention", "err", err)
	}
}

// Forget drops the payloads received longer ago than the retention period
// (connectors.payload_retention) and returns how many it dropped.
func (s *Service) Forget(ctx context.Context) (int64, error) {
	return s.st.ForgetPayloads(ctx, s.now().Add(-s.retention))
}

// TooLarge logs and answers a delivery whose body is over the limit,
// without its payload: it was not read, so not verified.
func (s *Service) TooLarge(ctx context.Context, source string, h http.Header, limit int64) (Result, error) {
	c, ok := s.connectors[source]
	if !ok {
		return s.Receive(ctx, Request{Source: source}) // the unknown-source answer
	}
	d := store.Delivery{Source: c.name, ReceivedAt: s.now().UTC(), Outcome: store.DeliveryRejected,
		Reason: fmt.Sprintf("the body is larger than %d bytes (connectors.max_body_bytes)", limit)}
	c.fromHeaders(&d, h)
	return s.refuse(ctx, d, domain.ETooLarge)
}

// fromHeaders sets the delivery id and event type d's headers say, when
// the sender puts them there: a delivery refused before its body is read
// (a signature, a token, its size) is logged with them. They are the
// sender's claim, unverified then, as the log's reason says.
func (c connector) fromHeaders(d *store.Delivery, h http.Header) {
	if c.headerID != nil {
		d.DeliveryID = bound(c.headerID(h))
	}
	if c.headerEvent != nil {
		d.Event = bound(c.headerEvent(h))
	}
}

// connectorsOf is every webhook source, with its rules.
func connectorsOf(cfg Config) []connector {
	return []connector{
		githubConnector(cfg.GitHub),
		gitlabConnector(cfg.GitLab),
		pagerdutyConnector(cfg.PagerDuty),
		opsgenieConnector(cfg.Opsgenie),
		alertmanagerConnector(cfg.Alertmanager),
		stripeConnector(cfg.Stripe),
		jiraConnector(cfg.Jira),
		zendeskConnector(cfg.Zendesk),
		cdeventsConnector(cfg.CDEvents),
		jenkinsConnector(cfg.Jenkins),
		argocdConnector(cfg.ArgoCD),
	}
}
