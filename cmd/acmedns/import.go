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
replaced in place only with --overwrite and only under the same username
(nothing is ever deleted). Rows acme-dns could never use, or that acmedns
cannot hold apart (subdomains or usernames that differ only in case), are
skipped with the reason. A dry run makes the same checks and decisions.`

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
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace accounts that differ, in place, when the username is the same")
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

// doImport reads the source and acmedns's usernames, imports and reports.
func doImport(f importFlags, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	rows, l, code := readSource(ctx, f.from, stderr)
	if code != exitOK {
		return code
	}
	client := newAdminClient(f.url, f.token, f.workers)
	defer client.close()
	im := &importer{client: client, dryRun: f.dryRun, overwrite: f.overwrite}
	err := client.health(ctx)
	if err == nil {
		im.owners, err = listOwners(ctx, client)
	}
	if err != nil {
		fmt.Fprintf(stderr, "acmedns import: the admin API at %s: %s\n", inert(f.url), inert(err.Error()))
		return exitRuntime
	}
	rep := &report{Layout: string(l), DryRun: f.dryRun, Overwrite: f.overwrite}
	entries := rep.screen(rows)
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

// readSource opens the acme-dns database, detects its layout and reads
// its rows; on failure it has printed why and returns the exit code.
func readSource(ctx context.Context, from string, stderr io.Writer) ([]row, layout, int) {
	name := inert(describeSource(from))
	src, err := openSource(ctx, from)
	if err == errBadSource {
		return nil, "", usageError(stderr, "import", "%v", err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "acmedns import: opening %s: %s\n", name, inert(err.Error()))
		return nil, "", exitRuntime
	}
	defer src.Close()
	l, err := src.detect()
	if err != nil {
		fmt.Fprintf(stderr, "acmedns import: %s: %s\n", name, inert(err.Error()))
		return nil, "", exitRuntime
	}
	rows, err := src.readRows(ctx, l)
	if err != nil {
		fmt.Fprintf(stderr, "acmedns import: reading %s: %s\n", name, inert(err.Error()))
		return nil, "", exitRuntime
	}
	return rows, l, exitOK
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
