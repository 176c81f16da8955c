// Benchmark of the household UI against the real binary:
//   gatewayd demo --history 365d (fresh state), setup, then in headless Chromium:
//   - bytes transferred by the first load of the Now page (cold cache: navigation
//     + every resource's transferSize, API answers included),
//   - time from navigation start to performance.mark('gwd:interactive'),
//   - time to chart a year of 1-minute power data on History (range=year): from
//     the request start to gwd:chart-drawn (the 'gwd:chart' measure).
// Prints `BenchmarkUI/<name> <value>` lines and writes test-artifacts/bench.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifacts, doSetup, launchBrowser, startGateway } from './lib.mjs';

const ADMIN = { user: 'anna', password: 'correct horse battery' };
const results = {};
const report = (name, v, unit = '') => {
  results[name] = v;
  console.log(`BenchmarkUI/${name} ${v}${unit ? ' ' + unit : ''}`);
};

mkdirSync(artifacts, { recursive: true });
const t0 = Date.now();
const gw = await startGateway(['--history', '365d'], { timeoutMs: 180000 });
console.log(`# gatewayd demo --history 365d ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const browser = await launchBrowser();
try {
  const setupCtx = await browser.newContext();
  const sp = await setupCtx.newPage();
  await doSetup(sp, gw.setup, ADMIN.user, ADMIN.password);
  const state = await setupCtx.storageState();
  await setupCtx.close();

  // Cold first load of Now: a new context has an empty HTTP cache.
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const ctx = await browser.newContext({ storageState: state, viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(gw.ui + '#/now');
    await page.waitForFunction(() => performance.getEntriesByName('gwd:interactive').length > 0, null, { timeout: 15000 });
    await page.waitForLoadState('networkidle').catch(() => {});
    const m = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const api = res.filter((r) => new URL(r.name).pathname.startsWith('/api/'));
      const assets = res.filter((r) => !new URL(r.name).pathname.startsWith('/api/'));
      const sum = (a) => a.reduce((s, r) => s + (r.transferSize || 0), 0);
      return {
        bytes: (nav?.transferSize || 0) + sum(res),
        assetBytes: (nav?.transferSize || 0) + sum(assets),
        apiBytes: sum(api),
        decoded: (nav?.decodedBodySize || 0) + assets.reduce((s, r) => s + (r.decodedBodySize || 0), 0),
        interactive: performance.getEntriesByName('gwd:interactive')[0].startTime,
        files: assets.map((r) => `${new URL(r.name).pathname} ${r.transferSize}`),
      };
    });
    runs.push(m);
    await ctx.close();
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const first = runs[0];
  report('now_first_load_bytes', median(runs.map((r) => r.bytes)), 'B');
  report('now_first_load_asset_bytes', median(runs.map((r) => r.assetBytes)), 'B');
  report('now_first_load_api_bytes', median(runs.map((r) => r.apiBytes)), 'B');
  report('now_first_load_decoded_bytes', median(runs.map((r) => r.decoded)), 'B');
  report('now_interactive_ms', Math.round(median(runs.map((r) => r.interactive))), 'ms');
  console.log('# assets of the first load: ' + first.files.join(', '));

  // A year of 1-minute power on History: first chart (cold chart module), then warm re-draws.
  const ctx = await browser.newContext({ storageState: state, viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const series = [];
  page.on('response', async (r) => {
    if (r.url().includes('/api/v1/series?')) series.push({ url: r.url(), status: r.status() });
  });
  await page.goto(gw.ui + '#/history?range=year');
  const measures = (n) =>
    page.waitForFunction((k) => performance.getEntriesByName('gwd:chart', 'measure').length >= k, n, { timeout: 30000 });
  await measures(1);
  const cold = await page.evaluate(() => performance.getEntriesByName('gwd:chart', 'measure')[0].duration);
  const points = Number(await page.getAttribute('#hist-chart', 'data-points'));
  report('history_year_chart_ms', Math.round(cold), 'ms');
  report('history_year_points', points);
  const warm = [];
  for (let i = 0; i < 5; i++) {
    const n = await page.evaluate(() => performance.getEntriesByName('gwd:chart', 'measure').length);
    await page.click('[data-range="year"]');
    await measures(n + 1);
    warm.push(await page.evaluate((k) => performance.getEntriesByName('gwd:chart', 'measure')[k].duration, n));
  }
  report('history_year_chart_warm_ms', Math.round(median(warm)), 'ms');
  const u = new URL(series[0].url);
  console.log(`# series request: points=${u.searchParams.get('points')} from=${u.searchParams.get('from')} to=${u.searchParams.get('to')} status=${series[0].status}`);
  await page.screenshot({ path: join(artifacts, 'bench-history-year.png') });
  await ctx.close();

  const budget = { now_first_load_bytes: 150 * 1024, now_interactive_ms: 300 };
  results.budget = budget;
  results.within_budget = results.now_first_load_bytes <= budget.now_first_load_bytes && results.now_interactive_ms <= budget.now_interactive_ms;
  writeFileSync(join(artifacts, 'bench.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`# written ${join(artifacts, 'bench.json')}; within budget: ${results.within_budget}`);
} finally {
  await browser.close();
  await gw.stop();
}
