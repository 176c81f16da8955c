// Precompresses every file of the build output into .gz and .br siblings,
// so the daemon can serve them without compressing at run time.
// Usage: node scripts/compress.mjs dist/app
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const root = process.argv[2] ?? 'dist/app';

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (!p.endsWith('.gz') && !p.endsWith('.br')) yield p;
  }
}

let raw = 0, gz = 0, br = 0;
const rows = [];
for (const file of walk(root)) {
  const data = readFileSync(file);
  const g = gzipSync(data, { level: 9 });
  const b = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  writeFileSync(file + '.gz', g);
  writeFileSync(file + '.br', b);
  raw += data.length; gz += g.length; br += b.length;
  rows.push([relative(root, file), data.length, g.length, b.length]);
}
rows.sort((a, b) => b[1] - a[1]);
for (const [f, r, g, b] of rows) {
  console.log(`${f.padEnd(40)} ${String(r).padStart(8)} raw ${String(g).padStart(8)} gz ${String(b).padStart(8)} br`);
}
console.log(`${'total'.padEnd(40)} ${String(raw).padStart(8)} raw ${String(gz).padStart(8)} gz ${String(br).padStart(8)} br`);
