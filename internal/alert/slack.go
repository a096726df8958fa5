package alert

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/candor/candor/internal/outbound"
)

// Slack posts a notification to a Slack-compatible incoming webhook
// (Slack, Mattermost, Rocket.Chat) as Block Kit: a header, then per alert
// its summary and the fields status, value, target and owner, then a link
// to the alerts page. Incoming webhooks carry no signature: the URL is the
// secret.
type Slack struct {
	URL    string
	Link   string
	Client *http.Client // a 10 s timeout when nil; its redirects are never followed
}

// Send implements Channel: any status but 2xx is a failure, a redirect
// too (outbound.NoRedirect).
func (s Slack) Send(ctx context.Context, e Envelope) error {
	body, err := json.Marshal(SlackPayload(e.Message, s.Link))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := outbound.NoRedirect(s.Client).Do(req)
	if err != nil {
		// The URL is a credential: say where, not what.
		return fmt.Errorf("slack webhook: %w", redactURL(err, s.URL))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if err := outbound.Redirected(resp); err != nil {
		// A moved hook's Location may carry the same secret path.
		return fmt.Errorf("slack webhook %w", redactURL(err, s.URL))
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("slack webhook answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// redactURL drops the webhook's address (its path is the secret) from a
// transport error.
func redactURL(err error, u string) error {
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), u, "(webhook URL)"))
}

// SlackMessage is a Block Kit message: Text is the fallback shown in
// notifications and by clients without blocks.
type SlackMessage struct {
	Text   string       `json:"text"`
	Blocks []SlackBlock `json:"blocks"`
}

// SlackBlock is one Block Kit block (header, section, divider, context).
type SlackBlock struct {
	Type     string      `json:"type"`
	Text     *SlackText  `json:"text,omitempty"`
	Fields   []SlackText `json:"fields,omitempty"`
	Elements []SlackText `json:"elements,omitempty"`
}

// SlackText is a text object: plain_text or mrkdwn.
type SlackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// SlackPayload is m as Block Kit. Slack allows 50 blocks; past 10 alerts
// per part the rest are counted, not listed.
func SlackPayload(m Message, link string) SlackMessage {
	md := func(s string) SlackText { return SlackText{Type: "mrkdwn", Text: s} }
	out := SlackMessage{Text: Subject(m)}
	out.Blocks = append(out.Blocks, SlackBlock{Type: "header", Text: &SlackText{Type: "plain_text", Text: Subject(m)}})
	part := func(title string, as []Alert) {
		if len(as) == 0 {
			return
		}
		out.Blocks = append(out.Blocks, SlackBlock{Type: "section", Text: ptr(md("*" + title + "*"))})
		for i, a := range as {
			if i == 10 {
				out.Blocks = append(out.Blocks, SlackBlock{Type: "context", Elements: []SlackText{md(fmt.Sprintf("and %d more", len(as)-10))}})
				break
			}
			text := slackEscape(a.Summary)
			if a.Scope != "" {
				text += " `" + slackEscape(a.Scope) + "`"
			}
			out.Blocks = append(out.Blocks, SlackBlock{Type: "section", Text: ptr(md(text)), Fields: []SlackText{
				md("*Status*\n" + statusWord(a)),
				md("*Value*\n" + optNum(a.Value)),
				md("*Target*\n" + optNum(a.Target)),
				md("*Owner*\n" + slackEscape(cmp.Or(a.Owner, "—"))),
			}})
		}
	}
	part("Firing", m.Firing)
	part("Resolved", m.Resolved)
	ctx := fmt.Sprintf("As of %s", m.At.UTC().Format(time.RFC3339))
	if link != "" {
		ctx += fmt.Sprintf(" · <%s|Open the alerts in Candor>", link)
	}
	out.Blocks = append(out.Blocks, SlackBlock{Type: "divider"}, SlackBlock{Type: "context", Elements: []SlackText{md(ctx)}})
	return out
}

// statusWord is the alert's state with the metric's status, so colour is
// never the only signal.
func statusWord(a Alert) string {
	s := a.State
	if a.Status != "" {
		s += " (" + a.Status + ")"
	}
	return s
}

func optNum(v *float64) string {
	if v == nil {
		return "—"
	}
	return num(*v)
}

func ptr[T any](v T) *T { return &v }

// slackEscape escapes the three characters mrkdwn gives meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
