package trace

// Internals reached by the black-box tests and fuzz targets.
var (
	ValidID         = validID
	HexTraceID      = hexTraceID
	ParseTraceState = parseTraceState
	EncodeHex       = encodeHex
)

// ParseTraceparent wraps parseTraceparent for the tests.
func ParseTraceparent(values []string) (SpanContext, error) {
	t, p, f, err := parseTraceparent(values)
	return SpanContext{TraceID: t, ParentID: p, Flags: f}, err
}
