package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/metrics"
)

// The release gates page (/gates): escalated decisions waiting for an
// approver, each with approve and reject forms for those who may settle
// it (CSRF, Post/Redirect/Get), then the decisions made — of one service
// with ?service= — with their approvals, bypasses and watch outcomes.

// maxPageGates bounds the decisions listed below the pending ones.
const maxPageGates = 50

type gatesPage struct {
	Pending []gateRow
	Recent  []gateRow
	Watches []watchRow
	// MoreWatches says older outcomes than those shown exist.
	MoreWatches bool
	Services    []string
	Service     string
	// Done is the outcome of the form just posted; Problem why one was
	// refused, for the decision Failed.
	Done, Problem string
	Failed        int64
	// Unknown are the services (teams) the policies in force name that
	// no record names (gives): the rules they scope never apply (a
	// misspelt name in the policies file validates).
	Unknown []gate.UnknownName
}

// watchRow is a post-deploy watch's outcome; Href is its deployment's
// record page, "" for a reader who may not read deployments.
type watchRow struct {
	gate.Watch
	Href string
}

type gateRow struct {
	gate.Result
	// CanSettle says the reader gets the forms; Why why not, when they
	// would otherwise expect them.
	CanSettle bool
	Why       string
}

func (s *Server) gatesPage(w http.ResponseWriter, r *http.Request) {
	s.renderGates(w, r, http.StatusOK, 0, "")
}

func (s *Server) renderGates(w http.ResponseWriter, r *http.Request, status int, failed int64, problem string) {
	q, _, err := s.pageQuery(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	// The pending decisions, the services and the service's latest
	// settled ones, each read through an index of the decisions, where the
	// page had read and decoded every decision (~100 ms at 10,000).
	pending, err := gate.Pending(r.Context(), s.Store)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	services, err := gate.Services(r.Context(), s.Store)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	recent, err := gate.Settled(r.Context(), s.Store, q.Service, maxPageGates)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	watches, moreWatches, err := gate.RecentWatches(r.Context(), s.Store, q.Service, maxPageGates)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p := auth.PrincipalFrom(r.Context())
	who := gate.Approver{Person: auth.Person(p), Roles: p.Roles}
	data := gatesPage{Service: q.Service, Services: services, Problem: problem, Failed: failed}
	if key := r.URL.Query().Get("done"); key != "" {
		if d, ok := s.flashes.take(flashOwner(p), key, s.Now()); ok {
			data.Done = d.Message
		}
	}
	for _, d := range pending {
		row := gateRow{Result: s.gateView(r, d)}
		if err := gate.CheckApprover(d, who); err != nil {
			row.Why = err.Error()
		} else {
			row.CanSettle = true
		}
		data.Pending = append(data.Pending, row)
	}
	for _, d := range recent {
		data.Recent = append(data.Recent, gateRow{Result: s.gateView(r, d)})
	}
	acc := s.access(r)
	data.MoreWatches = moreWatches
	for _, w := range watches {
		row := watchRow{Watch: w}
		if src, id, ok := strings.Cut(w.Deployment, "/"); ok && acc.CanReadKind(string(domain.KindDeployment)) {
			row.Href = recordHref(domain.Key{Kind: domain.KindDeployment, Source: src, ID: id})
		}
		data.Watches = append(data.Watches, row)
	}
	if s.Gates != nil {
		err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
			data.Unknown = s.Gates.Get().UnknownIn(ds)
			return nil
		})
		if err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	title := "Release gates"
	if q.Service != "" {
		title += " · " + q.Service
	}
	s.render(w, r, status, "gates", s.newPage(r, title, q, data))
}

func (s *Server) approveGateForm(w http.ResponseWriter, r *http.Request) {
	s.settleGateForm(w, r, true)
}
func (s *Server) rejectGateForm(w http.ResponseWriter, r *http.Request) {
	s.settleGateForm(w, r, false)
}

// settleGateForm serves POST /gates/{id}/approve and /reject.
func (s *Server) settleGateForm(w http.ResponseWriter, r *http.Request, approve bool) {
	if !s.readForm(w, r) {
		return
	}
	d, err := s.settle(r, approve, r.PostForm.Get("reason"))
	if err != nil {
		e := s.describe(r, err)
		switch {
		case e == nil:
		case e.Code == domain.EInvalid || e.Code == domain.EForbidden || e.Code == domain.EConflict:
			id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
			s.renderGates(w, r, e.status, id, e.Message)
		default:
			s.pageError(w, r, err)
		}
		return
	}
	msg := fmt.Sprintf("Gate decision %d (%s %s to %s) %s.", d.ID, d.Release.Service, d.Release.Version, d.Release.Environment, d.State)
	key := s.flashes.put(flashOwner(auth.PrincipalFrom(r.Context())), adminDone{Message: msg}, s.Now())
	http.Redirect(w, r, "/gates?done="+url.QueryEscape(key), http.StatusSeeOther)
}
