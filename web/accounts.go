package web

import (
	"net/http"
	"strings"

	"github.com/onairfm/onair"
)

type credentialsBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginAnswer struct {
	Token string      `json:"token"`
	User  *onair.User `json:"user"`
}

// login: POST /api/auth/login. The token is in the body for scripts and in
// an HttpOnly cookie for browsers.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	if err := s.rateLimit(w, r); err != nil {
		return err
	}
	var in credentialsBody
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	token, u, err := s.Auth.Login(r.Context(), in.Username, in.Password)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, token)
	writeJSON(w, http.StatusOK, loginAnswer{Token: token, User: u})
	return nil
}

// logout: POST /api/auth/logout ends the session of the cookie or bearer
// token, whichever came, and expires the cookie either way.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	token, _ := credentials(r)
	if err := s.Auth.Logout(r.Context(), token); err != nil {
		return err
	}
	if s.Sessions != nil {
		s.Sessions.EndSession(token)
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// register: POST /api/auth/register creates a listener account.
func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	if err := s.rateLimit(w, r); err != nil {
		return err
	}
	var in credentialsBody
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	u, err := s.Auth.Register(r.Context(), in.Username, in.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

// me: GET /api/me.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	u, err := s.loggedIn(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// createUser: POST /api/users, for admins: any role.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.admin(r, "create accounts"); err != nil {
		return err
	}
	var in struct {
		credentialsBody
		Role onair.Role `json:"role"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	created, err := s.Auth.CreateUser(r.Context(), in.Username, in.Password, in.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, created)
	return nil
}

// admin is loggedIn for the routes only admins may use.
func (s *Server) admin(r *http.Request, what string) (*onair.User, error) {
	u, err := s.loggedIn(r)
	if err != nil {
		return nil, err
	}
	if u.Role != onair.RoleAdmin {
		return nil, onair.Errorf(onair.EForbidden, "only admins may %s", what)
	}
	return u, nil
}

// changePassword: POST /api/auth/password. The caller's own session lives
// on; every other session of the user ends, and their sockets close.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.loggedIn(r); err != nil {
		return err
	}
	if err := s.rateLimit(w, r); err != nil {
		return err
	}
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	token, _ := credentials(r)
	u, err := s.Auth.ChangePassword(r.Context(), token, in.Current, in.New)
	if err != nil {
		return err
	}
	if s.Sessions != nil {
		s.Sessions.EndUser(u.ID, token)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listUsers: GET /api/users, for admins.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.admin(r, "list accounts"); err != nil {
		return err
	}
	users, err := s.Auth.Users(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
	return nil
}

// updateUser: PATCH /api/users/{username} {"disabled":bool,"role"?}, for
// admins. Disabling ends the user's sessions and closes their sockets.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.admin(r, "change accounts"); err != nil {
		return err
	}
	var in struct {
		Disabled *bool      `json:"disabled"`
		Role     onair.Role `json:"role"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	name := r.PathValue("username")
	if in.Disabled == nil {
		cur, err := s.findUser(r, name)
		if err != nil {
			return err
		}
		in.Disabled = &cur.Disabled
	}
	u, err := s.Auth.UpdateUser(r.Context(), name, *in.Disabled, in.Role)
	if err != nil {
		return err
	}
	if u.Disabled && s.Sessions != nil {
		s.Sessions.EndUser(u.ID, "")
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// findUser returns one account by name from the admin's list.
func (s *Server) findUser(r *http.Request, name string) (*onair.User, error) {
	users, err := s.Auth.Users(r.Context())
	if err != nil {
		return nil, err
	}
	for i := range users {
		if strings.EqualFold(users[i].Username, name) {
			return &users[i], nil
		}
	}
	return nil, onair.Errorf(onair.ENotFound, "user %q not found", name)
}

// deleteUser: DELETE /api/users/{username}, for admins.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.admin(r, "delete accounts"); err != nil {
		return err
	}
	u, err := s.Auth.DeleteUser(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	if s.Sessions != nil {
		s.Sessions.EndUser(u.ID, "")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setup: POST /api/setup {"token","username","password"} creates the
// first admin with the setup token from the log, and logs it in: 201 with
// the body and cookie of a login.
func (s *Server) setup(w http.ResponseWriter, r *http.Request) error {
	if err := s.rateLimit(w, r); err != nil {
		return err
	}
	var in struct {
		Token string `json:"token"`
		credentialsBody
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	token, u, err := s.Auth.Setup(r.Context(), in.Token, in.Username, in.Password)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, token)
	writeJSON(w, http.StatusCreated, loginAnswer{Token: token, User: u})
	return nil
}
