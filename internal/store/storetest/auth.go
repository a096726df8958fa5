package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/candor/candor/internal/store"
)

// accessEvents returns the bodies of the access events, oldest first.
func accessEvents(t *testing.T, s store.Store) []string {
	t.Helper()
	ds := docs(t, s, store.AccessCollection, 0)
	out := make([]string, len(ds))
	for i, d := range ds {
		out[len(ds)-1-i] = string(d.Body)
	}
	return out
}

func wantEvents(t *testing.T, s store.Store, want ...string) {
	t.Helper()
	got := accessEvents(t, s)
	if len(want) == 0 {
		want = []string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("access events = %q, want %q", got, want)
	}
}

func createUser(t *testing.T, s store.Store, email string, roles ...string) store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), store.User{
		Email: email, Name: "N " + email, Roles: roles, PasswordHash: "$argon2id$" + email,
		CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC),
	}, []byte(`{"type":"user_created","subject":"`+email+`"}`))
	if err != nil {
		t.Fatalf("CreateUser %s: %v", email, err)
	}
	return u
}

func createToken(t *testing.T, s store.Store, name, lookup string, owner int64, roles ...string) store.Token {
	t.Helper()
	tok, err := s.CreateToken(context.Background(), store.Token{
		Name: name, Lookup: lookup, Hash: "hash-" + lookup, Roles: roles, OwnerID: owner,
		CreatedBy: "cli:root", CreatedAt: time.Date(2026, 3, 2, 9, 0, 0, 5, time.UTC),
	}, []byte(`{"type":"token_created","subject":"`+name+`"}`))
	if err != nil {
		t.Fatalf("CreateToken %s: %v", name, err)
	}
	return tok
}

// sameInstant compares times as instants stored to the nanosecond and
// returned in UTC.
func sameInstant(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) || (!got.IsZero() && got.Location() != time.UTC) {
		t.Errorf("%s = %v, want %v in UTC", what, got, want)
	}
}

