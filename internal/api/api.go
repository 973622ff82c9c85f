// Package api is the JSON API under /api/v1 for the person's app and for
// integrations. It has its own request and response types, so the contract
// stays stable while tables change, and it calls the same store and auth
// use cases as the console.
package api

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// API serves /api/v1.
type API struct {
	DB         *store.DB
	Auth       *auth.Service
	Log        *slog.Logger
	TrustProxy bool
	// Blobs stores document content (documents.go); nil: uploads,
	// generation and downloads answer 503. MaxUpload 0: 20 MiB.
	Blobs     blob.Storage
	MaxUpload int64
}

type req struct {
	Actor *casework.Actor
	Lang  string
	Token string
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, q *req) error

// Routes is the API's route table.
func (a *API) Routes() []httpx.Route {
	public := httpx.Access{Public: true}
	any := httpx.Access{}
	orgs := httpx.Access{Perm: casework.PermViewOrgs}
	orgT := httpx.Access{Perm: casework.PermViewOrgs, Target: "org"}
	manageOrg := httpx.Access{Perm: casework.PermManageOrgs, Target: "org"}
	users := httpx.Access{Perm: casework.PermManageUsers}
	userT := httpx.Access{Perm: casework.PermManageUsers, Target: "user"}
	grantT := httpx.Access{Perm: casework.PermManageUsers, Target: "grant"}
	rt := func(method, pattern string, acc httpx.Access, h handlerFunc, summary string) httpx.Route {
		return httpx.Route{Method: method, Pattern: pattern, Access: acc, Handler: a.wrap(acc, h), Summary: summary}
	}
	routes := []httpx.Route{
		{Method: "GET", Pattern: "/api/openapi.json", Access: public, Handler: http.HandlerFunc(serveOpenAPI), Summary: "this API's OpenAPI document"},
		rt("POST", "/api/v1/auth/login", public, a.login, "sign in; returns a bearer token"),
		rt("POST", "/api/v1/auth/logout", any, a.logout, "revoke the current token"),
		rt("GET", "/api/v1/me", any, a.me, "the signed-in user and grants"),
		rt("GET", "/api/v1/orgs", orgs, a.listOrgs, "orgs in scope"),
		rt("POST", "/api/v1/orgs", httpx.Access{Perm: casework.PermManageOrgs}, a.createOrg, "create an org"),
		rt("GET", "/api/v1/orgs/{id}", orgT, a.getOrg, "one org"),
		rt("PATCH", "/api/v1/orgs/{id}", manageOrg, a.updateOrg, "edit an org"),
		rt("POST", "/api/v1/orgs/{id}/move", manageOrg, a.moveOrg, "move an org"),
		rt("POST", "/api/v1/orgs/{id}/retire", manageOrg, a.retireOrg, "retire an org"),
		rt("DELETE", "/api/v1/orgs/{id}", manageOrg, a.deleteOrg, "delete an org"),
		rt("GET", "/api/v1/users", users, a.listUsers, "staff accounts in scope"),
		rt("POST", "/api/v1/users", users, a.createUser, "create a staff account"),
		rt("GET", "/api/v1/users/{id}", userT, a.getUser, "one staff account"),
		rt("POST", "/api/v1/users/{id}/grants", userT, a.grantRole, "grant a role"),
		rt("DELETE", "/api/v1/grants/{id}", grantT, a.revokeGrant, "revoke a grant"),
		rt("POST", "/api/v1/users/{id}/password", userT, a.resetPassword, "set a temporary password"),
		rt("POST", "/api/v1/users/{id}/disable", userT, a.disableUser, "disable an account"),
		rt("POST", "/api/v1/users/{id}/enable", userT, a.enableUser, "enable an account"),
		rt("GET", "/api/v1/audit", httpx.Access{Perm: casework.PermReadAudit}, a.listAudit, "audit log rows in scope"),
	}
	// Each part of the product adds its routes from its own file.
	for _, part := range []func(route) []httpx.Route{
		a.personRoutes,
		a.documentRoutes,
		a.exchangeRoutes,
		a.policyRoutes,
		a.leaveRoutes,
		a.appRoutes,
		a.drugTestRoutes,
		a.scheduleRoutes,
		a.inboxRoutes,
		a.violationRoutes,
		a.releaseNoticeRoutes,
		a.psychRoutes,      // psych.go
		a.helpRoutes,       // help.go
		a.visitRoutes,      // visits.go
		a.surveyRoutes,     // surveys.go
		a.orgYearRoutes,    // org_years.go
		a.reportRoutes,     // reports.go
		a.summaryRoutes,    // summary.go
		a.riskRoutes,       // risk.go
		a.incentiveRoutes,  // incentives.go
		a.rewardRoutes,     // rewards.go
		a.retentionRoutes,  // retention.go
		a.breakGlassRoutes, // breakglass.go
	} {
		routes = append(routes, part(rt)...)
	}
	return routes
}

