// Package ui holds the household web UI: its TypeScript source (src/),
// and the built, precompressed assets embedded into the binary
// (dist/app/, written by `npm run build`; `make build` runs it when Node
// is there). Without a build, Assets has no index.html and the daemon
// serves a page that says how to build the UI.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Assets returns the built UI (index.html at its root), or nil when the
// binary was built without it.
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist/app")
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return nil
	}
	return sub
}
