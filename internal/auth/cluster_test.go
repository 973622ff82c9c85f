package auth_test

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"kangfu/internal/auth"
	"kangfu/internal/casework"
	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// Issue 16 §2: two servers ("A" and "B", two store handles on one
// database, both engines) behind a balancer that sends one client's
// attempts to either. The per-address limit, the account lock and the
// session are the same whichever server answers.
func TestSignInAcrossServers(t *testing.T) {
	p := auth.DefaultPolicy()
	p.LockAfter, p.LockFor = 4, 15*time.Minute
	p.IPRate, p.IPBurst = rate.Every(time.Hour), 6
	storetest.EachPair(t, start, func(t *testing.T, a, b *store.DB, clock *storetest.Clock) {
		f := newFixture(t, a, clock, p)
		f.user(t, "wang", casework.RoleWorker)
		f.user(t, "li", casework.RoleWorker)
		svcB := auth.NewService(b, p)
		svcB.Now = clock.Now
		login := func(svc *auth.Service, user, pw, ip string) (*auth.LoginResult, error) {
			return svc.Login(t.Context(), auth.LoginInput{Username: user, Password: pw, Kind: "web", IP: ip, UserAgent: "cluster_test"})
		}
		servers := []*auth.Service{f.svc, svcB}

		// Lock: 4 wrong passwords, alternately on A and B, lock the account
		// for the address on both.
		const ip = "192.0.2.1"
		for i := range 4 {
			_, err := login(servers[i%2], "wang", "wrong password", ip)
			wantCode(t, fmt.Sprintf("wrong password #%d on %c", i+1, 'A'+i%2), err, casework.EUNAUTHORIZED)
		}
		for i, svc := range servers {
			_, err := login(svc, "wang", password, ip)
			wantCode(t, fmt.Sprintf("right password on %c after 4 failures spread over A and B", 'A'+i), err, casework.ELOCKED)
		}

		// Rate: the address has used 6 attempts of its burst of 6 (4 wrong,
		// 2 locked) — on both servers together; a seventh is refused on either.
		for i, svc := range servers {
			_, err := login(svc, "li", password, ip)
			wantCode(t, fmt.Sprintf("7th attempt from one address on %c", 'A'+i), err, casework.ERATELIMIT)
		}

		// Session: opened on B, valid on A; signed out on A, refused on B.
		res, err := login(svcB, "li", password, "198.51.100.7")
		if err != nil {
			t.Fatal(err)
		}
		actor, _, err := f.svc.Authenticate(t.Context(), res.Token, "web", "198.51.100.7")
		if err != nil {
			t.Fatalf("session opened on B, used on A: %v", err)
		}
		if _, _, err := svcB.Authenticate(t.Context(), res.Token, "web", "198.51.100.7"); err != nil {
			t.Fatalf("session on B: %v", err)
		}
		if err := f.svc.Logout(t.Context(), actor, res.Token); err != nil {
			t.Fatal(err)
		}
		_, _, err = svcB.Authenticate(t.Context(), res.Token, "web", "198.51.100.7")
		wantCode(t, "signed out on A, used on B", err, casework.EUNAUTHORIZED)
	})
}
