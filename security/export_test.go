package security

// Internals reached by the black-box tests and fuzz targets.
var (
	ForwardedProto = forwardedProto
	LastElement    = lastElement
)
