package api

import (
	"net/http"
	"strconv"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// The task inbox, the caller's notifications and the background jobs
// (issue 5 §5–7), the same store calls as the console's.
func (a *API) inboxRoutes(rt route) []httpx.Route {
	any := httpx.Access{}
	jobs := httpx.Access{Perm: casework.PermViewJobs}
	return []httpx.Route{
		rt("GET", "/api/v1/inbox", any, a.inbox, "my tasks: due today and overdue"),
		rt("GET", "/api/v1/notifications", any, a.notifications, "my notifications"),
		rt("POST", "/api/v1/notifications/read", any, a.notificationsRead, "mark my notifications read"),
		rt("GET", "/api/v1/jobs", jobs, a.jobs, "background jobs"),
		rt("POST", "/api/v1/jobs/{id}/retry", jobs, a.jobRetry, "retry a failed job now"),
	}
}

type taskJSON struct {
	Kind       string        `json:"kind"`
	PersonID   string        `json:"person_id"`
	PersonName string        `json:"person_name"`
	OrgName    string        `json:"org_name"`
	Due        casework.Date `json:"due"`
	Overdue    bool          `json:"overdue"`
	Rule       string        `json:"rule"`
	Title      string        `json:"title"`
	Link       string        `json:"link"`
}

func (a *API) inbox(w http.ResponseWriter, r *http.Request, q *req) error {
	ts, err := a.DB.Inbox(r.Context(), q.Actor)
	if err != nil {
		return err
	}
	out := make([]taskJSON, 0, len(ts))
	overdue := 0
	for _, t := range ts {
		if t.Overdue {
			overdue++
		}
		out = append(out, taskJSON{Kind: t.Kind, PersonID: t.PersonID, PersonName: t.PersonName, OrgName: t.OrgName, Due: t.Due,
			Overdue: t.Overdue, Rule: t.Rule, Title: t.Title(q.Lang), Link: t.Link})
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": out, "total": len(out), "overdue": overdue})
	return nil
}

type notificationJSON struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	PersonID  string     `json:"person_id,omitempty"`
	Title     string     `json:"title"`
	Link      string     `json:"link,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

func (a *API) notifications(w http.ResponseWriter, r *http.Request, q *req) error {
	ns, err := a.DB.ListNotifications(r.Context(), q.Actor, r.URL.Query().Get("unread") == "true")
	if err != nil {
		return err
	}
	out := make([]notificationJSON, 0, len(ns))
	unread := 0
	for _, n := range ns {
		j := notificationJSON{ID: n.ID, Kind: n.Kind, PersonID: n.PersonID, Title: n.Title(q.Lang), Link: n.Link, CreatedAt: n.CreatedAt}
		if n.Read() {
			t := n.ReadAt
			j.ReadAt = &t
		} else {
			unread++
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": out, "unread": unread})
	return nil
}

func (a *API) notificationsRead(w http.ResponseWriter, r *http.Request, q *req) error {
	var in struct {
		ID string `json:"id"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	n, err := a.DB.MarkNotificationsRead(r.Context(), q.Actor, in.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"marked": n})
	return nil
}

type jobJSON struct {
	ID          int64            `json:"id"`
	Kind        string           `json:"kind"`
	State       string           `json:"state"`
	Attempt     int              `json:"attempt"`
	MaxAttempts int              `json:"max_attempts"`
	Args        string           `json:"args"`
	Errors      []store.JobError `json:"errors"`
	CreatedAt   time.Time        `json:"created_at"`
	ScheduledAt time.Time        `json:"scheduled_at"`
	FinalizedAt *time.Time       `json:"finalized_at"`
}

func toJobJSON(j *store.Job) jobJSON {
	out := jobJSON{ID: j.ID, Kind: j.Kind, State: j.State, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, Args: j.Args,
		Errors: j.Errors, CreatedAt: j.CreatedAt, ScheduledAt: j.ScheduledAt}
	if out.Errors == nil {
		out.Errors = []store.JobError{}
	}
	if !j.FinalizedAt.IsZero() {
		t := j.FinalizedAt
		out.FinalizedAt = &t
	}
	return out
}

func (a *API) jobs(w http.ResponseWriter, r *http.Request, q *req) error {
	f := store.JobFilter{Kind: r.URL.Query().Get("kind"), State: r.URL.Query().Get("state")}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return casework.Invalid("limit", "limit 须为正整数", "limit must be a positive whole number")
		}
		f.Limit = n
	}
	list, err := a.DB.ListJobs(r.Context(), q.Actor, f)
	if err != nil {
		return err
	}
	counts, err := a.DB.JobCounts(r.Context(), q.Actor)
	if err != nil {
		return err
	}
	out := make([]jobJSON, 0, len(list))
	for _, j := range list {
		out = append(out, toJobJSON(j))
	}
	type countJSON struct {
		Kind  string `json:"kind"`
		State string `json:"state"`
		Count int    `json:"count"`
	}
	cs := make([]countJSON, 0, len(counts))
	for _, c := range counts {
		cs = append(cs, countJSON{c.Kind, c.State, c.N})
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out, "counts": cs})
	return nil
}

func (a *API) jobRetry(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return casework.Invalid("id", "任务编号无效", "not a job id")
	}
	j, err := a.DB.RetryJob(r.Context(), q.Actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toJobJSON(j))
	return nil
}
