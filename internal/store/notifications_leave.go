package store

import (
	"context"
	"fmt"

	"kangfu/internal/casework"
)

// notifyLeaveRequested tells the leads who decide leave (R28) that a
// request waits for them.
func (tx *Tx) notifyLeaveRequested(ctx context.Context, r *personRow, leaveID string, state casework.LeaveState, kind casework.LeaveKind, from, to casework.Date) error {
	if state != casework.LeavePending {
		return nil
	}
	_, err := tx.NotifyStaff(ctx, StaffNotice{PersonID: r.ID, Perm: casework.PermApproveLeave, Kind: "leave.submitted",
		TitleZH: fmt.Sprintf("%s 的%s申请待审批（%s 至 %s）", r.Name, kind.Label("zh"), from, to),
		TitleEN: fmt.Sprintf("%s: %s request to decide (%s to %s)", r.Name, kind.Label("en"), from, to),
		Link:    "/leave/" + leaveID, Key: "leave.submitted:" + leaveID})
	return err
}

// notifyLeaveStep tells the person of a decision on a leave request (app
// and SMS), and the leads of a request submitted from a draft or an
// extension asked for. kind is the step's event kind (leave.approved …).
func (tx *Tx) notifyLeaveStep(ctx context.Context, r *personRow, l *Leave, kind, reason string) error {
	var words func(lang string) string
	switch kind {
	case "leave.approved":
		words = func(lang string) string {
			if lang == "en" {
				return fmt.Sprintf("Your %s request (%s to %s) is approved.", l.Kind.Label("en"), l.From, l.To)
			}
			return fmt.Sprintf("您的%s申请（%s 至 %s）已批准。", l.Kind.Label("zh"), l.From, l.To)
		}
	case "leave.extension_approved":
		words = func(lang string) string {
			if lang == "en" {
				return fmt.Sprintf("Your extension is approved: the new return date is %s.", l.ExtensionTo)
			}
			return fmt.Sprintf("您的延期申请已批准，新的返回日期为 %s。", l.ExtensionTo)
		}
	case "leave.rejected":
		words = func(lang string) string {
			if lang == "en" {
				return fmt.Sprintf("Your %s request (%s to %s) is not approved: %s", l.Kind.Label("en"), l.From, l.To, reason)
			}
			return fmt.Sprintf("您的%s申请（%s 至 %s）未获批准：%s", l.Kind.Label("zh"), l.From, l.To, reason)
		}
	case "leave.extension_rejected":
		words = func(lang string) string {
			if lang == "en" {
				return fmt.Sprintf("Your extension is not approved: %s. Please come back on %s as planned and report your return.", reason, l.To)
			}
			return fmt.Sprintf("您的延期申请未获批准：%s。请按原定日期 %s 返回并销假。", reason, l.To)
		}
	case "leave.submitted", "leave.extension_requested":
		what := "请假"
		if kind == "leave.extension_requested" {
			what = "延期"
		}
		_, err := tx.NotifyStaff(ctx, StaffNotice{PersonID: r.ID, Perm: casework.PermApproveLeave, Kind: kind,
			TitleZH: fmt.Sprintf("%s 的%s申请待审批", r.Name, what),
			TitleEN: fmt.Sprintf("%s: a leave or extension request to decide", r.Name),
			Link:    "/leave/" + l.ID})
		return err
	default:
		return nil
	}
	_, err := tx.NotifyPerson(ctx, PersonNotice{PersonID: r.ID, Kind: kind, Words: words, SMS: true})
	return err
}
