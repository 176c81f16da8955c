import { launchBrowser, doSetup } from '/work/main/web/ui/tests/lib.mjs';
const [setup] = process.argv.slice(2);
const b = await launchBrowser();
const ctx = await b.newContext({ viewport: { width: 1280, height: 900 } });
const page = await ctx.newPage();
page.on('console', (m) => console.log('console', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror', e.message));
page.on('response', (r) => { if (r.status() >= 400) console.log('HTTP', r.status(), r.url()); });
await doSetup(page, setup, 'anna', 'correct horse battery');
await page.waitForTimeout(2500);
await page.screenshot({ path: '/tmp/now.png', fullPage: true });
for (const p of ['history', 'costs', 'dr', 'devices', 'settings']) {
  await page.goto(new URL(setup).origin + '/#/' + p);
  await page.waitForTimeout(2000);
  await page.screenshot({ path: `/tmp/${p}.png`, fullPage: true });
}
await b.close();
