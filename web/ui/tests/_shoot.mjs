// dev helper (not a test): node tests/_shoot.mjs URL page[,page] [phone] [zh] [dark]
import { launchBrowser, login } from './lib.mjs';
const [base, pages, ...flags] = process.argv.slice(2);
const phone = flags.includes('phone');
const b = await launchBrowser();
const ctx = await b.newContext({ viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 860 }, colorScheme: flags.includes('dark') ? 'dark' : 'light', locale: flags.includes('zh') ? 'zh-CN' : 'en-US' });
const page = await ctx.newPage();
page.on('pageerror', (e) => console.log('pageerror', e.message));
page.on('console', (m) => { if (m.type() === 'error') console.log('console', m.text()); });
await login(page, base, 'anna', 'correct horse battery');
for (const p of pages.split(',')) {
  await page.goto(base + '#/' + p);
  await page.waitForTimeout(2500);
  await page.screenshot({ path: `/tmp/s-${p.replace(/[^a-z]/g, '')}${phone ? '-phone' : ''}.png`, fullPage: !flags.includes('viewport') });
}
await b.close();
