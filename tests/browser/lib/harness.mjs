// Starts a real `piora serve` on a free port with a fresh database, and
// Debian's Chromium through playwright-core (never a downloaded browser).
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';
import { noteLog, noteSecret } from '../../lib/journal.mjs';
import { dbArgs, newDatabase } from '../../lib/testdb.mjs';

export { PG_MODE, sqlExec } from '../../lib/testdb.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../../..');
export const BIN = process.env.PIORA_BIN ? resolve(process.env.PIORA_BIN) : join(ROOT, 'build/piora');
export const SHOTS = join(ROOT, 'test-artifacts/screenshots');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
    s.on('error', fail);
  });
}

// flags: extra `piora serve` flags. Resolves once the setup link (a new
// database) or /healthz answers.
export async function startServer(flags = []) {
  const dir = mkdtempSync(join(tmpdir(), 'piora-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // DIR/p.db, or a PostgreSQL database with PIORA_TEST_DB=postgres (tests/lib/testdb.mjs)
  const db = newDatabase(dir, 'p.db');
  const proc = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`, ...dbArgs(db, flags),
    '--last-used-interval', '1', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const deadline = Date.now() + 10000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`piora exited ${proc.exitCode}: ${err}`);
    // The setup link goes to standard error, never among the JSON log lines.
    if (/setup#\S+/.test(err)) break;
    if (Date.now() > deadline) throw new Error(`piora did not print a setup link: ${out} ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const setupLink = err.match(/(http:\/\/\S+\/setup#\S+)/)[1];
  return {
    base, port, dir, db, setupLink, proc,
    stdout: () => out, stderr: () => err,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => { if (proc.exitCode !== null) r(); else proc.on('exit', r); });
      // The setup link's secret is printed on the console by design (SPEC 5).
      noteLog(`piora serve on port ${port} (browser)`, out + err.replace(/setup#\S+/g, 'setup#…'));
      rmSync(dir, { recursive: true, force: true });
      // A clean SIGTERM exits 0; anything else (a sanitizer report) fails.
      if (proc.exitCode !== 0) throw new Error(`piora exited ${proc.exitCode ?? proc.signalCode}: ${err.slice(-4000)}`);
    },
  };
}

// playwright-core gives every non-persistent launch a fresh temporary
// user-data-dir of its own (and removes it on close).
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

export const EMAIL = 'ada@example.com';
export const PASSWORD = 'correct horse battery';

// The seed's first step, done once per server: the setup page via the link.
// Every session cookie the browser holds, for the secrets journal.
export async function noteCookies(page) {
  for (const c of await page.context().cookies()) noteSecret(c.value);
}

export async function setup(page, srv, { team = 'acme' } = {}) {
  noteSecret(PASSWORD);
  await page.goto(srv.setupLink);
  await page.getByLabel('Team name').fill(team);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  await noteCookies(page);
}

export async function signIn(page, srv, email = EMAIL, password = PASSWORD) {
  noteSecret(password);
  await page.goto(`${srv.base}/signin`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// A bearer call to the REST API, outside the browser (as CI would make it).
export async function apiCall(srv, token, path, init = {}) {
  noteSecret(token);
  return fetch(`${srv.base}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers || {}) } });
}

// Waits until the locator's text matches `want` (a RegExp or an exact
// string) and answers it. A pager link changes the URL before the page's
// data arrives, so reading the text once right after a click can read the
// page before: CI failed on exactly that when the machine was loaded.
export async function textMatching(locator, want, timeout = 15000) {
  const ok = (t) => (want instanceof RegExp ? want.test(t) : t === want);
  const until = Date.now() + timeout;
  let last = '';
  for (;;) {
    last = await locator.innerText({ timeout: Math.max(1, until - Date.now()) }).catch(() => last);
    if (ok(last)) return last;
    if (Date.now() > until) throw new Error(`text ${JSON.stringify(last)} never matched ${want}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
