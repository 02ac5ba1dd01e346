// Command seed fills a store with N acmedns registrations quickly, without
// the API: one precomputed bcrypt hash for every account (never a bcrypt per
// account), pipelined HSETs for Redis, big batched transactions for bbolt.
// Every account has two TXT values of 43 characters.
//
// Accounts are generated from a fixed seed, so account i is the same in every
// run and every mode, whatever N: the query names (accounts 0..Q-1) are the
// same 1000 names with 1,000 and with 1,000,000 accounts.
//
//	seed -mode redis -n N | redis-cli -p PORT --pipe   # RESP on stdout
//	seed -mode bolt  -n N -db FILE                     # a fresh bbolt file
//	seed -mode files -n N -q Q -dir DIR                # dnsperf queries, zone file, mapdns records
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Password is every seeded account's API key, and Hash its bcrypt hash (cost
// 10, as the API makes), computed once.
const (
	Password = "benchbenchbenchbenchbenchbenchbenchbench"
	Hash     = "$2a$10$qkZQiQt3nmdpRV78ubq4/.DKcpgyiZGmh/02X/wAeYtFIpioL0Odu"
)

type account struct {
	sub, user string
	txt       [2]string
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func uuid(r *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func token(r *rand.Rand) string {
	b := make([]byte, 43)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// accounts returns account i for i in [0, n), the same for every n.
func accounts(n int) []account {
	r := rand.New(rand.NewPCG(20240601, 7))
	out := make([]account, n)
	for i := range out {
		out[i] = account{sub: uuid(r), user: uuid(r), txt: [2]string{token(r), token(r)}}
	}
	return out
}

var (
	batch    = flag.Int("batch", 1000, "bolt mode: accounts per transaction")
	sortKeys = flag.Bool("sort", false, "bolt mode: insert in key order (faster, but leaves pages half full)")
)

func main() {
	mode := flag.String("mode", "", "redis, bolt or files")
	n := flag.Int("n", 1000, "accounts")
	q := flag.Int("q", 1000, "query names (files mode): accounts 0..q-1")
	prefix := flag.String("prefix", "acmedns:", "Redis key prefix (redis mode)")
	dbPath := flag.String("db", "", "bbolt file to create (bolt mode)")
	dir := flag.String("dir", "", "output directory (files mode)")
	zone := flag.String("zone", "auth.example.test", "zone of the query names (files mode)")
	zoneAll := flag.Bool("zone-all", false, "files mode: zone.db and records.tsv hold all N accounts, not only the query names")
	flag.Parse()
	if *q > *n {
		*q = *n
	}
	start := time.Now()
	accts := accounts(*n)
	var err error
	switch *mode {
	case "redis":
		err = seedRedis(os.Stdout, accts, *prefix)
	case "bolt":
		err = seedBolt(*dbPath, accts)
	case "files":
		records := accts[:*q]
		if *zoneAll {
			records = accts
		}
		err = writeFiles(*dir, *zone, accts[:*q], records)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("seed %s: %d accounts in %.1fs", *mode, *n, time.Since(start).Seconds())
}

// seedRedis writes HSET commands in RESP for redis-cli --pipe: the hash the
// Redis store writes for a registration, plus two values in t.
func seedRedis(out io.Writer, accts []account, prefix string) error {
	w := bufio.NewWriterSize(out, 1<<20)
	bulk := func(s string) {
		w.WriteString("$")
		w.WriteString(strconv.Itoa(len(s)))
		w.WriteString("\r\n")
		w.WriteString(s)
		w.WriteString("\r\n")
	}
	for _, a := range accts {
		w.WriteString("*10\r\n")
		for _, s := range []string{"HSET", prefix + "sub:" + a.sub, "u", a.user, "p", Hash, "a", "[]", "t", a.txt[0] + " " + a.txt[1]} {
			bulk(s)
		}
	}
	return w.Flush()
}

// boltAccount is the embedded store's account record.
type boltAccount struct {
	Username  string   `json:"u"`
	Password  []byte   `json:"p"`
	AllowFrom []string `json:"a,omitempty"`
}

// seedBolt creates a bbolt file with the embedded store's two buckets, in
// transactions of 100,000 accounts, keys in order.
func seedBolt(path string, accts []account) error {
	if path == "" {
		return fmt.Errorf("-db is required")
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoSync: true})
	if err != nil {
		return err
	}
	sorted := accts
	if *sortKeys {
		sorted = make([]account, len(accts))
		copy(sorted, accts)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].sub < sorted[j].sub })
	}
	for lo := 0; lo < len(sorted) || lo == 0; lo += *batch {
		hi := min(lo+*batch, len(sorted))
		err := db.Update(func(tx *bolt.Tx) error {
			ab, err := tx.CreateBucketIfNotExists([]byte("acmedns-accounts-v1"))
			if err != nil {
				return err
			}
			tb, err := tx.CreateBucketIfNotExists([]byte("acmedns-txt-v1"))
			if err != nil {
				return err
			}
			for _, a := range sorted[lo:hi] {
				rec, err := json.Marshal(boltAccount{Username: a.user, Password: []byte(Hash), AllowFrom: []string{}})
				if err != nil {
					return err
				}
				if err := ab.Put([]byte(a.sub), rec); err != nil {
					return err
				}
				if err := tb.Put([]byte(a.sub), []byte(a.txt[0]+" "+a.txt[1])); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			db.Close()
			return err
		}
		if hi == len(sorted) {
			break
		}
	}
	if err := db.Sync(); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

// writeFiles writes, for the query accounts: queries.txt (dnsperf input),
// zone.db (the file plugin's zone, the same TXT records) and records.tsv
// (mapdns's input).
func writeFiles(dir, zone string, accts, all []account) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	shuffled := make([]account, len(accts))
	copy(shuffled, accts)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })

	var queries, zonefile, records []byte
	zonefile = fmt.Appendf(zonefile, "$ORIGIN %s.\n$TTL 1\n@ 3600 IN SOA %s. hostmaster.%s. 1 3600 600 604800 60\n@ 3600 IN NS %s.\n", zone, zone, zone, zone)
	for _, a := range shuffled {
		queries = fmt.Appendf(queries, "%s.%s TXT\n", a.sub, zone)
	}
	for _, a := range all {
		name := a.sub + "." + zone
		zonefile = fmt.Appendf(zonefile, "%s 1 IN TXT %q\n%s 1 IN TXT %q\n", a.sub, a.txt[0], a.sub, a.txt[1])
		records = fmt.Appendf(records, "%s.\t%s\t%s\n", name, a.txt[0], a.txt[1])
	}
	for file, data := range map[string][]byte{"queries.txt": queries, "zone.db": zonefile, "records.tsv": records} {
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
