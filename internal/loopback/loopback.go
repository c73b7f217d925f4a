// Package loopback says which hosts are this machine's, the rule by which
// plain-http URLs are allowed for key sets (jwk) and clients' jwks_uri
// (the token service).
package loopback

import (
	"net"
	"strings"
)

// Host reports whether host (a URL's host name, without port or
// brackets) is localhost or a loopback IP address. A name such as
// 127.example.net is not one.
func Host(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
