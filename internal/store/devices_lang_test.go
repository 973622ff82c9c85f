package store_test

import (
	"strings"
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 18 item 13: the app's language is stored with the device (at
// activation and when switched); a system notice's SMS is worded in it
// (Chinese without a device) and its app message keeps both languages, so
// the app shows it in the language the person reads.
func TestDeviceLangWordsNotices(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		// approve decides a request and returns the notice's app message
		// and its SMS.
		approve := func(from, to string) (*store.Message, string) {
			t.Helper()
			l := storetest.Must(db.CreateLeave(ctx, w.workerA, w.person.ID, leaveIn(from, to)))
			storetest.Must(db.StepLeave(ctx, w.lead, l.ID, store.LeaveStep{Action: casework.LeaveApprove, Reason: "同意"}))
			ms, _ := ciMust2(db.ListPersonMessages(ctx, w.person.ID))
			var msg *store.Message
			for _, m := range ms {
				if m.Kind == "leave.approved" && strings.Contains(m.Body, from) {
					msg = m
				}
			}
			if msg == nil {
				t.Fatalf("no approval notice for %s among %d messages", from, len(ms))
			}
			sms := ""
			for _, o := range storetest.Must(db.ListOutbox(ctx, w.lead, w.person.ID)) {
				if strings.Contains(o.Body, from) {
					sms = o.Body
				}
			}
			return msg, sms
		}
		english := func(s string) bool {
			return strings.Contains(s, "is approved") && !strings.ContainsAny(s, "您，。（）")
		}

		// No device yet: the SMS in Chinese; the app message in both.
		m, sms := approve("2026-03-20", "2026-03-21")
		if !strings.Contains(sms, "已批准") || !strings.Contains(m.Text("zh"), "已批准") || !english(m.Text("en")) {
			t.Errorf("no device: sms %q, zh %q, en %q", sms, m.Text("zh"), m.Text("en"))
		}

		// Activated in English.
		code, _ := ciMust2(db.CreateActivationCode(ctx, w.workerA, w.person.ID))
		dev, _ := ciMust2(db.Activate(ctx, store.Activation{Code: code, PublicKey: "k", PINHash: "h", TokenHash: "tok-lang", Lang: "en"}))
		if dev.Lang != "en" {
			t.Fatalf("device lang %q, want en", dev.Lang)
		}
		got := storetest.Must(db.DeviceByToken(ctx, "tok-lang"))
		if got.Lang != "en" {
			t.Fatalf("stored lang %q, want en", got.Lang)
		}
		m, sms = approve("2026-03-23", "2026-03-24")
		if !english(sms) || !english(m.Text("en")) {
			t.Errorf("English device: sms %q, app %q", sms, m.Text("en"))
		}

		// Switched back to Chinese.
		if err := db.SetDeviceLang(ctx, dev.ID, "zh"); err != nil {
			t.Fatal(err)
		}
		if _, sms := approve("2026-03-26", "2026-03-27"); !strings.Contains(sms, "已批准") {
			t.Errorf("switched to Chinese: sms %q", sms)
		}
		// A staff message is shown as written in either language.
		sent := storetest.Must(db.SendMessage(ctx, w.workerA, w.person.ID, "明天上午来社区一趟"))
		if sent.Text("en") != "明天上午来社区一趟" {
			t.Errorf("a staff message in English: %q", sent.Text("en"))
		}
		if err := db.SetDeviceLang(ctx, dev.ID, "fr"); !casework.IsCode(err, casework.EINVALID) {
			t.Errorf("French: %v, want EINVALID", err)
		}
		if err := db.SetDeviceLang(ctx, "no-such-device", "en"); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Errorf("unknown device: %v, want ENOTFOUND", err)
		}
	})
}
