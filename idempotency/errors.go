package idempotency

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/jiec/httpmw/internal/problem"
)

// The kinds of *Error, for errors.Is.
var (
	// ErrMissingKey: Config.Required and no Idempotency-Key (400).
	ErrMissingKey = errors.New("idempotency: Idempotency-Key is required")
	// ErrInvalidKey: a malformed, empty, too long or repeated key (400).
	ErrInvalidKey = errors.New("idempotency: malformed Idempotency-Key")
	// ErrBodyTooLarge: the request body exceeds Config.MaxBodyBytes (413).
	ErrBodyTooLarge = errors.New("idempotency: request body too large")
	// ErrBodyRead: the request body could not be read (400).
	ErrBodyRead = errors.New("idempotency: request body could not be read")
	// ErrInProgress: a request with the key is still running (409).
	ErrInProgress = errors.New("idempotency: a request with this Idempotency-Key is in progress")
	// ErrKeyReused: the key was used for another request (422).
	ErrKeyReused = errors.New("idempotency: Idempotency-Key reused for another request")
	// ErrStoreUnavailable: the store failed (503).
	ErrStoreUnavailable = errors.New("idempotency: store unavailable")
)

// Error is what Config.ErrorHandler receives.
type Error struct {
	// Kind is one of the Err* variables above.
	Kind error
	// Status is the status the default handler answers with.
	Status int
	// RetryAfter is, for ErrInProgress, the time until the running
	// request's lease expires (the Retry-After field is already set).
	RetryAfter time.Duration
	// Cause is the underlying error (a key syntax error, the store's error).
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Kind.Error() + ": " + e.Cause.Error()
	}
	return e.Kind.Error()
}

// Unwrap returns Kind and Cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// detail is the problem document's detail member.
func (e *Error) detail() string {
	switch e.Kind {
	case ErrMissingKey:
		return "This operation requires an Idempotency-Key request header field."
	case ErrInvalidKey:
		msg := "The Idempotency-Key must be a string of 1 to 255 printable ASCII characters, e.g. \"8e03978e-40d5-43e8-bc93-6894a57f9324\""
		if e.Cause != nil {
			msg += " (" + e.Cause.Error() + ")"
		}
		return msg + "."
	case ErrBodyTooLarge:
		return "The request body is too large for an idempotent request."
	case ErrBodyRead:
		return "The request body could not be read."
	case ErrInProgress:
		return "A request with the same Idempotency-Key is being processed; retry it unchanged later."
	case ErrKeyReused:
		return "This Idempotency-Key was used for a different request (method, path, query or body); use a new key for a new request."
	case ErrStoreUnavailable:
		return "Idempotent requests cannot be processed right now; retry later with the same Idempotency-Key."
	}
	return ""
}

// fail answers err (an *Error).
func (m *Middleware) fail(w http.ResponseWriter, r *http.Request, e *Error) {
	if e.Kind == ErrInProgress {
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	if m.cfg.errorHandler != nil {
		m.cfg.errorHandler(w, r, e)
		return
	}
	problem.Write(w, r, problem.Details{Status: e.Status, Detail: e.detail()})
}
