package main

// kangfu verify-draws (issue 5 §2): anyone holding the revealed seeds can
// recompute every test draw. Against the database it checks every seed
// against its commitment (sealed ones too, with the server key) and
// recomputes every draw whose months have all been revealed. With --export
// it writes what may be published — commitments, revealed seeds and the
// verifiable draws — as JSON; with --file it verifies such a file with no
// database and no key at all.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"kangfu/internal/casework"
)

// drawExport is the published form of the draws.
type drawExport struct {
	Seeds []casework.RevealedSeed `json:"seeds"`
	Draws []casework.DrawRecord   `json:"draws"`
	// The identity spot-check samples (issue 17 §4), drawn with the same
	// seeds.
	SpotSamples []casework.SpotSampleRecord `json:"spot_samples,omitempty"`
}

func cmdVerifyDraws(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var file, export string
	cfg, _, err := parse("verify-draws", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "", "verify an exported JSON file instead of the database (no key needed)")
		fs.StringVar(&export, "export", "", "write the revealed seeds and verifiable draws to this JSON file")
	})
	if err != nil {
		return err
	}
	var rep *casework.DrawReport
	var spotChecked, spotPending int
	var spotProblems []string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		var x drawExport
		if err := json.Unmarshal(b, &x); err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		rep = casework.VerifyDrawSet(x.Seeds, x.Draws)
		spotChecked, spotPending, spotProblems = casework.VerifySpotSet(x.Seeds, x.SpotSamples)
	} else {
		e, err := open(ctx, cfg, stderr, false, false)
		if err != nil {
			return err
		}
		defer e.Close()
		if export != "" {
			seeds, draws, err := e.db.ExportDraws(ctx)
			if err != nil {
				return err
			}
			spots, err := e.db.SpotSamples(ctx)
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(drawExport{Seeds: seeds, Draws: draws, SpotSamples: spots}, "", " ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(export, b, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %d commitments and %d draws to %s\n", len(seeds), len(draws), export)
		}
		if rep, err = e.db.VerifyDraws(ctx); err != nil {
			return err
		}
		spot, err := e.db.VerifySpotSamples(ctx)
		if err != nil {
			return err
		}
		spotChecked, spotPending, spotProblems = spot.Checked, spot.Pending, spot.Problems
	}
	fmt.Fprintf(stdout, "%d revealed seeds checked, %d draws recomputed, %d draws wait for seeds not yet revealed\n",
		rep.SeedsChecked, rep.DrawsChecked, rep.DrawsPending)
	fmt.Fprintf(stdout, "%d identity spot-check samples recomputed, %d wait for seeds not yet revealed\n", spotChecked, spotPending)
	for _, p := range spotProblems {
		fmt.Fprintln(stdout, p)
	}
	if len(spotProblems) > 0 && rep.OK() {
		return fmt.Errorf("spot-check samples altered: %d problems", len(spotProblems))
	}
	if rep.OK() {
		fmt.Fprintln(stdout, "draws intact")
		return nil
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, p)
	}
	return fmt.Errorf("draws altered: %d problems (%s)", len(rep.Problems), strings.Join(append(rep.AlteredSeeds, rep.AlteredDraws...), ", "))
}
