package web

import "net/http"

// routePages mounts the web pages. They are not built yet: until they are,
// every path no other route claims answers 404 in JSON. The pages work adds
// "GET /{$}" (station directory), "GET /stations/{slug}" (player),
// "GET /dashboard" and the static assets here, keeping "/" as the 404 for
// the rest.
func (s *Server) routePages(mux *http.ServeMux) {
	mux.Handle("/", s.api(func(http.ResponseWriter, *http.Request) error { return errNoPage }))
}
