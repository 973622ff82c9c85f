package main

import (
	"strings"
	"testing"
	"time"
)

// Issue 16 §3: KANGFU_DB_REPLICA and KANGFU_REPLICA_MAX_LAG are checked at
// start, each problem naming the setting and what to fix.
func TestReplicaConfig(t *testing.T) {
	const pg = "postgres://kangfu:secret@db1:5432/kangfu"
	for _, tt := range []struct {
		env  map[string]string
		want string // "" for valid
	}{
		{map[string]string{"KANGFU_DB": pg, "KANGFU_DB_REPLICA": "postgres://kangfu:secret@db2:5432/kangfu"}, ""},
		{map[string]string{"KANGFU_DB_REPLICA": "postgres://db2/kangfu"}, "needs a PostgreSQL primary"},
		{map[string]string{"KANGFU_DB": pg, "KANGFU_DB_REPLICA": "mysql://u:pw@db2/kangfu"}, "must be a postgres:// URL"},
		{map[string]string{"KANGFU_DB": pg, "KANGFU_REPLICA_MAX_LAG": "500ms"}, "KANGFU_REPLICA_MAX_LAG must be at least 1s"},
		{map[string]string{"KANGFU_DB": pg, "KANGFU_REPLICA_MAX_LAG": "soon"}, `KANGFU_REPLICA_MAX_LAG="soon" is not a duration`},
	} {
		cfg, err := acmeConfig(t, tt.env)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.env, err)
			} else if cfg.ReplicaMaxLag != 30*time.Second {
				t.Errorf("default max lag %v, want 30s", cfg.ReplicaMaxLag)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.env, err, tt.want)
		} else if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "pw@") {
			t.Errorf("a password in the error: %v", err)
		}
	}
}
