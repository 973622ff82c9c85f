package store_test

import (
	"testing"

	"kangfu/internal/casework"
	"kangfu/internal/store"
)

// Issue 18 §7: a timeline entry names who made it — a staff user, the
// person acting in the app (never the system), or the system's own job.
func TestTimelineActor(t *testing.T) {
	tests := []struct {
		name  string
		actor *casework.Actor
		want  string
	}{
		{"staff", &casework.Actor{UserID: "u1", Username: "chen"}, "u1"},
		{"the person in the app", &casework.Actor{Username: "person:p1"}, store.PersonActorPrefix + "p1"},
		{"the person's device", &casework.Actor{Username: "app:d9"}, store.PersonActorPrefix + "p1"},
		{"a system job", casework.SystemActor("jobs"), ""},
		{"no actor", nil, ""},
		{"an unnamed actor", &casework.Actor{Username: "x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := store.TimelineActor(tt.actor, "p1"); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
