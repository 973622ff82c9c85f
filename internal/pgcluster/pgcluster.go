// Package pgcluster starts throwaway PostgreSQL clusters for tests: a primary
// and streaming standbys made with Debian's own binaries (initdb, pg_ctl,
// pg_basebackup under /usr/lib/postgresql/<ver>/bin, or KANGFU_PG_BIN). Each
// node listens on a free port of 127.0.0.1 with trust authentication, so its
// DSN needs no password. When the test runs as root (as CI does) every
// binary runs as the postgres user through runuser, and the node's folder is
// handed to that user.
//
// The primary runs with wal_level=replica, hot_standby and synchronous_commit
// on; a standby is a pg_basebackup -R -X stream copy that streams from it.
// Promote turns a standby into a primary. Stop takes fast or immediate, Kill
// is kill -9 of the postmaster. The test helpers (Primary, Standby) stop
// every node with -m immediate and remove its folder when the test ends, so
// nothing is left running.
//
// Tests that use a cluster are gated by KANGFU_TEST_CLUSTER=1 (see Require);
// KANGFU_REQUIRE_CLUSTER=1 turns the skip into a failure.
package pgcluster

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// StopMode is pg_ctl's shutdown mode.
type StopMode string

// The shutdown modes of pg_ctl stop.
const (
	Fast      StopMode = "fast"      // ends sessions, checkpoints, clean shutdown
	Immediate StopMode = "immediate" // aborts at once; crash recovery on next start
)

// Node is one running (or stopped) PostgreSQL server.
type Node struct {
	Name string // "primary", "standby1", ...
	Dir  string // the node's folder; the data directory is Dir/data
	Port int

	bin     string
	mu      sync.Mutex
	running bool
}

// DataDir is the node's data directory.
func (n *Node) DataDir() string { return filepath.Join(n.Dir, "data") }

// LogFile is the server log written by pg_ctl -l.
func (n *Node) LogFile() string { return filepath.Join(n.Dir, "server.log") }

// DSN is a URL for database db on this node as the postgres superuser
// ("postgres" when db is empty).
func (n *Node) DSN(db string) string {
	if db == "" {
		db = "postgres"
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", n.Port, db)
}

// Running reports whether the node was started and not stopped by this package.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.running
}

// BinDir finds PostgreSQL's binaries: KANGFU_PG_BIN, else the newest
// /usr/lib/postgresql/<ver>/bin that holds initdb.
func BinDir() (string, error) {
	if b := os.Getenv("KANGFU_PG_BIN"); b != "" {
		return b, nil
	}
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(ms) == 0 {
		return "", errors.New("pgcluster: no /usr/lib/postgresql/<ver>/bin/initdb (install postgresql, or set KANGFU_PG_BIN)")
	}
	sort.Slice(ms, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(ms[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(ms[j]))))
		return vi > vj
	})
	return filepath.Dir(ms[0]), nil
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// asRoot is true when binaries must run as the postgres user.
func asRoot() bool { return os.Geteuid() == 0 }

// prepareDir creates dir and, as root, gives it to the postgres user.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if !asRoot() {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("pgcluster: running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// run runs a PostgreSQL binary (as postgres when root) in the node's folder.
func (n *Node) run(ctx context.Context, name string, args ...string) error {
	path := filepath.Join(n.bin, name)
	var cmd *exec.Cmd
	if asRoot() {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = n.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// pg_ctl start leaves the postmaster running in the background; it must
	// not hold our stdout, or Wait would block until the server stops.
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgcluster %s: %s %s: %w\n%s%s", n.Name, name, strings.Join(args, " "), err, out.String(), n.logTail())
	}
	return nil
}

// logTail is the end of the server log, for error messages.
func (n *Node) logTail() string {
	b, err := os.ReadFile(n.LogFile())
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return "--- server log (tail) ---\n" + string(b)
}

// settings common to every node; port is appended per node.
const baseConf = `
# pgcluster (throwaway test cluster)
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '256MB'
hot_standby = on
hot_standby_feedback = on
synchronous_commit = on
max_connections = 200
shared_buffers = '64MB'
log_min_messages = warning
log_line_prefix = '%m [%p] '
`

const hbaConf = `# pgcluster: trust on the loopback only
local all all trust
local replication all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
`

// StartPrimary initialises a new cluster in dir/data and starts it as a
// primary on a free port. dir must be reachable by the postgres user when
// running as root (the test helper Primary takes care of that).
func StartPrimary(ctx context.Context, dir string) (*Node, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	n := &Node{Name: "primary", Dir: dir, bin: bin}
	if err := n.run(ctx, "initdb", "-D", n.DataDir(), "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return nil, err
	}
	if err := n.appendConf("postgresql.conf", baseConf); err != nil {
		return nil, err
	}
	if err := n.writeConf("pg_hba.conf", hbaConf); err != nil {
		return nil, err
	}
	if err := n.startOnFreePort(ctx); err != nil {
		n.abandon()
		return nil, err
	}
	return n, nil
}

// abandon stops whatever postmaster a failed start left in the data
// directory, so a failed start leaves nothing running.
func (n *Node) abandon() {
	if n.postmasterAlive() {
		n.mu.Lock()
		n.running = true
		n.mu.Unlock()
		n.Stop(Immediate)
	}
}

