package blob

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// S3Config says where an S3-compatible bucket is and how to reach it.
type S3Config struct {
	Bucket, Prefix string // from s3://bucket/prefix (ParseS3URL)
	// Endpoint is the store's URL (https://s3.example.org, http://127.0.0.1:7070);
	// "" is AWS S3 itself.
	Endpoint string
	Region   string
	// Credentials: a key pair, or else a shared credentials file (profile
	// Profile, "" for default).
	AccessKey, SecretKey, SessionToken string
	CredentialsFile, Profile           string
	// SSE asks the store to encrypt at rest too: "" (no request), "s3"
	// (keys the store manages, SSE-S3) or "kms:<key id>" (SSE-KMS).
	SSE string
	// TempDir holds an upload while it is hashed (the object is named by
	// its hash, known only at the end); "" is the system's temp folder.
	TempDir string
	// Transport, if set, carries the requests (tests).
	Transport http.RoundTripper
}

// ParseS3URL splits s3://bucket/prefix.
func ParseS3URL(s string) (bucket, prefix string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return "", "", fmt.Errorf("blob: %q is not s3://bucket/prefix", s)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// S3 is a Storage in an S3-compatible bucket: <prefix>/<ab>/<sha256 hex>,
// each object sealed by us (seal.go).
type S3 struct {
	c              *minio.Client
	bucket, prefix string
	sse            encrypt.ServerSide
	seal           *sealer
	tmp            string
}

var _ Storage = (*S3)(nil)

// NewS3 returns the store cfg describes; keys seal the objects.
func NewS3(cfg S3Config, keys KeySource) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blob: no bucket given")
	}
	if keys.Current == nil || keys.Key == nil {
		return nil, errors.New("blob: no keys to seal objects with")
	}
	host, secure := "s3.amazonaws.com", true
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("blob: endpoint %q must be http(s)://host[:port]", cfg.Endpoint)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	var creds *credentials.Credentials
	switch {
	case cfg.AccessKey != "" || cfg.SecretKey != "":
		if cfg.AccessKey == "" || cfg.SecretKey == "" {
			return nil, errors.New("blob: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together")
		}
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	case cfg.CredentialsFile != "":
		if _, err := os.Stat(cfg.CredentialsFile); err != nil {
			return nil, fmt.Errorf("blob: credentials file: %w", err)
		}
		creds = credentials.NewFileAWSCredentials(cfg.CredentialsFile, cfg.Profile)
	default:
		return nil, errors.New("blob: no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a credentials file")
	}
	var sse encrypt.ServerSide
	switch {
	case cfg.SSE == "":
	case cfg.SSE == "s3":
		sse = encrypt.NewSSE()
	case strings.HasPrefix(cfg.SSE, "kms:") && len(cfg.SSE) > 4:
		var err error
		if sse, err = encrypt.NewSSEKMS(cfg.SSE[4:], nil); err != nil {
			return nil, fmt.Errorf("blob: SSE-KMS: %w", err)
		}
	default:
		return nil, fmt.Errorf("blob: server-side encryption %q: want s3 or kms:<key id>", cfg.SSE)
	}
	c, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: cfg.Region, Transport: cfg.Transport})
	if err != nil {
		return nil, fmt.Errorf("blob: S3 client: %w", err)
	}
	return &S3{c: c, bucket: cfg.Bucket, prefix: strings.Trim(cfg.Prefix, "/"), sse: sse, seal: &sealer{src: keys}, tmp: cfg.TempDir}, nil
}

// Check confirms the bucket exists and the credentials reach it.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob: bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("blob: bucket %s does not exist", s.bucket)
	}
	return nil
}

// String names the store in messages: s3://bucket/prefix.
func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix }

func (s *S3) name(key string) string {
	n := key[:2] + "/" + key
	if s.prefix != "" {
		return s.prefix + "/" + n
	}
	return n
}

// sizeMeta is the object's user metadata with the plaintext size (Stat).
const sizeMeta = "Kangfu-Size"

