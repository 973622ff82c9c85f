// Package web is the staff console (工作台): server-rendered pages with
// cookie sessions. Handlers parse input, call the store or auth use cases
// with the signed-in actor, and render; no rule lives here.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"kangfu/internal/auth"
	"kangfu/internal/blob"
	"kangfu/internal/casework"
	"kangfu/internal/facemodel"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// SessionCookie is the name of the console's session cookie.
const SessionCookie = "kangfu_session"

// Console serves the staff console.
type Console struct {
	DB         *store.DB
	Auth       *auth.Service
	Log        *slog.Logger
	TrustProxy bool
	// Blobs stores document content (documents.go); nil: uploads,
	// generation and downloads answer 503. MaxUpload 0: 20 MiB.
	Blobs     blob.Storage
	MaxUpload int64
	// SurveyLimits is the per-address rate limit of survey answers
	// (survey_public.go); zero: DefaultSurveyLimits.
	SurveyLimits SurveyLimits
	// MapTiles is the operator's tile URL template ("" by default: maps
	// are drawn as SVG with no tiles fetched; geomap.go) and
	// MapAttribution the text the tile server asks for.
	MapTiles       string
	MapAttribution string

	pages    map[string]*template.Template
	assets   map[string]string // file name → content hash
	navCache navCounts         // the inbox counts in the navigation (inbox.go)
}

// New parses every template (a broken template fails at start, not on
// first view) and fingerprints the static files.
func New(db *store.DB, a *auth.Service, log *slog.Logger) (*Console, error) {
	c := &Console{DB: db, Auth: a, Log: log, pages: map[string]*template.Template{}, assets: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		c.assets[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:4])
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The face library and facecore.js are kept once, in package
	// facemodel, for the app and the console.
	coreSum := sha256.Sum256(facemodel.Core)
	c.assets["facecore.js"] = hex.EncodeToString(coreSum[:4])
	// The face library loads its models and WebAssembly by paths relative
	// to one folder (issue 17): every file under vendor/human/ shares one
	// hash, that of the whole folder, so a new version gets new URLs.
	lib, err := facemodel.List()
	if err != nil {
		return nil, err
	}
	for _, p := range lib.Names {
		c.assets[faceDir+p] = lib.Hash
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(c.funcs()).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", base, err)
		}
		c.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return c, nil
}

// req is what a console handler knows about the request.
type req struct {
	Actor *casework.Actor
	User  *casework.User
	Lang  string
	Token string
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, q *req) error

