// Browser tests of the household UI: real headless Chromium (Debian's) against
// the real gatewayd binary running `demo` on a fresh state dir.
//   GATEWAYD_BIN (default ../../bin/gatewayd), GATEWAYD_UI_DIR (optional --ui-dir),
//   CHROMIUM_PATH (default /usr/bin/chromium).
// Screenshots of every page (desktop and phone) go to test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { artifacts, doSetup, launchBrowser, login, startGateway } from './lib.mjs';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');

const ADMIN = { user: 'anna', password: 'correct horse battery' };
const VIEWER = { user: 'ben', password: 'viewer password 1' };
const PAGES = ['now', 'history', 'costs', 'dr', 'devices', 'settings'];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let gw;
let browser;
let adminState; // storage state (cookies, localStorage) of the logged-in admin
let viewerState;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  gw = await startGateway(['--history', '2d']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await gw?.stop();
});

/** A context (optionally with a saved login), with errors of the page collected. */
async function open(opts = {}) {
  const { state, viewport = DESKTOP, ...rest } = opts;
  const ctx = await browser.newContext({
    viewport,
    locale: 'en-US',
    acceptDownloads: true,
    storageState: state,
    ...rest,
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // Failed fetches are reported as console errors: those the test expects
    // (401/404/503 answers) are checked by the tests themselves.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return { ctx, page, errors };
}

/** fetch() inside the page (same origin, with the session cookie and CSRF token). */
function apiCall(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const s = await (await fetch('/api/v1/session')).json();
      const res = await fetch('/api/v1' + path, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf ?? '' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, json };
    },
    { method, path, body },
  );
}

async function gotoPage(page, name) {
  await page.goto(gw.ui + '#/' + name);
  await page.waitForSelector(`main[data-page="${name}"] h1`);
}

test('served under a strict CSP, with no inline script or style', async () => {
  const res = await fetch(gw.ui);
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  const html = await res.text();
  for (const m of html.matchAll(/<script\b[^>]*>/g)) assert.match(m[0], /\bsrc=/, `inline script: ${m[0]}`);
  assert.doesNotMatch(html, /<style\b|\sstyle=/, 'inline style in index.html');
});

test('first start: setup through the one-time link, which is void afterwards', async () => {
  assert.ok(gw.setup, 'the demo printed no setup link on a fresh state dir');
  const { ctx, page, errors } = await open();
  // Without a user, the app says to open the setup link from the log.
  await page.goto(gw.ui);
  await page.waitForSelector('#setup-required');
  assert.match(await page.textContent('#setup-required'), /setup link/i);

  await page.goto(gw.setup);
  await page.waitForSelector('#setup-form');
  // Client-side check: too short.
  await page.fill('#setup-user', ADMIN.user);
  await page.fill('#setup-password', 'short');
  await page.fill('#setup-confirm', 'short');
  await page.click('#setup-form button[type=submit]');
  await page.waitForSelector('#setup-password-err');
  // Server-side check: a bad user name is answered with param "user", shown at that field.
  await page.fill('#setup-user', 'no spaces allowed!');
  await page.fill('#setup-password', ADMIN.password);
  await page.fill('#setup-confirm', ADMIN.password);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/setup')),
    page.click('#setup-form button[type=submit]'),
  ]);
  assert.equal(res.status(), 400);
  await page.waitForSelector('#setup-user-err');
  assert.equal(await page.getAttribute('#setup-user', 'aria-invalid'), 'true');

  await page.fill('#setup-user', ADMIN.user);
  await page.click('#setup-form button[type=submit]');
  await page.waitForSelector('main[data-page="now"]');
  assert.match(await page.textContent('.topbar'), new RegExp(ADMIN.user));
  adminState = await ctx.storageState();
  assert.deepEqual(errors, []);
  await ctx.close();

  // The link is void now: the page says so, and the API refuses the token.
  const other = await open();
  await other.page.goto(gw.setup);
  await other.page.waitForSelector('#setup-void');
  const token = decodeURIComponent(gw.setup.split('#/setup/')[1]);
  const again = await apiCall(other.page, 'POST', '/setup', { token, user: 'mallory', password: 'another password' });
  assert.ok([403, 409].includes(again.status), `setup with a used token answered ${again.status}`);
  const s = await apiCall(other.page, 'GET', '/session');
  assert.equal(s.json.setup_required, false);
  await other.ctx.close();
});

