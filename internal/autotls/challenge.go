package autotls

import (
	"context"
	"strings"
	"time"

	"github.com/coredns/coredns/plugin"

	"github.com/acmedns/acmedns/store"

	"github.com/mholt/acmez/v3/acme"
	"github.com/miekg/dns"
)

// challengePrefix starts the blob name of every DNS-01 value being
// presented: challenge/<owner>/<value>, the owner a lower-case fully
// qualified name.
const challengePrefix = "challenge/"

// ChallengeOwner returns the name whose TXT record answers the DNS-01
// challenge of name (a domain name, "*." allowed): _acme-challenge.<name>
// when name is inside one of zones, else _acme-challenge.<name>.<zones[0]>,
// the target of the CNAME the owner of name sets at its _acme-challenge.
func ChallengeOwner(name string, zones []string) string {
	name = strings.TrimPrefix(dns.CanonicalName(name), "*.")
	owner := "_acme-challenge." + name
	if plugin.Zones(zones).Matches(owner) != "" {
		return owner
	}
	return owner + zones[0]
}

// Challenges reads the DNS-01 values being presented, for the DNS side.
type Challenges struct{ blobs store.Blobs }

// NewChallenges returns the reader of the values in blobs.
func NewChallenges(blobs store.Blobs) Challenges { return Challenges{blobs} }

// TXT returns the values presented at owner (lower-case, fully
// qualified): empty while no order is under way.
func (c Challenges) TXT(ctx context.Context, owner string) ([]string, error) {
	prefix := challengePrefix + owner + "/"
	names, err := c.blobs.BlobNames(ctx, prefix)
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		names[i] = n[len(prefix):]
	}
	return names, nil
}

// solver is the DNS-01 solver: it presents a value by writing it to the
// store, from which every replica answers it at once.
type solver struct {
	blobs   store.Blobs
	zones   []string
	serving func(ctx context.Context) bool // nil: always
}

// blobName is the blob that presents chal.
func (s solver) blobName(chal acme.Challenge) string {
	return challengePrefix + ChallengeOwner(chal.Identifier.Value, s.zones) + "/" + chal.DNS01KeyAuthorization()
}

// Present implements acmez.Solver.
func (s solver) Present(ctx context.Context, chal acme.Challenge) error {
	return s.blobs.PutBlob(ctx, s.blobName(chal), []byte(chal.DNS01KeyAuthorization()))
}

// CleanUp implements acmez.Solver.
func (s solver) CleanUp(ctx context.Context, chal acme.Challenge) error {
	return s.blobs.DeleteBlob(ctx, s.blobName(chal))
}

// Wait implements acmez.Waiter: the CA is told to validate once the DNS
// server answers, or after ten seconds.
func (s solver) Wait(ctx context.Context, _ acme.Challenge) error {
	if s.serving == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for !s.serving(ctx) {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}
