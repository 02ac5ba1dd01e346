// Command acmedns is the operator's tool for an acmedns server: it imports
// acme-dns databases and manages accounts over the admin API, registers a
// domain on the public API, manages its dns-persist-01 records and checks a
// domain's DNS set-up.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes, documented in usage.
const (
	exitOK      = 0 // done
	exitFailed  = 1 // conflicts found, a check failed, or the account does not exist
	exitUsage   = 2 // a usage error
	exitRuntime = 3 // a database, a server or a file could not be used
)

const usage = `acmedns: the operator's tool for an acmedns server.

Usage:
  acmedns import   --from sqlite:PATH|postgres://... --admin URL --token TOKEN [--dry-run] [--overwrite] [--workers N] [--json]
  acmedns accounts list|show SUB|delete SUB|rotate SUB|allow SUB [CIDR...]|clear SUB --admin URL --token TOKEN [--json]
  acmedns register --api URL --domain DOMAIN [--allow CIDR...] [--storage FILE] [--account-uri URI] [--json]
  acmedns check    --domain DOMAIN [--storage FILE] [--resolver HOST:PORT] [--ca NAME] [--json]
  acmedns check    --persist --domain DOMAIN [--issuer CA] [--account-uri URI] [--storage FILE] [--resolver HOST:PORT] [--json]
  acmedns persist  set|list|remove --domain DOMAIN [--storage FILE] [--api URL | --admin URL --token TOKEN] [--json]

Run "acmedns COMMAND --help" for a command's flags. The admin token may also
come from the environment variable ACMEDNS_ADMIN_TOKEN.

Exit codes:
  0  done
  1  conflicts found (import), a check failed (check), or the account does not exist (accounts)
  2  usage error
  3  runtime error: a database, a server or a file could not be used
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns its exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) int{
		"import":   runImport,
		"accounts": runAccounts,
		"register": runRegister,
		"check":    runCheck,
		"persist":  runPersist,
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "acmedns: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	return cmd(args[1:], stdout, stderr)
}
