import { defineConfig } from 'vite';

// The daemon serves the built app from dist/app (embedded in the binary)
// under a strict CSP: no inline script or style, so the module preload
// polyfill (an inline script) is off and assets are never inlined as data:
// URIs. dist/README.md is committed, hence outDir is dist/app, not dist.
export default defineConfig({
  base: './',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    target: 'es2020',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: true,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` against a running `gatewayd demo --listen 127.0.0.1:8080`.
    proxy: { '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});