test('logout, wrong password, login', async () => {
  // A session of its own, so the admin session of the other tests stays valid.
  const { ctx, page, errors } = await open();
  await login(page, gw.ui, ADMIN.user, ADMIN.password);
  await gotoPage(page, 'now');
  await page.click('#logout');
  await page.waitForSelector('#login-form');
  // The session is gone on the server too.
  const s = await apiCall(page, 'GET', '/session');
  assert.equal(s.json.authenticated, false);

  await page.fill('#login-user', ADMIN.user);
  await page.fill('#login-password', 'wrong password!');
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/login')),
    page.click('#login-form button[type=submit]'),
  ]);
  assert.equal(res.status(), 401);
  const body = await res.json();
  // Shown as is, at the field the server names (else for the whole form).
  const sel = body.param ? `#login-${body.param}-err` : '#login-form .form-error';
  await page.waitForSelector(sel);
  assert.equal((await page.textContent(sel)).trim(), body.error);

  await page.fill('#login-password', ADMIN.password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('main[data-page="now"]');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('Now page updates live over SSE', async () => {
  const { ctx, page, errors } = await open({ state: adminState });
  const streams = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/v1/stream')) streams.push(r);
  });
  await gotoPage(page, 'now');
  await page.waitForSelector('#power-value');
  await page.waitForSelector('.live-dot[data-stream="open"]', { timeout: 10000 });
  assert.ok(streams.length >= 1, 'no EventSource request to /api/v1/stream');
  const first = await page.textContent('#last-update-time');
  // The meter is polled every second; the stream pushes each reading.
  await page.waitForFunction((t) => document.querySelector('#last-update-time')?.textContent !== t, first, { timeout: 8000 });
  const marks = await page.evaluate(() => performance.getEntriesByName('gwd:interactive').length);
  assert.equal(marks, 1, 'gwd:interactive marked once');
  // Registers and link state are shown.
  assert.match(await page.textContent('#import-kwh'), /\d/);
  assert.match(await page.textContent('#card-registers'), /legal/);
  assert.match(await page.textContent('#card-health'), /link up/);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('History: uPlot chart with data, zoom re-queries, CSV of what is shown', async () => {
  const { ctx, page, errors } = await open({ state: adminState });
  const series = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/series?')) series.push(new URL(r.url()));
  });
  await page.goto(gw.ui + '#/history?range=day');
  await page.waitForSelector('#hist-chart .uplot canvas', { timeout: 15000 });
  await page.waitForFunction(() => Number(document.querySelector('#hist-chart')?.dataset.points) > 0, null, { timeout: 15000 });
  const points = Number(await page.getAttribute('#hist-chart', 'data-points'));
  assert.ok(points > 0);
  assert.ok(series.length >= 1);
  const asked = Number(series[0].searchParams.get('points'));
  assert.ok(asked >= 50 && asked <= 10000, `points=${asked}`);
  assert.ok(await page.evaluate(() => performance.getEntriesByName('gwd:chart-drawn').length > 0));
  assert.ok(await page.evaluate(() => performance.getEntriesByName('gwd:chart', 'measure').length > 0));

  // Zoom in: the chart stays drawn and the server is asked for the narrower range.
  const before = series.length;
  await page.click('#zoom-in');
  await page.waitForFunction((n) => performance.getEntriesByName('gwd:chart', 'measure').length >= n, 2, { timeout: 10000 });
  assert.ok(series.length > before, 'zoom did not re-query');
  const a = series[0];
  const b = series[series.length - 1];
  const span = (u) => Date.parse(u.searchParams.get('to')) - Date.parse(u.searchParams.get('from'));
  assert.ok(span(b) < span(a) * 0.75, 'zoomed range is not narrower');
  assert.equal(await page.locator('#hist-chart .uplot canvas').count(), 1);

  // CSV: exactly the shown points.
  const shown = Number(await page.getAttribute('#hist-chart', 'data-points'));
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#csv-export')]);
  const csv = readFileSync(await dl.path(), 'utf8').trim().split(/\r?\n/);
  assert.equal(csv[0], 'time,device,quantity,unit,tier,legal,min,max,mean,first,last,n');
  assert.equal(csv.length - 1, shown, 'CSV rows = shown points');
  assert.ok(shown > 0);
  assert.match(csv[1], /^\d{4}-\d\d-\d\dT.*,meter,power,W,/);

  // Energy per hour as bars.
  await page.selectOption('#hist-quantity', 'energy_import');
  await page.waitForFunction(() => document.querySelector('#hist-chart')?.dataset.kind === 'bars', null, { timeout: 10000 });
  await page.waitForFunction(() => Number(document.querySelector('#hist-chart')?.dataset.points) > 0, null, { timeout: 10000 });
  assert.match(await page.textContent('#hist-chart-card'), /legal/);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('Costs without a tariff says so and shows energy only', async () => {
  const { ctx, page, errors } = await open({ state: adminState });
  const cost = page.waitForResponse((r) => r.url().includes('/api/v1/costs?'));
  await gotoPage(page, 'costs');
  const res = await cost;
  assert.equal(res.status(), 404, `GET /costs without tariff answered ${res.status()} (contract: 404 no_tariff)`);
  await page.waitForSelector('#no-tariff-notice');
  assert.match(await page.textContent('#no-tariff-notice'), /no tariff/i);
  await page.waitForSelector('#costs-chart .uplot canvas');
  assert.match(await page.textContent('#energy-total'), /kWh/);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('tariff editor: validation problems shown inline, nothing changed', async () => {
  const { ctx, page, errors } = await open({ state: adminState });
  await gotoPage(page, 'settings');
  await page.waitForSelector('#tariff-yaml', { timeout: 10000 });
  const bad = [
    'tariff:',
    '  timezone: Asia/Shanghai',
    '  currency: CNY',
    '  import:',
    '    tou:',
    '      default: 0.5',
    '      zones:',
    '        - { hours: "25-26", price: 0.62 }',
    '',
  ].join('\n');
  await page.fill('#tariff-yaml', bad);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/tariff') && r.request().method() === 'PUT'),
    page.click('#tariff-save'),
  ]);
  assert.equal(res.status(), 400);
  const body = await res.json();
  assert.equal(body.code, 'invalid_tariff');
  assert.ok(body.problems?.length > 0, 'no problems listed');
  await page.waitForSelector('#tariff-problems .problem');
  const shown = await page.locator('#tariff-problems .problem').count();
  assert.equal(shown, body.problems.length);
  const p = body.problems[0];
  assert.match(await page.textContent('#tariff-problems'), new RegExp(p.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  if (p.line > 0) {
    // The offending line is marked in the gutter and highlighted behind the text.
    assert.equal(await page.locator(`.editor-backdrop .bl.bad[data-line="${p.line}"]`).count(), 1);
    assert.ok((await page.locator('.editor-gutter .ln.bad').count()) >= 1);
  }
  assert.equal(await page.getAttribute('#tariff-yaml', 'aria-invalid'), 'true');
  await page.locator('#settings-tariff').screenshot({ path: join(artifacts, 'tariff-problems-desktop.png') });
  const after = await apiCall(page, 'GET', '/tariff');
  assert.equal(after.json.configured, false, 'a rejected tariff changed something');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('Costs with a tariff: per day, and per device for the appliances with their own meter', async () => {
  const { ctx, page, errors } = await open({ state: adminState });
  await gotoPage(page, 'now');
  const yaml = ['tariff:', '  timezone: Europe/Berlin', '  currency: EUR', '  import:', '    fixed: 0.30', '  fees:', '    daily: 0.50', ''].join('\n');
  const put = await apiCall(page, 'PUT', '/tariff', { yaml });
  assert.equal(put.status, 200, JSON.stringify(put.json));
  try {
    await gotoPage(page, 'costs');
    await page.waitForSelector('#costs-table tbody tr');
    // The seeded history (2 days) holds the simulated appliances' own counters.
    await page.waitForSelector('#costs-devices-table tbody tr', { timeout: 15000 });
    const rows = await page.$$eval('#costs-devices-table tbody tr', (trs) => trs.map((tr) => ({ id: tr.dataset.device, cells: [...tr.children].map((c) => c.textContent) })));
    const ids = rows.map((r) => r.id).sort();
    assert.deepEqual(ids, ['sim-dishwasher', 'sim-ev', 'sim-heatpump', 'sim-waterheater']);
    for (const r of rows) assert.match(r.cells[2], /€/, `device ${r.id}: ${r.cells.join(' | ')}`);
    // The API agrees with the table: the EV's energy at 0.30 EUR/kWh, no fee.
    const from = new Date(Date.now() - 3 * 86400e3).toISOString();
    const ev = await apiCall(page, 'GET', `/costs?device=sim-ev&step=day&from=${encodeURIComponent(from)}`);
    assert.equal(ev.status, 200);
    assert.equal(ev.json.device, 'sim-ev');
    assert.ok(ev.json.total.import_kwh > 10, `EV ${ev.json.total.import_kwh} kWh over the seeded days`);
    assert.ok(Math.abs(ev.json.total.total - 0.3 * ev.json.total.import_kwh) < 1e-6, 'device cost is not its energy at the price');
    assert.equal(ev.json.total.fixed, 0);
    const unknown = await apiCall(page, 'GET', '/costs?device=no-such-device');
    assert.equal(unknown.status, 404);
    await page.locator('#costs-devices').screenshot({ path: join(artifacts, 'costs-devices-desktop.png') });
    assert.deepEqual(errors, []);
  } finally {
    await apiCall(page, 'PUT', '/tariff', { yaml: '' });
    await ctx.close();
  }
});

test('Devices: manual control through the buttons the capabilities allow', async () => {
  const { ctx, page, errors } = await open({ state: adminState });
  await gotoPage(page, 'devices');
  const box = '.device-controls[data-device="sim-waterheater"]';
  await page.waitForSelector(box);
  // Switch only: on/off, no limit.
  assert.equal(await page.locator(`${box} [data-cmd="limit"]`).count(), 0);
  assert.equal(await page.locator('.device-controls[data-device="meter"]').count(), 0, 'the legal meter has controls');
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/v1/devices/sim-waterheater/command')),
    page.click(`${box} [data-cmd="off"]`),
  ]);
  assert.equal(res.status(), 200);
  await page.waitForSelector(`${box} [role="status"]`);
  const dev = await apiCall(page, 'GET', '/devices/sim-waterheater');
  assert.equal(dev.json.control.on, false, 'the water heater is still on');
  const log = await apiCall(page, 'GET', '/events?kind=control');
  assert.equal(log.status, 200);
  assert.ok(JSON.stringify(log.json).includes('sim-waterheater'), 'the command is not in the events log');
  await page.click(`${box} [data-cmd="on"]`);
  await page.waitForFunction(async () => (await (await fetch('/api/v1/devices/sim-waterheater')).json()).control.on === true, null, { timeout: 10000 });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('demand response: notice or events with a working opt-out; intervention log', async () => {
  const { ctx, page, errors } = await open({ state: adminState });
  const drRes = page.waitForResponse((r) => r.url().endsWith('/api/v1/dr/events'));
  await gotoPage(page, 'dr');
  const res = await drRes;
  await page.waitForSelector('#intervention-log');
  await page.waitForSelector('#intervention-list, #intervention-list-empty');
  if (res.status() === 503) {
    assert.equal((await res.json()).code, 'dr_unavailable');
    await page.waitForSelector('#dr-unavailable');
    assert.match(await page.textContent('#dr-unavailable'), /not active/);
    // The Now page shows no DR banner then.
    await gotoPage(page, 'now');
    await page.waitForSelector('#power-value');
    assert.equal(await page.locator('#dr-banner').count(), 0);
  } else {
    assert.equal(res.status(), 200, `GET /dr/events answered ${res.status()}`);
    const events = (await res.json()).events ?? [];
    const open = events.filter((e) => (e.status === 'active' || e.status === 'pending') && !e.opted_out && e.actionable !== false);
    if (open.length) {
      const ev = open[0];
      const item = page.locator(`.dr-event[data-id="${ev.id}"]`);
      await item.locator('button', { hasText: 'Opt out' }).click();
      const [post] = await Promise.all([
        page.waitForResponse((r) => r.url().includes(`/dr/events/${encodeURIComponent(ev.id)}/optout`)),
        item.locator('button', { hasText: 'Yes, opt out' }).click(),
      ]);
      assert.equal(post.status(), 200, 'opt-out failed');
      await page.waitForSelector('#optout-done');
      const check = await apiCall(page, 'GET', '/dr/events');
      assert.ok(check.json.events.find((e) => e.id === ev.id)?.opted_out, 'event not opted out');
    } else {
      await page.waitForSelector('#dr-active');
    }
  }
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a viewer sees no admin settings', async () => {
  const { ctx, page, errors } = await open({ state: adminState });
  await gotoPage(page, 'settings');
  await page.waitForSelector('#add-user-form');
  // Bad input: the server's error at the field it names, nothing added.
  await page.fill('#new-user', 'bad name!');
  await page.fill('#new-user-pw', VIEWER.password);
  await page.click('#add-user-form button[type=submit]');
  await page.waitForSelector('#new-user-err');
  await page.fill('#new-user', VIEWER.user);
  await page.selectOption('#new-user-role', 'viewer');
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/users') && r.request().method() === 'POST'),
    page.click('#add-user-form button[type=submit]'),
  ]);
  assert.equal(res.status(), 201);
  await page.waitForSelector(`#user-list [data-user="${VIEWER.user}"]`);
  // The last admin cannot be demoted: the error is shown in the row.
  await page.selectOption(`#user-${ADMIN.user}-role`, 'viewer');
  await page.waitForSelector(`#user-${ADMIN.user}-err`);
  assert.ok(errors.length === 0, errors.join('\n'));
  await ctx.close();

  const v = await open();
  await login(v.page, gw.ui, VIEWER.user, VIEWER.password);
  viewerState = await v.ctx.storageState();
  await gotoPage(v.page, 'devices');
  await v.page.waitForSelector('#device-sim-waterheater');
  assert.equal(await v.page.locator('.device-controls').count(), 0, 'a viewer sees device controls');
  await gotoPage(v.page, 'settings');
  await v.page.waitForSelector('#settings-system dl');
  for (const sel of ['#settings-users', '#settings-tokens', '#settings-tariff', '#backup-link', '#settings-appliances', '#settings-homekit']) {
    assert.equal(await v.page.locator(sel).count(), 0, `viewer sees ${sel}`);
  }
  for (const sel of ['#settings-language', '#settings-password', '#settings-system', '#viewer-note']) {
    assert.equal(await v.page.locator(sel).count(), 1, `viewer misses ${sel}`);
  }
  const users = await apiCall(v.page, 'GET', '/users');
  assert.equal(users.status, 403);
  assert.equal((await apiCall(v.page, 'GET', '/appliances')).status, 403);
  await gotoPage(v.page, 'dr');
  assert.equal(await v.page.locator('.optout').count(), 0, 'viewer sees an opt-out button');
  assert.deepEqual(v.errors, []);
  await v.ctx.close();
});

test('language switch to Chinese', async () => {
  const { ctx, page, errors } = await open({ state: adminState });
  const langs = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/') && !r.url().endsWith('/stream')) langs.push(r.headers()['accept-language']);
  });
  await gotoPage(page, 'now');
  await page.selectOption('#lang-select', 'zh-CN');
  await page.waitForFunction(() => document.querySelector('h1')?.textContent === '实时');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.match(await page.textContent('nav'), /历史/);
  // Remembered across reloads; API calls ask for Chinese.
  langs.length = 0;
  await page.reload();
  await page.waitForSelector('main[data-page="now"]');
  await page.waitForFunction(() => document.querySelector('h1')?.textContent === '实时');
  assert.ok(langs.length > 0 && langs.every((l) => l === 'zh-CN'), `Accept-Language: ${langs.join(', ')}`);
  // A localised server error, shown as is.
  await gotoPage(page, 'settings');
  await page.fill('#pw-old', 'wrong password!!');
  await page.fill('#pw-new', 'a new password 123');
  await page.fill('#pw-confirm', 'a new password 123');
  await page.click('#password-form button[type=submit]');
  await page.waitForSelector('#pw-old-err, #password-form .form-error');
  assert.match(await page.textContent('#password-form'), /[\u4e00-\u9fff]/);
  await page.selectOption('#lang-select', 'en');
  await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Settings');
  assert.deepEqual(errors, []);
  await ctx.close();
});

async function noHorizontalScroll(page, what) {
  const { sw, cw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  assert.ok(sw <= cw, `${what}: horizontal scroll (${sw} > ${cw})`);
}

test('phone and desktop: no horizontal scroll on every page; screenshots', async () => {
  for (const [kind, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ]) {
    const { ctx, page, errors } = await open({ state: adminState, viewport, isMobile: kind === 'phone', hasTouch: kind === 'phone' });
    for (const name of PAGES) {
      await gotoPage(page, name);
      await page.waitForLoadState('networkidle').catch(() => {});
      if (name === 'history' || name === 'costs') await page.waitForSelector('.uplot canvas', { timeout: 10000 }).catch(() => {});
      await page.waitForTimeout(300);
      await noHorizontalScroll(page, `${kind} ${name}`);
      await page.screenshot({ path: join(artifacts, `${name}-${kind}.png`), fullPage: true });
    }
    // Logged out: login page.
    const lo = await open({ viewport, isMobile: kind === 'phone' });
    await lo.page.goto(gw.ui + '#/login');
    await lo.page.waitForSelector('#login-form');
    await noHorizontalScroll(lo.page, `${kind} login`);
    await lo.page.screenshot({ path: join(artifacts, `login-${kind}.png`), fullPage: true });
    await lo.ctx.close();
    assert.deepEqual(errors, []);
    await ctx.close();
  }
});

test('axe-core: no serious or critical violations on any page (light and dark)', async () => {
  const failures = [];
  for (const colorScheme of ['light', 'dark']) {
    const { ctx, page } = await open({ state: adminState, bypassCSP: true, colorScheme });
    const check = async (label) => {
      await page.addScriptTag({ path: axePath });
      const res = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
      });
      for (const r of res) failures.push(`${colorScheme} ${label}: ${r}`);
    };
    for (const name of PAGES) {
      await gotoPage(page, name);
      await page.waitForLoadState('networkidle').catch(() => {});
      if (name === 'history' || name === 'costs') await page.waitForSelector('.uplot canvas', { timeout: 10000 }).catch(() => {});
      await check(name);
    }
    await ctx.close();
    const lo = await open({ bypassCSP: true, colorScheme });
    await lo.page.goto(gw.ui + '#/login');
    await lo.page.waitForSelector('#login-form');
    await lo.page.addScriptTag({ path: axePath });
    const res = await lo.page.evaluate(async () => (await window.axe.run(document)).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id));
    for (const r of res) failures.push(`${colorScheme} login: ${r}`);
    await lo.ctx.close();
  }
  assert.deepEqual(failures, []);
});