// Routes is the console's route table.
func (c *Console) Routes() []httpx.Route {
	any := httpx.Access{}
	orgs := httpx.Access{Perm: casework.PermViewOrgs}
	orgTarget := httpx.Access{Perm: casework.PermViewOrgs, Target: "org"}
	manageOrg := httpx.Access{Perm: casework.PermManageOrgs, Target: "org"}
	users := httpx.Access{Perm: casework.PermManageUsers}
	userTarget := httpx.Access{Perm: casework.PermManageUsers, Target: "user"}
	grantTarget := httpx.Access{Perm: casework.PermManageUsers, Target: "grant"}
	public := httpx.Access{Public: true}
	rt := func(method, pattern string, a httpx.Access, h handlerFunc, summary string) httpx.Route {
		return httpx.Route{Method: method, Pattern: pattern, Access: a, Handler: c.wrap(a, h), Summary: summary}
	}
	routes := []httpx.Route{
		{Method: "GET", Pattern: "/static/{hash}/{file...}", Access: public, Handler: http.HandlerFunc(c.static), Summary: "static files"},
		rt("GET", "/login", public, c.loginPage, "sign-in form"),
		rt("POST", "/login", public, c.login, "sign in"),
		rt("POST", "/lang", public, c.setLang, "switch language"),
		rt("POST", "/logout", any, c.logout, "sign out"),
		rt("GET", "/{$}", any, c.dashboard, "dashboard"),
		rt("GET", "/account", any, c.account, "my account"),
		rt("POST", "/account/password", any, c.changePassword, "change my password"),
		rt("POST", "/account/totp/start", any, c.totpStart, "start TOTP enrolment"),
		rt("POST", "/account/totp/confirm", any, c.totpConfirm, "confirm TOTP enrolment"),
		rt("GET", "/orgs", orgs, c.orgList, "org tree"),
		rt("GET", "/orgs/{id}", orgTarget, c.orgView, "org details"),
		rt("POST", "/orgs/{id}/children", manageOrg, c.orgCreate, "add a child org"),
		rt("POST", "/orgs/{id}", manageOrg, c.orgUpdate, "edit an org"),
		rt("POST", "/orgs/{id}/move", manageOrg, c.orgMove, "move an org"),
		rt("POST", "/orgs/{id}/retire", manageOrg, c.orgRetire, "retire an org"),
		rt("POST", "/orgs/{id}/delete", manageOrg, c.orgDelete, "delete an org"),
		rt("GET", "/users", users, c.userList, "staff accounts"),
		rt("GET", "/users/new", users, c.userNew, "new account form"),
		rt("POST", "/users", users, c.userCreate, "create an account"),
		rt("GET", "/users/{id}", userTarget, c.userView, "account details"),
		rt("POST", "/users/{id}/grants", userTarget, c.userGrant, "grant a role"),
		rt("POST", "/grants/{id}/revoke", grantTarget, c.userRevoke, "revoke a role"),
		rt("POST", "/users/{id}/password", userTarget, c.userResetPassword, "reset a password"),
		rt("POST", "/users/{id}/disable", userTarget, c.userDisable, "disable an account"),
		rt("POST", "/users/{id}/unlock", userTarget, c.userUnlock, "lift an account's sign-in locks (a second administrator)"),
		rt("POST", "/users/{id}/enable", userTarget, c.userEnable, "enable an account"),
		rt("POST", "/users/{id}/totp/reset", userTarget, c.userResetTOTP, "turn off a user's TOTP"),
		rt("GET", "/audit", httpx.Access{Perm: casework.PermReadAudit}, c.auditList, "audit log"),
	}
	// Each part of the product adds its pages from its own file.
	for _, part := range []func(route) []httpx.Route{
		c.personRoutes,
		c.documentRoutes,
		c.exchangeRoutes,
		c.policyRoutes,
		c.leaveRoutes,
		c.checkinRoutes,
		c.drugTestRoutes,
		c.scheduleRoutes,
		c.inboxRoutes,
		c.violationRoutes,
		c.releaseNoticeRoutes,
		c.psychRoutes,          // psych.go
		c.helpRoutes,           // help.go
		c.reportRoutes,         // reports.go
		c.eventRoutes,          // events.go
		c.visitRoutes,          // visits.go
		c.surveyRoutes,         // surveys.go
		c.publicSurveyRoutes,   // survey_public.go
		c.orgYearRoutes,        // org_years.go
		c.summaryRoutes,        // summary.go
		c.riskRoutes,           // risk.go
		c.retentionRoutes,      // retention.go
		c.breakGlassRoutes,     // breakglass.go
		c.riskInstrumentRoutes, // risk_instrument.go
		c.rewardRoutes,         // rewards.go
		c.faceRoutes,           // face.go (issue 17)
		c.idSignalRoutes,       // idsignals.go (issue 17 §4, §5)
	} {
		routes = append(routes, part(rt)...)
	}
	return routes
}

// route makes a route entry; parts get it so their pages are wrapped alike.
type route func(method, pattern string, a httpx.Access, h handlerFunc, summary string) httpx.Route

