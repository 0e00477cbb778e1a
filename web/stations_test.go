package web

import (
	"net/http"
	"testing"
)

func TestStationLifecycle(t *testing.T) {
	e := newEnv(t)

	resp, body := e.as("owner", "POST", "/api/stations", map[string]string{
		"name": "Jazz Hour", "slug": "jazz", "description": "Smooth", "genre": "Jazz",
	})
	st := checkStation(t, want(t, resp, body, http.StatusCreated))
	for k, v := range map[string]any{
		"slug": "jazz", "name": "Jazz Hour", "description": "Smooth", "genre": "Jazz", "owner": "owner",
		"live": false, "now_playing": nil, "show": "", "shuffle": false, "loop": true, "likes": 0.0,
	} {
		if st[k] != v {
			t.Errorf("new station %s = %v, want %v", k, st[k], v)
		}
	}
	if l := st["listeners"].(map[string]any); l["total"] != 0.0 || l["http"] != 0.0 || l["webrtc"] != 0.0 {
		t.Errorf("offline listeners %v, want zeros", l)
	}
	checkTime(t, "created_at", st["created_at"])

	// A slug is made from the name when none is given.
	resp, body = e.as("admin", "POST", "/api/stations", map[string]string{"name": "Night Owls!"})
	if got := want(t, resp, body, http.StatusCreated)["slug"]; got != "night-owls" {
		t.Errorf("slug %v, want night-owls", got)
	}

	resp, body = e.as("", "GET", "/api/stations", nil)
	list := objects(t, want(t, resp, body, http.StatusOK), "stations")
	slugs := map[string]bool{}
	for _, s := range list {
		checkStation(t, s)
		slugs[s["slug"].(string)] = true
	}
	if len(list) != 3 || !slugs["jazz"] || !slugs["night-owls"] || !slugs[e.slug] {
		t.Errorf("list %v", slugs)
	}

	resp, body = e.as("", "GET", "/api/stations/jazz", nil)
	if got := checkStation(t, want(t, resp, body, http.StatusOK)); got["name"] != "Jazz Hour" {
		t.Errorf("get: %v", got)
	}

	resp, body = e.as("owner", "PATCH", "/api/stations/jazz", map[string]any{
		"name": "Jazz Hours", "genre": "Bebop", "shuffle": true, "loop": false,
	})
	st = checkStation(t, want(t, resp, body, http.StatusOK))
	for k, v := range map[string]any{"name": "Jazz Hours", "genre": "Bebop", "description": "Smooth", "shuffle": true, "loop": false} {
		if st[k] != v {
			t.Errorf("patched %s = %v, want %v", k, st[k], v)
		}
	}
	// An admin may change anyone's station.
	resp, body = e.as("admin", "PATCH", "/api/stations/jazz", map[string]any{"description": "By the admin"})
	if got := want(t, resp, body, http.StatusOK)["description"]; got != "By the admin" {
		t.Errorf("description %v", got)
	}

	resp, body = e.as("owner", "DELETE", "/api/stations/jazz", nil)
	want(t, resp, body, http.StatusNoContent)
	resp, body = e.as("", "GET", "/api/stations/jazz", nil)
	wantError(t, resp, body, http.StatusNotFound)
}

func TestStationPermissions(t *testing.T) {
	e := newEnv(t)
	path := "/api/stations/" + e.slug
	for _, c := range []struct {
		user   string
		status int
	}{{"", http.StatusUnauthorized}, {"listener", http.StatusForbidden}, {"other", http.StatusForbidden}} {
		resp, body := e.as(c.user, "PATCH", path, map[string]string{"name": "Hijacked"})
		wantError(t, resp, body, c.status)
		resp, body = e.as(c.user, "DELETE", path, nil)
		wantError(t, resp, body, c.status)
	}
	resp, body := e.as("", "POST", "/api/stations", map[string]string{"name": "Anon FM"})
	wantError(t, resp, body, http.StatusUnauthorized)
	resp, body = e.as("listener", "POST", "/api/stations", map[string]string{"name": "Listener FM"})
	wantError(t, resp, body, http.StatusForbidden)

	resp, body = e.as("", "GET", path, nil)
	if st := want(t, resp, body, http.StatusOK); st["name"] != "Test FM" {
		t.Fatalf("refused changes changed the station: %v", st)
	}
	resp, body = e.as("", "GET", "/api/stations", nil)
	if n := len(objects(t, want(t, resp, body, http.StatusOK), "stations")); n != 1 {
		t.Fatalf("%d stations after refused creations", n)
	}

	for _, c := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/api/stations/nope", nil, http.StatusNotFound},
		{"PATCH", "/api/stations/nope", map[string]string{"name": "X"}, http.StatusNotFound},
		{"DELETE", "/api/stations/nope", nil, http.StatusNotFound},
		{"POST", "/api/stations", map[string]string{"name": "Dup", "slug": e.slug}, http.StatusConflict},
		{"POST", "/api/stations", map[string]string{"name": "Bad", "slug": "../x"}, http.StatusBadRequest},
		{"POST", "/api/stations", map[string]string{"name": ""}, http.StatusBadRequest},
		{"PATCH", path, map[string]string{"name": " "}, http.StatusBadRequest},
		{"PATCH", path, map[string]any{"shuffle": "yes"}, http.StatusBadRequest},
	} {
		resp, body := e.as("owner", c.method, c.path, c.body)
		wantError(t, resp, body, c.status)
	}
}
