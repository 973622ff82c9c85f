package casework

import "testing"

// Issue 11 §6: a care record is editable only by its author or a lead
// (or office) over the person's place.
func TestCanEditCareRecord(t *testing.T) {
	g := func(role Role, path string) Grant { return Grant{Role: role, OrgPath: path} }
	const place = "/county/street/commA/"
	tests := []struct {
		name   string
		actor  *Actor
		author string
		want   bool
	}{
		{"nil actor", nil, "u1", false},
		{"system", SystemActor("demo"), "u1", true},
		{"author worker", &Actor{UserID: "u1", Grants: []Grant{g(RoleWorker, "/county/street/commA/")}}, "u1", true},
		{"other worker same community", &Actor{UserID: "u2", Grants: []Grant{g(RoleWorker, "/county/street/commA/")}}, "u1", false},
		{"lead of the street", &Actor{UserID: "u3", Grants: []Grant{g(RoleLead, "/county/street/")}}, "u1", true},
		{"office of the county", &Actor{UserID: "u4", Grants: []Grant{g(RoleOffice, "/county/")}}, "u1", true},
		{"lead of another street", &Actor{UserID: "u5", Grants: []Grant{g(RoleLead, "/county/other/")}}, "u1", false},
		{"police over the place", &Actor{UserID: "u6", Grants: []Grant{g(RolePolice, "/county/")}}, "u1", false},
		{"counsellor, not author", &Actor{UserID: "u7", Grants: []Grant{g(RoleCounsellor, "/county/street/")}}, "u1", false},
		{"empty author never matches", &Actor{UserID: "", Grants: []Grant{g(RoleWorker, "/county/street/commA/")}}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanEditCareRecord(tt.actor, tt.author, place); got != tt.want {
				t.Errorf("CanEditCareRecord = %v, want %v", got, tt.want)
			}
		})
	}
	lead := &Actor{UserID: "u3", Grants: []Grant{g(RoleLead, "/county/street/")}}
	if CanEditCareRecord(lead, "u1", "") {
		t.Error("a lead with no known place must not edit")
	}
}

func TestCheckRevisionReason(t *testing.T) {
	if _, err := CheckRevisionReason("  "); ErrorField(err) != "reason" {
		t.Errorf("blank reason: %v", err)
	}
	long := make([]rune, MaxRevisionReason+1)
	for i := range long {
		long[i] = '改'
	}
	if _, err := CheckRevisionReason(string(long)); ErrorField(err) != "reason" {
		t.Errorf("long reason: %v", err)
	}
	if r, err := CheckRevisionReason(" 笔误 "); err != nil || r != "笔误" {
		t.Errorf("got %q, %v", r, err)
	}
}