// wrap authenticates (unless public), checks the route's permission and
// renders any error the handler returns.
func (c *Console) wrap(a httpx.Access, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := &req{Lang: i18n.FromRequest(r)}
		if !a.Public || r.URL.Path == "/login" {
			if ck, err := r.Cookie(SessionCookie); err == nil {
				q.Token = ck.Value
			}
			actor, u, err := c.Auth.Authenticate(r.Context(), q.Token, "web", httpx.ClientIP(r, c.TrustProxy))
			switch {
			case err == nil:
				q.Actor, q.User = actor, u
				if r.Method != http.MethodGet && r.Method != http.MethodHead {
					c.navCache.forget(actor.UserID) // the user may have just done a task
				}
				httpx.SetActor(r.Context(), actor.Username)
				if ck, err := r.Cookie(i18n.CookieName); (err != nil || ck.Value == "") && u.Lang != "" {
					q.Lang = u.Lang
				}
			case a.Public:
			case auth.IsUnauthorized(err):
				c.toLogin(w, r)
				return
			default:
				c.fail(w, r, q, err)
				return
			}
		}
		if !a.Public {
			if next := c.mustGo(q, r); next != "" {
				http.Redirect(w, r, next, http.StatusSeeOther)
				return
			}
			if a.Perm != "" && !q.Actor.CanAnywhere(a.Perm) {
				c.fail(w, r, q, casework.Errorf(casework.EFORBIDDEN, "您的角色不能使用此功能", "your role cannot use this page"))
				return
			}
		}
		// Reads of a file under a break-glass grant during this request
		// are audited by one row naming the grant (R36; issue 15).
		r = r.WithContext(store.WithBreakGlassScope(r.Context()))
		if httpx.HasNilID(r) {
			c.fail(w, r, q, casework.NotFound("记录", "record"))
			return
		}
		if err := readForm(w, r); err != nil {
			c.fail(w, r, q, err)
			return
		}
		if err := h(w, r, q); err != nil {
			c.fail(w, r, q, err)
		}
	})
}

// MaxForm is the largest URL-encoded form the console reads; uploads are
// multipart and keep their own limits.
const MaxForm = 1 << 20

// readForm reads a URL-encoded form body under MaxForm, so a larger one is
// refused with 413 (issue 15 §7) rather than read whole or cut silently.
func readForm(w http.ResponseWriter, r *http.Request) error {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return casework.Errorf(casework.ETOOLARGE, "提交的内容过大（上限 %d KB）", "the form is too large (at most %d KB)", MaxForm>>10)
		}
		return casework.Errorf(casework.EINVALID, "无法读取提交的表单", "cannot read the form")
	}
	return nil
}

// mustGo returns where a signed-in user must go first: enrol a second
// factor when policy requires one, or replace a temporary password.
func (c *Console) mustGo(q *req, r *http.Request) string {
	p := r.URL.Path
	if p == "/logout" || strings.HasPrefix(p, "/account") {
		return ""
	}
	if q.User.MustChangePassword {
		return "/account?must=password"
	}
	if q.Actor.RequiresTOTP() && !q.User.TOTPEnabled && !q.User.TOTPExempt {
		return "/account?must=totp"
	}
	return ""
}

func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		next = "/"
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// fail renders an error page with the status of the error's code. The
// message of a domain error is safe to show; anything else is logged with
// the request id and shown as a generic message.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, q *req, err error) {
	code := casework.ErrorCode(err)
	if code == casework.EUNAUTHORIZED {
		c.toLogin(w, r)
		return
	}
	status := httpx.Status(code)
	if status >= 500 {
		c.Log.ErrorContext(r.Context(), "console error", "err", err, "path", r.URL.Path)
	}
	c.render(w, r, q, status, "error", map[string]any{
		"Status": status, "Message": casework.ErrorMessage(err, q.Lang), "RequestID": httpx.RequestID(r.Context()),
		"BreakGlass": c.breakGlassOffer(r, q, status), // breakglass.go
	})
}

