package web

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

// The task inbox (PRODUCT §3), the staff's notifications, and the admin's
// view of the background jobs (issue 5 §5–7).
func (c *Console) inboxRoutes(rt route) []httpx.Route {
	any := httpx.Access{}
	jobs := httpx.Access{Perm: casework.PermViewJobs}
	return []httpx.Route{
		rt("GET", "/inbox", any, c.inbox, "my tasks: due today and overdue"),
		rt("GET", "/notifications", any, c.notifications, "my notifications"),
		rt("POST", "/notifications/read", any, c.notificationsRead, "mark my notifications read"),
		rt("GET", "/jobs", jobs, c.jobList, "background jobs"),
		rt("POST", "/jobs/{id}/retry", jobs, c.jobRetry, "retry a failed job now"),
	}
}

func (c *Console) inbox(w http.ResponseWriter, r *http.Request, q *req) error {
	ts, err := c.DB.Inbox(r.Context(), q.Actor)
	if err != nil {
		return err
	}
	// ?kind= narrows the list to one kind of task (the dashboard links here).
	kind, kindLabel := r.URL.Query().Get("kind"), ""
	if _, known := i18n.Keys(q.Lang)["inbox.kind."+kind]; !known {
		kind = "" // an unknown kind shows every task rather than a raw key
	}
	if kind != "" {
		kindLabel = i18n.T(q.Lang, "inbox.kind."+kind)
		ts = slices.DeleteFunc(ts, func(t store.Task) bool { return t.Kind != kind })
	}
	overdue := 0
	for _, t := range ts {
		if t.Overdue {
			overdue++
		}
	}
	c.render(w, r, q, http.StatusOK, "inbox", map[string]any{"Tasks": ts, "Overdue": overdue, "Kind": kind, "KindLabel": kindLabel})
	return nil
}

func (c *Console) notifications(w http.ResponseWriter, r *http.Request, q *req) error {
	ns, err := c.DB.ListNotifications(r.Context(), q.Actor, r.URL.Query().Get("unread") == "1")
	if err != nil {
		return err
	}
	c.render(w, r, q, http.StatusOK, "notifications", map[string]any{"Items": ns})
	return nil
}

// notificationsRead marks one notification (id) or all read and goes on to
// the notification's link when asked (open=1).
func (c *Console) notificationsRead(w http.ResponseWriter, r *http.Request, q *req) error {
	id := r.FormValue("id")
	if _, err := c.DB.MarkNotificationsRead(r.Context(), q.Actor, id); err != nil {
		return err
	}
	return redirect(w, r, safeNext(r.FormValue("next")), "")
}

func (c *Console) jobList(w http.ResponseWriter, r *http.Request, q *req) error {
	f := store.JobFilter{Kind: r.URL.Query().Get("kind"), State: r.URL.Query().Get("state")}
	list, err := c.DB.ListJobs(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	counts, err := c.DB.JobCounts(r.Context(), q.Actor)
	if err != nil {
		return err
	}
	failed, err := c.DB.ListOutbox(r.Context(), q.Actor, "")
	if err != nil {
		return err
	}
	c.render(w, r, q, http.StatusOK, "jobs", map[string]any{"Jobs": list, "Counts": counts, "Filter": f, "Outbox": failed,
		"States": []string{"available", "scheduled", "running", "retryable", "completed", "discarded", "cancelled"}})
	return nil
}

func (c *Console) jobRetry(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return casework.Invalid("id", "任务编号无效", "not a job id")
	}
	if _, err := c.DB.RetryJob(r.Context(), q.Actor, id); err != nil {
		return err
	}
	return redirect(w, r, "/jobs", "job_retried")
}

// inboxNav adds the inbox and the notifications, with their counts, to the
// console's navigation.
func (c *Console) inboxNav(q *req, r *http.Request, items []navItem) []navItem {
	if q.Actor.CanAnywhere(casework.PermReadPersons) {
		n, overdue, err := c.navCache.get(q.Actor.UserID, func() (int, int, error) { return c.DB.InboxCounts(r.Context(), q.Actor) })
		if err != nil {
			c.Log.ErrorContext(r.Context(), "inbox count", "err", err)
		}
		items = append(items, navItem{Href: "/inbox", Key: "nav.inbox", Count: n, Alert: overdue > 0})
	}
	unread, err := c.DB.UnreadNotifications(r.Context(), q.Actor)
	if err != nil {
		c.Log.ErrorContext(r.Context(), "notification count", "err", err)
	}
	items = append(items, navItem{Href: "/notifications", Key: "nav.notifications", Count: unread})
	if q.Actor.CanAnywhere(casework.PermViewJobs) {
		items = append(items, navItem{Href: "/jobs", Key: "nav.jobs"})
	}
	return items
}

// navTTL is how long the navigation's inbox counts are reused for a user.
// Counting runs every inbox source; the inbox page itself always counts
// afresh, and any change the user makes (a POST) drops the user's entry, so
// only changes made by others or by the clock show up to navTTL late —
// including the user's own changes made through another server when
// several serve one database (issue 16 §2). The counts decide nothing.
const navTTL = 30 * time.Second

// navCounts caches the inbox counts per user for navTTL.
type navCounts struct {
	mu sync.Mutex
	m  map[string]navCount
}

type navCount struct {
	at         time.Time
	n, overdue int
}

func (nc *navCounts) get(userID string, count func() (int, int, error)) (int, int, error) {
	nc.mu.Lock()
	e, ok := nc.m[userID]
	nc.mu.Unlock()
	if ok && time.Since(e.at) < navTTL {
		return e.n, e.overdue, nil
	}
	n, overdue, err := count()
	if err != nil {
		return n, overdue, err
	}
	nc.mu.Lock()
	if nc.m == nil || len(nc.m) > 10000 {
		nc.m = map[string]navCount{}
	}
	nc.m[userID] = navCount{at: time.Now(), n: n, overdue: overdue}
	nc.mu.Unlock()
	return n, overdue, nil
}

func (nc *navCounts) forget(userID string) {
	nc.mu.Lock()
	delete(nc.m, userID)
	nc.mu.Unlock()
}
