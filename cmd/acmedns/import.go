package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

const importSynopsis = `acmedns import --from sqlite:PATH|postgres://USER@HOST:PORT/DB?... --admin URL --token TOKEN [--dry-run] [--overwrite] [--workers N] [--json]

Copies every account of an acme-dns database (version 0, version 1, and the
ZPascal and netzint forks; the layout is read from the tables) into acmedns
through its admin API: username, bcrypt hash (verbatim), subdomain, allowfrom
and the current TXT values. An account already there with the same username,
allowfrom and values is unchanged; one that differs is a conflict (exit 1),
replaced only with --overwrite. Rows acme-dns could never use are skipped
with the reason.`

// importFlags are the flags of import.
type importFlags struct {
	adminFlags
	from      string
	dryRun    bool
	overwrite bool
	workers   int
}

func runImport(args []string, stdout, stderr io.Writer) int {
	var f importFlags
	fs := newFlags("import", importSynopsis, stdout)
	f.adminFlags.register(fs.FlagSet)
	fs.StringVar(&f.from, "from", "", "the acme-dns database: sqlite:PATH or postgres://USER@HOST:PORT/DB?sslmode=disable (required)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "read and compare, write nothing")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace accounts that differ (delete, then create)")
	fs.IntVar(&f.workers, "workers", 8, "concurrent admin API calls")
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return usageCode(err)
	}
	switch {
	case len(pos) > 0:
		return usageError(stderr, "import", "unexpected argument %q", pos[0])
	case f.from == "":
		return usageError(stderr, "import", "--from is required")
	case f.workers < 1 || f.workers > 64:
		return usageError(stderr, "import", "--workers must be 1 to 64")
	}
	if err := f.check(); err != nil {
		return usageError(stderr, "import", "%v", err)
	}
	return doImport(f, stdout, stderr)
}

// doImport reads the source, imports it and reports.
func doImport(f importFlags, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	src, err := openSource(ctx, f.from)
	if err == errBadSource {
		return usageError(stderr, "import", "%v", err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "acmedns import: opening %s: %v\n", describeSource(f.from), err)
		return exitRuntime
	}
	defer src.Close()
	l, err := src.detect()
	if err != nil {
		fmt.Fprintf(stderr, "acmedns import: %s: %v\n", describeSource(f.from), err)
		return exitRuntime
	}
	rows, err := src.readRows(ctx, l)
	if err != nil {
		fmt.Fprintf(stderr, "acmedns import: reading %s: %v\n", describeSource(f.from), err)
		return exitRuntime
	}
	client := newAdminClient(f.url, f.token, f.workers)
	defer client.close()
	if err := client.health(ctx); err != nil {
		fmt.Fprintf(stderr, "acmedns import: the admin API at %s: %v\n", f.url, err)
		return exitRuntime
	}
	rep := &report{Layout: string(l), DryRun: f.dryRun, Overwrite: f.overwrite}
	entries := rep.screen(rows)
	im := &importer{client: client, dryRun: f.dryRun, overwrite: f.overwrite}
	bar := newProgress(stderr, len(entries))
	pool(ctx, im, entries, f.workers, func(o outcome) {
		rep.add(o)
		bar.step()
		if o.Kind == failed {
			cancel() // the server is gone or failing: stop instead of retrying every account
		}
	})
	bar.done()
	rep.Seconds = time.Since(start).Seconds()
	rep.print(stdout, f.json)
	return rep.exitCode()
}

// pool imports entries with n workers, handing each outcome to done (one
// call at a time).
func pool(ctx context.Context, im *importer, entries []entry, n int, done func(outcome)) {
	jobs := make(chan entry)
	results := make(chan outcome)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range jobs {
				results <- im.one(ctx, e)
			}
		}()
	}
	go func() {
		for _, e := range entries {
			jobs <- e
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	for o := range results {
		done(o)
	}
}
