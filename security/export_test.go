package security

// Internals reached by the black-box tests and fuzz targets.
var LastElement = lastElement

// ForwardedProto is forwardedProto with the proxies in trusted (prefixes as
// in Config.TrustedProxies).
func ForwardedProto(values []string, trusted ...string) string {
	var c compiled
	for _, s := range trusted {
		p, err := parsePrefix(s)
		if err != nil {
			panic(err)
		}
		c.trusted = append(c.trusted, p)
	}
	return forwardedProto(values, c.trustedAddr)
}
