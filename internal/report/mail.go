package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"strings"
	ttemplate "text/template"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/scorecard"
)

//go:embed templates
var templates embed.FS

// periodText is an annotation's days, its last inclusive.
func periodText(a Annotation) string {
	last := a.To.Add(-time.Nanosecond)
	if a.From.Format(time.DateOnly) == last.Format(time.DateOnly) {
		return a.From.UTC().Format("2 Jan 2006")
	}
	return a.From.UTC().Format("2 Jan") + " – " + last.UTC().Format("2 Jan 2006")
}

// pageTime is how the pages, and so the digest, write a time: in UTC.
const pageTime = "2 Jan 2006 15:04 MST"

// statusLook is a status's colours and icon: colour is never the only
// signal, the word and the icon say it too.
var statusLook = map[catalog.Status]struct{ fg, bg, icon string }{
	catalog.Green:   {"#0f6b3a", "#dff3e7", "✓"},
	catalog.Amber:   {"#8a5200", "#fff1d6", "!"},
	catalog.Red:     {"#a4161a", "#fde2e1", "✕"},
	catalog.Unknown: {"#4a5361", "#e9edf2", "?"},
}

var funcs = map[string]any{
	"date":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format(pageTime) },
	"kind":     func(k string) string { return strings.ReplaceAll(k, "_", " ") },
	// reason writes the RFC 3339 times a reason quotes as the pages do
	// ("no survey data since 7 Dec 2026 08:59 UTC").
	"reason": func(s string) string { return scorecard.ReadableTimes(s, pageTime) },
	"period": periodText,
	// moved says a change with its assessment, once: "+20 % worse", "no change".
	"moved": func(l Line) string {
		if l.Trend == "" || l.Trend == "same" {
			return l.Change
		}
		return l.Change + " " + l.Trend
	},
	"notCompared": notCompared,
	"noLinks":     func() string { return NoLinks },
	"upper":       func(s catalog.Status) string { return fmt.Sprintf("%-7s", strings.ToUpper(string(s))) },
	"why": func(e escalation.Escalation) string {
		if e.Why == escalation.Overdue && e.Acknowledgement != nil {
			return "action overdue since " + e.Acknowledgement.Deadline().UTC().Format("2 Jan 2006")
		}
		return "no action recorded"
	},
	"badge": func(s catalog.Status) template.HTML {
		l, ok := statusLook[s]
		if !ok {
			l = statusLook[catalog.Unknown]
		}
		return template.HTML(fmt.Sprintf(`<span style="display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap;color:%s;background:%s;">%s %s</span>`,
			l.fg, l.bg, l.icon, template.HTMLEscapeString(string(s))))
	},
	"arrow": func(direction string) string {
		switch direction {
		case "up":
			return "▲"
		case "down":
			return "▼"
		}
		return "■"
	},
	// usualWeek says a line covers what the digest's note says every
	// line covers, so it need not say it again.
	"usualWeek": scorecard.WeekCoversUsual,
	"trendColour": func(t string) template.CSS {
		switch t {
		case "better":
			return "#0f6b3a"
		case "worse":
			return "#a4161a"
		}
		return "#5b6675"
	},
}

// NoLinks is the line a digest without reports.base_url has in place of
// its links: a message with none at all had not said why.
const NoLinks = "No links: the links to the scorecard, each metric's definition and records, and the escalations are off until reports.base_url (Candor's address) is set — see docs/configuration.md, Reports."

// staleData is scorecard.Trend.Short's words for a trend not compared
// on stale data, which Line.NotCompared then holds.
const staleData = "stale data"

// notCompared says why a headline line is not compared with before ("the
// 7 days before"), and that its value is stale, once: "stale data: not
// compared with the 7 days before", where the status's reason beside it
// says since when.
func notCompared(l Line, before string) string {
	if l.NotCompared == staleData {
		return "stale data: not compared with " + before
	}
	s := "not compared with " + before + ": " + scorecard.ReadableTimes(l.NotCompared, pageTime)
	if l.Stale {
		s = "stale data; " + s
	}
	return s
}

var (
	htmlDigest = template.Must(template.New("digest.html").Funcs(funcs).ParseFS(templates, "templates/digest.html"))
	textDigest = ttemplate.Must(ttemplate.New("digest.txt").Funcs(funcs).ParseFS(templates, "templates/digest.txt"))
)

