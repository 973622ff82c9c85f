package store_test

import (
	"fmt"
	"testing"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 15 §2 (R26, R36): with a selfie required, a check-in must cite a
// photo its own person uploaded. A made-up hash, or a photo another person
// uploaded, leaves the verdict unverifiable (not counted), and a photo is
// shown only through check-ins of the person who uploaded it.
func TestR26SelfieMustBeUploadedBySamePerson(t *testing.T) {
	start := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC) // 12:00 Beijing, inside the window
	storetest.EachWithClock(t, start, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := ciBuild(t, db, pfD("2026-03-01"))
		m := pfReported(pfD("2026-02-26"), pfD("2026-03-01"))
		m.WorkerID = w.worker.UserID
		other := storetest.Must(db.CreatePerson(ctx, pfSys, pfPerson(w.comm, "赵二", pfID("19910101", 2, true)), m))
		mine, theirs := ciActivate(t, db, w.worker, w.person.ID), ciActivate(t, db, w.worker, other.ID)
		theirPhoto, myPhoto := fmt.Sprintf("%064x", 0xbeef), fmt.Sprintf("%064x", 0xcafe)
		if err := db.RecordAppPhoto(ctx, theirs.dev, theirPhoto); err != nil {
			t.Fatal(err)
		}
		send := func(photo string) *store.Checkin {
			in := ciIn(clock.T.Add(-time.Minute), 18.25, 109.5)
			in.PhotoSHA256 = photo
			req := mine.send(in)
			c, _, err := db.IngestCheckin(ctx, mine.dev, in, req.Body, req.Sig)
			if err != nil {
				t.Fatal(err)
			}
			clock.Add(time.Minute)
			return c
		}
		for _, tt := range []struct {
			name  string
			photo string
		}{{"made-up hash", fmt.Sprintf("%064x", 0xdead)}, {"another person's photo", theirPhoto}} {
			c := send(tt.photo)
			if c.Verdict != casework.VerdictUnverifiable || c.Counts {
				t.Errorf("%s: verdict %s counts %v, want unverifiable and not counted", tt.name, c.Verdict, c.Counts)
			}
			if _, err := db.CheckinPhoto(ctx, w.worker, c.ID); !casework.IsCode(err, casework.ENOTFOUND) {
				t.Errorf("%s: reading the photo through this check-in: %v, want not found", tt.name, err)
			}
		}
		if err := db.RecordAppPhoto(ctx, mine.dev, myPhoto); err != nil {
			t.Fatal(err)
		}
		c := send(myPhoto)
		if c.Verdict != casework.VerdictOK || !c.Counts {
			t.Fatalf("own uploaded photo: verdict %s counts %v, want ok", c.Verdict, c.Counts)
		}
		if sha, err := db.CheckinPhoto(ctx, w.worker, c.ID); err != nil || sha != myPhoto {
			t.Fatalf("own photo: %q, %v", sha, err)
		}
	})
}
