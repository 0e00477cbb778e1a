package signalling

// closeSessionEnded is the close code of a socket whose session ended
// (logout, password change, account disabled or deleted): 4001, in the
// range RFC 6455 leaves to applications, so a client can tell it from a
// network failure and not reconnect with the dead token.
const closeSessionEnded = 4001

// EndSession closes every socket that authenticated with token: after a
// logout nothing may act with it any more, an open socket included.
func (h *Hub) EndSession(token string) {
	if token == "" {
		return
	}
	h.endWhere(func(_ int64, t string) bool { return t == token })
}

// EndUser closes every socket of user id except those on keepToken ("" to
// close them all): after a password change, or when an admin disables or
// deletes the account.
func (h *Hub) EndUser(id int64, keepToken string) {
	h.endWhere(func(uid int64, t string) bool { return uid == id && (keepToken == "" || t != keepToken) })
}

func (h *Hub) endWhere(match func(userID int64, token string) bool) {
	h.init()
	h.mu.Lock()
	h.ends++
	var ended []*conn
	for c := range h.conns {
		c.mu.Lock()
		if c.user != nil && match(c.user.ID, c.token) {
			ended = append(ended, c)
		}
		c.mu.Unlock()
	}
	h.mu.Unlock()
	for _, c := range ended {
		c.kill(closeSessionEnded, "session ended")
	}
}
