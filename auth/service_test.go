package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
	"github.com/onairfm/onair/store"
)

// recordingStore is the real store, noting the session keys it is given.
type recordingStore struct {
	*store.DB
	mu     sync.Mutex
	hashes []string
}

func (r *recordingStore) CreateSession(ctx context.Context, tokenHash string, userID int64, expires time.Time) error {
	r.mu.Lock()
	r.hashes = append(r.hashes, tokenHash)
	r.mu.Unlock()
	return r.DB.CreateSession(ctx, tokenHash, userID, expires)
}

type env struct {
	svc *Service
	db  *store.DB
	rec *recordingStore
	clk *testutil.Clock
}

// newEnv is a Service on a real store in a temporary directory, both on
// one injected clock, with the cheapest bcrypt cost.
func newEnv(t testing.TB) *env {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := testutil.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	db.Now = clk.Now
	rec := &recordingStore{DB: db}
	return &env{
		svc: &Service{Store: rec, Now: clk.Now, Cost: bcrypt.MinCost},
		db:  db, rec: rec, clk: clk,
	}
}

func wantCode(t *testing.T, err error, code onair.Code) {
	t.Helper()
	if got := onair.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	created, err := e.svc.CreateUser(ctx, "Alice", "correct horse", onair.RoleOwner)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Alice", "alice"} { // names are case-insensitive
		token, u, err := e.svc.Login(ctx, name, "correct horse")
		if err != nil {
			t.Fatalf("Login(%q): %v", name, err)
		}
		if token == "" || u.ID != created.ID || u.Username != "Alice" || u.Role != onair.RoleOwner {
			t.Errorf("Login(%q) = %q, %+v", name, token, u)
		}
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	long := strings.Repeat("p", MaxPasswordBytes)
	if _, err := e.svc.CreateUser(ctx, "alice", "correct horse", onair.RoleOwner); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, "longpw", long, onair.RoleOwner); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, user, password string }{
		{"wrong password", "alice", "wrong horse"},
		{"password case", "alice", "Correct horse"},
		{"empty password", "alice", ""},
		{"unknown user", "bob", "correct horse"},
		{"empty user", "", "correct horse"},
		// bcrypt reads only 72 bytes; a longer password must not pass on
		// its prefix.
		{"past 72 bytes", "longpw", long + "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token, u, err := e.svc.Login(ctx, tc.user, tc.password)
			if !errors.Is(err, ErrBadCredentials) || token != "" || u != nil {
				t.Fatalf("Login = %q, %v, %v; want ErrBadCredentials", token, u, err)
			}
			wantCode(t, err, onair.EUnauthorized)
			if msg := onair.ErrorMessage(err); msg != "invalid username or password" {
				t.Errorf("message = %q", msg)
			}
		})
	}
	if n := len(e.rec.hashes); n != 0 {
		t.Errorf("%d sessions created by failed logins", n)
	}
}

// TestUnknownUserCostsABcrypt checks the timing defence: a login for a
// name that does not exist still checks a hash of the service's cost.
func TestUnknownUserCostsABcrypt(t *testing.T) {
	e := newEnv(t)
	e.svc.Cost = bcrypt.MinCost + 1
	if e.svc.dummy != nil {
		t.Fatal("dummy hash made before any login")
	}
	_, _, err := e.svc.Login(context.Background(), "nobody", "whatever1")
	if !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("Login = %v", err)
	}
	if e.svc.dummy == nil {
		t.Fatal("unknown user: no hash was checked")
	}
	if c, err := bcrypt.Cost(e.svc.dummy); err != nil || c != e.svc.Cost {
		t.Errorf("dummy hash cost = %d, %v; want %d", c, err, e.svc.Cost)
	}
}

