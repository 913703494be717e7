// Package bench compares httpmw with peer libraries on the same requests.
// It is a separate module so that the peers never enter the core go.mod.
// Run it with: cd bench && go test -run '^$' -bench . -benchmem
package bench
