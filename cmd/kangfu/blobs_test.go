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

// Issue 16 §1: kangfu blobs migrate copies the demo's documents from the
// local folder into a bucket (an in-process S3 server) and verifies them;
// kangfu blobs verify then finds every referenced blob, and names each one
// that is missing or tampered with; a second migrate repairs them.
func TestBlobsMigrateVerifyCommands(t *testing.T) {
	engines := map[string]string{"sqlite": ""}
	if pg := os.Getenv("KANGFU_TEST_POSTGRES"); pg != "" {
		engines["postgres"] = storetest.NewPostgresSchema(t, pg)
	}
	for engine, dsn := range engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			mem := s3mem.New()
			if err := mem.CreateBucket("kangfu"); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(gofakes3.New(mem).Server())
			defer srv.Close()
			dir := t.TempDir()
			local := map[string]string{"KANGFU_DATA_DIR": dir, "KANGFU_DB": dsn}
			bucket := map[string]string{"KANGFU_BLOBS": "s3://kangfu/county-a", "AWS_ENDPOINT_URL": srv.URL, "AWS_REGION": "us-east-1",
				"AWS_ACCESS_KEY_ID": "kangfu", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"}
			for k, v := range local {
				bucket[k] = v
			}
			cmd := func(env map[string]string, args ...string) (string, error) {
				var stdout, stderr bytes.Buffer
				err := run(ctx, append(args, "--log-level", "warn"), envFrom(env), &stdout, &stderr)
				return stdout.String() + stderr.String(), err
			}
			if out, err := cmd(local, "demo"); err != nil {
				t.Fatalf("demo: %v\n%s", err, out)
			}
			ls, err := blob.Open(filepath.Join(dir, "blobs"))
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			ls.Keys(func(k string) error { keys = append(keys, k); return nil })
			if len(keys) < 2 {
				t.Fatalf("the demo stored %d documents; the test needs two", len(keys))
			}
			if out, err := cmd(local, "blobs", "verify"); err != nil || !strings.Contains(out, "0 missing") {
				t.Fatalf("verify on the local folder: %v\n%s", err, out)
			}
			// Before the migration the bucket has none of them.
			out, err := cmd(bucket, "blobs", "verify")
			if err == nil || strings.Count(out, "MISSING") != len(keys) {
				t.Fatalf("verify on an empty bucket: %v\n%s", err, out)
			}
			out, err = cmd(bucket, "blobs", "migrate")
			if err != nil || !strings.Contains(out, strconv.Itoa(len(keys))+" copied and verified") {
				t.Fatalf("migrate: %v\n%s", err, out)
			}
			if out, err := cmd(bucket, "blobs", "verify"); err != nil || !strings.Contains(out, strconv.Itoa(len(keys))+" intact, 0 missing, 0 altered") {
				t.Fatalf("verify after migrate: %v\n%s", err, out)
			}

			// Tamper with one object and delete another behind Kangfu's back.
			c, err := minio.New(strings.TrimPrefix(srv.URL, "http://"), &minio.Options{Creds: credentials.NewStaticV4("kangfu", "not-a-real-secret", ""), Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			name := func(k string) string { return "county-a/" + k[:2] + "/" + k }
			obj, err := c.GetObject(ctx, "kangfu", name(keys[0]), minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(obj)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := obj.Stat()
			raw[len(raw)/2] ^= 0x40
			if _, err := c.PutObject(ctx, "kangfu", name(keys[0]), bytes.NewReader(raw), int64(len(raw)),
				minio.PutObjectOptions{UserMetadata: map[string]string{"Kangfu-Size": st.UserMetadata["Kangfu-Size"]}}); err != nil {
				t.Fatal(err)
			}
			if err := c.RemoveObject(ctx, "kangfu", name(keys[1]), minio.RemoveObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			out, err = cmd(bucket, "blobs", "verify")
			if err == nil || !strings.Contains(out, "ALTERED  "+keys[0]) || !strings.Contains(out, "MISSING  "+keys[1]) ||
				!strings.Contains(out, "1 missing, 1 altered") {
				t.Fatalf("verify after tampering: %v\n%s", err, out)
			}
			if strings.Contains(out, keys[2%len(keys)]) && len(keys) > 2 {
				t.Fatalf("verify names an intact blob:\n%s", out)
			}
			out, err = cmd(bucket, "blobs", "migrate")
			if err != nil || !strings.Contains(out, "2 copied and verified, "+strconv.Itoa(len(keys)-2)+" already there") {
				t.Fatalf("second migrate: %v\n%s", err, out)
			}
			if out, err := cmd(bucket, "blobs", "verify"); err != nil {
				t.Fatalf("verify after repair: %v\n%s", err, out)
			}
			// A backup with a bucket says the documents are not in it (not
			// that they are missing). (rotate-master with a bucket:
			// TestRotateMasterWithBucket.)
			if engine == "sqlite" {
				out, err := cmd(bucket, "backup", "--out", filepath.Join(t.TempDir(), "backup"))
				if err != nil || !strings.Contains(out, "are in the bucket s3://kangfu/county-a and are not in this backup") || strings.Contains(out, "not in the document store") {
					t.Fatalf("backup with a bucket: %v\n%s", err, out)
				}
			}
			// A wrong endpoint or bucket fails at once, with the setting named.
			bad := map[string]string{}
			for k, v := range bucket {
				bad[k] = v
			}
			bad["KANGFU_BLOBS"] = "s3://no-such-bucket/x"
			if out, err := cmd(bad, "blobs", "verify"); err == nil || !strings.Contains(err.Error(), "s3://no-such-bucket/x") {
				t.Fatalf("verify with a missing bucket: %v\n%s", err, out)
			}
			bad["KANGFU_BLOBS"] = "https://kangfu/x"
			if out, err := cmd(bad, "blobs", "verify"); err == nil || !strings.Contains(err.Error(), "KANGFU_BLOBS") {
				t.Fatalf("verify with a malformed KANGFU_BLOBS: %v\n%s", err, out)
			}
		})
	}
}

// serve with KANGFU_BLOBS keeps the demo's generated documents in the bucket
// (none in the local folder), and every one the database refers to reads
// back intact; serve refuses to start when the bucket is not there.
func TestServeWithBucket(t *testing.T) {
	mem := s3mem.New()
	if err := mem.CreateBucket("kangfu"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	defer srv.Close()
	dir := t.TempDir()
	env := map[string]string{"KANGFU_BLOBS": "s3://kangfu/prov", "KANGFU_S3_ENDPOINT": srv.URL, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "kangfu", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"}
	bad := map[string]string{}
	for k, v := range env {
		bad[k] = v
	}
	bad["KANGFU_BLOBS"] = "s3://missing/prov"
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "warn"},
		envFrom(bad), io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("serve with a missing bucket: %v", err)
	}
	startServerEnv(t, dir, env)
	var out bytes.Buffer
	env["KANGFU_DATA_DIR"] = dir
	if err := run(context.Background(), []string{"blobs", "verify", "--log-level", "warn"}, envFrom(env), &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), " 0 missing, 0 altered") || strings.Contains(out.String(), " 0 referenced") {
		t.Fatalf("verify the bucket the server wrote: %v\n%s", err, out.String())
	}
	ls, err := blob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ls.Keys(func(string) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d documents written to the local folder with a bucket configured", n)
	}
}
