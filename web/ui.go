package web

import (
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// uiFiles serves the built UI: each file may have precompressed .br and
// .gz siblings, chosen by Accept-Encoding.
type uiFiles struct {
	fsys fs.FS
	ok   bool // index.html exists
}

func newUIFiles(fsys fs.FS) *uiFiles {
	u := &uiFiles{fsys: fsys}
	if fsys != nil {
		if st, err := fs.Stat(fsys, "index.html"); err == nil && !st.IsDir() {
			u.ok = true
		}
	}
	return u
}

// missingUI is served when the binary was built without the UI assets.
const missingUI = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>gatewayd: web UI not built</title></head>
<body><main><h1>The web UI is not built into this binary</h1>
<p>The API works (<a href="/api/v1/health">/api/v1/health</a>). To get the UI, build it and then the binary:</p>
<pre>cd web/ui &amp;&amp; npm ci &amp;&amp; npm run build &amp;&amp; cd ../.. &amp;&amp; go build ./cmd/gatewayd</pre>
<p>(<code>make build</code> does both.) For UI development, serve the assets from disk with
<code>gatewayd demo --ui-dir web/ui/dist/app</code>.</p></main></body></html>
`

func (s *Server) serveUI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	u := s.ui
	if !u.ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, missingUI)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	if strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".br") {
		http.NotFound(w, r)
		return
	}
	st, err := fs.Stat(u.fsys, name)
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	if strings.HasPrefix(name, "assets/") {
		// Vite puts a content hash in every asset name.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	serve, enc := name, ""
	accept := r.Header.Get("Accept-Encoding")
	for _, c := range []struct{ ext, enc string }{{".br", "br"}, {".gz", "gzip"}} {
		if acceptsEncoding(accept, c.enc) {
			if _, err := fs.Stat(u.fsys, name+c.ext); err == nil {
				serve, enc = name+c.ext, c.enc
				break
			}
		}
	}
	f, err := u.fsys.Open(serve)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	if st, err := f.Stat(); err == nil {
		h.Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	io.Copy(w, f)
}

// acceptsEncoding reports whether an Accept-Encoding header allows enc.
func acceptsEncoding(header, enc string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), enc) {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