// view is the data every page gets.
type view struct {
	Lang  string
	Actor *casework.Actor
	User  *casework.User
	Path  string
	Flash string
	Nav   []navItem
	D     any
	ReqID string
	Now   time.Time
}

type navItem struct {
	Href, Key string
	Active    bool
	Count     int  // shown beside the item when > 0 (inbox tasks, unread notifications)
	Alert     bool // some of them are overdue
}

func (c *Console) nav(q *req, r *http.Request, current string) []navItem {
	if q.Actor == nil {
		return nil
	}
	items := []navItem{{Href: "/", Key: "nav.dashboard"}}
	items = c.inboxNav(q, r, items) // inbox.go
	if q.Actor.CanAnywhere(casework.PermReadPersons) {
		items = append(items, navItem{Href: "/persons", Key: "nav.persons"})
	}
	if q.Actor.CanAnywhere(casework.PermTransfer) {
		items = append(items, navItem{Href: "/transfers", Key: "nav.transfers"})
	}
	if q.Actor.CanAnywhere(casework.PermReviewBreakGlass) {
		items = append(items, navItem{Href: "/break-glass/reviews", Key: "nav.breakglass_reviews"}) // breakglass.go
	}
	if q.Actor.CanAnywhere(casework.PermViewLeave) {
		items = append(items, navItem{Href: "/leave", Key: "leave.queue_title"})
	}
	if q.Actor.CanAnywhere(casework.PermSensitive) {
		items = append(items, navItem{Href: "/visits", Key: "nav.visits"})                     // visits.go
		items = append(items, navItem{Href: "/identity/signals", Key: "nav.identity_signals"}) // idsignals.go
	}
	if q.Actor.CanAnywhere(casework.PermViewSchedule) {
		items = append(items, navItem{Href: "/tests", Key: "nav.tests"})
	}
	if q.Actor.CanAnywhere(casework.PermViewViolations) {
		items = append(items, navItem{Href: "/violations", Key: "nav.violations"}, navItem{Href: "/cases", Key: "nav.cases"})
	}
	if q.Actor.CanAnywhere(casework.PermPsychRead) {
		items = append(items, navItem{Href: "/psych/groups", Key: "nav.psych_groups"})
	}
	if q.Actor.CanAnywhere(casework.PermViewHelp) {
		items = append(items, navItem{Href: "/employment", Key: "nav.help"})
	}
	if q.Actor.CanAnywhere(casework.PermViewEvents) {
		items = append(items, navItem{Href: "/events", Key: "nav.events"})
	}
	if q.Actor.CanAnywhere(casework.PermViewSurveys) {
		items = append(items, navItem{Href: "/surveys", Key: "nav.surveys"})
	}
	if q.Actor.CanAnywhere(casework.PermReadPersons) {
		items = append(items, navItem{Href: "/reports", Key: "nav.reports"}) // reports.go
	}
	if q.Actor.CanAnywhere(casework.PermViewPolicy) {
		items = append(items, navItem{Href: "/policies", Key: "nav.policies"})
	}
	if q.Actor.CanAnywhere(casework.PermViewOrgs) {
		items = append(items, navItem{Href: "/orgs", Key: "nav.orgs"})
	}
	if q.Actor.CanAnywhere(casework.PermManageUsers) {
		items = append(items, navItem{Href: "/users", Key: "nav.users"})
	}
	if q.Actor.CanAnywhere(casework.PermReadAudit) {
		items = append(items, navItem{Href: "/audit", Key: "nav.audit"})
		items = append(items, navItem{Href: "/statutory-queries", Key: "nav.statutory"}) // retention.go (R38)
	}
	items = append(items, navItem{Href: "/account", Key: "nav.account"})
	for i := range items {
		h := items[i].Href
		items[i].Active = current == h || (h != "/" && strings.HasPrefix(current, h))
	}
	return items
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, q *req, status int, page string, data any) {
	t, ok := c.pages[page]
	if !ok {
		http.Error(w, "no page "+page, http.StatusInternalServerError)
		return
	}
	v := view{Lang: q.Lang, Actor: q.Actor, User: q.User, Path: r.URL.Path, D: data, Nav: c.nav(q, r, r.URL.Path),
		ReqID: httpx.RequestID(r.Context()), Now: time.Now()}
	if f := r.URL.Query().Get("flash"); f != "" {
		if _, ok := i18n.Keys(q.Lang)["flash."+f]; ok {
			v.Flash = i18n.T(q.Lang, "flash."+f)
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.Log.ErrorContext(r.Context(), "render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// static serves embedded files under a content-hash path segment, cached
// for a year: a changed file gets a new URL.
func (c *Console) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	hash, ok := c.assets[name]
	if !ok || (r.PathValue("hash") != hash && !c.cssRelative(name, r.PathValue("hash"))) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	if name == "facecore.js" {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(facemodel.Core))
		return
	}
	if rest, ok := strings.CutPrefix(name, faceDir); ok {
		http.ServeFileFS(w, r, facemodel.FS(), rest)
		return
	}
	http.ServeFileFS(w, r, staticFS, "static/"+name)
}

// cssRelative reports whether hash is that of a stylesheet in a folder
// above name: a vendored stylesheet's relative url(images/…) resolves
// under the stylesheet's own hash (Leaflet's images).
func (c *Console) cssRelative(name, hash string) bool {
	for dir := path.Dir(name); dir != "." && dir != "/"; dir = path.Dir(dir) {
		for file, h := range c.assets {
			if h == hash && path.Dir(file) == dir && strings.HasSuffix(file, ".css") {
				return true
			}
		}
	}
	return false
}

// faceDir is the vendored face library's folder under static/.
const faceDir = facemodel.Dir

// asset returns the fingerprinted URL of a static file.
func (c *Console) asset(name string) string {
	return "/static/" + c.assets[name] + "/" + name
}

func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"t":     i18n.T,
		"asset": c.asset,
		"mapView": func(lang string, m *geoMap) map[string]any {
			return map[string]any{"M": m, "North": i18n.T(lang, "map.north"), "NorthX": mapW - 18,
				"FenceWord": i18n.T(lang, "map.key_fence"), "PointWord": i18n.T(lang, "map.key_point"), "AccWord": i18n.T(lang, "map.key_acc")}
		},
		"role": func(lang string, r casework.Role) string { return i18n.T(lang, "role."+string(r)) },
		"kind": func(lang string, k casework.OrgKind) string { return i18n.T(lang, "kind."+string(k)) },
		"time": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(casework.LoadLocation("")).Format("2006-01-02 15:04:05")
		},
		"indent": func(o *casework.Org, base int) int { return (o.Depth() - base) * 20 },
		"roles":  func() []casework.Role { return casework.Roles },
		"kinds":  func() []casework.OrgKind { return casework.OrgKinds },
		"add":    func(a, b int) int { return a + b },
		// colon, listSep, paren and semi punctuate by language: no Chinese
		// punctuation in English text (issue 18 §13).
		"colon":   func(lang string) string { return map[bool]string{true: ": ", false: "："}[lang == "en"] },
		"listSep": func(lang string) string { return map[bool]string{true: ", ", false: "、"}[lang == "en"] },
		"semi":    func(lang string) string { return map[bool]string{true: "; ", false: "；"}[lang == "en"] },
		"paren": func(lang, s string) string {
			if lang == "en" {
				return " (" + s + ")"
			}
			return "（" + s + "）"
		},
		// policyRef names the policy a judgement was made under (a
		// check-in's verdict, a draw, a case): the national default, a
		// template by name, or a local version — never its id or key.
		"policyRef": policyRefText,
		// conf words a DOMAIN confidence ("HIGH", "LOW–MED") for staff.
		"conf": func(lang, c string) string {
			for _, k := range []string{"HIGH", "LOW", "MED"} {
				if strings.Contains(c, k) {
					return i18n.T(lang, "policy.conf."+k)
				}
			}
			return i18n.T(lang, "policy.conf.UNCONFIRMED")
		},
		// cite names a rule's legal source for staff; the DOMAIN rule number
		// goes in the tooltip only (issue 18 §8).
		"cite": func(lang, ref string) template.HTML {
			if ref == "" {
				return ""
			}
			return template.HTML(`<abbr class="cite" title="` + template.HTMLEscapeString(ref) + `">` +
				template.HTMLEscapeString(casework.Cite(ref, lang)) + `</abbr>`)
		},
		"can": func(a *casework.Actor, p string, orgPath string) bool {
			return a != nil && a.Can(casework.Perm(p), orgPath)
		},
		"fieldErr": fieldErr,
		"errAttrs": errAttrs,
		"errFor":   errFor,
		"typed":    typed,
		"typedOn":  typedOn,
		"canany":   func(a *casework.Actor, p string) bool { return a != nil && a.CanAnywhere(casework.Perm(p)) },
		// safeURL passes our own generated data: URI (the TOTP QR code).
		"safeURL": func(s string) template.URL {
			if strings.HasPrefix(s, "data:image/png;base64,") {
				return template.URL(s)
			}
			return ""
		},
	}
}

