package alert

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/candor/candor/internal/outbound"
)

// Envelope is a stored notification's body: the message and, for e-mail,
// its addresses (the rule's recipients or the channel's).
type Envelope struct {
	ID int64 `json:"id"`
	// Origin is the identity of the store that queued the notification:
	// ids count from 1 in every store, so two Candors (production and a
	// staging copy, two organisations) sending to one receiver had sent
	// the same ids, and a receiver dropping repeats by id dropped real
	// messages. A repeat is the same (origin, id).
	Origin  string   `json:"origin,omitempty"`
	Key     string   `json:"key"`
	To      []string `json:"to,omitempty"`
	Message Message  `json:"message"`
}

// Channel delivers notifications. Send must be safe to repeat for the same
// envelope (it carries the notification's id for the receiver to drop a
// repeat): a process that dies between sending and recording the send
// sends it again on restart.
type Channel interface {
	Send(ctx context.Context, e Envelope) error
}

// SignatureHeader carries a webhook body's HMAC-SHA256 under the channel's
// secret, as "sha256=HEX"; IDHeader the notification's id.
const (
	SignatureHeader = "X-Candor-Signature"
	IDHeader        = "X-Candor-Notification"
	OriginHeader    = "X-Candor-Origin"
)

// Sign is the value of SignatureHeader for body.
func Sign(secret, body []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write(body)
	return "sha256=" + hex.EncodeToString(h.Sum(nil))
}

// Webhook posts the envelope as JSON, signed.
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client // a 10 s timeout when nil; its redirects are never followed
}

