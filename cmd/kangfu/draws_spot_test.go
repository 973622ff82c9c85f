package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kangfu/internal/casework"
)

// Issue 17 §4: a published spot-check sample is recomputed by
// verify-draws --file with no database and no key; an altered one is
// named and fails the command.
func TestVerifyDrawsSpotSamplesFromFile(t *testing.T) {
	seed := bytes.Repeat([]byte{9}, casework.SeedSize)
	var cands []casework.SpotCandidate
	for _, id := range []string{"c-01", "c-02", "c-03", "c-04", "c-05", "c-06", "c-07", "c-08", "c-09", "c-10", "c-11", "c-12", "c-13", "c-14", "c-15", "c-16", "c-17", "c-18", "c-19", "c-20", "c-21"} {
		cands = append(cands, casework.SpotCandidate{CheckinID: id, SeedOrgID: "street"})
	}
	items, err := casework.DrawSpotSample(func(string, string) ([]byte, bool) { return seed, true }, "w1", "2026-W49", "2026-12", cands, casework.SpotSampleSize(len(cands), 5))
	if err != nil || len(items) != 2 {
		t.Fatalf("draw %v %v", items, err)
	}
	x := drawExport{Seeds: []casework.RevealedSeed{{OrgID: "street", Period: "2026-12", Hash: casework.SeedHash(seed), Seed: hex.EncodeToString(seed)}},
		SpotSamples: []casework.SpotSampleRecord{{ID: "s1", WorkerID: "w1", Week: "2026-W49", Period: "2026-12", Percent: 5, Population: casework.FormatPopulation(cands), Items: items}}}
	file := filepath.Join(t.TempDir(), "draws.json")
	write := func() {
		b, _ := json.Marshal(x)
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"verify-draws", "--file", file}, envFrom(nil), &out, io.Discard); err != nil {
		t.Fatalf("intact: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 identity spot-check samples recomputed") {
		t.Fatalf("output: %s", out.String())
	}
	for _, c := range cands {
		if c.CheckinID != items[0] && c.CheckinID != items[1] {
			x.SpotSamples[0].Items = []string{items[0], c.CheckinID}
			break
		}
	}
	write()
	out.Reset()
	if err := run(context.Background(), []string{"verify-draws", "--file", file}, envFrom(nil), &out, io.Discard); err == nil || !strings.Contains(out.String(), "s1") {
		t.Fatalf("altered sample: %v\n%s", err, out.String())
	}
}
