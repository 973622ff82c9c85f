package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"kangfu/internal/casework"
	"kangfu/internal/exchange"
	"kangfu/internal/store"
)

// actorFor is the named staff account as a store actor: the command acts
// with that user's grants, never as the all-powerful system actor, so an
// import or export from the command line is scoped and audited like one
// from the console.
func actorFor(ctx context.Context, db *store.DB, username string) (*casework.Actor, error) {
	if username == "" {
		return nil, usageError{"--as USERNAME is required: the command acts with that user's roles"}
	}
	id, err := db.UserIDByName(ctx, username)
	if err != nil {
		return nil, fmt.Errorf("--as %s: %w", username, err)
	}
	u, err := db.GetUser(ctx, casework.SystemActor("cli"), id)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, fmt.Errorf("--as %s: the account is disabled", username)
	}
	return &casework.Actor{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Grants: u.Grants, IP: "cli"}, nil
}

func cmdImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var file, as, lang string
	var dry bool
	cfg, _, err := parse("import", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "", "the workbook to import (.xlsx, from the import template)")
		fs.BoolVar(&dry, "dry-run", false, "check every row and report, write nothing")
		fs.StringVar(&as, "as", "", "username to act as (a lead: the rows' places must be in that user's scope)")
		fs.StringVar(&lang, "lang", "zh", "language of the report: zh or en")
	})
	if err != nil {
		return err
	}
	if file == "" {
		return usageError{"--file F.xlsx is required"}
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	e, err := open(ctx, cfg, stderr, false, true)
	if err != nil {
		return err
	}
	defer e.Close()
	actor, err := actorFor(ctx, e.db, as)
	if err != nil {
		return err
	}
	rows, err := exchange.ReadImport(f)
	if err != nil {
		return cliErr(err, lang)
	}
	rep, err := e.db.ImportPersons(ctx, actor, rows, dry)
	if err != nil {
		return cliErr(err, lang)
	}
	fmt.Fprintf(stdout, "rows %d, created %d, unchanged %d, errors %d", rep.Rows, rep.Created, rep.Unchanged, len(rep.Errors))
	switch {
	case len(rep.Errors) > 0:
		fmt.Fprintln(stdout, " — nothing imported")
		for _, x := range exchange.Errors(rep, lang) {
			col := x.Column
			if col == "" {
				col = "-"
			}
			fmt.Fprintf(stdout, "  row %d\t%s\t%s\n", x.Row, col, x.Message)
		}
		return fmt.Errorf("import refused: %d errors in %s", len(rep.Errors), filepath.Base(file))
	case dry:
		fmt.Fprintln(stdout, " — dry run, nothing written")
	default:
		fmt.Fprintln(stdout, " — imported")
	}
	return nil
}

func cmdExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var out, as, lang string
	q := url.Values{}
	filters := map[string]*string{}
	cfg, _, err := parse("export", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "the workbook to write (.xlsx)")
		fs.StringVar(&as, "as", "", "username to act as: the list is that user's, masked as on screen")
		fs.StringVar(&lang, "lang", "zh", "language of the headers: zh or en")
		for _, f := range []struct{ name, usage string }{
			{"q", "part of a name, a whole ID number or phone"}, {"status", "status(es), comma-separated"},
			{"kind", "community_treatment or community_rehab"}, {"org", "org id: place of execution in this subtree"},
			{"worker", "responsible worker's user id"}, {"deadline-days", "pending report due within N days or overdue"},
			{"include-ended", "1: released and other ended files too"}, {"sort", "name, deadline or updated"},
		} {
			filters[f.name] = fs.String(f.name, "", f.usage)
		}
	})
	if err != nil {
		return err
	}
	if out == "" {
		return usageError{"--out F.xlsx is required"}
	}
	for name, key := range map[string]string{"q": "q", "status": "status", "kind": "kind", "org": "org_id", "worker": "worker_id",
		"deadline-days": "deadline_days", "include-ended": "include_ended", "sort": "sort"} {
		if v := *filters[name]; v != "" {
			q.Set(key, v)
		}
	}
	e, err := open(ctx, cfg, stderr, false, true)
	if err != nil {
		return err
	}
	defer e.Close()
	actor, err := actorFor(ctx, e.db, as)
	if err != nil {
		return err
	}
	filter, err := exchange.FilterFromQuery(q, actor, casework.DateOf(e.db.Now(), nil))
	if err != nil {
		return cliErr(err, lang)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".kangfu-export-*.xlsx")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	n, err := exchange.ExportPersons(ctx, e.db, actor, filter, lang, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cliErr(err, lang)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d persons to %s\n", n, out)
	return nil
}

// cliErr shows a domain error's safe message in the language.
func cliErr(err error, lang string) error {
	var ce *casework.Error
	if errors.As(err, &ce) && ce.Code != casework.EINTERNAL {
		return errors.New(ce.Message(lang))
	}
	return err
}
