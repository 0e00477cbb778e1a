package web

import (
	"net/http"

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
	clearSessionCookie(w, r)
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
	u, err := s.user(r)
	switch {
	case err != nil:
		return err
	case u == nil:
		return errNoLogin
	case u.Role != onair.RoleAdmin:
		return onair.Errorf(onair.EForbidden, "only admins may create accounts")
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