// Send implements Channel: any status but 2xx is a failure, a redirect
// too (outbound.NoRedirect): it names where it pointed, and is retried as
// any failure is.
func (w Webhook) Send(ctx context.Context, e Envelope) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(IDHeader, strconv.FormatInt(e.ID, 10))
	if e.Origin != "" {
		req.Header.Set(OriginHeader, e.Origin)
	}
	req.Header.Set(SignatureHeader, Sign(w.Secret, body))
	resp, err := outbound.NoRedirect(w.Client).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if err := outbound.Redirected(resp); err != nil {
		return fmt.Errorf("webhook %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// SMTP is a mail server: smtp://[user:pass@]host[:port] uses STARTTLS when
// the server offers it (?tls=required insists, ?tls=none never tries);
// smtps:// is TLS from the start.
type SMTP struct {
	Host       string
	Port       int
	User, Pass string
	TLS        string // opportunistic, required, none, implicit
	From       string
}

// SMTPError is a mail server ParseSMTP refuses: the part at fault, "url"
// or "from", and why. Callers name where that part was set (Where), so the
// part is carried, not read back out of the message.
type SMTPError struct {
	Field, Reason string
}

func (e *SMTPError) Error() string {
	if e.Field == "url" {
		return "smtp url: " + e.Reason
	}
	return "smtp: " + e.Reason
}

// Where names where the part at fault was set: the environment variable
// when it gave it (or, for a missing sender, when the server came from the
// environment too), else alerts.smtp's field ("url" or "from") with no
// variable.
func (e *SMTPError) Where(c SMTPConfig, env func(string) string) (field, variable string) {
	field, value, variable := e.Field, c.URL, "CANDOR_SMTP_URL"
	if field == "from" {
		value, variable = c.From, "CANDOR_SMTP_FROM"
	}
	if env(variable) != "" || value == "" && field == "from" && env("CANDOR_SMTP_URL") != "" {
		return field, variable
	}
	return field, ""
}

// ParseSMTP reads an smtp:// or smtps:// URL; an error is an *SMTPError.
func ParseSMTP(raw, from string) (SMTP, error) {
	bad := func(format string, a ...any) (SMTP, error) {
		return SMTP{}, &SMTPError{Field: "url", Reason: fmt.Sprintf(format, a...)}
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password and all, and the
		// message reaches logs and terminals: only the reason is kept.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return bad("not a URL (%v); write smtp://user:password@host:port, escaping reserved characters in the password (%%40 for @)", err)
	}
	s := SMTP{Host: u.Hostname(), From: from, TLS: "opportunistic", Port: 587}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.TLS, s.Port = "implicit", 465
	default:
		return bad("scheme %q is not smtp or smtps", u.Scheme)
	}
	if s.Host == "" {
		return bad("no host")
	}
	if p := u.Port(); p != "" {
		if s.Port, err = strconv.Atoi(p); err != nil {
			return bad("port %q", p)
		}
	}
	if u.User != nil {
		s.User = u.User.Username()
		s.Pass, _ = u.User.Password()
	}
	switch t := u.Query().Get("tls"); t {
	case "":
	case "required", "none":
		if s.TLS == "implicit" {
			return bad("smtps is always TLS; drop ?tls=")
		}
		s.TLS = t
	default:
		return bad("tls=%q; known: required, none", t)
	}
	if from == "" {
		return SMTP{}, &SMTPError{Field: "from", Reason: "no sender address (smtp.from or CANDOR_SMTP_FROM)"}
	}
	return s, nil
}

// Email sends a plain-text message per envelope.
type Email struct {
	SMTP SMTP
	To   []string // when the envelope names none
	// Link is the alerts page's address, put in the text.
	Link string
}

// Send implements Channel. The Message-ID is derived from the
// notification, so a mail client shows a repeat after a crash as one.
func (m Email) Send(ctx context.Context, e Envelope) error {
	to := e.To
	if len(to) == 0 {
		to = m.To
	}
	if len(to) == 0 {
		return errors.New("no recipient")
	}
	msg := mail.NewMsg()
	if err := msg.From(m.SMTP.From); err != nil {
		return fmt.Errorf("sender: %w", err)
	}
	if err := msg.To(to...); err != nil {
		return fmt.Errorf("recipients: %w", err)
	}
	msg.Subject(Subject(e.Message))
	Automatic(msg)
	msg.SetMessageIDWithValue(messageID(e))
	msg.SetDateWithValue(e.Message.At)
	msg.SetBodyString(mail.TypeTextPlain, Text(e.Message, m.Link))
	return m.SMTP.Deliver(ctx, msg)
}

// Automatic marks msg as sent by a program (RFC 3834), so that vacation
// and out-of-office replies do not answer it: their answers would go to
// the sender address, often a list or a team's inbox, at every alert.
func Automatic(msg *mail.Msg) {
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Auto-Response-Suppress", "All")
}

// messageID is the notification's e-mail Message-ID, the same for a
// repeat of it and no other's: its id and the store it came from.
func messageID(e Envelope) string {
	if e.Origin == "" {
		return fmt.Sprintf("candor-notification-%d@candor", e.ID)
	}
	return fmt.Sprintf("candor-notification-%d.%s@candor", e.ID, e.Origin)
}

// Deliver sends a composed message through the server: alerts and the
// reports (package report) share this one client set-up.
func (s SMTP) Deliver(ctx context.Context, msg *mail.Msg) error {
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTimeout(15 * time.Second)}
	switch s.TLS {
	case "implicit":
		opts = append(opts, mail.WithSSL())
	case "required":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if s.User != "" {
		// Discovery picks the strongest mechanism offered but never PLAIN
		// in the clear; without TLS, PLAIN is what is left, and go-mail
		// still refuses it to any host but localhost.
		auth := mail.SMTPAuthAutoDiscover
		if s.TLS == "none" {
			auth = mail.SMTPAuthPlain
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(s.User), mail.WithPassword(s.Pass))
	}
	c, err := mail.NewClient(s.Host, opts...)
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if errors.Is(err, mail.ErrNoSupportedAuthDiscovered) && s.TLS != "none" {
		// go-mail's words blame the server's mechanisms; what happened is
		// that the password was kept from a connection without TLS.
		return fmt.Errorf("%w: %s offered no TLS (STARTTLS) before sign-in, so the password was not sent in clear; "+
			"use a server with STARTTLS or smtps://, or add ?tls=none to the URL to send it in clear on a network you trust", err, s.Host)
	}
	return err
}

// Subject is a notification's one line.
func Subject(m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[Candor %s] %s:", strings.ToUpper(cmp.Or(m.Severity, "warning")), m.Group)
	if len(m.Firing) > 0 {
		fmt.Fprintf(&b, " %d firing", len(m.Firing))
	}
	if len(m.Resolved) > 0 {
		fmt.Fprintf(&b, " %d resolved", len(m.Resolved))
	}
	if m.Repeat {
		b.WriteString(" (reminder)")
	}
	return b.String()
}

// Text is a notification in plain text.
func Text(m Message, link string) string {
	var b strings.Builder
	line := func(a Alert) {
		fmt.Fprintf(&b, "- %s", a.Summary)
		if a.Scope != "" {
			fmt.Fprintf(&b, " [%s]", a.Scope)
		}
		if a.Owner != "" {
			fmt.Fprintf(&b, " — owner: %s", a.Owner)
		}
		b.WriteString("\n")
	}
	if len(m.Firing) > 0 {
		b.WriteString("Firing:\n")
		for _, a := range m.Firing {
			line(a)
		}
	}
	if len(m.Resolved) > 0 {
		b.WriteString("Resolved:\n")
		for _, a := range m.Resolved {
			line(a)
		}
	}
	fmt.Fprintf(&b, "\nAs of %s.\n", m.At.UTC().Format(time.RFC3339))
	if link != "" {
		fmt.Fprintf(&b, "Alerts: %s\n", link)
	}
	return b.String()
}