// formError is every problem of a submitted form (issue 18 item 9): the
// page shows a summary at the top (Heading, Items) and each message beside
// its field (the fieldErr and errAttrs template funcs), and keeps what was
// typed. Field and Message are the first field and every message joined,
// for a form that shows one line.
type formError struct {
	Field   string
	Message string
	Heading string
	Items   []formErrorItem
	Fields  map[string]string // field → message (the first of a field)
	// On a page with several forms: the form that was sent and what was
	// typed in it (sent), so only that form shows the messages beside its
	// fields and keeps its values (errFor, typed, typedOn).
	Form   string
	Values url.Values
}

type formErrorItem struct{ Field, Message string }

// toFormError turns an EINVALID or ECONFLICT error into the form's errors:
// each problem of a casework.FieldErrors cause, or the one problem. Any
// other error is not about the input (false).
func toFormError(err error, lang string) (*formError, bool) {
	var e *casework.Error
	if !errors.As(err, &e) || (e.Code != casework.EINVALID && e.Code != casework.ECONFLICT) {
		return nil, false
	}
	fe := &formError{Field: e.Field, Message: e.Message(lang), Fields: map[string]string{}}
	var many casework.FieldErrors
	if errors.As(err, &many) && len(many) > 0 {
		for _, p := range many {
			fe.add(p.Field, p.Message(lang))
		}
	} else {
		fe.add(e.Field, e.Message(lang))
	}
	fe.Heading = i18n.T(lang, "form.errors_heading", len(fe.Items))
	return fe, true
}