// route makes a route entry; parts get it so their routes are wrapped alike.
type route func(method, pattern string, acc httpx.Access, h handlerFunc, summary string) httpx.Route

func (a *API) wrap(acc httpx.Access, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := &req{Lang: i18n.FromRequest(r)}
		if !acc.Public {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				a.fail(w, r, q, casework.Errorf(casework.EUNAUTHORIZED, "缺少 Authorization: Bearer 令牌", "missing Authorization: Bearer token"))
				return
			}
			q.Token = strings.TrimSpace(tok)
			actor, u, err := a.Auth.Authenticate(r.Context(), q.Token, "api", httpx.ClientIP(r, a.TrustProxy))
			if err != nil {
				a.fail(w, r, q, err)
				return
			}
			if u.MustChangePassword && r.URL.Path != "/api/v1/me" && r.URL.Path != "/api/v1/auth/logout" {
				a.fail(w, r, q, casework.Errorf(casework.EFORBIDDEN, "请先在工作台修改临时密码", "change the temporary password in the console first"))
				return
			}
			q.Actor = actor
			httpx.SetActor(r.Context(), actor.Username)
			if acc.Perm != "" && !actor.CanAnywhere(acc.Perm) {
				a.fail(w, r, q, casework.Errorf(casework.EFORBIDDEN, "您的角色不能使用此接口", "your role cannot use this endpoint"))
				return
			}
		}
		// Reads of a file under a break-glass grant during this request
		// are audited by one row naming the grant (R36; issue 15).
		r = r.WithContext(store.WithBreakGlassScope(r.Context()))
		if httpx.HasNilID(r) {
			a.fail(w, r, q, casework.NotFound("记录", "record"))
			return
		}
		if err := h(w, r, q); err != nil {
			a.fail(w, r, q, err)
		}
	})
}

// errorBody is the shape of every error: {"error":{"code","message","field"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// fail writes an error; an internal error is logged with the request id and
// never shown.
func (a *API) fail(w http.ResponseWriter, r *http.Request, q *req, err error) {
	code := casework.ErrorCode(err)
	status := httpx.Status(code)
	if status >= 500 {
		a.Log.ErrorContext(r.Context(), "api error", "err", err, "path", r.URL.Path)
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: casework.ErrorMessage(err, q.Lang),
		Field: casework.ErrorField(err), RequestID: httpx.RequestID(r.Context())}})
}

