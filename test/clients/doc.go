// Package clients drives real acme-dns client libraries, and wire replays of
// acme.sh and a python-requests certbot hook, against a CoreDNS running the
// acmedns plugin, and checks the records they set over DNS. It has no code of
// its own outside its tests.
package clients
