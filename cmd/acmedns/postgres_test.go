package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pgServer is one PostgreSQL for the whole test binary, started on first
// use and stopped by TestMain.
var pgServer struct {
	once sync.Once
	dsn  string // postgres://postgres@127.0.0.1:PORT/
	err  error
	stop func()
}

// startPostgres returns a new empty database on the shared PostgreSQL.
func startPostgres(t testing.TB) string {
	t.Helper()
	pgServer.once.Do(func() { pgServer.dsn, pgServer.stop, pgServer.err = launchPostgres() })
	if pgServer.err != nil {
		t.Fatalf("PostgreSQL: %v", pgServer.err)
	}
	name := fmt.Sprintf("t%d", time.Now().UnixNano())
	db := openPG(t, pgServer.dsn+"postgres?sslmode=disable")
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return pgServer.dsn + name + "?sslmode=disable"
}

// launchPostgres runs initdb and postgres as the postgres user (initdb
// refuses root) in a new directory it owns, on a free loopback port with
// trust authentication.
func launchPostgres() (string, func(), error) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		return "", nil, fmt.Errorf("initdb not found under /usr/lib/postgresql/*/bin (`make deps` installs postgresql)")
	}
	bin := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "acmedns-pg-")
	if err != nil {
		return "", nil, err
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return "", nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	os.Chmod(dir, 0o755)
	if err := os.Chown(dir, uid, gid); err != nil {
		return "", nil, err
	}
	data := filepath.Join(dir, "data")
	as := func(name string, args ...string) *exec.Cmd {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(bin, name)}, args...)...)
	}
	if out, err := as("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := pickPort()
	if err != nil {
		return "", nil, err
	}
	cmd := as("postgres", "-D", data, "-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port),
		"-k", dir, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	logf, _ := os.Create(filepath.Join(dir, "postgres.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) // runuser and postgres: a fast shutdown
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
		os.RemoveAll(dir)
	}
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/", port)
	for deadline := time.Now().Add(30 * time.Second); !pgReady(dsn); {
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("postgres did not accept a session on port %d within 30s", port)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return dsn, stop, nil
}

// pgReady reports whether the server at dsn accepts a session: it listens
// before it does ("the database system is starting up").
func pgReady(dsn string) bool {
	db, err := sql.Open("pgx", dsn+"postgres?sslmode=disable&connect_timeout=2")
	if err != nil {
		return false
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return db.PingContext(ctx) == nil
}

// TestMain stops the shared PostgreSQL after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if pgServer.stop != nil {
		pgServer.stop()
	}
	os.Exit(code)
}
