package store_test

import (
	"slices"
	"testing"

	"kangfu/internal/store"
	"kangfu/internal/store/storetest"
)

// The person's own data export (PIPL Art 45, R36; issue 15 "Must add")
// holds every table about the person. The schema is read on each engine:
// every table with a person_id column is either exported (OwnDataTables)
// or excluded with a reason (OwnDataExcluded), never both, and every table
// the two lists name exists. A migration that adds a person-linked table
// fails this test until the export carries it or its exclusion is argued.
func TestOwnDataExportCoversEveryPersonTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q := `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'`
		if db.Engine() == store.Postgres {
			q = `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`
		}
		cols := map[string][]string{}
		err := db.Read(ctx, func(tx *store.Tx) error {
			rows, err := tx.Query(ctx, q)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var table, col string
				if err := rows.Scan(&table, &col); err != nil {
					return err
				}
				cols[table] = append(cols[table], col)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		linked := 0
		for table, cs := range cols {
			if !slices.Contains(cs, "person_id") {
				continue
			}
			linked++
			_, in := store.OwnDataTables[table]
			reason, out := store.OwnDataExcluded[table]
			switch {
			case in && out:
				t.Errorf("%s is both exported and excluded", table)
			case !in && !out:
				t.Errorf("%s holds a person_id but is neither in the own data export (store.OwnDataTables) nor excluded with a reason (store.OwnDataExcluded)", table)
			case out && len(reason) < 20:
				t.Errorf("%s is excluded without a real reason: %q", table, reason)
			}
		}
		if linked < 30 {
			t.Fatalf("found only %d tables with a person_id: the schema query is wrong", linked)
		}
		for _, m := range []map[string]string{store.OwnDataTables, store.OwnDataExcluded} {
			for table := range m {
				if _, ok := cols[table]; !ok {
					t.Errorf("%s is named by the own data lists but is not in the schema", table)
				}
			}
		}
	})
}