func TestTokenWorksUntilLogout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Register(ctx, "carol", "password1"); err != nil {
		t.Fatal(err)
	}
	token, _, err := e.svc.Login(ctx, "carol", "password1")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := e.svc.Login(ctx, "carol", "password1")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		u, err := e.svc.UserByToken(ctx, token)
		if err != nil || u.Username != "carol" {
			t.Fatalf("UserByToken = %+v, %v", u, err)
		}
	}
	if err := e.svc.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.UserByToken(ctx, token)
	if !errors.Is(err, ErrNoSession) {
		t.Fatalf("after logout: %v, want ErrNoSession", err)
	}
	wantCode(t, err, onair.EUnauthorized)
	if _, err := e.svc.UserByToken(ctx, other); err != nil {
		t.Errorf("logout ended the user's other session too: %v", err)
	}
	if err := e.svc.Logout(ctx, token); err != nil {
		t.Errorf("second logout: %v", err)
	}
	if err := e.svc.Logout(ctx, ""); err != nil {
		t.Errorf("logout without token: %v", err)
	}
	for _, bad := range []string{"", "not-a-token", other + "x", strings.ToUpper(other)} {
		if _, err := e.svc.UserByToken(ctx, bad); !errors.Is(err, ErrNoSession) {
			t.Errorf("UserByToken(%q) = %v, want ErrNoSession", bad, err)
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	for _, tc := range []struct {
		name string
		ttl  time.Duration
		want time.Duration
	}{
		{"default 30 days", 0, 30 * 24 * time.Hour},
		{"one hour", time.Hour, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.svc.SessionTTL = tc.ttl
			ctx := context.Background()
			if _, err := e.svc.Register(ctx, "dave", "password1"); err != nil {
				t.Fatal(err)
			}
			token, _, err := e.svc.Login(ctx, "dave", "password1")
			if err != nil {
				t.Fatal(err)
			}
			e.clk.Add(tc.want - time.Millisecond)
			if _, err := e.svc.UserByToken(ctx, token); err != nil {
				t.Fatalf("expired early: %v", err)
			}
			e.clk.Add(time.Millisecond)
			if _, err := e.svc.UserByToken(ctx, token); !errors.Is(err, ErrNoSession) {
				t.Fatalf("at expiry: %v, want ErrNoSession", err)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u, err := e.svc.Register(ctx, "bob", "password1")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != onair.RoleListener || u.Username != "bob" || u.ID == 0 {
		t.Errorf("registered %+v", u)
	}
	for _, name := range []string{"bob", "BOB", "Bob"} {
		_, err := e.svc.Register(ctx, name, "password2")
		wantCode(t, err, onair.EConflict)
	}
	// The first account is intact.
	if _, _, err := e.svc.Login(ctx, "bob", "password1"); err != nil {
		t.Errorf("login after conflicts: %v", err)
	}
}

func TestCreateUserValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, user, password string
		role                 onair.Role
		want                 string // in the message; "" means accepted
	}{
		{"plain", "eve", "password1", onair.RoleOwner, ""},
		{"all allowed characters", "a1_b-c.D", "password1", onair.RoleOwner, ""},
		{"digit first", "9lives", "password1", onair.RoleOwner, ""},
		{"32 characters", strings.Repeat("x", 32), "password1", onair.RoleOwner, ""},
		{"8 character password", "frank", "12345678", onair.RoleOwner, ""},
		{"8 runes, 16 bytes", "grace", "пароль12", onair.RoleListener, ""},
		{"72 byte password", "heidi", strings.Repeat("€", 24), onair.RoleAdmin, ""},
		{"empty name", "", "password1", onair.RoleOwner, "required"},
		{"two characters", "ab", "password1", onair.RoleOwner, "3 to 32"},
		{"33 characters", strings.Repeat("x", 33), "password1", onair.RoleOwner, "3 to 32"},
		{"underscore first", "_ivan", "password1", onair.RoleOwner, "start with a letter or digit"},
		{"dot first", ".ivan", "password1", onair.RoleOwner, "start with a letter or digit"},
		{"space", "iv an", "password1", onair.RoleOwner, "only letters"},
		{"slash", "iv/an", "password1", onair.RoleOwner, "only letters"},
		{"non-ASCII", "ivän", "password1", onair.RoleOwner, "only letters"},
		{"7 character password", "judy", "1234567", onair.RoleOwner, "at least 8"},
		{"empty password", "judy", "", onair.RoleOwner, "at least 8"},
		{"73 byte password", "judy", strings.Repeat("a", 73), onair.RoleOwner, "at most 72 bytes"},
		{"25 euro signs", "judy", strings.Repeat("€", 25), onair.RoleOwner, "at most 72 bytes"},
		{"unknown role", "judy", "password1", "root", "role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := e.svc.CreateUser(ctx, tc.user, tc.password, tc.role)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if _, _, err := e.svc.Login(ctx, tc.user, tc.password); err != nil {
					t.Errorf("cannot log in: %v", err)
				}
				if u.Role != tc.role {
					t.Errorf("role = %q, want %q", u.Role, tc.role)
				}
				return
			}
			wantCode(t, err, onair.EInvalid)
			if msg := onair.ErrorMessage(err); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not contain %q", msg, tc.want)
			}
		})
	}
}

