package acmedns

import (
	"net/netip"
	"sync"

	"github.com/acmedns/acmedns/internal/httpapi"
)

// xfrSlots counts the zone transfers under way in the process, in all and
// per client address (IPv6 by /64). They are process-wide, so the old and
// the new instance of a reload, and every block, share the bounds' count.
var xfrSlots = struct {
	sync.Mutex
	total  int
	client map[netip.Addr]int
}{client: map[netip.Addr]int{}}

// Reasons a transfer is refused, the reason label of transfer_refusals_total.
const (
	refusedUDP         = "udp"          // transfers are over TCP
	refusedACL         = "acl"          // not in the transfer plugin's to list
	refusedLimit       = "limit"        // the process has its maximum under way
	refusedClientLimit = "client_limit" // the client address has its maximum under way
)

// takeTransferSlot counts a transfer for client in, unless lim's bounds are
// reached; it returns the function that counts it out, or the reason it was
// refused.
func takeTransferSlot(client netip.Addr, lim TransferLimits) (release func(), refused string) {
	key := httpapi.ClientKey(client)
	xfrSlots.Lock()
	defer xfrSlots.Unlock()
	switch {
	case xfrSlots.total >= lim.Max:
		return nil, refusedLimit
	case xfrSlots.client[key] >= lim.PerClient:
		return nil, refusedClientLimit
	}
	xfrSlots.total++
	xfrSlots.client[key]++
	transferSlotsInUse.Inc()
	var once sync.Once
	return func() { once.Do(func() { giveTransferSlot(key) }) }, ""
}

func giveTransferSlot(key netip.Addr) {
	xfrSlots.Lock()
	defer xfrSlots.Unlock()
	xfrSlots.total--
	if xfrSlots.client[key]--; xfrSlots.client[key] <= 0 {
		delete(xfrSlots.client, key)
	}
	transferSlotsInUse.Dec()
}
