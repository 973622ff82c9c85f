package store

// The person-search benchmark of issue 3 (Performance): search by partial
// name, full name, exact ID number and phone among N persons, and the first
// page of a 500-person community list, on SQLite and (KANGFU_TEST_POSTGRES)
// PostgreSQL. Skipped unless KANGFU_BENCH_PERSONS is set:
//
//	KANGFU_BENCH_PERSONS=1000000 KANGFU_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test \
//	  go test ./internal/store -run '^$' -bench PersonSearch -benchtime 200x -timeout 3h
//
// On PostgreSQL, run it (and the server) with plan_cache_mode=force_custom_plan
// in the URL (…/test?plan_cache_mode=force_custom_plan): pgx caches prepared
// statements, and after five runs PostgreSQL switches them to a generic plan
// that cannot see the searched gram and scans persons (≈2.5 s a search at
// 1M persons instead of ≈10–20 ms).
//
// Each sub-benchmark reports ns/op and the median of its queries
// (median-ms). The rows are bulk-inserted (multi-row INSERTs in large
// transactions), bypassing CreatePerson but shaped as it shapes them:
// sealed ID number and phone, blind indexes, masks, pinyin name key,
// name grams, a custody row.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kangfu/internal/casework"
)

// storetest imports store, so this internal test opens databases itself.
func benchEngines(b *testing.B) []struct{ name, dsn string } {
	es := []struct{ name, dsn string }{{"sqlite", b.TempDir() + "/bench.db"}}
	if pg := os.Getenv("KANGFU_TEST_POSTGRES"); pg != "" {
		es = append(es, struct{ name, dsn string }{"postgres", benchPGSchema(b, pg)})
	}
	return es
}

