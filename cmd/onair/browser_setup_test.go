package main

import (
	"testing"
	"time"

	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/internal/testutil"
)

// TestBrowserSetupAndUsers: the first-run link from the log opens the
// setup page, which creates the admin and lands on the dashboard, where
// the admin sees the user list and disables an account.
func TestBrowserSetupAndUsers(t *testing.T) {
	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	cfg.WebRTC.LoopbackOnly = true
	addr, logs := serveWith(t, &cfg)
	var link string
	testutil.Eventually(t, 20*time.Second, "the setup URL in the log", func() bool {
		if m := setupURL.FindStringSubmatch(logs.String()); m != nil {
			link = m[1]
		}
		return link != ""
	})
	b := newBrowser(t)
	b.open(link)
	b.waitJS(10*time.Second, "the token filled in and taken off the address bar",
		`document.querySelector('#setup-token').value.length > 20 && location.search === ''`)
	b.typeInto(`#setup-form [name=password]`, "boss password")
	b.click(`#setup-form button[type=submit]`)
	b.waitJS(15*time.Second, "the dashboard, logged in", `location.pathname === '/dashboard' && !document.querySelector('#app-view').hidden`)
	b.waitText(5*time.Second, "#me-name", "admin")

	s := &server{t: t, URL: "http://" + addr}
	s.admin = s.login("admin", "boss password")
	s.owner("carol")
	b.open(s.URL + "/dashboard")
	b.waitJS(10*time.Second, "the user list with carol", `[...document.querySelectorAll('#users-body td')].some(td => td.textContent === 'carol')`)
	b.click(`#users-body button[aria-label="Disable carol"]`)
	b.waitJS(10*time.Second, "carol disabled", `[...document.querySelectorAll('#users-body tr')].some(tr => tr.textContent.includes('carol') && tr.textContent.includes('disabled'))`)
	if code := s.do("POST", "/api/auth/login", "", map[string]string{"username": "carol", "password": "owner-password"}, nil); code != 403 {
		t.Fatalf("disabled carol logs in: %d", code)
	}
	b.checkClean()
}