// Fail writes a JSON error for callers outside the route table (the server's
// not-found handler under /api/).
func Fail(w http.ResponseWriter, r *http.Request, err error) {
	lang := i18n.FromRequest(r)
	code := casework.ErrorCode(err)
	writeJSON(w, httpx.Status(code), errorBody{Error: errorDetail{Code: code, Message: casework.ErrorMessage(err, lang),
		RequestID: httpx.RequestID(r.Context())}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// MaxJSONBody is the largest JSON request body the API reads.
const MaxJSONBody = 1 << 20

// TooLarge is the error for a request body over limit bytes (413).
func TooLarge(limit int64) *casework.Error {
	return casework.Errorf(casework.ETOOLARGE, "请求内容过大（上限 %d KB）", "the request is too large (at most %d KB)", limit>>10)
}

// decode reads a JSON body into v, refusing unknown fields and bodies over
// 1 MiB, with a message that says what is wrong.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return casework.Errorf(casework.EINVALID, "请求体须为 JSON（Content-Type: application/json）", "the body must be JSON (Content-Type: application/json)")
	}
	// A body over the limit is refused whole with 413 (issue 15 §7), not
	// cut short and reported as broken JSON.
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, MaxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return TooLarge(MaxJSONBody)
		}
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return casework.Errorf(casework.EINVALID, "请求体为空", "the request body is empty")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return casework.Errorf(casework.EINVALID, "JSON 不完整", "the JSON body is incomplete")
		case errors.As(err, &syn):
			return casework.Errorf(casework.EINVALID, "JSON 格式错误（第 %d 字节）", "malformed JSON at byte %d", syn.Offset)
		case errors.As(err, &typ) && typ.Type == reflect.TypeFor[casework.Date]():
			return casework.Invalid(typ.Field, "字段 %s：日期格式应为 YYYY-MM-DD（如 2021-03-01），且须为真实日期", "field %s: a date must be written YYYY-MM-DD (e.g. 2021-03-01) and be a real date", typ.Field)
		case errors.As(err, &typ):
			return casework.Invalid(typ.Field, "字段 %s 类型错误，应为 %s", "field %s must be %s", typ.Field, typ.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return casework.Invalid(f, "未知字段 %s", "unknown field %s", f)
		}
		return casework.Errorf(casework.EINVALID, "无法读取请求体（须为一个 JSON 对象）", "cannot read the body: it must be one JSON object")
	}
	return nil
}

// list is the shape of every list response.
type list[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func paging(r *http.Request) (offset, limit int, err error) {
	qs := r.URL.Query()
	if s := qs.Get("offset"); s != "" {
		if offset, err = strconv.Atoi(s); err != nil || offset < 0 {
			return 0, 0, casework.Invalid("offset", "offset 须为非负整数", "offset must be a non-negative integer")
		}
	}
	if s := qs.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 500 {
			return 0, 0, casework.Invalid("limit", "limit 须在 1 到 500 之间", "limit must be between 1 and 500")
		}
	}
	return offset, limit, nil
}

// The OpenAPI document is core.json plus one fragment per part of the
// product (persons.json, documents.json, …), each holding "paths" and
// "components.schemas" to merge; a path or schema defined twice fails.
//
//go:embed openapi/*.json
var openAPIFiles embed.FS

var openAPIDoc = mustMergeOpenAPI()

func mustMergeOpenAPI() []byte {
	b, err := mergeOpenAPI()
	if err != nil {
		panic(err)
	}
	return b
}

func mergeOpenAPI() ([]byte, error) {
	var doc map[string]any
	core, err := openAPIFiles.ReadFile("openapi/core.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(core, &doc); err != nil {
		return nil, fmt.Errorf("openapi/core.json: %w", err)
	}
	paths := doc["paths"].(map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	names, _ := fs.Glob(openAPIFiles, "openapi/*.json")
	for _, name := range names {
		if name == "openapi/core.json" {
			continue
		}
		b, err := openAPIFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var part struct {
			Paths      map[string]map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for p, ops := range part.Paths {
			cur, _ := paths[p].(map[string]any)
			if cur == nil {
				cur = map[string]any{}
				paths[p] = cur
			}
			for m, op := range ops {
				if _, dup := cur[m]; dup {
					return nil, fmt.Errorf("%s: %s %s is defined twice", name, m, p)
				}
				cur[m] = op
			}
		}
		for k, v := range part.Components.Schemas {
			if _, dup := schemas[k]; dup {
				return nil, fmt.Errorf("%s: schema %s is defined twice", name, k)
			}
			schemas[k] = v
		}
	}
	return json.MarshalIndent(doc, "", " ")
}

// OpenAPIDocument returns the merged OpenAPI 3 document.
func OpenAPIDocument() []byte { return openAPIDoc }

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
}