// view is what the digest templates see.
type view struct {
	D       *Digest
	To      string
	Subject string
}

// Subject is the digest's subject line: the week and what needs eyes —
// the headline metrics red, amber and unknown (stale data, no data: a
// week whose every headline metric went unknown had read as all clear),
// and the escalations; "all headline metrics green" only when every one
// is, and nothing turned amber or red or is escalated.
func (d *Digest) Subject() string {
	var red, amber, unknown int
	for _, l := range d.Headline {
		switch l.Status {
		case catalog.Red:
			red++
		case catalog.Amber:
			amber++
		case catalog.Green:
		default:
			unknown++
		}
	}
	s := "Candor weekly digest, week to " + d.AsOf.Format("2 Jan 2006")
	var parts []string
	if red > 0 {
		parts = append(parts, fmt.Sprintf("%d red", red))
	}
	if amber > 0 {
		parts = append(parts, fmt.Sprintf("%d amber", amber))
	}
	if unknown > 0 {
		parts = append(parts, fmt.Sprintf("%d unknown", unknown))
	}
	if d.NoRevenue != "" {
		// The Growth lines are left out for one sentence (NoRevenue):
		// unknown all the same.
		parts = append(parts, "no revenue data")
	}
	// The list is cut to MaxEscalations; the subject counts them all.
	if n := len(d.Escalations) + d.MoreEscalations; n > 0 {
		parts = append(parts, fmt.Sprintf("%d escalated", n))
	}
	if len(parts) == 0 && len(d.Headline) > 0 && len(d.Turned) == 0 {
		// The counts are the headline metrics'; another metric may be
		// amber (with an action in force), so the all-clear names them.
		parts = append(parts, "all headline metrics green")
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

// Render returns the digest's HTML and plain-text bodies for to.
func (d *Digest) Render(to string) (html, text string, err error) {
	v := view{D: d, To: to, Subject: d.Subject()}
	var h, t bytes.Buffer
	if err := htmlDigest.Execute(&h, v); err != nil {
		return "", "", err
	}
	if err := textDigest.Execute(&t, v); err != nil {
		return "", "", err
	}
	return h.String(), t.String(), nil
}

// DigestMessage composes the digest as a multipart/alternative message
// (plain text first, HTML preferred) from from to to, dated at.
func DigestMessage(d *Digest, from, to string, at time.Time) (*mail.Msg, error) {
	html, text, err := d.Render(to)
	if err != nil {
		return nil, err
	}
	msg, err := newMessage(from, to, d.Subject(), "digest|"+d.AsOf.Format(time.RFC3339)+"|"+to, at)
	if err != nil {
		return nil, err
	}
	msg.SetBodyString(mail.TypeTextPlain, text)
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	return msg, nil
}

// newMessage starts a message whose Message-ID derives from key, so a
// report sent again after a crash shows in a mail client as one.
func newMessage(from, to, subject, key string, at time.Time) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("sender %q: %w", from, err)
	}
	if err := msg.To(to); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", to, err)
	}
	msg.Subject(subject)
	alert.Automatic(msg)
	sum := sha256.Sum256([]byte(key))
	msg.SetMessageIDWithValue("candor-report-" + hex.EncodeToString(sum[:12]) + "@candor")
	msg.SetDateWithValue(at)
	return msg, nil
}

// EML is the message as an RFC 5322 file.
func EML(msg *mail.Msg) ([]byte, error) {
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// BoardMessage is the board pack as an e-mail with the PDF attached.
func BoardMessage(b *Board, pdf []byte, from, to string, at time.Time) (*mail.Msg, error) {
	msg, err := newMessage(from, to, "Candor board pack, "+b.MonthName(), "board|"+b.Month.Format("2006-01")+"|"+to, at)
	if err != nil {
		return nil, err
	}
	msg.SetBodyString(mail.TypeTextPlain, fmt.Sprintf("The Candor board pack for %s is attached: the scorecard as of %s, the trends, the revenue and delivery sections and the definitions appendix.\n",
		b.MonthName(), b.AsOf.Format("2 Jan 2006 15:04 MST")))
	if err := msg.AttachReader("candor-board-"+b.Month.Format("2006-01")+".pdf", bytes.NewReader(pdf), mail.WithFileContentType("application/pdf")); err != nil {
		return nil, err
	}
	return msg, nil
}
