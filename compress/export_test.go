package compress

// Negotiate exposes the Accept-Encoding decision to the fuzz tests.
func Negotiate(m *Middleware, values []string) string { return m.c.negotiate(values).String() }