// sent names the form the errors belong to and keeps what was typed in it
// (never a password: the templates do not put those back).
func (fe *formError) sent(form string, r *http.Request) *formError {
	if fe != nil {
		fe.Form, fe.Values = form, r.PostForm
	}
	return fe
}

// errFor returns the page's errors when they belong to the form named (and,
// for a form repeated on the page, when each field of match — pairs of
// field and value — was sent with that value), else nil: on a page with
// several forms each shows its messages and typed values only when it was
// the one sent, and no two fields share an error id.
func errFor(errs any, form string, match ...string) *formError {
	fe, ok := errs.(*formError)
	if !ok || fe == nil || fe.Form != form {
		return nil
	}
	for i := 0; i+1 < len(match); i += 2 {
		if fe.Values.Get(match[i]) != match[i+1] {
			return nil
		}
	}
	return fe
}

// typed returns what was typed in a field of the form that was sent (errs
// from errFor), else def — the stored value or the form's default.
func typed(errs any, field string, def any) string {
	if fe, ok := errs.(*formError); ok && fe != nil && fe.Values != nil {
		if _, sent := fe.Values[field]; sent {
			return fe.Values.Get(field)
		}
	}
	if def == nil {
		return ""
	}
	return fmt.Sprint(def)
}

// typedOn is typed for a checkbox: ticked when it was sent ticked (a box
// not ticked is not sent), else def when no form was sent.
func typedOn(errs any, field string, def bool) bool {
	if fe, ok := errs.(*formError); ok && fe != nil && fe.Values != nil {
		return fe.Values.Get(field) != ""
	}
	return def
}

