// Package httpx holds what both front doors (the console and the JSON API)
// share about HTTP: the route table type, error-to-status mapping, the
// request id, the acting user in a request, and the client address.
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strings"

	"kangfu/internal/casework"
)

// Access says who may call a route; the access-matrix test reads it, and a
// route without it does not register.
type Access struct {
	Public bool          // no sign-in needed
	Perm   casework.Perm // needed somewhere in the actor's grants; "" = any signed-in user
	// Target names the kind of record the route's {id} refers to, so the
	// access-matrix test can aim it inside and outside the actor's subtree.
	Target string
}

// Route is one entry of a front door's route table.
type Route struct {
	Method  string
	Pattern string // path with {wildcards}, as http.ServeMux takes it
	Handler http.Handler
	Access  Access
	Summary string // one line, for the OpenAPI document and the test report
}

// Key is "METHOD /path" — how routes are named in the mux and in tests.
func (r Route) Key() string { return r.Method + " " + r.Pattern }

// Status maps a domain error code to an HTTP status.
func Status(code string) int {
	switch code {
	case casework.EINVALID:
		return http.StatusBadRequest
	case casework.ENOTFOUND:
		return http.StatusNotFound
	case casework.ECONFLICT:
		return http.StatusConflict
	case casework.EFORBIDDEN:
		return http.StatusForbidden
	case casework.EUNAUTHORIZED, casework.EOTPREQUIRED:
		return http.StatusUnauthorized
	case casework.ERATELIMIT:
		return http.StatusTooManyRequests
	case casework.ELOCKED:
		return http.StatusLocked
	case casework.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyActor
)

// WithRequestID stores a request id in the context.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, keyRequestID, id)
}

// RequestID returns the request id of the context, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(keyRequestID).(string)
	return s
}

// NewRequestID returns a short random id.
func NewRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ActorRef is filled in by the front door once the request is
// authenticated, so the access log line can name the user.
type ActorRef struct{ Username string }

// WithActorRef stores a slot for the username in the context.
func WithActorRef(ctx context.Context, ref *ActorRef) context.Context {
	return context.WithValue(ctx, keyActor, ref)
}

// SetActor records the signed-in username for the access log.
func SetActor(ctx context.Context, username string) {
	if ref, ok := ctx.Value(keyActor).(*ActorRef); ok {
		ref.Username = username
	}
}

// IsHTTPS reports whether the client reached us over TLS: a TLS listener,
// or (only when the proxy is trusted) a TLS-terminating proxy that says so
// in X-Forwarded-Proto (issue 15 §5). An untrusted header is ignored.
func IsHTTPS(r *http.Request, trustProxy bool) bool {
	if r.TLS != nil {
		return true
	}
	if !trustProxy {
		return false
	}
	p := r.Header.Get("X-Forwarded-Proto")
	if i := strings.LastIndexByte(p, ','); i >= 0 { // the proxy nearest us appends last
		p = p[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(p), "https")
}

// ClientIP returns the client address of the request. Behind a reverse
// proxy set trustProxy, and the last address of X-Forwarded-For is used
// (the one the proxy itself added).
func ClientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// NilUUID is the all-zero UUID: never the id of a record.
const NilUUID = "00000000-0000-0000-0000-000000000000"

// HasNilID reports whether a segment of the request's path is the nil
// UUID: such a request is answered 404 without a lookup (issue 15 §7).
func HasNilID(r *http.Request) bool {
	for seg := range strings.SplitSeq(r.URL.Path, "/") {
		if seg == NilUUID {
			return true
		}
	}
	return false
}
