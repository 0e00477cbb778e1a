package guard

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Who a request comes from, and over what.
//
// Behind a reverse proxy every request arrives from the proxy's address,
// and only the proxy knows the client's: it says so in X-Forwarded-For and
// X-Forwarded-Proto. Anyone can send those headers, so they are believed
// only from TrustedProxies, and stripped from everyone else's requests so
// nothing further in can be fooled by them.

type schemeKey struct{}

// Client rewrites r.RemoteAddr to the client's address when the peer
// is a trusted proxy, and notes the scheme the client used. The relay, the
// hub and the logs downstream see the rewritten address.
func (g *Guard) Client(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		https := r.TLS != nil
		peer := addrOf(r.RemoteAddr)
		if peer.IsValid() && g.trusted(peer) {
			if client, ok := g.forwardedFor(r.Header.Values("X-Forwarded-For")); ok {
				r.RemoteAddr = net.JoinHostPort(client.String(), "0")
			}
			if p := lastValue(r.Header.Values("X-Forwarded-Proto")); p != "" {
				https = strings.EqualFold(p, "https")
			}
		} else {
			r.Header.Del("X-Forwarded-For")
			r.Header.Del("X-Forwarded-Proto")
			r.Header.Del("Forwarded")
		}
		if https {
			r = r.WithContext(context.WithValue(r.Context(), schemeKey{}, "https"))
			// From here on the header is the server's word, not the
			// client's: the relay builds icy-url and playlist links from it.
			r.Header.Set("X-Forwarded-Proto", "https")
		}
		next.ServeHTTP(w, r)
	})
}

// forwardedFor walks X-Forwarded-For from the right (the hop nearest to
// us) past trusted proxies; the first address that is not one is the
// client. Addresses further left were written by the client itself and
// prove nothing.
func (g *Guard) forwardedFor(values []string) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	var last netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a := addrOf(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			break
		}
		last = a
		if !g.trusted(a) {
			return a, true
		}
	}
	// Every hop a trusted proxy: the leftmost valid one is the client.
	return last, last.IsValid()
}

func (g *Guard) trusted(a netip.Addr) bool {
	for _, p := range g.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addrOf reads "host:port", "[v6]:port" or a bare address.
func addrOf(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func lastValue(values []string) string {
	if len(values) == 0 {
		return ""
	}
	parts := strings.Split(values[len(values)-1], ",")
	return strings.TrimSpace(parts[len(parts)-1])
}

// IsHTTPS reports whether the client reached us over https: TLS here, or a
// trusted proxy's word (read after Client).
func IsHTTPS(r *http.Request) bool {
	v, _ := r.Context().Value(schemeKey{}).(string)
	return v == "https" || r.TLS != nil
}

// hstsMaxAge is one year, as browsers' preload lists expect.
const hstsMaxAge = "max-age=31536000"

// strictTransport sends Strict-Transport-Security on answers that went
// over https. Over plain http browsers ignore it (RFC 6797 §8.1), so it
// is not sent there.
func strictTransport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsHTTPS(r) {
			w.Header().Set("Strict-Transport-Security", hstsMaxAge)
		}
		next.ServeHTTP(w, r)
	})
}

// ClientKey is the address a client is limited by: its IP, or for IPv6
// its /64, since one host usually holds a whole /64. It is read after
// Client, so behind a trusted proxy it is the real client's.
func ClientKey(r *http.Request) string {
	a := addrOf(r.RemoteAddr)
	if !a.IsValid() {
		return r.RemoteAddr
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