// Last: it locks this client (loopback) out of logging in for a while.
test('login lockout: the localised message with the retry time', async () => {
  const { ctx, page, errors } = await open();
  await page.goto(gw.ui + '#/login');
  await page.waitForSelector('#login-form');
  let status = 0;
  let body = null;
  for (let i = 0; i < 8 && status !== 429; i++) {
    await page.fill('#login-user', ADMIN.user);
    await page.fill('#login-password', `wrong password ${i}`);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/login')),
      page.click('#login-form button[type=submit]'),
    ]);
    status = res.status();
    body = await res.json();
  }
  assert.equal(status, 429, 'no lockout after 8 failed logins');
  assert.equal(body.code, 'locked_out');
  assert.ok(Number(body.retry_after) > 0);
  await page.waitForSelector('#login-locked');
  assert.match(await page.textContent('#login-form'), new RegExp(body.error.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.ok(await page.isDisabled('#login-form button[type=submit]'), 'submit stays enabled while locked out');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('HomeKit: the setup code in the settings for admins only', async () => {
  const { ctx, page, errors } = await open({ state: adminState });
  await gotoPage(page, 'settings');
  await page.waitForSelector('#homekit-code');
  const code = (await page.textContent('#homekit-code')).trim();
  assert.match(code, /^\d{3}-\d{2}-\d{3}$/);
  assert.notEqual(code, '001-02-003', "hap's default code");
  const api = await apiCall(page, 'GET', '/homekit');
  assert.equal(api.status, 200);
  assert.equal(api.json.code, code);
  // The demo keeps the bridge off (no mDNS on the host's interfaces).
  assert.equal(api.json.enabled, false);
  assert.match(await page.textContent('#homekit-state'), /Off/);
  const uri = (await page.textContent('#homekit-uri')).trim();
  assert.equal(uri, api.json.setup_uri);
  assert.match(uri, /^X-HM:\/\/[0-9A-Z]{13}$/);
  await page.locator('#settings-homekit').screenshot({ path: join(artifacts, 'homekit-desktop.png') });
  assert.deepEqual(errors, []);
  await ctx.close();

  const v = await open({ state: viewerState });
  await gotoPage(v.page, 'settings');
  await v.page.waitForSelector('#settings-system dl');
  assert.equal(await v.page.locator('#settings-homekit').count(), 0, 'a viewer sees the HomeKit card');
  assert.equal((await apiCall(v.page, 'GET', '/homekit')).status, 403);
  assert.deepEqual(v.errors, []);
  await v.ctx.close();
});

test('CoAP appliances: the demo appliances listed; pair shows the key once; revoke', async () => {
  const { ctx, page, errors } = await open({ state: adminState });
  await gotoPage(page, 'settings');
  await page.waitForSelector('#settings-appliances');
  await page.waitForSelector('#appliance-list li[data-appliance="Garage EV charger"] .badge-ok');
  await page.fill('#appliance-name', 'Test dishwasher');
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/appliances') && r.request().method() === 'POST'),
    page.click('#pair-appliance-form button[type=submit]'),
  ]);
  assert.equal(res.status(), 201);
  const psk = (await page.textContent('#new-appliance-psk')).trim();
  const identity = (await page.textContent('#new-appliance-identity')).trim();
  assert.match(psk, /^[0-9a-f]{32}$/);
  assert.match(identity, /^test-dishwasher-[0-9a-f]{4}$/);
  assert.equal((await page.textContent('#new-appliance-qr')).trim(), `coaps-psk:${identity}?psk=${psk}`);
  const row = `#appliance-list li[data-appliance="Test dishwasher"]`;
  await page.waitForSelector(row);
  // The list never carries keys.
  const list = await apiCall(page, 'GET', '/appliances');
  assert.equal(list.status, 200);
  assert.equal(list.json.enabled, true);
  assert.ok(!JSON.stringify(list.json).includes(psk), 'the list shows a key');
  await page.click(`${row} .row-actions button`);
  const [del] = await Promise.all([
    page.waitForResponse((r) => r.url().includes(`/api/v1/appliances/${identity}`) && r.request().method() === 'DELETE'),
    page.click(`${row} .confirm .btn-danger`),
  ]);
  assert.equal(del.status(), 204);
  await page.waitForSelector(row, { state: 'detached' });
  const after = await apiCall(page, 'GET', '/appliances');
  assert.ok(!after.json.appliances.some((a) => a.identity === identity), 'revoked appliance still listed');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('BLE: an admin adopts the nearby thermo-hygrometer; an encrypted meter needs its right key; viewers see none of it', async () => {
  const THERMO = 'A4:C1:38:10:00:03';
  const POWER = 'A4:C1:38:10:00:04';
  const card = (id) => `[id="device-${id}"]`;
  const { ctx, page, errors } = await open({ state: adminState });
  await gotoPage(page, 'devices');
  const row = (mac) => `#ble-list li[data-mac="${mac}"]`;
  await page.waitForSelector(row(THERMO), { timeout: 15000 });
  const text = await page.textContent(row(THERMO));
  assert.match(text, /Thermo-hygrometer/);
  assert.match(text, /BTHome/);
  assert.match(text, /-?\d+ dBm/);
  assert.match(text, /heard/);
  assert.equal(await page.locator(card('ble:a4c138100003')).count(), 0, 'a device before adoption');

  // Adopt with a name of our own.
  await page.click(`[data-adopt="${THERMO}"]`);
  await page.waitForSelector('#ble-adopt-form');
  assert.equal(await page.locator('#ble-adopt-key').count(), 0, 'a key field for an unencrypted sensor');
  await page.fill('#ble-adopt-name', 'Bedroom climate');
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/devices') && r.request().method() === 'POST'),
    page.click('#ble-adopt-form button[type=submit]'),
  ]);
  assert.equal(res.status(), 201);
  await page.waitForSelector(card('ble:a4c138100003'));
  assert.match(await page.textContent(`${card('ble:a4c138100003')} h2`), /Bedroom climate/);
  await page.waitForSelector(`${card('ble:a4c138100003')} table`, { timeout: 15000 });
  const values = await page.textContent(`${card('ble:a4c138100003')} table`);
  assert.match(values, /temperature/);
  assert.match(values, /humidity/);
  await page.waitForSelector(`${row(THERMO)} .badge-ok`, { timeout: 10000 });

  // The encrypted power meter: removed, it is a candidate that needs its key.
  const key = readFileSync(join(gw.state, 'ble', 'keys', 'A4C138100004'), 'utf8').trim();
  assert.match(key, /^[0-9a-f]{32}$/);
  await page.click('.ble-remove[data-device="ble:a4c138100004"] button');
  const [del] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/devices/ble%3Aa4c138100004') && r.request().method() === 'DELETE'),
    page.click('.ble-remove[data-device="ble:a4c138100004"] .btn-danger'),
  ]);
  assert.equal(del.status(), 204);
  await page.waitForSelector(card('ble:a4c138100004'), { state: 'detached' });
  await page.waitForSelector(`[data-adopt="${POWER}"]`, { timeout: 15000 });
  assert.match(await page.textContent(row(POWER)), /encrypted/);
  await page.click(`[data-adopt="${POWER}"]`);
  await page.waitForSelector('#ble-adopt-key');
  // No key: said at the field, before any request.
  await page.click('#ble-adopt-form button[type=submit]');
  await page.waitForSelector('#ble-adopt-key-err');
  // A wrong key: the server's error at the key field, nothing adopted.
  await page.fill('#ble-adopt-key', '00112233445566778899aabbccddeeff');
  const [bad] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/devices') && r.request().method() === 'POST'),
    page.click('#ble-adopt-form button[type=submit]'),
  ]);
  assert.equal(bad.status(), 400);
  const body = await bad.json();
  assert.equal(body.code, 'ble_key');
  await page.waitForFunction((msg) => document.querySelector('#ble-adopt-key-err')?.textContent === msg, body.error);
  assert.match(body.error, /wrong/);
  assert.equal(await page.getAttribute('#ble-adopt-key', 'aria-invalid'), 'true');
  assert.equal(await page.locator(card('ble:a4c138100004')).count(), 0);
  // The open form with its error: accessible (axe needs the CSP bypassed:
  // a context of its own), and no horizontal scroll on a phone.
  const ax = await open({ state: adminState, bypassCSP: true });
  await gotoPage(ax.page, 'devices');
  await ax.page.click(`[data-adopt="${POWER}"]`);
  await ax.page.fill('#ble-adopt-key', '00112233445566778899aabbccddeeff');
  await ax.page.click('#ble-adopt-form button[type=submit]');
  await ax.page.waitForSelector('#ble-adopt-key-err');
  await ax.page.addScriptTag({ path: axePath });
  const viol = await ax.page.evaluate(async () =>
    (await window.axe.run(document.querySelector('#ble-nearby'))).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id),
  );
  await ax.ctx.close();
  await page.setViewportSize(PHONE);
  await noHorizontalScroll(page, 'phone devices with the BLE adoption form');
  await page.locator('#ble-nearby').screenshot({ path: join(artifacts, 'ble-nearby-phone.png') });
  await page.setViewportSize(DESKTOP);
  // The right key adopts it again, with values.
  await page.fill('#ble-adopt-key', key.toUpperCase());
  const [good] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/devices') && r.request().method() === 'POST'),
    page.click('#ble-adopt-form button[type=submit]'),
  ]);
  assert.equal(good.status(), 201);
  await page.waitForSelector(`${card('ble:a4c138100004')} table`, { timeout: 15000 });
  assert.match(await page.textContent(`${card('ble:a4c138100004')} table`), /power/);
  await page.locator('#ble-nearby').screenshot({ path: join(artifacts, 'ble-nearby-desktop.png') });
  assert.deepEqual(errors, []);
  await ctx.close();

  const v = await open({ state: viewerState });
  await gotoPage(v.page, 'devices');
  await v.page.waitForSelector(card('ble:a4c138100003'));
  assert.equal(await v.page.locator('#ble-nearby').count(), 0, 'a viewer sees the BLE candidates');
  assert.equal(await v.page.locator('.ble-remove').count(), 0, 'a viewer sees remove buttons');
  assert.equal((await apiCall(v.page, 'GET', '/ble/seen')).status, 403);
  assert.deepEqual(v.errors, []);
  await v.ctx.close();
  assert.deepEqual(viol, [], 'axe on the BLE card');
});
