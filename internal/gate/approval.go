package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// ApprovalCollection holds the approvals and rejections of escalated
// decisions, one per decision (keyed by its id).
const ApprovalCollection = "gate_approval"

func init() {
	ledger.RegisterDocs(ApprovalCollection, ledger.DocSpec{Type: ledger.TypeGateApproval, Personal: []string{"by", "reason"}})
}

// States of a recorded decision as read: an escalated one is pending
// until approved or rejected.
const (
	StatePending  = "pending"
	StateApproved = "approved"
	StateRejected = "rejected"
)

// Approval settles an escalated decision.
type Approval struct {
	ID       int64  `json:"id,omitempty"`
	Decision int64  `json:"decision"`
	Verdict  string `json:"verdict"` // approved or rejected
	// Release is service/environment/version, for the ledger's reader.
	Release string    `json:"release"`
	By      string    `json:"by"`
	Roles   []string  `json:"roles"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
}

// Approver is who settles a decision: the person (auth.Person) and the
// roles they hold.
type Approver struct {
	Person string
	Roles  []string
}

const maxReason = 4000

// Decision returns the recorded decision id, with its state and approval.
//
// It reads the decision and its approval by their keys: a pipeline
// waiting for an approver polls it, and reading every decision cost ~90
// ms a poll at 10,000 decisions (BenchmarkDecisionLookup).
func Decision(ctx context.Context, docs store.DocStore, id int64) (Result, error) {
	d, ok, err := store.DocByID(ctx, docs, DecisionCollection, id)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{}, domain.Errorf(domain.ENotFound, "no gate decision %d", id)
	}
	return decisionOf(ctx, docs, d)
}

// decisionOf is the stored decision d with its state and approval.
func decisionOf(ctx context.Context, docs store.DocStore, d store.Doc) (Result, error) {
	r, err := decode(d)
	if err != nil {
		return Result{}, err
	}
	rs := []Result{r}
	as, err := approvalsOf(ctx, docs, rs)
	if err != nil {
		return Result{}, err
	}
	settle(rs, as)
	return rs[0], nil
}

// decode is the stored decision d as recorded, its state unread.
func decode(d store.Doc) (Result, error) {
	var r Result
	if err := json.Unmarshal(d.Body, &r); err != nil {
		return Result{}, fmt.Errorf("gate decision %d: %w", d.ID, err)
	}
	r.ID = d.ID
	return r, nil
}

// Settle approves (approve true) or rejects an escalated decision, once.
// The approver must hold, for every rule that escalated it, one of the
// roles the rule names, and must not be who asked for the release.
func Settle(ctx context.Context, docs store.DocStore, id int64, approve bool, who Approver, reason string, now time.Time) (Approval, error) {
	reason = strings.TrimSpace(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		return Approval{}, domain.InvalidParam("reason", "required: why the release may (or may not) go")
	case n > maxReason:
		return Approval{}, domain.InvalidParam("reason", "%d characters; at most %d", n, maxReason)
	}
	r, err := Decision(ctx, docs, id)
	if err != nil {
		return Approval{}, err
	}
	if r.Decision != Escalate {
		return Approval{}, domain.Errorf(domain.EConflict, "gate decision %d is %s: only an escalated decision waits for approval", id, r.Decision)
	}
	if err := CheckApprover(r, who); err != nil {
		return Approval{}, err
	}
	verdict := StateRejected
	if approve {
		verdict = StateApproved
	}
	if r.Approval != nil {
		return settled(id, *r.Approval, who, verdict)
	}
	a := Approval{Decision: id, Verdict: verdict, Release: r.Release.Service + "/" + r.Release.Environment + "/" + r.Release.Version,
		By: who.Person, Roles: slices.Clone(who.Roles), Reason: reason, At: now.UTC()}
	body, err := json.Marshal(a)
	if err != nil {
		return a, err
	}
	d, created, err := docs.AppendDocOnce(ctx, ApprovalCollection, strconv.FormatInt(id, 10), body)
	if err != nil {
		return a, err
	}
	if !created {
		var first Approval
		_ = json.Unmarshal(d.Body, &first)
		first.ID = d.ID
		return settled(id, first, who, verdict)
	}
	a.ID = d.ID
	return a, nil
}

// settled answers a settling of decision id that first already settled:
// the same approver giving the same verdict again — a retry after an
// answer lost on the way, which had exited 1 on "already approved" — gets
// that settling back, nothing recorded twice (the reason given first
// stands); anyone else, or another verdict, a conflict.
func settled(id int64, first Approval, who Approver, verdict string) (Approval, error) {
	if first.By == who.Person && first.Verdict == verdict {
		return first, nil
	}
	return Approval{}, domain.Errorf(domain.EConflict, "gate decision %d was already %s by %s at %s", id, first.Verdict, first.By, first.At.Format(time.RFC3339))
}

// CheckApprover says whether who may settle the escalated decision r: not
// its requester, and holding one of the approver roles of each rule that
// escalated it.
func CheckApprover(r Result, who Approver) error {
	if who.Person == "" {
		return domain.Errorf(domain.EForbidden, "an approver must be signed in")
	}
	if r.Requester != "" && who.Person == r.Requester || r.Requester == "" && who.Person == r.By {
		return domain.Errorf(domain.EForbidden, "an approver must not be who asked for the release (%s)", who.Person)
	}
	for _, v := range r.Rules {
		if v.Verdict != string(Escalate) {
			continue
		}
		roles := v.Approvers
		if len(roles) == 0 {
			roles = DefaultApprovers
		}
		if !slices.ContainsFunc(roles, func(role string) bool { return slices.Contains(who.Roles, role) }) {
			return domain.Errorf(domain.EForbidden, "rule %s escalated the release: its approver must hold the role %s", v.Rule, strings.Join(roles, " or "))
		}
	}
	return nil
}

// Approvals are the recorded approvals and rejections, newest first.
func Approvals(ctx context.Context, docs store.DocStore) ([]Approval, error) {
	return store.DecodeDocs(ctx, docs, ApprovalCollection, func(a *Approval, id int64) { a.ID = id })
}

// settle fills the state and approval of decisions read.
func settle(rs []Result, as []Approval) {
	by := make(map[int64]*Approval, len(as))
	for i := range as {
		by[as[i].Decision] = &as[i]
	}
	for i := range rs {
		r := &rs[i]
		switch a := by[r.ID]; {
		case r.Decision != Escalate:
			r.State = string(r.Decision)
		case a != nil:
			r.State, r.Approval = a.Verdict, a
		default:
			r.State = StatePending
		}
	}
}

// Pending are the escalated decisions nobody has settled, newest first:
// the escalations no approval keys by their id, read through the index of
// the decisions' verdict (store.DocsUnanswered), where /gates had read
// and decoded every decision and approval.
func Pending(ctx context.Context, docs store.DocStore) ([]Result, error) {
	ds, err := store.DocsUnanswered(ctx, docs, store.GateDecisionVerdict, string(Escalate), ApprovalCollection)
	if err != nil {
		return nil, err
	}
	out, err := decodeAll(ds)
	if err != nil {
		return nil, err
	}
	settle(out, nil)
	return out, nil
}
