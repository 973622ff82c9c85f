package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// The person's app: leave (R8, R28) and messages, under /api/v1/app/…
// (the contract). The device wrapper (app.go) authenticates the device and
// verifies the signature of state-changing requests; the person is the
// device's person.
func (a *API) appLeaveRoutes() []httpx.Route {
	return []httpx.Route{
		a.appRoute("POST", "/api/v1/app/leave", AppSigned, a.appCreateLeave, "app: request leave or working away (signed; stored once by its client id)"),
		a.appRoute("GET", "/api/v1/app/leave", AppDevice, a.appListLeave, "app: the person's leave requests"),
		a.appRoute("POST", "/api/v1/app/leave/{id}/return", AppSigned, a.appReturnLeave, "app: report back from leave (销假; signed)"),
		a.appRoute("GET", "/api/v1/app/messages", AppDevice, a.appListMessages, "app: the person's messages"),
		a.appRoute("POST", "/api/v1/app/messages/{id}/read", AppSigned, a.appReadMessage, "app: read receipt for a message (signed)"),
	}
}

// todayLeaveAndMessages is the app's "today" part of leave and messages:
// the leave in progress (or awaiting a decision) and the unread messages.
func (a *API) todayLeaveAndMessages(ctx context.Context, dev *store.AppDevice, lang string, out map[string]any) error {
	db := a.DB
	ls, err := db.ListPersonLeaves(ctx, dev.PersonID)
	if err != nil {
		return err
	}
	var current *store.Leave
	for _, l := range ls {
		switch l.State {
		case casework.LeavePending, casework.LeaveApproved, casework.LeaveExtensionRequested, casework.LeaveReturnPending:
			if current == nil || l.From.Before(current.From) {
				current = l
			}
		}
	}
	if current != nil {
		j := toLeaveJSON(current, lang, false)
		out["leave"] = map[string]any{"id": j.ID, "state": j.EffectiveState, "state_label": current.Effective.Label(lang),
			"from": j.From, "to": j.To, "destination_province": j.ProvinceName, "destination_city": j.DestinationCity, "overdue_days": j.OverdueDays}
	} else {
		out["leave"] = nil
	}
	n, err := db.UnreadMessages(ctx, dev.PersonID)
	if err != nil {
		return err
	}
	out["messages_unread"] = n
	return nil
}

func (a *API) appCreateLeave(w http.ResponseWriter, r *http.Request, q *appReq) error {
	var in leaveRequest
	if err := decodeApp(r, q, &in); err != nil {
		return err
	}
	if in.Draft {
		return casework.Invalid("draft", "应用提交的请假不能为草稿", "a request from the app cannot be a draft")
	}
	if in.ID == "" {
		return casework.Invalid("id", "缺少编号（id，客户端生成的 UUID）", "id (a client-generated UUID) is required")
	}
	li, err := in.input()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(q.Body)
	l, created, err := a.DB.CreatePersonLeave(r.Context(), q.Device.PersonID, in.ID, hex.EncodeToString(sum[:]), li)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, toLeaveJSON(l, q.Lang, false))
	return nil
}

func (a *API) appListLeave(w http.ResponseWriter, r *http.Request, q *appReq) error {
	ls, err := a.DB.ListPersonLeaves(r.Context(), q.Device.PersonID)
	if err != nil {
		return err
	}
	for _, l := range ls {
		for _, s := range l.ActionsNow() {
			if s == casework.LeaveReportReturn {
				l.Actions = append(l.Actions, s)
			}
		}
	}
	writeJSON(w, http.StatusOK, toLeaveList(ls, q.Lang, false))
	return nil
}

// appReturnLeave records the return report. A repeat (the phone sent it
// again after going back online) answers the request as it stands.
func (a *API) appReturnLeave(w http.ResponseWriter, r *http.Request, q *appReq) error {
	var in struct{}
	if len(q.Body) > 0 {
		if err := decodeApp(r, q, &in); err != nil {
			return err
		}
	}
	id := r.PathValue("id")
	l, err := a.DB.StepPersonLeave(r.Context(), q.Device.PersonID, id, store.LeaveStep{Action: casework.LeaveReportReturn})
	if casework.IsCode(err, casework.ECONFLICT) {
		cur, gerr := a.DB.GetPersonLeave(r.Context(), q.Device.PersonID, id)
		if gerr == nil && (cur.State == casework.LeaveReturnPending || cur.State == casework.LeaveReturned) {
			l, err = cur, nil
		}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLeaveJSON(l, q.Lang, false))
	return nil
}

func (a *API) appListMessages(w http.ResponseWriter, r *http.Request, q *appReq) error {
	ms, _, err := a.DB.ListPersonMessages(r.Context(), q.Device.PersonID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toMessageList(ms, q.Lang))
	return nil
}

func (a *API) appReadMessage(w http.ResponseWriter, r *http.Request, q *appReq) error {
	m, err := a.DB.MarkMessageRead(r.Context(), q.Device.PersonID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toMessageJSON(m, q.Lang))
	return nil
}
