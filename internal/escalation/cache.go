package escalation

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/candor/candor/internal/store"
)

// Cache keeps the acknowledgements decoded between a server's reads: every
// scorecard, view and metric page, and their API answers, mark their cards
// with the actions in force, and reading and decoding every
// acknowledgement each time cost ~5 ms at 1,000 and ~26 ms at 5,000 on
// the two-core VM (docs/performance.md). A read asks the store for the
// newest acknowledgement only — one row — and decodes them all again when
// it is another (one appended, by this process or another) or when the
// kept ones are older than CacheFor. Nothing but retention rewrites an
// acknowledgement in place (their owner, note and who recorded it are
// personal data), and none is ever removed, so a list kept is at most
// CacheFor behind a retention run of another process: a redacted name
// stays on the pages at most that long. On PostgreSQL an append that
// commits after a higher id was read is likewise seen within CacheFor
// (at once by the server that recorded it: Forget). The zero value is ready; a nil one reads the store each time.
type Cache struct {
	mu     sync.Mutex
	head   store.Doc // the newest acknowledgement when all was read
	readAt time.Time
	all    []Acknowledgement
	// now is the clock (tests).
	now func() time.Time
}

// Forget drops the kept list: the next read reads every acknowledgement.
// A server calls it after recording one: on PostgreSQL appends may commit
// out of their ids' order, so one committed below the newest id read
// would not be seen for CacheFor — by the person who recorded it.
func (c *Cache) Forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.all = nil
	c.mu.Unlock()
}

// CacheFor bounds how long a kept list is used without reading it again.
const CacheFor = 30 * time.Second

// List is escalation.List through the cache: the acknowledgements, newest
// first, of one metric when metric is not "". The slice is the caller's.
func (c *Cache) List(ctx context.Context, docs store.DocStore, metric string) ([]Acknowledgement, error) {
	if c == nil {
		return List(ctx, docs, metric)
	}
	head, err := docs.Docs(ctx, Collection, 1)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.now != nil {
		now = c.now()
	}
	if !c.holds(head, now) {
		// Read under the lock: readers missing at once (every page after
		// an acknowledgement) read the store once.
		all, err := List(ctx, docs, "")
		if err != nil {
			return nil, err
		}
		c.all, c.readAt, c.head = all, now, store.Doc{}
		if len(head) == 1 {
			c.head = head[0]
			c.head.Body = bytes.Clone(head[0].Body)
		}
	}
	if metric == "" {
		return slices.Clone(c.all), nil
	}
	out := []Acknowledgement{}
	for _, a := range c.all {
		if a.Metric == metric {
			out = append(out, a)
		}
	}
	return out, nil
}

// holds says the kept list is the store's: read within CacheFor, with the
// same newest acknowledgement (its id and body: retention may have
// rewritten it).
func (c *Cache) holds(head []store.Doc, now time.Time) bool {
	if c.all == nil || now.Sub(c.readAt) >= CacheFor || now.Before(c.readAt) {
		return false
	}
	if len(head) == 0 {
		return c.head.ID == 0
	}
	return head[0].ID == c.head.ID && bytes.Equal(head[0].Body, c.head.Body)
}
