package negotiate

import (
	"context"
	"fmt"
	"net/http"
)

// Choice is the outcome of the negotiation for one request. A dimension the
// middleware does not negotiate (no offers configured) is "".
type Choice struct {
	// MediaType is the chosen offer of Config.Types, with its parameters,
	// exactly as configured ("text/html;level=1").
	MediaType string
	// Language is the chosen offer of Config.Languages.
	Language string
	// Charset is the chosen offer of Config.Charsets.
	Charset string
	// Fallback reports that, for at least one dimension, the request
	// accepted none of the offers and Config.Fallback chose the first one.
	Fallback bool
}

type ctxKey struct{}

// value is the per-request state: it is the request's context (it embeds
// the parent and answers ctxKey), and holds the request passed to the next
// handler and the backing arrays of the header values the middleware sets,
// so a negotiated request costs one allocation.
//
// The choice is kept as the chosen offers' indexes (and the value of an
// outer middleware, whose dimensions stay), not as a Choice: 32 bytes
// fewer, which puts the value in a smaller size class.
type value struct {
	req http.Request
	context.Context
	c        *compiled
	outer    *value // an outer middleware's value, or nil
	idx      [numDims]int32
	fallback bool
	lang     [1]string
}

// choice returns the outcome: the outer middleware's, with the dimensions
// this one negotiates replaced by its chosen offers.
func (v *value) choice() Choice {
	var ch Choice
	if v.outer != nil {
		ch = v.outer.choice()
	}
	c := v.c
	if len(c.types) > 0 {
		ch.MediaType = c.typeNames[v.idx[dimType]]
	}
	if len(c.languages) > 0 {
		ch.Language = c.languages[v.idx[dimLanguage]]
	}
	if len(c.charsets) > 0 {
		ch.Charset = c.charsets[v.idx[dimCharset]]
	}
	ch.Fallback = ch.Fallback || v.fallback
	return ch
}

func (v *value) Value(k any) any {
	if k == (ctxKey{}) {
		return v
	}
	return v.Context.Value(k)
}

// String names the context for debugging, like the context package does.
func (v *value) String() string {
	if s, ok := v.Context.(fmt.Stringer); ok {
		return s.String() + ".WithValue(negotiate)"
	}
	return "context.WithValue(negotiate)"
}

// Result returns the negotiation outcome of the request whose context is
// ctx, or the zero Choice when the middleware did not handle it. With
// nested middlewares (media types for a whole mux, languages on one route)
// each dimension comes from the innermost middleware negotiating it, and
// Fallback is true if any of them fell back.
func Result(ctx context.Context) Choice {
	if v, ok := ctx.Value(ctxKey{}).(*value); ok {
		return v.choice()
	}
	return Choice{}
}
