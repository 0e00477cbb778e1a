package auth

import (
	"context"
	"testing"
	"time"

	"github.com/onairfm/onair"
)

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, "carol", "first password", onair.RoleOwner); err != nil {
		t.Fatal(err)
	}
	keep, _, err := e.svc.Login(ctx, "carol", "first password")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := e.svc.Login(ctx, "carol", "first password")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ChangePassword(ctx, keep, "wrong one!", "second password")
	wantCode(t, err, onair.EForbidden)
	_, err = e.svc.ChangePassword(ctx, keep, "first password", "short")
	wantCode(t, err, onair.EInvalid)
	u, err := e.svc.ChangePassword(ctx, keep, "first password", "second password")
	if err != nil || u.Username != "carol" {
		t.Fatalf("ChangePassword = %+v, %v", u, err)
	}
	if _, err := e.svc.UserByToken(ctx, keep); err != nil {
		t.Fatalf("own session ended: %v", err)
	}
	_, err = e.svc.UserByToken(ctx, other)
	wantCode(t, err, onair.EUnauthorized)
	_, _, err = e.svc.Login(ctx, "carol", "first password")
	wantCode(t, err, onair.EUnauthorized)
	if _, _, err := e.svc.Login(ctx, "carol", "second password"); err != nil {
		t.Fatal(err)
	}
}

func TestDisableAndDeleteUsers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, "root1", "admin password", onair.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, "dave", "dave password", onair.RoleListener); err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.svc.Login(ctx, "dave", "dave password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateUser(ctx, "dave", true, ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.UserByToken(ctx, tok)
	wantCode(t, err, onair.EUnauthorized)
	_, _, err = e.svc.Login(ctx, "dave", "dave password")
	wantCode(t, err, onair.EForbidden)
	_, _, err = e.svc.Login(ctx, "dave", "not his password")
	wantCode(t, err, onair.EUnauthorized) // the disabled state is told only with the password

	// The last admin stays.
	_, err = e.svc.UpdateUser(ctx, "root1", true, "")
	wantCode(t, err, onair.EConflict)
	_, err = e.svc.UpdateUser(ctx, "root1", false, onair.RoleOwner)
	wantCode(t, err, onair.EConflict)
	_, err = e.svc.DeleteUser(ctx, "root1")
	wantCode(t, err, onair.EConflict)

	if _, err := e.svc.DeleteUser(ctx, "dave"); err != nil {
		t.Fatal(err)
	}
	users, err := e.svc.Users(ctx)
	if err != nil || len(users) != 1 || users[0].Username != "root1" {
		t.Fatalf("Users = %+v, %v", users, err)
	}
	_, err = e.svc.DeleteUser(ctx, "dave")
	wantCode(t, err, onair.ENotFound)
}

func TestSetup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, _, err := e.svc.Setup(ctx, "", "boss", "boss password")
	wantCode(t, err, onair.EForbidden) // no token made yet
	tok, ok, err := e.svc.SetupToken(ctx)
	if err != nil || !ok || len(tok) < 40 {
		t.Fatalf("SetupToken = %q, %v, %v", tok, ok, err)
	}
	if again, _, _ := e.svc.SetupToken(ctx); again != tok {
		t.Fatal("setup token changed between calls")
	}
	_, _, err = e.svc.Setup(ctx, tok+"x", "boss", "boss password")
	wantCode(t, err, onair.EForbidden)
	_, _, err = e.svc.Setup(ctx, tok, "boss", "short")
	wantCode(t, err, onair.EInvalid)
	session, u, err := e.svc.Setup(ctx, tok, "boss", "boss password")
	if err != nil || u.Role != onair.RoleAdmin {
		t.Fatalf("Setup = %+v, %v", u, err)
	}
	if got, err := e.svc.UserByToken(ctx, session); err != nil || got.ID != u.ID {
		t.Fatalf("setup session: %+v, %v", got, err)
	}
	_, _, err = e.svc.Setup(ctx, tok, "boss2", "boss password")
	wantCode(t, err, onair.EForbidden)
	if _, ok, _ := e.svc.SetupToken(ctx); ok {
		t.Fatal("setup token offered with an admin present")
	}
}

func TestPurgeExpired(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := e.svc.CreateUser(ctx, "erin", "erin password", onair.RoleListener); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Login(ctx, "erin", "erin password"); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(DefaultSessionTTL + time.Minute)
	reports := make(chan int64, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.svc.PurgeExpired(ctx, time.Hour, func(n int64, err error) {
			if err != nil {
				t.Error(err)
			}
			select {
			case reports <- n:
			default:
			}
		})
	}()
	if n := <-reports; n != 1 {
		t.Fatalf("purged %d sessions, want 1", n)
	}
	cancel()
	<-done
}