// Put hashes r into a private temporary file (the object's name is the hash,
// known only at the end), then seals and uploads it. It returns only once
// the store confirmed the object: PutObject succeeded with the size we sent
// and, for a single-part upload without SSE-KMS, an ETag equal to the MD5 of
// what we sent (the store also checks Content-MD5 itself); for a multipart
// upload a StatObject must show the size we sent.
func (s *S3) Put(ctx context.Context, r io.Reader) (string, int64, error) {
	tmp, err := os.CreateTemp(s.tmp, "kangfu-blob-*")
	if err != nil {
		return "", 0, fmt.Errorf("blob: temp file: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err != nil {
		return "", 0, err
	}
	key := hex.EncodeToString(h.Sum(nil))
	if size, err := s.Stat(ctx, key); err == nil && size == n {
		return key, n, nil
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return "", 0, err
	}
	if err := s.upload(ctx, key, tmp, n, s.seal.src.Current(), true); err != nil {
		return "", 0, err
	}
	return key, n, nil
}

// upload seals the n plaintext bytes of tmp (from its start) under field
// key id and writes them as the object of key, returning once the store
// confirmed it (see Put). With removeUnconfirmed, an object the store did
// not confirm is removed (Put: nothing is acknowledged under the key); Reseal
// keeps it, as removing it could lose the only copy of the blob.
func (s *S3) upload(ctx context.Context, key string, tmp *os.File, n int64, id string, removeUnconfirmed bool) error {
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sealed, size, err := s.seal.sealAs(id, key, tmp, n)
	if err != nil {
		return err
	}
	sum := md5.New()
	name := s.name(key)
	info, err := s.c.PutObject(ctx, s.bucket, name, io.TeeReader(ctxReader{ctx, sealed}, sum), size, minio.PutObjectOptions{
		ContentType: "application/octet-stream", SendContentMd5: true, ServerSideEncryption: s.sse,
		UserMetadata: map[string]string{sizeMeta: strconv.FormatInt(n, 10)}})
	if err != nil {
		return fmt.Errorf("blob: upload %s: %w", key, err)
	}
	if err := s.confirm(ctx, name, info, size, hex.EncodeToString(sum.Sum(nil))); err != nil {
		if removeUnconfirmed {
			// Do not leave an object we could not confirm under the key.
			_ = s.c.RemoveObject(context.WithoutCancel(ctx), s.bucket, name, minio.RemoveObjectOptions{})
		}
		return fmt.Errorf("blob: upload %s not confirmed: %w", key, err)
	}
	return nil
}

func (s *S3) confirm(ctx context.Context, name string, info minio.UploadInfo, size int64, md5hex string) error {
	if info.Size != size {
		return fmt.Errorf("store took %d bytes, we sent %d", info.Size, size)
	}
	etag := strings.Trim(info.ETag, `"`)
	kms := s.sse != nil && s.sse.Type() != encrypt.S3
	if !strings.Contains(etag, "-") && !kms {
		if etag != md5hex {
			return fmt.Errorf("store's ETag %q is not the MD5 %s of what we sent", etag, md5hex)
		}
		return nil
	}
	st, err := s.c.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return err
	}
	if st.Size != size {
		return fmt.Errorf("store holds %d bytes, we sent %d", st.Size, size)
	}
	return nil
}

func notFound(err error, key string) error {
	if c := minio.ToErrorResponse(err).Code; c == "NoSuchKey" || c == "NotFound" {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("blob: %s: %w", key, err)
}

// Open streams the object of key: it decrypts chunk by chunk and checks the
// plaintext against key at the end.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	if !ValidKey(key) {
		return nil, 0, ErrBadKey
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.name(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, notFound(err, key)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, 0, notFound(err, key)
	}
	pr, hdr, err := s.seal.open(key, obj)
	if err != nil {
		obj.Close()
		return nil, 0, err
	}
	size := plainSize(st.Size - hdr)
	if size < 0 {
		obj.Close()
		return nil, 0, fmt.Errorf("%w: %s: %w (size)", ErrCorrupt, key, errSealed)
	}
	return newVerifyingReader(pr, obj, key), size, nil
}

// Get reads the whole object of key (Open to stream).
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	rc, size, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return readAll(rc, size)
}

// Stat reports the plaintext size of key's object, from its metadata.
func (s *S3) Stat(ctx context.Context, key string) (int64, error) {
	if !ValidKey(key) {
		return 0, ErrBadKey
	}
	st, err := s.c.StatObject(ctx, s.bucket, s.name(key), minio.StatObjectOptions{})
	if err != nil {
		return 0, notFound(err, key)
	}
	n, err := strconv.ParseInt(st.UserMetadata[sizeMeta], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s: no size in its metadata", ErrCorrupt, key)
	}
	return n, nil
}

// Remove deletes the object of key (Migrate replaces an altered copy).
func (s *S3) Remove(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return ErrBadKey
	}
	return s.c.RemoveObject(ctx, s.bucket, s.name(key), minio.RemoveObjectOptions{})
}
