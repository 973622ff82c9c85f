package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"kangfu/internal/blob"
	"kangfu/internal/store/storetest"
)

// Issue 16: `kangfu rotate-master` with the documents in a bucket (an
// in-process S3 server). An object that does not open stops the rotation
// before the switch, the database stays on the old key; with it put back,
// the rerun re-seals what is left, switches, and every referenced document
// opens with the new key alone (blobs verify), each object naming the new
// field key in its header.
func TestRotateMasterWithBucket(t *testing.T) {
	engines := map[string]string{"sqlite": ""}
	if pg := os.Getenv("KANGFU_TEST_POSTGRES"); pg != "" {
		engines["postgres"] = storetest.NewPostgresSchema(t, pg)
	}
	for engine, dsn := range engines {
		t.Run(engine, func(t *testing.T) { rotateMasterWithBucket(t, dsn) })
	}
}

func rotateMasterWithBucket(t *testing.T, dsn string) {
	ctx := context.Background()
	mem := s3mem.New()
	if err := mem.CreateBucket("kangfu"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	defer srv.Close()
	dir := t.TempDir()
	env := map[string]string{"KANGFU_DATA_DIR": dir, "KANGFU_DB": dsn, "KANGFU_BLOBS": "s3://kangfu/county-a", "AWS_ENDPOINT_URL": srv.URL,
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "kangfu", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"}
	cmd := func(env map[string]string, args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(ctx, append(args, "--log-level", "warn"), envFrom(env), &stdout, &stderr)
		return stdout.String() + stderr.String(), err
	}
	local := map[string]string{"KANGFU_DATA_DIR": dir, "KANGFU_DB": dsn}
	if out, err := cmd(local, "demo"); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if out, err := cmd(env, "blobs", "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	ls, _ := blob.Open(filepath.Join(dir, "blobs"))
	var keys []string
	ls.Keys(func(k string) error { keys = append(keys, k); return nil })
	if len(keys) < 2 {
		t.Fatalf("%d objects; the test needs two", len(keys))
	}
	var key bytes.Buffer
	if err := run(ctx, []string{"keygen"}, envFrom(local), &key, io.Discard); err != nil {
		t.Fatal(err)
	}
	newFile := filepath.Join(t.TempDir(), "new.key")
	if err := os.WriteFile(newFile, key.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	// One object altered behind Kangfu's back: nothing switches.
	c, err := minio.New(strings.TrimPrefix(srv.URL, "http://"), &minio.Options{Creds: credentials.NewStaticV4("kangfu", "not-a-real-secret", ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	name := func(k string) string { return "county-a/" + k[:2] + "/" + k }
	raw, meta := getRaw(t, c, name(keys[0]))
	bad := bytes.Clone(raw)
	bad[len(bad)/2] ^= 0x40
	putRaw(t, c, name(keys[0]), bad, meta)
	out, err := cmd(env, "rotate-master", "--new-key-file", newFile)
	if err == nil || !strings.Contains(out, "NOT RE-SEALED "+keys[0]) || !strings.Contains(err.Error(), "stays on the old key") {
		t.Fatalf("rotate-master with an altered object: %v\n%s", err, out)
	}
	if !strings.Contains(out, strconv.Itoa(len(keys)-1)+" object(s) re-sealed and read back intact") {
		t.Fatalf("the intact objects were not re-sealed:\n%s", out)
	}
	newEnv := map[string]string{}
	for k, v := range env {
		newEnv[k] = v
	}
	newEnv["KANGFU_SECRET_KEY_FILE"] = newFile
	if out, err := cmd(newEnv, "blobs", "verify"); err == nil {
		t.Fatalf("the new key opens the database before the switch:\n%s", out)
	}

	// Put back, run again: the rest is re-sealed, then the switch.
	putRaw(t, c, name(keys[0]), raw, meta)
	out, err = cmd(env, "rotate-master", "--new-key-file", newFile)
	if err != nil {
		t.Fatalf("rotate-master resumed: %v\n%s", err, out)
	}
	for _, want := range []string{"1 object(s) re-sealed and read back intact, " + strconv.Itoa(len(keys)-1) + " already under the new key, 0 not re-sealed",
		"open with the new key", "audit chain intact under the new key", "an interrupted rotation was resumed"} {
		if !strings.Contains(out, want) {
			t.Errorf("rotate-master output lacks %q:\n%s", want, out)
		}
	}
	if out, err := cmd(newEnv, "blobs", "verify"); err != nil || !strings.Contains(out, "0 missing, 0 altered") {
		t.Fatalf("blobs verify with the new key: %v\n%s", err, out)
	}
	// Every object names the new field key in its header.
	_, rest, _ := strings.Cut(out, "under field key ")
	fieldKey, _, _ := strings.Cut(rest, " ")
	if fieldKey == "" || fieldKey == "k1" {
		t.Fatalf("new field key %q", fieldKey)
	}
	for _, k := range keys {
		b, _ := getRaw(t, c, name(k))
		if id := string(b[5 : 5+int(b[4])]); !strings.HasPrefix(string(b), "KFB1") || id != fieldKey {
			t.Errorf("%s sealed under %q, want %s", k, id, fieldKey)
		}
	}
	if out, err := cmd(env, "blobs", "verify"); err == nil || !strings.Contains(err.Error(), "fingerprint mismatch") {
		t.Fatalf("the old key after the switch: %v\n%s", err, out)
	}
}

func getRaw(t *testing.T, c *minio.Client, name string) ([]byte, map[string]string) {
	t.Helper()
	obj, err := c.GetObject(context.Background(), "kangfu", name, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := obj.Stat()
	return b, map[string]string{"Kangfu-Size": st.UserMetadata["Kangfu-Size"]}
}

func putRaw(t *testing.T, c *minio.Client, name string, b []byte, meta map[string]string) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), "kangfu", name, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{UserMetadata: meta}); err != nil {
		t.Fatal(err)
	}
}
