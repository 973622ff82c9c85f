package web

// dashboard.go is the worker's morning (issue 18 §5): for each place the
// user works in, who has not checked in today and the community's
// registration and check-in rates; the inbox grouped by kind, overdue
// first; each figure links to the list behind it. Office and lead users see
// the same for their subtree.

import (
	"net/http"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

type dashboardData struct {
	Places      []dashPlace
	Tasks       []dashTasks
	TaskTotal   int
	TaskOverdue int
	ShowTasks   bool
	Orgs        int
	Scopes      []casework.Grant
	LastLogin   time.Time
	RecentAudit []auditRow
}

// dashPlace is one org the user works in, with today's figures.
type dashPlace struct {
	Org                   *casework.Org
	Due, Done, NotChecked int
	TodayRate, MonthRate  string
	Reg                   store.Registration
	RegRate               string
	Board                 string
}

// dashTasks is one kind of task in the inbox.
type dashTasks struct {
	Kind, Label    string
	Count, Overdue int
	Href           string
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, q *req) error {
	ctx := r.Context()
	orgs, err := c.DB.ListOrgs(ctx, q.Actor, store.OrgFilter{})
	if err != nil {
		return err
	}
	d := dashboardData{Orgs: len(orgs), Scopes: q.Actor.Grants, LastLogin: q.User.LastLoginAt}
	if d.Places, err = c.dashPlaces(r, q); err != nil {
		return err
	}
	// The inbox is for those who read person files (as in the navigation).
	if d.ShowTasks = q.Actor.CanAnywhere(casework.PermReadPersons); d.ShowTasks {
		ts, err := c.DB.Inbox(ctx, q.Actor)
		if err != nil {
			return err
		}
		d.Tasks, d.TaskTotal, d.TaskOverdue = groupTasks(q.Lang, ts)
	}
	if q.Actor.CanAnywhere(casework.PermReadAudit) {
		recs, _, err := c.DB.ListAudit(ctx, q.Actor, store.AuditFilter{Limit: 10})
		if err != nil {
			return err
		}
		for i := range recs {
			d.RecentAudit = append(d.RecentAudit, newAuditRow(q.Lang, &recs[i]))
		}
	}
	c.render(w, r, q, http.StatusOK, "dashboard", d)
	return nil
}

// dashPlaces gives today's check-in figures of each org the user holds a
// grant at that reads person files, in grant order, each org once.
func (c *Console) dashPlaces(r *http.Request, q *req) ([]dashPlace, error) {
	var out []dashPlace
	seen := map[string]bool{}
	for _, g := range q.Actor.Grants {
		if seen[g.OrgID] || !q.Actor.Can(casework.PermReadPersons, g.OrgPath) {
			continue
		}
		seen[g.OrgID] = true
		org, err := c.DB.GetOrg(r.Context(), q.Actor, g.OrgID)
		if err != nil {
			return nil, err
		}
		today := casework.DateOf(c.DB.Now(), casework.LoadLocation(org.TimeZone))
		day, err := c.DB.OrgCheckinDuty(r.Context(), q.Actor, org.ID, today, today)
		if err != nil {
			return nil, err
		}
		month, err := c.DB.OrgCheckinDuty(r.Context(), q.Actor, org.ID, casework.Date{Year: today.Year, Month: today.Month, Day: 1}, today)
		if err != nil {
			return nil, err
		}
		reg, err := c.DB.RegistrationRate(r.Context(), q.Actor, org.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, dashPlace{Org: org, Due: day.Due, Done: day.Done, NotChecked: max(day.Due-day.Done, 0),
			TodayRate: pct(day.Rate()), MonthRate: pct(month.Rate()), Reg: reg, RegRate: pct(reg.Rate()),
			Board: "/orgs/" + org.ID + "/checkins"})
	}
	return out, nil
}

// groupTasks counts the inbox by kind, kinds with overdue tasks first.
func groupTasks(lang string, ts []store.Task) (groups []dashTasks, total, overdue int) {
	at := map[string]int{}
	for _, t := range ts {
		i, ok := at[t.Kind]
		if !ok {
			i = len(groups)
			at[t.Kind] = i
			groups = append(groups, dashTasks{Kind: t.Kind, Label: i18n.T(lang, "inbox.kind."+t.Kind), Href: "/inbox?kind=" + t.Kind})
		}
		groups[i].Count++
		total++
		if t.Overdue {
			groups[i].Overdue++
			overdue++
		}
	}
	// The inbox lists overdue first, so kinds with overdue tasks already lead.
	return groups, total, overdue
}
