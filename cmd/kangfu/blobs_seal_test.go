package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"kangfu/internal/blob"
	"kangfu/internal/store/storetest"
)

// R36, issue 17 §6: the local document folder is sealed. The demo's
// documents are written sealed; a legacy plaintext file (from before
// sealing) still reads, `blobs verify` counts it as plaintext, `blobs seal`
// seals it in place (a second run seals nothing); `rotate-master` seals
// every file again under the new secret's field key, after which the new
// key alone opens every referenced blob and every file names the new key.
func TestBlobsSealAndRotateLocalFolder(t *testing.T) {
	engines := map[string]string{"sqlite": ""}
	if pg := os.Getenv("KANGFU_TEST_POSTGRES"); pg != "" {
		engines["postgres"] = storetest.NewPostgresSchema(t, pg)
	}
	for engine, dsn := range engines {
		t.Run(engine, func(t *testing.T) { blobsSealAndRotate(t, dsn) })
	}
}

func blobsSealAndRotate(t *testing.T, dsn string) {
	ctx := context.Background()
	dir := t.TempDir()
	env := map[string]string{"KANGFU_DATA_DIR": dir, "KANGFU_DB": dsn}
	cmd := func(env map[string]string, args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(ctx, append(args, "--log-level", "warn"), envFrom(env), &stdout, &stderr)
		return stdout.String() + stderr.String(), err
	}
	if out, err := cmd(env, "demo"); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	folder := filepath.Join(dir, "blobs")
	headers := func() map[string]string { // key → the first bytes of its file
		out := map[string]string{}
		filepath.WalkDir(folder, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && blob.ValidKey(d.Name()) {
				b, _ := os.ReadFile(p)
				out[d.Name()] = string(b[:min(len(b), 8)])
			}
			return nil
		})
		return out
	}
	demo := headers()
	if len(demo) < 2 {
		t.Fatalf("the demo stored %d documents; the test needs two", len(demo))
	}
	for k, h := range demo {
		if !strings.HasPrefix(h, "KFB1\x02k1") {
			t.Fatalf("demo document %s is not sealed under k1: %q", k, h)
		}
	}

	// A legacy plaintext file, written as before.
	plain, err := blob.Open(folder)
	if err != nil {
		t.Fatal(err)
	}
	legacy := []byte("%PDF-1.4 旧的未加密文件 legacy plaintext scan")
	lk, err := blob.PutBytes(ctx, plain, legacy)
	if err != nil {
		t.Fatal(err)
	}
	n := len(demo) + 1
	out, err := cmd(env, "blobs", "verify")
	if err != nil || !strings.Contains(out, strconv.Itoa(len(demo))+" file(s) sealed, 1 still plaintext (seal them with kangfu blobs seal)") {
		t.Fatalf("verify before seal: %v\n%s", err, out)
	}
	out, err = cmd(env, "blobs", "seal")
	if err != nil || !strings.Contains(out, ": 1 sealed and read back intact, "+strconv.Itoa(len(demo))+" already sealed, 0 not sealed") {
		t.Fatalf("seal: %v\n%s", err, out)
	}
	if raw, _ := os.ReadFile(filepath.Join(folder, lk[:2], lk[2:4], lk)); bytes.Contains(raw, legacy[8:]) || !bytes.HasPrefix(raw, []byte("KFB1")) {
		t.Fatalf("the legacy file is still plaintext: %q", raw)
	}
	out, err = cmd(env, "blobs", "seal")
	if err != nil || !strings.Contains(out, ": 0 sealed and read back intact, "+strconv.Itoa(n)+" already sealed") {
		t.Fatalf("second seal: %v\n%s", err, out)
	}
	if out, err := cmd(env, "blobs", "verify"); err != nil || !strings.Contains(out, strconv.Itoa(n)+" file(s) sealed, 0 still plaintext") {
		t.Fatalf("verify after seal: %v\n%s", err, out)
	}

	// rotate-master re-seals the folder under the new key.
	var key bytes.Buffer
	if err := run(ctx, []string{"keygen"}, envFrom(env), &key, &key); err != nil {
		t.Fatal(err)
	}
	newFile := filepath.Join(t.TempDir(), "new.key")
	if err := os.WriteFile(newFile, key.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = cmd(env, "rotate-master", "--new-key-file", newFile)
	if err != nil {
		t.Fatalf("rotate-master: %v\n%s", err, out)
	}
	for _, want := range []string{strconv.Itoa(n) + " object(s) re-sealed and read back intact, 0 already under the new key, 0 not re-sealed",
		"open with the new key", "audit chain intact under the new key"} {
		if !strings.Contains(out, want) {
			t.Errorf("rotate-master output lacks %q:\n%s", want, out)
		}
	}
	_, rest, _ := strings.Cut(out, "under field key ")
	fieldKey, _, _ := strings.Cut(rest, " ")
	if fieldKey == "" || fieldKey == "k1" {
		t.Fatalf("new field key %q", fieldKey)
	}
	for k, h := range headers() {
		if !strings.HasPrefix(h, "KFB1"+string(rune(len(fieldKey)))+fieldKey) {
			t.Errorf("%s sealed as %q after the rotation, want under %s", k, h, fieldKey)
		}
	}
	newEnv := map[string]string{"KANGFU_DATA_DIR": dir, "KANGFU_DB": dsn, "KANGFU_SECRET_KEY_FILE": newFile}
	if out, err := cmd(newEnv, "blobs", "verify"); err != nil || !strings.Contains(out, "0 missing, 0 altered") || !strings.Contains(out, "0 still plaintext") {
		t.Fatalf("verify with the new key: %v\n%s", err, out)
	}
}
