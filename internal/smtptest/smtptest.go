// Package smtptest is an in-process SMTP server for tests of what Candor
// mails (alerts, reports): it keeps every message it accepts and demands
// PLAIN authentication as User/Pass, so a test also proves the sender
// authenticates.
package smtptest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The credentials the server accepts.
const (
	User = "user"
	Pass = "secret"
)

// Message is one accepted message: the envelope and the raw data.
type Message struct {
	From string
	To   []string
	Data string
}

// Mailbox keeps the accepted messages.
type Mailbox struct {
	mu   sync.Mutex
	msgs []Message
}

// Messages returns a copy of what was accepted so far, in order.
func (b *Mailbox) Messages() []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Message(nil), b.msgs...)
}

type session struct {
	box  *Mailbox
	auth bool
	cur  Message
}

func (b *Mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{box: b}, nil }
func (s *session) AuthMechanisms() []string                    { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != User || pass != Pass {
			return errors.New("bad credentials")
		}
		s.auth = true
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.auth {
		return smtp.ErrAuthRequired
	}
	s.cur.From = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = string(b)
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, s.cur)
	s.box.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.cur = Message{} }
func (s *session) Logout() error { return nil }

// Start serves on a free local port until the test ends; it returns the
// mailbox and the server's smtp:// URL (with the credentials, no TLS).
func Start(t testing.TB) (*Mailbox, string) {
	t.Helper()
	box := &Mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return box, "smtp://" + User + ":" + Pass + "@" + l.Addr().String() + "?tls=none"
}
