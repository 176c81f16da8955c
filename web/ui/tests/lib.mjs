// Shared by the browser tests and the benchmark: start the real gatewayd demo
// on a fresh state dir, and a headless Chromium that contacts loopback only.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const uiDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const artifacts = join(uiDir, 'test-artifacts');

export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser() {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}

/**
 * Starts `gatewayd demo --listen 127.0.0.1:0 --state <fresh dir> [extra]` and
 * resolves when it printed its UI line (and the setup line, while no user exists).
 */
export async function startGateway(extra = [], { timeoutMs = 60000 } = {}) {
  const bin = resolve(uiDir, process.env.GATEWAYD_BIN || '../../bin/gatewayd');
  if (!existsSync(bin)) throw new Error(`no gatewayd binary at ${bin}: build it (make build) or set GATEWAYD_BIN`);
  const state = mkdtempSync(join(tmpdir(), 'gwd-ui-'));
  const args = ['demo', '--listen', '127.0.0.1:0', '--state', state, ...extra];
  if (process.env.GATEWAYD_UI_DIR) args.push('--ui-dir', resolve(uiDir, process.env.GATEWAYD_UI_DIR));
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => {
    err += d;
    if (err.length > 200000) err = err.slice(-100000);
  });
  const info = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`gatewayd did not print its URLs in ${timeoutMs} ms:\n${out}\n${err.slice(-4000)}`)), timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`gatewayd exited with ${code}:\n${out}\n${err.slice(-4000)}`));
    });
    proc.stdout.on('data', (d) => {
      out += d;
      const ui = /UI:\s+(https?:\/\/\S+)/.exec(out);
      const setup = /setup:\s+(https?:\/\/\S+#\/setup\/\S+)/.exec(out);
      const token = /token:\s+(gwd_\S+)/.exec(out);
      // The setup line follows the UI line; the token line comes last.
      if (ui && token) {
        clearTimeout(timer);
        res({ ui: ui[1].replace(/\/?$/, '/'), setup: setup ? setup[1] : null, token: token[1] });
      }
    });
  });
  proc.removeAllListeners('exit');
  const exited = new Promise((r) => proc.on('exit', (code, sig) => r({ code, sig })));
  return {
    ...info,
    proc,
    state,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 8000);
        await exited;
        clearTimeout(t);
      }
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/** Completes first-start setup in page through the setup link; leaves the page logged in. */
export async function doSetup(page, setupUrl, user, password) {
  await page.goto(setupUrl);
  await page.fill('#setup-user', user);
  await page.fill('#setup-password', password);
  await page.fill('#setup-confirm', password);
  await page.click('#setup-form button[type=submit]');
  await page.waitForSelector('[data-page="now"]');
}

export async function login(page, base, user, password) {
  await page.goto(base + '#/login');
  await page.waitForSelector('#login-form');
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('main[data-page]');
}
