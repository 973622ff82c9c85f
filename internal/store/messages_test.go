package store_test

import (
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

func TestMessagesAndReadReceipts(t *testing.T) {
	storetest.EachWithClock(t, leaveStart, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := newLeaveWorld(t, db)
		for _, c := range []struct {
			name  string
			actor *casework.Actor
			code  string
		}{
			{"police", w.police, casework.EFORBIDDEN},
			{"office", w.office, casework.EFORBIDDEN},
			{"other worker of the community", w.workerA2, casework.EFORBIDDEN},
			{"worker of another community", w.workerB, casework.ENOTFOUND},
			{"lead of another street", w.otherLead, casework.ENOTFOUND},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := db.SendMessage(ctx, c.actor, w.person.ID, "你好")
				pfCode(t, c.name+" sends", err, c.code)
			})
		}
		_, err := db.SendMessage(ctx, w.workerA, w.person.ID, "   ")
		pfField(t, "empty", err, "body")
		m1 := storetest.Must(db.SendMessage(ctx, w.workerA, w.person.ID, "明天上午请来社区尿检"))
		clock.Add(time.Minute)
		m2 := storetest.Must(db.SendMessage(ctx, w.lead, w.person.ID, "请按时签到"))
		if m1.SenderName != "worker-a" || m1.Read() {
			t.Fatalf("sent: %+v", m1)
		}
		ms, unread := must2(db.ListPersonMessages(ctx, w.person.ID))
		if len(ms) != 2 || unread != 2 || ms[0].ID != m2.ID {
			t.Fatalf("app list: %d unread %d", len(ms), unread)
		}
		if _, err := db.MarkMessageRead(ctx, "another-person", m1.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("another person's receipt: %v", err)
		}
		clock.Add(time.Hour)
		r := storetest.Must(db.MarkMessageRead(ctx, w.person.ID, m1.ID))
		readAt := r.ReadAt
		if !readAt.Equal(clock.T) {
			t.Fatalf("read at %v, want %v", readAt, clock.T)
		}
		clock.Add(time.Hour)
		if r := storetest.Must(db.MarkMessageRead(ctx, w.person.ID, m1.ID)); !r.ReadAt.Equal(readAt) {
			t.Fatalf("a repeat receipt moved read_at to %v", r.ReadAt)
		}
		if n := storetest.Must(db.UnreadMessages(ctx, w.person.ID)); n != 1 {
			t.Fatalf("unread = %d", n)
		}
		// The console shows sent/read state to those who may see the file.
		cs := storetest.Must(db.ListMessages(ctx, w.police, w.person.ID))
		if len(cs) != 2 || !cs[1].Read() || cs[0].Read() {
			t.Fatalf("console list: %+v", cs)
		}
		if _, err := db.ListMessages(ctx, w.workerB, w.person.ID); !casework.IsCode(err, casework.ENOTFOUND) {
			t.Fatalf("worker of another community lists messages: %v", err)
		}
		if len(auditByTarget(t, db, w, "message.read", w.person.ID)) != 1 || len(auditByTarget(t, db, w, "message.send", w.person.ID)) != 2 {
			t.Errorf("messages not audited once each")
		}
	})
}
