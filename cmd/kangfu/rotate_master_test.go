package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 15, master key rotation: `kangfu rotate-master` re-keys the demo
// database under a new key from a file; verify-audit passes with the new
// key (and with the old one given as --old-key-file), the old key is
// refused with a fingerprint mismatch, and serve starts with the new one.
func TestRotateMasterCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KANGFU_DATA_DIR": dir}
	if err := run(context.Background(), []string{"demo"}, envFrom(env), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"audit-checkpoint"}, envFrom(env), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var key bytes.Buffer
	if err := run(context.Background(), []string{"keygen"}, envFrom(env), &key, io.Discard); err != nil {
		t.Fatal(err)
	}
	newFile := filepath.Join(t.TempDir(), "new.key")
	if err := os.WriteFile(newFile, key.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"rotate-master"}, envFrom(env), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--new-key-file") {
		t.Fatalf("rotate-master without a new key: %v", err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"rotate-master", "--new-key-file", newFile, "--batch", "50"}, envFrom(env), &out, io.Discard); err != nil {
		t.Fatalf("rotate-master: %v\n%s", err, out.String())
	}
	for _, want := range []string{"values re-encrypted", "links the chain", "audit chain intact under the new key", "1 checkpoint(s)", "new checkpoint: kangfu-audit-checkpoint v1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("rotate-master output lacks %q:\n%s", want, out.String())
		}
	}

	// The old key (still in <data-dir>/secret.key) is refused.
	for _, args := range [][]string{{"verify-audit"}, {"serve", "--addr", "127.0.0.1:0"}} {
		err := run(context.Background(), args, envFrom(env), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "fingerprint mismatch") {
			t.Fatalf("%v with the old key: %v; want a fingerprint mismatch", args, err)
		}
	}
	// The new key verifies the whole chain, and with the old key given too
	// checks the old rows and the link row by row; both checkpoints hold.
	newEnv := map[string]string{"KANGFU_DATA_DIR": dir, "KANGFU_SECRET_KEY_FILE": newFile}
	out.Reset()
	if err := run(context.Background(), []string{"verify-audit"}, envFrom(newEnv), &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "across 1 master key rotation(s), 0 link(s)") || !strings.Contains(out.String(), "2 checkpoint(s)") {
		t.Fatalf("verify-audit with the new key: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"verify-audit", "--old-key-file", filepath.Join(dir, "secret.key")}, envFrom(newEnv), &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "1 link(s) checked under the old key") {
		t.Fatalf("verify-audit with both keys: %v %q", err, out.String())
	}
	// Again: nothing to do.
	out.Reset()
	if err := run(context.Background(), []string{"rotate-master", "--new-key-file", newFile}, envFrom(env), &out, io.Discard); err != nil || !strings.Contains(out.String(), "already keyed") {
		t.Fatalf("second rotate-master: %v %q", err, out.String())
	}
	startServerEnv(t, dir, newEnv)
}
