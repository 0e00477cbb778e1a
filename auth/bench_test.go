package auth

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/onairfm/onair"
)

// BenchmarkLogin compares a wrong password with an unknown user at the
// default bcrypt cost: the two should take about as long, so timing does
// not tell which names exist.
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b)
	e.svc.Cost = bcrypt.DefaultCost
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, "alice", "correct horse", onair.RoleOwner); err != nil {
		b.Fatal(err)
	}
	e.svc.dummyHash() // made once per service; not part of a login's cost
	for _, bc := range []struct{ name, user, password string }{
		{"wrong-password", "alice", "wrong horse"},
		{"unknown-user", "nobody", "wrong horse"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := e.svc.Login(ctx, bc.user, bc.password); !errors.Is(err, ErrBadCredentials) {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUserByToken is the check behind every authenticated request.
func BenchmarkUserByToken(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	if _, err := e.svc.Register(ctx, "alice", "password1"); err != nil {
		b.Fatal(err)
	}
	token, _, err := e.svc.Login(ctx, "alice", "password1")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.svc.UserByToken(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}
