package connect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/candor/candor/internal/domain"
	"net/http"
	"strings"
	"time"

	"github.com/candor/candor/internal/store"
)

// ReplaySummary is what a replay did.
type ReplaySummary struct {
	Source string
	// Deliveries counts the kept payloads mapped again.
	Deliveries int
	Accepted   int
	Ignored    int
	Rejected   int
	store.WriteResult
	// Problems lists the deliveries still rejected, as "ID: reason", the
	// first maxProblems of them.
	Problems []string
}

const maxProblems = 20

// Replay maps every payload of source kept since `since` again with the
// current rules and commits the records through the ingest path, oldest
// first: a mapping fix, or a secret or rule that was missing, reaches the
// deliveries already received. Signatures are not checked again (they
// were when the payload was received, and may have expired since). A
// delivery counted before is not counted again; one rejected before and
// accepted now is logged as accepted. Still-rejected deliveries are
// reported, not logged again.
func (s *Service) Replay(ctx context.Context, source string, since time.Time) (*ReplaySummary, error) {
	c, ok := s.connectors[source]
	if !ok {
		return nil, fmt.Errorf("no webhook source %q (known: %s)", source, strings.Join(Sources(), ", "))
	}
	sum := &ReplaySummary{Source: source}
	err := s.st.KeptPayloads(ctx, source, since, func(kept store.Delivery) error {
		res, err := s.replayOne(ctx, c, kept)
		if err != nil {
			return fmt.Errorf("delivery %s (received %s): %w", kept.DeliveryID, kept.ReceivedAt.Format(time.RFC3339), err)
		}
		sum.Deliveries++
		switch res.Outcome {
		case store.DeliveryRejected:
			sum.Rejected++
			if len(sum.Problems) < maxProblems {
				sum.Problems = append(sum.Problems, firstOf(res.DeliveryID, "sha256:"+kept.PayloadSHA256)+": "+res.Reason)
			}
		case store.DeliveryIgnored:
			sum.Ignored++
		default:
			sum.Accepted++
		}
		sum.Inserted += res.Inserted
		sum.Replaced += res.Replaced
		sum.Unchanged += res.Unchanged
		return nil
	})
	return sum, err
}

func (s *Service) replayOne(ctx context.Context, c connector, kept store.Delivery) (Result, error) {
	h := http.Header{}
	for k, v := range kept.Headers {
		h.Set(k, v)
	}
	sum := sha256.Sum256(kept.Payload)
	d := store.Delivery{Source: c.name, DeliveryID: kept.DeliveryID, ReceivedAt: s.now().UTC(), PayloadSHA256: hex.EncodeToString(sum[:])}
	p, err := c.parse(&input{header: h, body: kept.Payload, now: kept.ReceivedAt})
	if err != nil {
		return replayRejected(d, err)
	}
	d.DeliveryID, d.Event = firstOf(p.id, "sha256:"+d.PayloadSHA256), p.event
	return s.commitParsed(ctx, c, p, d, sum, true)
}

// replayRejected is the answer to a replayed delivery that is still
// rejected; other errors are the store's.
func replayRejected(d store.Delivery, err error) (Result, error) {
	var re *rejection
	if !errors.As(err, &re) {
		return Result{}, err
	}
	d.Outcome, d.Reason = store.DeliveryRejected, re.reason
	return result(d, domain.EInvalid), nil
}
