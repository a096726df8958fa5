package domain

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

// badLines is a package's own error type that knows its code.
type badLines struct{}

func (badLines) Error() string   { return "3 invalid records" }
func (badLines) ErrorCode() Code { return EInvalid }

func TestCodeOf(t *testing.T) {
	sentinel := Errorf(ENotFound, "not found")
	cases := []struct {
		name string
		err  error
		want Code
	}{
		{"nil", nil, ""},
		{"a plain error is internal", errors.New("disk on fire"), EInternal},
		{"an Error", Errorf(EConflict, "taken"), EConflict},
		{"a wrapped sentinel", fmt.Errorf("no deployment %q: %w", "d1", sentinel), ENotFound},
		{"a Coder type", fmt.Errorf("body: %w", badLines{}), EInvalid},
		{"joined: the first coded error wins", errors.Join(errors.New("log write failed"), Errorf(EUnauthorized, "wrong password")), EUnauthorized},
		{"an Error wrapping an internal error keeps its own code", Errorf(EInvalid, "line 3: %w", io.ErrUnexpectedEOF), EInvalid},
	}
	for _, tc := range cases {
		if got := CodeOf(tc.err); got != tc.want {
			t.Errorf("%s: CodeOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestErrorfWraps(t *testing.T) {
	e := Errorf(EInvalid, "body.csv:1: %w", io.ErrUnexpectedEOF)
	if !errors.Is(e, io.ErrUnexpectedEOF) {
		t.Error("Errorf with %w does not wrap its cause")
	}
	if e.Error() != "body.csv:1: unexpected EOF" {
		t.Errorf("message %q", e.Error())
	}
	if Errorf(EInvalid, "plain %d", 1).Unwrap() != nil {
		t.Error("Errorf without %w wraps something")
	}
	// A sentinel compares by identity through any wrapping.
	s := Errorf(ENotFound, "not found")
	if !errors.Is(fmt.Errorf("x: %w", s), s) || errors.Is(Errorf(ENotFound, "not found"), s) {
		t.Error("sentinel identity")
	}
}

func TestParamOf(t *testing.T) {
	p := InvalidParam("as_of", "%q is not a date", "yesterday")
	if p.Message != `as_of: "yesterday" is not a date` || p.Code != EInvalid {
		t.Errorf("InvalidParam = %+v", p)
	}
	cases := []struct {
		err  error
		want string
	}{
		{p, "as_of"},
		{fmt.Errorf("reading: %w", p), "as_of"},
		{errors.Join(errors.New("x"), p), "as_of"},
		{Errorf(EInvalid, "no param"), ""},
		{errors.New("plain"), ""},
		{nil, ""},
	}
	for _, tc := range cases {
		if got := ParamOf(tc.err); got != tc.want {
			t.Errorf("ParamOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
