package web

import (
	"net/http"
	"strings"

	"kangfu/internal/casework"
	"kangfu/internal/i18n"
	"kangfu/internal/store"
)

type transferRow struct {
	T           store.Transfer
	RequestedAt string
	Workers     []choice // who can be made responsible at the receiving place
}

type transferListData struct {
	State     string
	States    []choice
	Incoming  []transferRow
	Outgoing  []transferRow
	CanDecide bool
	Err       *formError
	ErrID     string // the transfer whose form failed
}

func transferStates(lang, selected string) []choice {
	out := []choice{{Value: "pending", Label: i18n.T(lang, "transfer.state_pending")}, {Value: "accepted", Label: i18n.T(lang, "transfer.state_accepted")},
		{Value: "refused", Label: i18n.T(lang, "transfer.state_refused")}, {Value: "cancelled", Label: i18n.T(lang, "transfer.state_cancelled")}}
	for i := range out {
		out[i].Selected = out[i].Value == selected
	}
	return out
}

func (c *Console) transferPage(w http.ResponseWriter, r *http.Request, q *req, d transferListData, status int) error {
	if d.State == "" {
		d.State = r.URL.Query().Get("state")
	}
	switch d.State {
	case "pending", "accepted", "refused", "cancelled":
	default:
		d.State = "pending"
	}
	d.States = transferStates(q.Lang, d.State)
	d.CanDecide = q.Actor.CanAnywhere(casework.PermTransfer)
	loc := casework.LoadLocation("")
	for _, incoming := range []bool{true, false} {
		ts, err := c.DB.ListTransfers(r.Context(), q.Actor, d.State, incoming)
		if err != nil {
			return err
		}
		for _, t := range ts {
			row := transferRow{T: t, RequestedAt: t.RequestedAt.In(loc).Format("2006-01-02 15:04")}
			if incoming {
				if t.State == "pending" {
					row.Workers = c.staffChoices(r, q, t.ToOrgID, "")
				}
				d.Incoming = append(d.Incoming, row)
			} else {
				d.Outgoing = append(d.Outgoing, row)
			}
		}
	}
	c.render(w, r, q, status, "transfers", d)
	return nil
}

func (c *Console) transferList(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.transferPage(w, r, q, transferListData{}, http.StatusOK)
}

func (c *Console) transferFailed(w http.ResponseWriter, r *http.Request, q *req, err error) error {
	fe, ok := toFormError(err, q.Lang)
	if !ok {
		return err
	}
	return c.transferPage(w, r, q, transferListData{State: "pending", Err: fe, ErrID: r.PathValue("id")}, http.StatusBadRequest)
}

func (c *Console) transferDecide(w http.ResponseWriter, r *http.Request, q *req) error {
	accept := r.PostFormValue("accept") == "1"
	d := store.TransferDecision{Accept: accept, Reason: r.PostFormValue("reason"), WorkerID: strings.TrimSpace(r.PostFormValue("worker_id"))}
	var err error
	d.AgreementDate, err = casework.ParseDateField("agreement_date", r.PostFormValue("agreement_date"))
	var t *store.Transfer
	if err == nil {
		t, err = c.DB.DecideTransfer(r.Context(), q.Actor, r.PathValue("id"), d)
	}
	if err != nil {
		return c.transferFailed(w, r, q, err)
	}
	if accept {
		return redirect(w, r, "/persons/"+t.PersonID, "transfer_accepted")
	}
	return redirect(w, r, "/transfers", "transfer_refused")
}

func (c *Console) transferCancel(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.DB.CancelTransfer(r.Context(), q.Actor, r.PathValue("id"), strings.TrimSpace(r.PostFormValue("reason"))); err != nil {
		return c.transferFailed(w, r, q, err)
	}
	return redirect(w, r, "/transfers?state=cancelled", "transfer_cancelled")
}
