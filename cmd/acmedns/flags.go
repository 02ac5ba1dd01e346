package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// errHelp reports that --help was asked for and answered.
var errHelp = errors.New("help")

// cmdFlags is the flag set of one command and its help text.
type cmdFlags struct {
	*flag.FlagSet
	synopsis string
	stdout   io.Writer
}

// newFlags is a flag set for one command whose --help prints synopsis and
// the flags to stdout.
func newFlags(name, synopsis string, stdout io.Writer) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &cmdFlags{FlagSet: fs, synopsis: synopsis, stdout: stdout}
}

// help prints the command's synopsis and flags.
func (fs *cmdFlags) help() {
	fmt.Fprintf(fs.stdout, "Usage: %s\n\nFlags:\n", fs.synopsis)
	fs.SetOutput(fs.stdout)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprintf(fs.stdout, "\nExit codes: 0 done, 1 conflicts / check failed / not found, 2 usage error, 3 runtime error.\n")
}

// parseArgs parses flags placed anywhere among the positional arguments,
// which it returns. On a usage error it prints the error to stderr.
func parseArgs(fs *cmdFlags, args []string, stderr io.Writer) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.help()
				return nil, errHelp
			}
			fmt.Fprintf(stderr, "acmedns %s: %v (see --help)\n", fs.Name(), err)
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// usageCode is the exit code for a parseArgs error.
func usageCode(err error) int {
	if errors.Is(err, errHelp) {
		return exitOK
	}
	return exitUsage
}

// usageError prints a usage error and returns exitUsage.
func usageError(stderr io.Writer, cmd, format string, a ...any) int {
	fmt.Fprintf(stderr, "acmedns %s: %s (see --help)\n", cmd, fmt.Sprintf(format, a...))
	return exitUsage
}

// listFlag is a flag that may be repeated or given comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set adds the comma-separated values of one occurrence.
func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// adminFlags are the flags of every admin API command.
type adminFlags struct {
	url, token string
	json       bool
}

func (a *adminFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.url, "admin", "", "the admin API's base URL, e.g. http://127.0.0.1:8054 (required)")
	fs.StringVar(&a.token, "token", "", "the admin API token (default $ACMEDNS_ADMIN_TOKEN)")
	fs.BoolVar(&a.json, "json", false, "print JSON for scripts")
}

// check fills the token from the environment and reports a missing flag.
func (a *adminFlags) check() error {
	if a.token == "" {
		a.token = os.Getenv("ACMEDNS_ADMIN_TOKEN")
	}
	switch {
	case a.url == "":
		return errors.New("--admin URL is required")
	case a.token == "":
		return errors.New("--token TOKEN (or $ACMEDNS_ADMIN_TOKEN) is required")
	}
	return nil
}
