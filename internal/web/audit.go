package web

import (
	"net/http"
	"strconv"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

type auditData struct {
	Rows  []store.AuditRecord
	Total int
	F     map[string]string
	Next  int
	Prev  int
	Err   string
}

func (c *Console) auditList(w http.ResponseWriter, r *http.Request, q *req) error {
	qs := r.URL.Query()
	off, _ := strconv.Atoi(qs.Get("offset"))
	f := store.AuditFilter{ActorName: qs.Get("actor"), Action: qs.Get("action"), TargetType: qs.Get("target_type"),
		TargetID: qs.Get("target_id"), Offset: max(off, 0), Limit: pageSize}
	d := auditData{F: map[string]string{"actor": f.ActorName, "action": f.Action, "target_type": f.TargetType,
		"target_id": f.TargetID, "from": qs.Get("from"), "to": qs.Get("to")}, Next: -1, Prev: -1}
	loc := casework.LoadLocation("")
	var err error
	if s := qs.Get("from"); s != "" {
		if f.From, err = time.ParseInLocation("2006-01-02", s, loc); err != nil {
			d.Err = casework.Invalid("from", "开始日期格式应为 YYYY-MM-DD", "from must be a date YYYY-MM-DD").Message(q.Lang)
		}
	}
	if s := qs.Get("to"); s != "" {
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			d.Err = casework.Invalid("to", "结束日期格式应为 YYYY-MM-DD", "to must be a date YYYY-MM-DD").Message(q.Lang)
		} else {
			f.To = t.AddDate(0, 0, 1) // the whole "to" day
		}
	}
	if d.Err == "" {
		if d.Rows, d.Total, err = c.DB.ListAudit(r.Context(), q.Actor, f); err != nil {
			return err
		}
	}
	if f.Offset+pageSize < d.Total {
		d.Next = f.Offset + pageSize
	}
	if f.Offset > 0 {
		d.Prev = max(f.Offset-pageSize, 0)
	}
	c.render(w, r, q, http.StatusOK, "audit", d)
	return nil
}