func (fe *formError) add(field, msg string) {
	fe.Items = append(fe.Items, formErrorItem{Field: field, Message: msg})
	if _, dup := fe.Fields[field]; !dup && field != "" {
		fe.Fields[field] = msg
	}
}

// rename moves the message of a store field to the form's input name
// (e.g. place_org_id → org_id).
func (fe *formError) rename(from, to string) {
	if fe == nil {
		return
	}
	_, had := fe.Fields[to]
	items := fe.Items[:0]
	for _, it := range fe.Items {
		if it.Field == from {
			if had {
				continue // the form already says what is wrong with it
			}
			it.Field = to
		}
		items = append(items, it)
	}
	fe.Items = items
	if m, ok := fe.Fields[from]; ok {
		delete(fe.Fields, from)
		if _, dup := fe.Fields[to]; !dup {
			fe.Fields[to] = m
		}
	}
	if fe.Field == from {
		fe.Field = to
	}
}

// formErrs turns a store error into field → message, or returns it (the
// pages that keep their errors as a map).
func formErrs(err error, lang string) (map[string]string, error) {
	e, ok := toFormError(err, lang)
	if !ok {
		return nil, err
	}
	m := e.Fields
	for _, it := range e.Items {
		if it.Field == "" {
			m["form"] = it.Message
		}
	}
	return m, nil
}

// withChecks returns nil when the form parsed, else its parse problems
// joined with those the domain's check finds in the rest of the form (a
// field already at fault is not reported twice), so the page lists every
// problem at once (issue 18 item 9). The store checks everything again on
// a good form.
func withChecks(parse casework.FieldErrors, check func() error) error {
	if len(parse) == 0 {
		return nil
	}
	var more casework.FieldErrors
	more.Add(check())
	for _, e := range more {
		if !parse.Has(e.Field) {
			parse = append(parse, e)
		}
	}
	return parse.Err()
}

// fieldMessage finds the message of a field in a page's errors: a
// *formError or a field → message map.
func fieldMessage(errs any, field string) string {
	switch e := errs.(type) {
	case *formError:
		if e != nil {
			return e.Fields[field]
		}
	case map[string]string:
		return e[field]
	}
	return ""
}

// fieldErr renders the message of a field beside it, with the id its
// input's aria-describedby names (errAttrs) and the summary links to.
func fieldErr(errs any, field string) template.HTML {
	m := fieldMessage(errs, field)
	if m == "" {
		return ""
	}
	f := template.HTMLEscapeString(field)
	return template.HTML(`<span class="error field-error" id="err-` + f + `" data-field="` + f + `">` + template.HTMLEscapeString(m) + `</span>`)
}

// errAttrs marks a field's input invalid and ties it to its message.
func errAttrs(errs any, field string) template.HTMLAttr {
	if fieldMessage(errs, field) == "" {
		return ""
	}
	return template.HTMLAttr(`aria-invalid="true" aria-describedby="err-` + template.HTMLEscapeString(field) + `"`)
}

// redirect sends the browser on after a successful post (post/redirect/get).
func redirect(w http.ResponseWriter, r *http.Request, to, flash string) error {
	if flash != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "flash=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// safeNext accepts only a local path as a redirect target.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