// runAuth is the contract of users, sessions and tokens (store.AuthStore).
func runAuth(t *testing.T, open Factory, o options) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)

	t.Run("Users", func(t *testing.T) {
		s := open(t)
		if us, err := s.Users(ctx); err != nil || len(us) != 0 {
			t.Fatalf("empty store: Users = %v, %v", us, err)
		}
		b := createUser(t, s, "bob@example.com", "engineering")
		a := createUser(t, s, "ann@example.com", "admin", "executive")
		if a.ID <= 0 || b.ID <= 0 || a.ID == b.ID {
			t.Fatalf("ids %d, %d", a.ID, b.ID)
		}
		got, err := s.UserByEmail(ctx, "ann@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a.ID || got.Email != "ann@example.com" || got.Name != "N ann@example.com" ||
			!reflect.DeepEqual(got.Roles, []string{"admin", "executive"}) || got.PasswordHash != "$argon2id$ann@example.com" || got.Disabled() {
			t.Errorf("UserByEmail = %+v", got)
		}
		sameInstant(t, "created_at", got.CreatedAt, t0)
		byID, err := s.UserByID(ctx, b.ID)
		if err != nil || byID.Email != "bob@example.com" || !reflect.DeepEqual(byID.Roles, []string{"engineering"}) {
			t.Errorf("UserByID = %+v, %v", byID, err)
		}
		// Byte for byte: normalising is the caller's job.
		if _, err := s.UserByEmail(ctx, "Ann@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserByEmail of another spelling: err = %v, want ErrNotFound", err)
		}
		if _, err := s.UserByID(ctx, a.ID+b.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserByID of no user: err = %v, want ErrNotFound", err)
		}
		us, err := s.Users(ctx)
		if err != nil || len(us) != 2 || us[0].Email != "ann@example.com" || us[1].Email != "bob@example.com" {
			t.Errorf("Users = %+v, %v; want ann then bob", us, err)
		}

		// A second user with the address: a conflict, and neither the user
		// nor the event is kept.
		_, err = s.CreateUser(ctx, store.User{Email: "ann@example.com", Roles: []string{"auditor"}, PasswordHash: "x", CreatedAt: t0}, []byte(`{"dup":true}`))
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate e-mail: err = %v, want ErrConflict", err)
		}
		if got, _ := s.UserByEmail(ctx, "ann@example.com"); !reflect.DeepEqual(got.Roles, []string{"admin", "executive"}) {
			t.Errorf("the refused user changed the first: %+v", got)
		}

		if err := s.SetUserRoles(ctx, b.ID, []string{"support", "vp_cs"}, []byte(`{"type":"roles_changed"}`)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserByID(ctx, b.ID); !reflect.DeepEqual(got.Roles, []string{"support", "vp_cs"}) {
			t.Errorf("roles after SetUserRoles = %v", got.Roles)
		}
		if err := s.SetUserRoles(ctx, a.ID+b.ID, []string{"admin"}, []byte(`{"nobody":true}`)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetUserRoles of no user: err = %v, want ErrNotFound", err)
		}
		wantEvents(t, s,
			`{"type":"user_created","subject":"bob@example.com"}`,
			`{"type":"user_created","subject":"ann@example.com"}`,
			`{"type":"roles_changed"}`)
	})

	t.Run("Sessions", func(t *testing.T) {
		s := open(t)
		u := createUser(t, s, "ann@example.com", "ceo")
		sess := store.Session{Hash: "h1", UserID: u.ID, CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(24 * time.Hour), Client: "192.0.2.7"}
		if err := s.CreateSession(ctx, sess, []byte(`{"type":"sign_in"}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSession(ctx, store.Session{Hash: "h2", UserID: u.ID, CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(time.Hour)}, nil); err != nil {
			t.Fatal(err)
		}
		// A session of no user is refused, with its event.
		if err := s.CreateSession(ctx, store.Session{Hash: "h3", UserID: u.ID + 100, CreatedAt: t0, LastSeen: t0, ExpiresAt: t0}, []byte(`{"orphan":true}`)); err == nil {
			t.Error("a session of no user was stored")
		}
		got, gu, err := s.SessionUser(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Hash != "h1" || got.UserID != u.ID || got.Client != "192.0.2.7" || gu.Email != "ann@example.com" || !reflect.DeepEqual(gu.Roles, []string{"ceo"}) {
			t.Errorf("SessionUser = %+v, %+v", got, gu)
		}
		sameInstant(t, "created_at", got.CreatedAt, t0)
		sameInstant(t, "expires_at", got.ExpiresAt, t0.Add(24*time.Hour))
		if _, _, err := s.SessionUser(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SessionUser of no session: err = %v, want ErrNotFound", err)
		}

		// Touch moves forward only.
		later := t0.Add(90 * time.Minute)
		if err := s.TouchSession(ctx, "h1", later); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchSession(ctx, "h1", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchSession(ctx, "gone", later); err != nil {
			t.Errorf("TouchSession of no session: %v", err)
		}
		got, _, _ = s.SessionUser(ctx, "h1")
		sameInstant(t, "last_seen", got.LastSeen, later)

		if err := s.DeleteSession(ctx, "h1", []byte(`{"type":"sign_out"}`)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionUser(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted session: err = %v, want ErrNotFound", err)
		}
		if err := s.DeleteSession(ctx, "h1", []byte(`{"again":true}`)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second DeleteSession: err = %v, want ErrNotFound", err)
		}

		// Prune: expired at or before now, or idle since before idleSince.
		for _, x := range []store.Session{
			{Hash: "expired", ExpiresAt: t0.Add(time.Hour), LastSeen: t0.Add(50 * time.Minute)},
			{Hash: "idle", ExpiresAt: t0.Add(48 * time.Hour), LastSeen: t0.Add(-time.Minute)},
			{Hash: "idle-just", ExpiresAt: t0.Add(48 * time.Hour), LastSeen: t0},
			{Hash: "live", ExpiresAt: t0.Add(48 * time.Hour), LastSeen: t0.Add(30 * time.Minute)},
		} {
			x.UserID, x.CreatedAt = u.ID, t0.Add(-time.Hour)
			if err := s.CreateSession(ctx, x, nil); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.PruneSessions(ctx, t0.Add(time.Hour), t0)
		if err != nil || n != 4 { // expired, idle, idle-just (at idleSince) and h2 (expired at now exactly)
			t.Errorf("PruneSessions = %d, %v; want 4", n, err)
		}
		for hash, want := range map[string]bool{"expired": false, "idle": false, "idle-just": false, "h2": false, "live": true} {
			if _, _, err := s.SessionUser(ctx, hash); (err == nil) != want {
				t.Errorf("after prune, session %s: err = %v, want kept %v", hash, err, want)
			}
		}
		wantEvents(t, s, `{"type":"user_created","subject":"ann@example.com"}`, `{"type":"sign_in"}`, `{"type":"sign_out"}`)
	})

	t.Run("Tokens", func(t *testing.T) {
		s := open(t)
		u := createUser(t, s, "ann@example.com", "admin", "ingest")
		ci := createToken(t, s, "ci", "look1", 0, "ingest")
		mine := createToken(t, s, "mine", "look2", u.ID, "ingest")
		if ci.ID <= 0 || mine.ID <= ci.ID {
			t.Fatalf("ids %d, %d", ci.ID, mine.ID)
		}
		got, err := s.TokenByLookup(ctx, "look2")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != mine.ID || got.Name != "mine" || got.Hash != "hash-look2" || got.OwnerID != u.ID || got.OwnerEmail != "ann@example.com" ||
			got.CreatedBy != "cli:root" || !reflect.DeepEqual(got.Roles, []string{"ingest"}) || got.Revoked() || !got.LastUsed.IsZero() {
			t.Errorf("TokenByLookup = %+v", got)
		}
		sameInstant(t, "created_at", got.CreatedAt, time.Date(2026, 3, 2, 9, 0, 0, 5, time.UTC))
		if _, err := s.TokenByLookup(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TokenByLookup of no token: err = %v, want ErrNotFound", err)
		}

		// One active token per name.
		_, err = s.CreateToken(ctx, store.Token{Name: "ci", Lookup: "look3", Hash: "h", Roles: []string{"ingest"}, CreatedBy: "x", CreatedAt: t0}, []byte(`{"dup":true}`))
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second active token named ci: err = %v, want ErrConflict", err)
		}

		used := t0.Add(5 * time.Hour)
		if err := s.TouchToken(ctx, ci.ID, used); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchToken(ctx, ci.ID, t0); err != nil {
			t.Fatal(err)
		}
		revoked := t0.Add(6 * time.Hour)
		if err := s.RevokeToken(ctx, ci.ID, revoked, []byte(`{"type":"token_revoked"}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeToken(ctx, ci.ID, revoked.Add(time.Hour), []byte(`{"again":true}`)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoking a revoked token: err = %v, want ErrNotFound", err)
		}
		if err := s.RevokeToken(ctx, mine.ID+100, revoked, []byte(`{"none":true}`)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoking no token: err = %v, want ErrNotFound", err)
		}
		// The name is free again once revoked.
		ci2 := createToken(t, s, "ci", "look4", 0, "ingest", "auditor")

		all, err := s.Tokens(ctx)
		if err != nil || len(all) != 3 {
			t.Fatalf("Tokens = %+v, %v", all, err)
		}
		if all[0].ID != ci.ID || all[1].ID != mine.ID || all[2].ID != ci2.ID {
			t.Errorf("Tokens not in id order: %d %d %d", all[0].ID, all[1].ID, all[2].ID)
		}
		sameInstant(t, "last_used", all[0].LastUsed, used)
		sameInstant(t, "revoked_at", all[0].RevokedAt, revoked)
		if all[2].Revoked() || !reflect.DeepEqual(all[2].Roles, []string{"ingest", "auditor"}) || all[2].OwnerEmail != "" || all[1].OwnerEmail != "ann@example.com" {
			t.Errorf("Tokens = %+v", all)
		}
		wantEvents(t, s,
			`{"type":"user_created","subject":"ann@example.com"}`,
			`{"type":"token_created","subject":"ci"}`,
			`{"type":"token_created","subject":"mine"}`,
			`{"type":"token_revoked"}`,
			`{"type":"token_created","subject":"ci"}`)
	})

	t.Run("DisableUser", func(t *testing.T) {
		s := open(t)
		ann := createUser(t, s, "ann@example.com", "admin")
		bob := createUser(t, s, "bob@example.com", "admin")
		for i, owner := range []int64{ann.ID, ann.ID, bob.ID} {
			sess := store.Session{Hash: fmt.Sprintf("s%d", i), UserID: owner, CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(time.Hour)}
			if err := s.CreateSession(ctx, sess, nil); err != nil {
				t.Fatal(err)
			}
		}
		createToken(t, s, "ann1", "l1", ann.ID, "admin")
		createToken(t, s, "bob1", "l2", bob.ID, "admin")
		createToken(t, s, "svc", "l3", 0, "ingest")
		old := createToken(t, s, "ann-old", "l4", ann.ID, "admin")
		if err := s.RevokeToken(ctx, old.ID, t0, nil); err != nil {
			t.Fatal(err)
		}
		createToken(t, s, "ann2", "l5", ann.ID, "admin")

		// Each token revoked appends its own event, after the user's, in
		// id order.
		revoked := func(tok store.Token) []byte {
			if tok.ID == 0 {
				t.Errorf("a revoked token without its id: %+v", tok)
			}
			return []byte(`{"type":"token_revoked","subject":"` + tok.Name + `","lookup":"` + tok.Lookup + `"}`)
		}
		at := t0.Add(2 * time.Hour)
		ns, nt, err := s.DisableUser(ctx, ann.ID, at, []byte(`{"type":"user_disabled"}`), revoked)
		if err != nil {
			t.Fatal(err)
		}
		if ns != 2 || nt != 2 {
			t.Errorf("DisableUser ended %d sessions and %d tokens, want 2 and 2", ns, nt)
		}
		got, _ := s.UserByID(ctx, ann.ID)
		if !got.Disabled() {
			t.Error("user not disabled")
		}
		sameInstant(t, "disabled_at", got.DisabledAt, at)
		for hash, want := range map[string]bool{"s0": false, "s1": false, "s2": true} {
			if _, _, err := s.SessionUser(ctx, hash); (err == nil) != want {
				t.Errorf("session %s: err = %v, want kept %v", hash, err, want)
			}
		}
		for _, lookup := range []string{"l1", "l2", "l3", "l4", "l5"} {
			tok, _ := s.TokenByLookup(ctx, lookup)
			if want := lookup == "l1" || lookup == "l4" || lookup == "l5"; tok.Revoked() != want {
				t.Errorf("token %s revoked %v, want %v", tok.Name, tok.Revoked(), want)
			}
			if lookup == "l1" {
				sameInstant(t, "revoked_at", tok.RevokedAt, at)
			}
			if lookup == "l4" {
				sameInstant(t, "revoked_at of an earlier revocation", tok.RevokedAt, t0)
			}
		}
		// Disabling again keeps the first time and ends nothing more.
		ns, nt, err = s.DisableUser(ctx, ann.ID, at.Add(time.Hour), nil, revoked)
		if err != nil || ns != 0 || nt != 0 {
			t.Errorf("second DisableUser = %d, %d, %v", ns, nt, err)
		}
		if got, _ := s.UserByID(ctx, ann.ID); !got.DisabledAt.Equal(at) {
			t.Errorf("disabled_at moved to %v", got.DisabledAt)
		}
		if _, _, err := s.DisableUser(ctx, ann.ID+bob.ID, at, []byte(`{"none":true}`), revoked); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DisableUser of no user: err = %v, want ErrNotFound", err)
		}
		events := []string{
			`{"type":"user_created","subject":"ann@example.com"}`,
			`{"type":"user_created","subject":"bob@example.com"}`,
			`{"type":"token_created","subject":"ann1"}`,
			`{"type":"token_created","subject":"bob1"}`,
			`{"type":"token_created","subject":"svc"}`,
			`{"type":"token_created","subject":"ann-old"}`,
			`{"type":"token_created","subject":"ann2"}`,
			`{"type":"user_disabled"}`,
			`{"type":"token_revoked","subject":"ann1","lookup":"l1"}`,
			`{"type":"token_revoked","subject":"ann2","lookup":"l5"}`,
		}
		wantEvents(t, s, events...)

		// Enabling lets the user sign in again; what disabling ended
		// stays ended.
		if err := s.EnableUser(ctx, ann.ID, []byte(`{"type":"user_enabled"}`)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserByID(ctx, ann.ID); got.Disabled() {
			t.Errorf("user still disabled at %v", got.DisabledAt)
		}
		if tok, _ := s.TokenByLookup(ctx, "l1"); !tok.Revoked() {
			t.Error("enabling the owner brought a revoked token back")
		}
		if _, _, err := s.SessionUser(ctx, "s0"); err == nil {
			t.Error("enabling the user brought an ended session back")
		}
		// Enabling an active user, or no user, changes nothing and
		// appends nothing.
		for _, id := range []int64{ann.ID, bob.ID, ann.ID + bob.ID} {
			if err := s.EnableUser(ctx, id, []byte(`{"none":true}`)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("EnableUser(%d) of no disabled user: err = %v, want ErrNotFound", id, err)
			}
		}
		// And the user can be disabled again, at a new time.
		if _, _, err := s.DisableUser(ctx, ann.ID, at.Add(2*time.Hour), nil, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserByID(ctx, ann.ID); !got.DisabledAt.Equal(at.Add(2 * time.Hour)) {
			t.Errorf("disabled again at %v, want %v", got.DisabledAt, at.Add(2*time.Hour))
		}
		wantEvents(t, s, append(events, `{"type":"user_enabled"}`)...)
	})

	t.Run("AuthSurvivesReopen", func(t *testing.T) {
		if o.reopen == nil {
			t.Skip("no Reopen option")
		}
		s := open(t)
		u := createUser(t, s, "ann@example.com", "auditor")
		createToken(t, s, "ci", "look", 0, "ingest")
		if err := s.CreateSession(ctx, store.Session{Hash: "h", UserID: u.ID, CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(time.Hour)}, nil); err != nil {
			t.Fatal(err)
		}
		s = o.reopen(t, s)
		if _, gu, err := s.SessionUser(ctx, "h"); err != nil || gu.Email != "ann@example.com" {
			t.Errorf("session after reopen: %+v, %v", gu, err)
		}
		if tok, err := s.TokenByLookup(ctx, "look"); err != nil || tok.Name != "ci" {
			t.Errorf("token after reopen: %+v, %v", tok, err)
		}
		if len(accessEvents(t, s)) != 2 {
			t.Errorf("events after reopen: %q", accessEvents(t, s))
		}
	})
}
