package negotiate_test

import (
	"context"
	"net/http"
)

func contextWith(r *http.Request, k, v any) context.Context {
	return context.WithValue(r.Context(), k, v)
}
