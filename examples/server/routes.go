package main

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/negotiate"
	"github.com/jiec/httpmw/security"
)

// routes registers the demo's handlers. They know nothing about HTTP caching,
// compression, CORS, rate limits or trace ids: the middlewares in chain.go
// add those. The two route-specific middlewares are mounted here: the
// idempotent create and the negotiated list.
func routes(store *itemStore, idem *idempotency.Middleware, neg *negotiate.Middleware) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", page)
	mux.Handle("GET /api/items", neg.Handler(http.HandlerFunc(store.list)))
	mux.Handle("POST /api/items", idem.Handler(http.HandlerFunc(store.create)))
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
<li><a href="/api/items">/api/items</a>: the list as JSON, HTML or CSV (Accept), in English or French (Accept-Language)</li>
<li><a href="/api/items/1">/api/items/1</a>: JSON with an ETag; send it back in If-None-Match to get 304</li>
<li>POST /api/items with an Idempotency-Key: a retry replays the first answer</li>
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
	next  int // id of the next created item
}

func newItemStore() *itemStore {
	s := &itemStore{items: make(map[int]item)}
	for i := 1; i <= 3; i++ {
		s.items[i] = item{ID: i, Name: fmt.Sprintf("item %d", i), Tags: []string{"demo", "httpmw"}, Version: 1,
			Updated: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	}
	s.next = 4
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

// maxItems bounds the demo's memory whatever clients create.
const maxItems = 1000

// titles of the negotiated list, per language offer.
var titles = map[string][2]string{"en": {"Items", "name"}, "fr": {"Articles", "nom"}}

var listTmpl = template.Must(template.New("list").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1><table><tr><th>id</th><th>{{.Name}}</th></tr>
{{range .Items}}<tr><td>{{.ID}}</td><td>{{.Name}}</td></tr>
{{end}}</table></body></html>
`))

// list renders every item in the media type and language the negotiate
// middleware chose (it already set Vary and Content-Language).
func (s *itemStore) list(w http.ResponseWriter, r *http.Request) {
	choice := negotiate.Result(r.Context())
	s.mu.RLock()
	items := make([]item, 0, len(s.items))
	for _, it := range s.items {
		items = append(items, it)
	}
	s.mu.RUnlock()
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.ID, b.ID) })
	t := titles[choice.Language]
	switch choice.MediaType {
	case "text/html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = listTmpl.Execute(w, struct {
			Lang, Title, Name string
			Items             []item
		}{choice.Language, t[0], t[1], items})
	case "text/csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"id", t[1], "version"})
		for _, it := range items {
			_ = cw.Write([]string{strconv.Itoa(it.ID), it.Name, strconv.Itoa(it.Version)})
		}
		cw.Flush()
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"title": t[0], "items": items})
	}
}

// create adds an item. The idempotency middleware in front of it runs it
// once per Idempotency-Key: a retry gets this response again, replayed.
func (s *itemStore) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || strings.TrimSpace(in.Name) == "" {
		http.Error(w, "body must be JSON with a non-empty name", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if len(s.items) >= maxItems {
		s.mu.Unlock()
		http.Error(w, "the demo holds at most 1000 items", http.StatusInsufficientStorage)
		return
	}
	it := item{ID: s.next, Name: in.Name, Tags: in.Tags, Version: 1, Updated: time.Now().UTC().Truncate(time.Second)}
	s.items[it.ID] = it
	s.next++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", fmt.Sprintf("/api/items/%d", it.ID))
	w.Header().Set("ETag", it.etag())
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(it)
}
