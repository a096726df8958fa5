package importer

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
)

// CRMOptions say how a CRM's opportunity export maps onto opportunity
// records.
type CRMOptions struct {
	// WonStages and LostStages name the stages that mean an opportunity
	// was won or lost, compared case-insensitively; empty keeps the CRM's
	// defaults (see salesforceSpec and hubspotSpec). Any other stage is
	// open. Salesforce's IsClosed and IsWon columns, when the export has
	// them, are the CRM's own answer and win over stage names.
	WonStages, LostStages []string
	// QualifiedFrom says where qualified_at comes from, which neither CRM
	// exports as a standard column: "" leaves it absent (win_rate and
	// pipeline_coverage then leave the opportunities out), "created" takes
	// created_at (for teams whose opportunities are qualified when they
	// are created), anything else names a column holding the date.
	QualifiedFrom string
	// ChannelColumn names the column that holds the channel, where the
	// CRM's default (Salesforce's LeadSource; none for HubSpot) is not it.
	ChannelColumn string
}

// crmSpec is how one CRM names the columns an opportunity maps from: the
// first name a header has is used.
type crmSpec struct {
	product                                                         string
	id, created, amount, stage, closeDate, owner, currency, channel []string
	closed, won                                                     []string
	wonStages, lostStages                                           []string
}

// readCRM maps an opportunity export. A closed opportunity's closed_at is
// its close date (midnight in the options' time zone when the export has
// only the date); close_date is the close date for every opportunity.
func readCRM(spec crmSpec, name string, r io.Reader, opt Options, maxLine int, add func(ingest.Entry) error) error {
	tr := timeReader{loc: opt.Location, slash: opt.SlashDates}
	wonStages, lostStages := spec.wonStages, spec.lostStages
	if len(opt.CRM.WonStages) > 0 {
		wonStages = opt.CRM.WonStages
	}
	if len(opt.CRM.LostStages) > 0 {
		lostStages = opt.CRM.LostStages
	}
	channel := spec.channel
	if opt.CRM.ChannelColumn != "" {
		channel = []string{opt.CRM.ChannelColumn}
	}
	var id, created, amount, stage, closeDate, owner, currency, chan_, closed, won, qualified int
	header := func(t *table) error {
		id, created, amount, stage = t.col(spec.id...), t.col(spec.created...), t.col(spec.amount...), t.col(spec.stage...)
		closeDate, owner, currency, chan_ = t.col(spec.closeDate...), t.col(spec.owner...), t.col(spec.currency...), t.col(channel...)
		closed, won, qualified = t.col(spec.closed...), t.col(spec.won...), -1
		for _, req := range []struct {
			col   int
			names []string
		}{{id, spec.id}, {created, spec.created}, {amount, spec.amount}, {stage, spec.stage}} {
			if req.col < 0 {
				return fmt.Errorf("%s:1: no %s column: is this a %s opportunity export? (columns: %s)", name, strings.Join(req.names, " or "), spec.product, strings.Join(t.cols, ", "))
			}
		}
		if opt.CRM.ChannelColumn != "" && chan_ < 0 {
			return fmt.Errorf("%s:1: no %s column (the channel column asked for)", name, opt.CRM.ChannelColumn)
		}
		if q := opt.CRM.QualifiedFrom; q != "" && q != "created" {
			if qualified = t.col(q); qualified < 0 {
				return fmt.Errorf("%s:1: no %s column (the qualification date column asked for)", name, q)
			}
		}
		return nil
	}
	row := func(t *table, line int, cells []string) error {
		at := where{file: name, line: line}
		fs := newFields()
		readTime := func(field string, col int) (time.Time, bool) {
			v := cell(cells, col)
			if v == "" {
				return time.Time{}, false
			}
			tm, dateOnly, err := tr.read(v)
			if err != nil {
				fs.fail(field, at.problem(t.name(col), "%v", err))
				return time.Time{}, false
			}
			return tm, dateOnly
		}
		readBool := func(field string, col int) (value, given bool) {
			v := strings.ToLower(cell(cells, col))
			switch v {
			case "":
				return false, false
			case "true", "1", "yes":
				return true, true
			case "false", "0", "no":
				return false, true
			}
			fs.fail(field, at.problem(t.name(col), "%q is not true or false", cell(cells, col)))
			return false, false
		}
		fs.text("id", t.name(id), cell(cells, id))
		fs.text("source", "", opt.Source)
		createdAt, _ := readTime("created_at", created)
		fs.time("created_at", t.name(created), createdAt)
		fs.text("amount", t.name(amount), cell(cells, amount))
		fs.text("currency", t.name(currency), cell(cells, currency))
		st := cell(cells, stage)
		fs.text("stage", t.name(stage), st)
		fs.text("owner", t.name(owner), cell(cells, owner))
		fs.text("channel", t.name(chan_), cell(cells, chan_))
		isWon, isClosed := matchStage(st, wonStages), matchStage(st, wonStages) || matchStage(st, lostStages)
		wonFrom, closedFrom := t.name(stage), t.name(stage)
		if v, ok := readBool("closed_at", closed); ok {
			isClosed, closedFrom = v, t.name(closed)
		}
		if v, ok := readBool("won", won); ok {
			isWon, wonFrom = v, t.name(won)
		}
		isClosed = isClosed || isWon
		closeAt, _ := readTime("close_date", closeDate)
		if !closeAt.IsZero() {
			fs.text("close_date", t.name(closeDate), closeAt.In(tr.location()).Format(time.DateOnly))
		}
		if isClosed {
			switch {
			case !closeAt.IsZero():
				fs.time("closed_at", t.name(closeDate), closeAt)
				fs.bool("won", wonFrom, isWon)
			case cell(cells, closeDate) == "":
				fs.fail("closed_at", at.problem(orName(t.name(closeDate), spec.closeDate[0]),
					"required: the opportunity is closed (%s), and its close date says when", closedFrom))
			}
		}
		switch q := opt.CRM.QualifiedFrom; q {
		case "":
		case "created":
			fs.time("qualified_at", t.name(created), createdAt)
		default:
			qt, _ := readTime("qualified_at", qualified)
			fs.time("qualified_at", t.name(qualified), qt)
		}
		rec, problems := fs.parse(domain.KindOpportunity, opt.Parse, at)
		if problems != nil {
			return add(ingest.Entry{Problems: problems})
		}
		return add(ingest.Entry{Record: rec, Raw: ingest.RowHash(t.cols, cells)})
	}
	return readTable(name, r, maxLine, header, row, add)
}

func matchStage(stage string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(strings.TrimSpace(n), stage) {
			return true
		}
	}
	return false
}

func orName(name, fallback string) string {
	if name == "" {
		return fallback
	}
	return name
}