func benchPGSchema(b *testing.B, base string) string {
	ctx := context.Background()
	schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	admin, err := Open(ctx, base, Options{Keys: benchKeys(b)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := admin.write.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		admin.write.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func benchKeys(b *testing.B) *Keys {
	k, err := DeriveKeys([]byte("kangfu-bench-secret-key-32-bytes"))
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// Common surnames with their rough frequency (per mille) and common
// given-name characters, the most common first.
var (
	benchSurnames = []struct {
		s string
		w int
	}{{"王", 71}, {"李", 70}, {"张", 67}, {"刘", 54}, {"陈", 45}, {"杨", 31}, {"黄", 21}, {"赵", 20}, {"吴", 20}, {"周", 19},
		{"徐", 14}, {"孙", 13}, {"马", 12}, {"朱", 12}, {"胡", 11}, {"郭", 11}, {"何", 11}, {"高", 10}, {"林", 10}, {"罗", 9},
		{"郑", 9}, {"梁", 9}, {"谢", 7}, {"宋", 7}, {"唐", 7}, {"许", 6}, {"韩", 6}, {"冯", 6}, {"邓", 6}, {"曹", 6},
		{"彭", 5}, {"曾", 5}, {"肖", 5}, {"田", 5}, {"董", 5}, {"袁", 4}, {"潘", 4}, {"于", 4}, {"蒋", 4}, {"蔡", 4},
		{"余", 4}, {"杜", 4}, {"叶", 4}, {"程", 4}, {"苏", 3}, {"魏", 3}, {"吕", 3}, {"丁", 3}, {"任", 3}, {"沈", 3},
		{"符", 3}, {"黎", 2}, {"邢", 2}, {"吉", 1}, {"羊", 1}, {"麦", 1}, {"欧阳", 1}, {"司马", 1}}
	benchGiven = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文建国志海云红东波辉鹏飞斌宇浩凯俊峰林婷雪琳晶欣佳慧鑫丹萍亮成龙金春燕梅莉凤宁新永庆生德福祥荣光清瑞嘉思雨子晓小天安和立正振家泽昊博铭然诗怡颖琪悦梦雅倩珊蕾薇")
	benchAreas = []string{"460203", "460202", "460204", "460205", "460105", "460106", "460107", "460108", "460300", "469001"}
)

type benchGen struct {
	rnd      *rand.Rand
	surnames []string // expanded by weight
}

func newBenchGen() *benchGen {
	g := &benchGen{rnd: rand.New(rand.NewPCG(11643, 2021))}
	for _, s := range benchSurnames {
		for range s.w {
			g.surnames = append(g.surnames, s.s)
		}
	}
	return g
}

func (g *benchGen) given() rune {
	u := g.rnd.Float64()
	return benchGiven[int(u*u*float64(len(benchGiven)))] // common characters more often
}

func (g *benchGen) name() string {
	n := g.surnames[g.rnd.IntN(len(g.surnames))] + string(g.given())
	if g.rnd.IntN(10) < 7 {
		n += string(g.given())
	}
	return n
}

// idNumber returns a valid ID number unique for i (birth day and sequence
// number come from i; the area code varies).
func (g *benchGen) idNumber(i int) string {
	birth := casework.NewDate(1960, 1, 1).AddDays(i % 14600)
	body := fmt.Sprintf("%s%04d%02d%02d%03d", benchAreas[g.rnd.IntN(len(benchAreas))], birth.Year, birth.Month, birth.Day, i/14600)
	return body + string(casework.IDCheckChar(body))
}

type benchFixture struct {
	office, worker *casework.Actor
	community      *casework.Org // the one with 500 persons
	names          []string      // sampled full names
	ids, phones    []string
}

// seedPersons creates an org tree (a county, 20 streets, communities of
// about 1,000 persons and one of exactly 500) and n persons.
func seedPersons(b *testing.B, db *DB, n int) *benchFixture {
	ctx := context.Background()
	start := time.Now()
	sys := casework.SystemActor("bench")
	mk := func(parent *casework.Org, kind casework.OrgKind, name string) *casework.Org {
		in := casework.OrgInput{Kind: kind, Name: name}
		if parent != nil {
			in.ParentID = parent.ID
		}
		o, err := db.CreateOrg(ctx, sys, in)
		if err != nil {
			b.Fatal(err)
		}
		return o
	}
	prov := mk(nil, casework.KindProvince, "海南省")
	city := mk(prov, casework.KindCity, "三亚市")
	county := mk(city, casework.KindCounty, "吉阳区")
	var streets []*casework.Org
	for i := range 20 {
		streets = append(streets, mk(county, casework.KindTownship, fmt.Sprintf("第%d街道", i+1)))
	}
	small := mk(streets[0], casework.KindCommunity, "五百人社区")
	comms := []*casework.Org{small}
	for i := range max(1, (n-500)/1000) {
		comms = append(comms, mk(streets[i%20], casework.KindCommunity, fmt.Sprintf("社区%d", i+1)))
	}
	b.Logf("seed: %d orgs in %s", len(comms)+23, time.Since(start).Round(time.Millisecond))

	f := &benchFixture{community: small,
		office: &casework.Actor{UserID: "bench-office", Username: "office", Grants: []casework.Grant{{Role: casework.RoleOffice, OrgID: county.ID, OrgPath: county.Path}}},
		worker: &casework.Actor{UserID: "bench-worker", Username: "worker", Grants: []casework.Grant{{Role: casework.RoleWorker, OrgID: small.ID, OrgPath: small.Path}}}}
	g := newBenchGen()
	now := db.Now().UTC().Truncate(time.Microsecond)
	statuses := []casework.Status{}
	for s, w := range map[casework.Status]int{casework.StatusExecuting: 85, casework.StatusPendingReport: 5, casework.StatusSuspended: 3, casework.StatusOnLeave: 2, casework.StatusReleased: 5} {
		for range w {
			statuses = append(statuses, s)
		}
	}
	slices.Sort(statuses)
	const perTx = 20000
	const personCols = 17
	const rowsPerStmt = 500
	personStmt := func(rows int) string {
		ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", personCols), ", ") + ")"
		return `INSERT INTO persons (id, org_id, name, name_key, sex, birth_date, id_number_enc, id_number_idx, id_masked, phone_enc, phone_idx, phone_masked,
			status, measure_kind, term_end, created_at, updated_at) VALUES ` + strings.TrimSuffix(strings.Repeat(ph+", ", rows), ", ")
	}
	multi := func(tx *Tx, head string, cols int, vals []any) error {
		per := 1000
		ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
		for len(vals) > 0 {
			k := min(per, len(vals)/cols)
			if _, err := tx.Exec(ctx, head+strings.TrimSuffix(strings.Repeat(ph+", ", k), ", "), vals[:k*cols]...); err != nil {
				return err
			}
			vals = vals[k*cols:]
		}
		return nil
	}
	for done := 0; done < n; {
		batch := min(perTx, n-done)
		err := db.Write(ctx, func(tx *Tx) error {
			if tx.Engine() == SQLite {
				if _, err := tx.Exec(ctx, `PRAGMA cache_size = -262144`); err != nil {
					return err
				}
			}
			var pvals, gvals, cvals []any
			for i := done; i < done+batch; i++ {
				var org *casework.Org
				if i < 500 {
					org = small
				} else {
					org = comms[1+(i-500)%(len(comms)-1)]
				}
				id := NewID()
				name := g.name()
				idn := g.idNumber(i)
				phone := fmt.Sprintf("1%d%09d", 3+g.rnd.IntN(6), i)
				parsed, err := casework.ParseIDNumber(idn, time.Time{})
				if err != nil {
					return fmt.Errorf("generated ID %s: %w", idn, err)
				}
				idEnc, err := db.vault.Seal(idn, sealCtx("id", id))
				if err != nil {
					return err
				}
				phoneEnc, err := db.vault.Seal(phone, sealCtx("phone", id))
				if err != nil {
					return err
				}
				status := statuses[g.rnd.IntN(len(statuses))]
				kind := casework.MeasureRehab
				if g.rnd.IntN(3) == 0 {
					kind = casework.MeasureTreatment
				}
				pvals = append(pvals, id, org.ID, name, nameKey(name), parsed.Sex, parsed.Birth, idEnc, db.vault.Index("id", idn), casework.MaskID(idn),
					phoneEnc, db.vault.Index("phone", phone), casework.MaskPhone(phone), string(status), string(kind),
					casework.NewDate(2027, time.Month(1+g.rnd.IntN(12)), 1+g.rnd.IntN(28)), now, now)
				for _, gram := range casework.NameGrams(name) {
					gvals = append(gvals, gram, id, string(status), org.ID, nameKey(name))
				}
				cvals = append(cvals, NewID(), id, org.ID, now)
				if status != casework.StatusReleased && (g.rnd.IntN(1000) < 20 || i < 20) { // sample search terms in routine lists
					f.names, f.ids, f.phones = append(f.names, name), append(f.ids, idn), append(f.phones, phone)
				}
			}
			for len(pvals) > 0 {
				k := min(rowsPerStmt, len(pvals)/personCols)
				if _, err := tx.Exec(ctx, personStmt(k), pvals[:k*personCols]...); err != nil {
					return fmt.Errorf("insert persons: %w", err)
				}
				pvals = pvals[k*personCols:]
			}
			if err := multi(tx, `INSERT INTO person_name_grams (gram, person_id, status, org_id, name_key) VALUES `, 5, gvals); err != nil {
				return fmt.Errorf("insert grams: %w", err)
			}
			return multi(tx, `INSERT INTO custody (id, person_id, org_id, from_at) VALUES `, 4, cvals)
		})
		if err != nil {
			b.Fatal(err)
		}
		done += batch
		if done%200000 == 0 || done == n {
			b.Logf("seed: %d persons in %s", done, time.Since(start).Round(time.Second))
		}
	}
	// PostgreSQL's autovacuum would analyse the new rows soon after a load;
	// do it now so the plans are the ones a running server gets. SQLite
	// has no statistics unless someone runs ANALYZE, which the server
	// does not: it is left as the server would have it.
	if db.engine == Postgres {
		if _, err := db.write.ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seed: done in %s", time.Since(start).Round(time.Second))
	return f
}

// explain prints the plans of a list's two queries (count and page):
// EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL.
func explain(b *testing.B, db *DB, actor *casework.Actor, f PersonFilter) {
	ctx := context.Background()
	err := db.Read(ctx, func(tx *Tx) error {
		where, args, err := tx.personScope(ctx, actor, f)
		if err != nil {
			return err
		}
		from := personFrom + ` WHERE ` + strings.Join(where, " AND ")
		prefix := "EXPLAIN QUERY PLAN "
		if db.engine == Postgres {
			prefix = "EXPLAIN ANALYZE "
		}
		for _, q := range []string{`SELECT COUNT(*)` + from, `SELECT ` + personColumns + from + ` ORDER BY p.name_key, p.id LIMIT 50`} {
			rows, err := tx.Query(ctx, prefix+q, args...)
			if err != nil {
				return err
			}
			cols, _ := rows.Columns()
			var out []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return err
				}
				out = append(out, fmt.Sprint(vals[len(vals)-1]))
			}
			rows.Close()
			b.Logf("%s\n%s", q, strings.Join(out, "\n"))
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func BenchmarkPersonSearch(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("KANGFU_BENCH_PERSONS"))
	if n <= 0 {
		b.Skip("set KANGFU_BENCH_PERSONS (e.g. 1000000) to run the person-search benchmark")
	}
	ctx := context.Background()
	for _, e := range benchEngines(b) {
		b.Run(e.name, func(b *testing.B) {
			db, err := Open(ctx, e.dsn, Options{Keys: benchKeys(b)})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			f := seedPersons(b, db, n)
			var twoChars, lastTwo []string
			for _, name := range f.names {
				r := []rune(name)
				twoChars = append(twoChars, string(r[:2]))
				lastTwo = append(lastTwo, string(r[len(r)-2:]))
			}
			cases := []struct {
				name   string
				actor  *casework.Actor
				filter func(i int) PersonFilter
				check  func(total int) bool
			}{
				{"name-2-chars", f.office, func(i int) PersonFilter { return PersonFilter{Query: twoChars[i%len(twoChars)]} }, func(t int) bool { return t >= 1 }},
				{"name-2-chars-given", f.office, func(i int) PersonFilter { return PersonFilter{Query: lastTwo[i%len(lastTwo)]} }, func(t int) bool { return t >= 1 }},
				{"name-full", f.office, func(i int) PersonFilter { return PersonFilter{Query: f.names[i%len(f.names)]} }, func(t int) bool { return t >= 1 }},
				{"id-number", f.office, func(i int) PersonFilter { return PersonFilter{Query: f.ids[i%len(f.ids)], IncludeEnded: true} }, func(t int) bool { return t == 1 }},
				{"phone", f.office, func(i int) PersonFilter { return PersonFilter{Query: f.phones[i%len(f.phones)], IncludeEnded: true} }, func(t int) bool { return t == 1 }},
				{"community-500-page1-worker", f.worker, func(int) PersonFilter { return PersonFilter{Limit: 50} }, func(t int) bool { return t > 400 && t <= 500 }},
				{"community-500-page1-office", f.office, func(int) PersonFilter { return PersonFilter{OrgID: f.community.ID, Limit: 50} }, func(t int) bool { return t > 400 && t <= 500 }},
			}
			for _, c := range cases {
				if os.Getenv("KANGFU_BENCH_EXPLAIN") != "" {
					explain(b, db, c.actor, c.filter(0))
				}
				b.Run(c.name, func(b *testing.B) {
					var ds []time.Duration
					hits := 0
					b.ResetTimer()
					for i := range b.N {
						t0 := time.Now()
						_, total, err := db.ListPersons(ctx, c.actor, c.filter(i))
						ds = append(ds, time.Since(t0))
						if err != nil {
							b.Fatal(err)
						}
						if !c.check(total) {
							b.Fatalf("%s: %d results for %+v", c.name, total, c.filter(i))
						}
						hits += total
					}
					b.ReportMetric(float64(median(ds).Microseconds())/1000, "median-ms")
					b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
				})
			}
		})
	}
}
