package acmedns

import (
	"errors"
	"net"
	"reflect"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/transfer"
)

// xfrBlock is one block of the server block's transfer plugin: its zones
// and its to list (host:port, or *).
type xfrBlock struct {
	zones []string
	to    []string
}

// xfrACL is who may transfer what, as the transfer plugin configured it.
type xfrACL []xfrBlock

// errTransferLayout says that this CoreDNS's transfer plugin keeps its
// configuration in another form than the one acmedns reads.
var errTransferLayout = errors.New("cannot read the transfer plugin's to lists (a CoreDNS other than v1.15?)")

// readTransferACL reads the transfer plugin's blocks. The plugin keeps them
// unexported (CoreDNS v1.15: xfrs []*xfr, each with Zones and to), so they
// are read by reflection; any other layout is an error, and the server does
// not start, rather than transfers being allowed to anyone.
func readTransferACL(t *transfer.Transfer) (xfrACL, error) {
	xfrs := reflect.ValueOf(t).Elem().FieldByName("xfrs")
	if !xfrs.IsValid() || xfrs.Kind() != reflect.Slice {
		return nil, errTransferLayout
	}
	acl := make(xfrACL, 0, xfrs.Len())
	for i := range xfrs.Len() {
		x := xfrs.Index(i)
		if x.Kind() == reflect.Pointer {
			x = x.Elem()
		}
		if x.Kind() != reflect.Struct {
			return nil, errTransferLayout
		}
		zones, ok := stringsOf(x.FieldByName("Zones"))
		to, ok2 := stringsOf(x.FieldByName("to"))
		if !ok || !ok2 || len(to) == 0 {
			return nil, errTransferLayout
		}
		acl = append(acl, xfrBlock{zones: zones, to: to})
	}
	return acl, nil
}

// stringsOf reads a []string field, exported or not.
func stringsOf(v reflect.Value) ([]string, bool) {
	if !v.IsValid() || v.Kind() != reflect.Slice || v.Type().Elem().Kind() != reflect.String {
		return nil, false
	}
	out := make([]string, v.Len())
	for i := range out {
		out[i] = v.Index(i).String()
	}
	return out, true
}

// block returns the block the transfer plugin would use for qname: the
// longest zone match, ties to the greater name; nil when none matches.
func (acl xfrACL) block(qname string) *xfrBlock {
	var x *xfrBlock
	zone := ""
	for i := range acl {
		z := plugin.Zones(acl[i].zones).Matches(qname)
		if z != "" && (len(z) > len(zone) || len(z) == len(zone) && z > zone) {
			zone, x = z, &acl[i]
		}
	}
	return x
}

// allows says whether the client at ip (as request.Request.IP gives it) may
// transfer: as the transfer plugin decides, * or the address of a to entry,
// whatever its port.
func (x *xfrBlock) allows(ip string) bool {
	for _, h := range x.to {
		if h == "*" {
			return true
		}
		host, _, err := net.SplitHostPort(h)
		if err != nil {
			return false
		}
		if host == ip {
			return true
		}
	}
	return false
}