func TestEnsureAdmin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admins := func() int {
		t.Helper()
		n, err := e.db.CountAdmins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	created, err := e.svc.EnsureAdmin(ctx, "")
	if err != nil || created || admins() != 0 {
		t.Fatalf("empty password: created=%v err=%v admins=%d; want nothing done", created, err, admins())
	}
	created, err = e.svc.EnsureAdmin(ctx, "short") // weak, but the operator's choice
	if err != nil || !created {
		t.Fatalf("EnsureAdmin = %v, %v; want created", created, err)
	}
	created, err = e.svc.EnsureAdmin(ctx, "another password")
	if err != nil || created {
		t.Fatalf("second EnsureAdmin = %v, %v; want nothing done", created, err)
	}
	if n := admins(); n != 1 {
		t.Fatalf("%d admins, want 1", n)
	}
	_, u, err := e.svc.Login(ctx, "admin", "short")
	if err != nil || u.Role != onair.RoleAdmin {
		t.Fatalf("admin login = %+v, %v", u, err)
	}
	if _, _, err := e.svc.Login(ctx, "admin", "another password"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("second call changed the password: %v", err)
	}
}

func TestEnsureAdminOtherAdminExists(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, "root", "password1", onair.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	created, err := e.svc.EnsureAdmin(ctx, "password2")
	if err != nil || created {
		t.Fatalf("EnsureAdmin = %v, %v; want nothing done", created, err)
	}
	if _, _, err := e.db.UserByUsername(ctx, "admin"); onair.ErrorCode(err) != onair.ENotFound {
		t.Errorf("user admin was created beside an existing admin: %v", err)
	}
}

func TestEnsureAdminNameTakenByNonAdmin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, "Admin", "password1", onair.RoleOwner); err != nil {
		t.Fatal(err)
	}
	created, err := e.svc.EnsureAdmin(ctx, "password2")
	if created {
		t.Fatal("created an admin")
	}
	wantCode(t, err, onair.EConflict)
	if msg := onair.ErrorMessage(err); !strings.Contains(msg, `role "owner"`) {
		t.Errorf("message %q does not say the existing user's role", msg)
	}
	if n, _ := e.db.CountAdmins(ctx); n != 0 {
		t.Errorf("%d admins, want 0", n)
	}
}

func TestEnsureAdminTooLongPassword(t *testing.T) {
	e := newEnv(t)
	created, err := e.svc.EnsureAdmin(context.Background(), strings.Repeat("a", 73))
	if created {
		t.Fatal("created an admin")
	}
	wantCode(t, err, onair.EInvalid)
}

func TestStoredValueIsNotTheToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Register(ctx, "kim", "password1"); err != nil {
		t.Fatal(err)
	}
	token, _, err := e.svc.Login(ctx, "kim", "password1")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.rec.hashes) != 1 {
		t.Fatalf("%d sessions stored, want 1", len(e.rec.hashes))
	}
	stored := e.rec.hashes[0]
	if stored == token || strings.Contains(stored, token) {
		t.Fatalf("the store was given the token itself")
	}
	if stored != hashToken(token) || len(stored) != 64 {
		t.Errorf("stored %q, want the SHA-256 hex of the token", stored)
	}
	// The raw token is no key in the store; only its hash is.
	if _, err := e.db.UserBySession(ctx, token); onair.ErrorCode(err) != onair.ENotFound {
		t.Errorf("the raw token finds a session: %v", err)
	}
	if _, err := e.db.UserBySession(ctx, stored); err != nil {
		t.Errorf("the stored hash finds no session: %v", err)
	}
}

func TestZeroServiceHasNoStore(t *testing.T) {
	var s Service
	ctx := context.Background()
	if _, _, err := s.Login(ctx, "a", "b"); !errors.Is(err, ErrNoStore) {
		t.Errorf("Login: %v", err)
	}
	if _, err := s.UserByToken(ctx, "t"); !errors.Is(err, ErrNoStore) {
		t.Errorf("UserByToken: %v", err)
	}
	if err := s.Logout(ctx, "t"); !errors.Is(err, ErrNoStore) {
		t.Errorf("Logout: %v", err)
	}
	if _, err := s.Register(ctx, "abc", "password1"); !errors.Is(err, ErrNoStore) {
		t.Errorf("Register: %v", err)
	}
	if _, err := s.EnsureAdmin(ctx, "pw"); !errors.Is(err, ErrNoStore) {
		t.Errorf("EnsureAdmin: %v", err)
	}
}