// StartStandby takes a base backup of primary into dir/data with
// pg_basebackup -R -X stream and starts it as a hot standby streaming from
// primary; it returns once the standby answers queries and its WAL receiver
// is streaming.
func StartStandby(ctx context.Context, primary *Node, dir string) (*Node, error) {
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	n := &Node{Name: "standby", Dir: dir, bin: primary.bin}
	if err := n.run(ctx, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(primary.Port),
		"-U", "postgres", "-D", n.DataDir(), "-R", "-X", "stream", "-c", "fast", "--no-sync"); err != nil {
		return nil, err
	}
	if err := n.startOnFreePort(ctx); err != nil {
		n.abandon()
		return nil, err
	}
	// Wait for streaming, so a caller may rely on replication from here on.
	db, err := sql.Open("pgx", n.DSN(""))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var status string
		err := db.QueryRowContext(ctx, `SELECT status FROM pg_stat_wal_receiver`).Scan(&status)
		if err == nil && status == "streaming" {
			return n, nil
		}
		if time.Now().After(deadline) {
			err = fmt.Errorf("pgcluster standby: not streaming after 60s (status %q, err %v)%s", status, err, n.logTail())
			n.abandon()
			return nil, err
		}
		select {
		case <-ctx.Done():
			n.abandon()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startOnFreePort picks a free port, writes it to the configuration and
// starts the server; a port taken between the pick and the start is retried.
func (n *Node) startOnFreePort(ctx context.Context) error {
	var last error
	for range 5 {
		port, err := FreePort()
		if err != nil {
			return err
		}
		n.Port = port
		if err := n.appendConf("postgresql.conf", fmt.Sprintf("port = %d\n", port)); err != nil {
			return err
		}
		if last = n.Start(ctx); last == nil {
			return nil
		}
		if !strings.Contains(last.Error(), "in use") {
			return last
		}
	}
	return last
}

// appendConf appends text to a configuration file of the data directory.
// The file keeps its owner: root writes into a file postgres owns.
func (n *Node) appendConf(name, text string) error {
	f, err := os.OpenFile(filepath.Join(n.DataDir(), name), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (n *Node) writeConf(name, text string) error {
	return os.WriteFile(filepath.Join(n.DataDir(), name), []byte(text), 0o600) // existing file: owner kept
}

// Start starts a stopped node (pg_ctl start -w) and waits until it accepts
// connections.
func (n *Node) Start(ctx context.Context) error {
	if err := n.run(ctx, "pg_ctl", "start", "-w", "-t", "120", "-D", n.DataDir(), "-l", n.LogFile()); err != nil {
		return err
	}
	n.mu.Lock()
	n.running = true
	n.mu.Unlock()
	return n.ping(ctx, 60*time.Second)
}

func (n *Node) ping(ctx context.Context, within time.Duration) error {
	db, err := sql.Open("pgx", n.DSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(within)
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgcluster %s: not accepting connections on port %d: %w%s", n.Name, n.Port, err, n.logTail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop stops the node with pg_ctl stop -m mode and waits for it to be gone.
// Stopping a node that is not running is not an error.
func (n *Node) Stop(mode StopMode) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.running {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := n.run(ctx, "pg_ctl", "stop", "-w", "-t", "60", "-m", string(mode), "-D", n.DataDir()); err != nil {
		if !n.postmasterAlive() {
			n.running = false
			return nil
		}
		return err
	}
	n.running = false
	return nil
}

// Kill sends SIGKILL to the postmaster, the harshest failure there is (its
// children notice and exit). Use Start to bring it back (crash recovery).
func (n *Node) Kill() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	pid, err := n.postmasterPID()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	// Wait until the postmaster and its children have released the port.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil && n.portFree() {
			n.running = false
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.running = false
	return fmt.Errorf("pgcluster %s: postmaster %d still alive 30s after SIGKILL", n.Name, pid)
}

func (n *Node) portFree() bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", n.Port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// postmasterPID reads the first line of postmaster.pid.
func (n *Node) postmasterPID() (int, error) {
	b, err := os.ReadFile(filepath.Join(n.DataDir(), "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

func (n *Node) postmasterAlive() bool {
	pid, err := n.postmasterPID()
	return err == nil && syscall.Kill(pid, 0) == nil
}

// Promote turns a standby into a primary (pg_ctl promote -w) and returns once
// it is out of recovery and takes writes.
func (n *Node) Promote(ctx context.Context) error {
	if err := n.run(ctx, "pg_ctl", "promote", "-w", "-t", "60", "-D", n.DataDir()); err != nil {
		return err
	}
	db, err := sql.Open("pgx", n.DSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var inRecovery bool
		err := db.QueryRowContext(ctx, `SELECT pg_is_in_recovery()`).Scan(&inRecovery)
		if err == nil && !inRecovery {
			n.Name = strings.Replace(n.Name, "standby", "promoted", 1)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgcluster %s: still in recovery 60s after promote (err %v)%s", n.Name, err, n.logTail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// SetSynchronous makes commits on this primary wait for a standby
// (synchronous_standby_names = '*') or stop waiting (an empty list), then reloads the
// configuration. With it on and one standby attached, a commit the primary
// acknowledged is on the standby too, so promoting it loses nothing
// acknowledged; with no standby attached, commits block.
func (n *Node) SetSynchronous(ctx context.Context, on bool) error {
	db, err := sql.Open("pgx", n.DSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	v := ""
	if on {
		v = "*"
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`ALTER SYSTEM SET synchronous_standby_names = '%s'`, v)); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `SELECT pg_reload_conf()`)
	return err
}

// CreateDatabase creates database name on the node (a primary).
func (n *Node) CreateDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("pgx", n.DSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `CREATE DATABASE "`+strings.ReplaceAll(name, `"`, `""`)+`"`)
	return err
}
