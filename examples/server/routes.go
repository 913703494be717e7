package main

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jiec/httpmw/security"
)

// routes registers the demo's handlers. They know nothing about HTTP caching,
// compression, CORS or trace ids: the middlewares in chain.go add those.
func routes(store *itemStore) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /api/items/{id}", store.get)
	mux.HandleFunc("PUT /api/items/{id}", store.put)
	mux.HandleFunc("GET /events", events)
	return mux
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>httpmw demo</title>
<style nonce="{{.Nonce}}">body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }</style>
</head>
<body>
<h1>httpmw demo</h1>
<p>Every response carries a trace id, security headers and, where it pays, compression.</p>
<ul>
<li><a href="/api/items/1">/api/items/1</a>: JSON with an ETag; send it back in If-None-Match to get 304</li>
<li><a href="/events">/events</a>: Server-Sent Events, compressed and flushed per event</li>
</ul>
<pre id="log"></pre>
<script nonce="{{.Nonce}}">
const log = document.getElementById("log");
const es = new EventSource("/events");
es.onmessage = (e) => { log.textContent += e.data + "\n"; };
</script>
</body>
</html>
`))

// page renders HTML whose inline script and style are allowed by the CSP
// nonce of this request.
func page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // a nonce must never be cached
	_ = pageTmpl.Execute(w, struct{ Nonce string }{security.Nonce(r.Context())})
}

// events streams a few Server-Sent Events, flushing each one.
func events(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for i := 1; i <= 10; i++ {
		if _, err := fmt.Fprintf(w, "data: event %d at %s\n\n", i, time.Now().Format(time.TimeOnly)); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// item is a resource of the JSON API; Version drives its ETag.
type item struct {
	ID      int       `json:"id"`
	Name    string    `json:"name"`
	Tags    []string  `json:"tags"`
	Version int       `json:"version"`
	Updated time.Time `json:"updated"`
}

// itemStore is an in-memory store of items.
type itemStore struct {
	mu    sync.RWMutex
	items map[int]item
}

func newItemStore() *itemStore {
	s := &itemStore{items: make(map[int]item)}
	for i := 1; i <= 3; i++ {
		s.items[i] = item{ID: i, Name: fmt.Sprintf("item %d", i), Tags: []string{"demo", "httpmw"}, Version: 1,
			Updated: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	}
	return s
}

func (s *itemStore) lookup(r *http.Request) (item, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		return item{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, ok := s.items[id]
	return it, ok
}

// etag is the validator of an item version (the cache middleware's
// Validator uses it to answer 304 and 412 before the handler runs).
func (it item) etag() string { return fmt.Sprintf(`"item-%d-v%d"`, it.ID, it.Version) }

func (s *itemStore) get(w http.ResponseWriter, r *http.Request) {
	it, ok := s.lookup(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", it.etag())
	_ = json.NewEncoder(w).Encode(it)
}

// put replaces an item's name. The cache middleware has already checked
// If-Match against the current ETag, so a stale write never gets here.
func (s *itemStore) put(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || in.Name == "" {
		http.Error(w, "body must be JSON with a non-empty name", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	it, ok := s.items[id]
	if ok {
		it.Name, it.Version, it.Updated = in.Name, it.Version+1, time.Now().UTC().Truncate(time.Second)
		s.items[id] = it
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", it.etag())
	_ = json.NewEncoder(w).Encode(it)
}
