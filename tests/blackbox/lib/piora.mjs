// Shared helpers for the black-box suite: run the real `piora` binary (its
// CLI and `piora serve`) on a temporary database (a SQLite file, or a
// PostgreSQL database with PIORA_TEST_DB=postgres: tests/lib/testdb.mjs) and a free loopback
// port, talk to it over HTTP, and always clean up the processes we started.
// Works on Node 18 and 20 (node:test, global fetch, node:net only).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { noteLog, noteSecret } from '../../lib/journal.mjs';
import { copyDatabase, newDatabase, serveArgs } from '../../lib/testdb.mjs';

export { PG_MODE, dbArgs, newDatabase, sqlExec } from '../../lib/testdb.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..', '..');
export const BIN = process.env.PIORA_BIN
  ? path.resolve(process.env.PIORA_BIN)
  : path.join(REPO, 'build', 'piora');

// Sanitizer builds are several times slower: scale waits, not assertions.
export const SLOW = /asan|tsan|sanitize/i.test(BIN) || !!process.env.ASAN_OPTIONS || !!process.env.TSAN_OPTIONS;
export const T = (ms) => (SLOW ? ms * 4 : ms);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every child we spawn, so a failing test cannot leave one behind.
const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

const tmpDirs = [];
process.on('exit', () => {
  if (process.env.PIORA_KEEP_TMP) return;
  for (const d of tmpDirs) {
    try { rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  }
});

export function tmpDir(tag = 'bb') {
  const d = mkdtempSync(path.join(os.tmpdir(), `piora-${tag}-`));
  tmpDirs.push(d);
  return d;
}

// A free port on 127.0.0.1, found by binding port 0 and letting it go.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Runs `piora ARGS...` to completion. Resolves {code, stdout, stderr}.
export function run(args, { input, env, timeoutMs = T(30000) } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(p);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`piora ${args.join(' ')} timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    p.on('error', (e) => { clearTimeout(timer); live.delete(p); reject(e); });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(p);
      // token create prints the token and user invite its one-time link on
      // stdout by contract (SPEC 7); all else is log.
      const creates = (args[0] === 'token' && args[1] === 'create') || (args[0] === 'user' && args[1] === 'invite');
      noteLog(`piora ${args.slice(0, 2).join(' ')}`, (creates ? '' : stdout) + stderr);
      resolve({ code, signal, stdout, stderr });
    });
    p.stdin.on('error', () => { /* the command may not read stdin */ });
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

// Like run() but a non-zero exit is a test failure with the command's stderr.
export async function cli(args, opts) {
  const r = await run(args, opts);
  assert.equal(r.code, 0, `piora ${args.join(' ')} exited ${r.code} (${r.signal ?? ''}): ${r.stderr}`);
  return r;
}

export async function addUser(db, { email, team, password = 'Sup3r-Secret-pw!' + email }) {
  await cli(['user', 'add', '--email', email, '--team', team, '--password-stdin', '--database', db],
    { input: password + '\n' });
  noteSecret(password);
  return password;
}

export async function addAdmin(db, email, team) {
  const password = 'Adm1n-pw-' + email;
  await cli(['user', 'add', '--email', email, '--team', team, '--admin', '--password-stdin', '--database', db],
    { input: password + '\n' });
  noteSecret(password);
  return password;
}

// Signs in on the dashboard and returns the headers of a session request
// (cookie, CSRF token, Origin), the session id noted as a secret.
export async function webSignIn(s, email, password) {
  const r = await s.post('/web/api/signin', { body: { email, password } });
  assert.equal(r.status, 200, r.text);
  const cookie = (r.h('set-cookie') ?? '').split(';')[0];
  noteSecret(cookie.split('=').slice(1).join('='));
  return { Cookie: cookie, 'X-CSRF-Token': r.json.csrf, Origin: s.base };
}

export async function createToken(db, { email, name, scopes, expiresIn }) {
  const args = ['token', 'create', '--email', email, '--name', name, '--scopes',
    Array.isArray(scopes) ? scopes.join(',') : scopes, '--database', db];
  if (expiresIn) args.push('--expires-in', expiresIn);
  const r = await cli(args);
  const tok = r.stdout.trim();
  assert.match(tok, /^piora_token_[0-9A-Za-z]{36}$/, `token create printed ${JSON.stringify(r.stdout)}`);
  assert.equal(r.stdout, tok + '\n', 'token create prints the token alone on one line');
  noteSecret(tok);
  return tok;
}

// The parsed `token list --json` output as an array of token objects.
export async function listTokens(db, extra = []) {
  const r = await cli(['token', 'list', '--json', '--database', db, ...extra]);
  const j = JSON.parse(r.stdout);
  const arr = Array.isArray(j) ? j : (j.data ?? j.tokens);
  assert.ok(Array.isArray(arr), `token list --json gave ${r.stdout}`);
  return arr;
}

export async function tokenId(db, name) {
  const t = (await listTokens(db)).find((x) => x.name === name);
  assert.ok(t, `no token named ${name} in token list`);
  return t.id;
}

// A database with users and tokens made once and copied for each server, so
// every test gets its own database without paying Argon2id each time.
// spec: {users: [{email, team, password?}], tokens: [{email, name, scopes, expiresIn?}]}
export async function makeTemplate(spec) {
  const dir = tmpDir('tpl');
  const db = newDatabase(dir);
  const passwords = {};
  for (const u of spec.users ?? []) passwords[u.email] = await addUser(db, u);
  const tokens = {};
  for (const t of spec.tokens ?? []) tokens[t.name] = await createToken(db, t);
  return { dir, db, tokens, passwords };
}

// Starts `piora serve` on a fresh port and database; resolves once GET
// /healthz answers 200. opts: template or dbPath (an existing database to
// serve), rateLimit, authFailLimit,
// lastUsedInterval, idleTimeout, args (extra flags), env.
// Registers cleanup on the test context t when given.
export async function startServer(t, opts = {}) {
  const dir = tmpDir('srv');
  const db = opts.dbPath ?? (opts.template ? copyDatabase(opts.template, dir) : newDatabase(dir));
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = ['serve', '--listen', `127.0.0.1:${port}`, '--database', db,
      '--rate-limit', String(opts.rateLimit ?? 100000),
      '--auth-fail-limit', String(opts.authFailLimit ?? 100000)];
    if (opts.lastUsedInterval !== undefined) args.push('--last-used-interval', String(opts.lastUsedInterval));
    if (opts.idleTimeout !== undefined) args.push('--idle-timeout', String(opts.idleTimeout));
    if (opts.args) args.push(...opts.args);
    // a database URL: the key file and backup store of its directory
    args.push(...serveArgs(db, args));
    const s = new Server(port, db, dir, args, opts.env);
    if (t && typeof t.after === 'function') t.after(() => s.kill());
    try {
      await s.ready();
      return s;
    } catch (e) {
      lastErr = e;
      s.kill();
      if (!/in use|bind/i.test(s.stderr)) break;
    }
  }
  throw lastErr;
}

export class Server {
  constructor(port, db, dir, args, env) {
    this.port = port;
    this.db = db;
    this.dir = dir;
    this.base = `http://127.0.0.1:${port}`;
    this.stdout = '';
    this.stderr = '';
    this.exit = null;
    this.proc = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.proc);
    this.exited = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => {
        live.delete(this.proc);
        noteLog(`piora serve on port ${port}`, this.stdout + this.stderr);
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.proc.on('error', (e) => {
        live.delete(this.proc);
        this.exit = { code: -1, signal: null, error: e };
        resolve(this.exit);
      });
    });
    this.proc.stdout.on('data', (d) => { if (this.stdout.length < 8 << 20) this.stdout += d; });
    this.proc.stderr.on('data', (d) => { if (this.stderr.length < 8 << 20) this.stderr += d; });
  }

  async ready(timeoutMs = T(15000)) {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 2000 && Date.now() < deadline; i++) {
      if (this.exit) throw new Error(`piora serve exited early ${JSON.stringify(this.exit)}: ${this.stderr}`);
      try {
        const r = await fetch(this.base + '/healthz', { signal: AbortSignal.timeout(2000) });
        await r.arrayBuffer();
        if (r.status === 200) return;
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    throw new Error(`piora serve not ready after ${timeoutMs} ms: ${this.stderr}`);
  }

  // SIGTERM, then wait for a graceful exit; asserts it exited 0.
  async stop(timeoutMs = T(10000)) {
    if (!this.exit) this.proc.kill('SIGTERM');
    let timer;
    const res = await Promise.race([this.exited,
      new Promise((r) => { timer = setTimeout(() => r(null), timeoutMs); })]);
    clearTimeout(timer);
    if (!res) {
      this.kill();
      assert.fail(`piora serve did not exit within ${timeoutMs} ms of SIGTERM`);
    }
    assert.equal(res.signal, null, `piora serve died by signal ${res.signal}: ${this.stderr.slice(-4000)}`);
    assert.equal(res.code, 0, `piora serve exited ${res.code} after SIGTERM: ${this.stderr.slice(-4000)}`);
    return res;
  }

  kill() {
    if (!this.exit) {
      try { this.proc.kill('SIGKILL'); } catch { /* gone */ }
    }
  }

  // Asserts the process is still alive (a crash shows here first).
  alive() {
    assert.equal(this.exit, null, `piora serve died: ${JSON.stringify(this.exit)} ${this.stderr.slice(-4000)}`);
  }

  async healthy() {
    this.alive();
    const r = await fetch(this.base + '/healthz', { signal: AbortSignal.timeout(T(5000)) });
    await r.arrayBuffer();
    assert.equal(r.status, 200, 'GET /healthz still answers 200');
  }

  // One HTTP request. path is relative to the base ("/api/v1/servers").
  // opts: token, auth (raw Authorization value), body (object -> JSON,
  // string/Buffer as is), headers, method.
  async req(method, p, opts = {}) {
    const headers = { ...(opts.headers ?? {}) };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.auth !== undefined) headers.Authorization = opts.auth;
    let body = opts.body;
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      body = JSON.stringify(body);
      headers['Content-Type'] ??= 'application/json';
    } else if (body !== undefined) {
      headers['Content-Type'] ??= 'application/json';
    }
    const url = p.startsWith('http') ? p : this.base + p;
    let r;
    let text;
    try {
      r = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(T(10000)), redirect: 'manual' });
      text = await r.text();
    } catch (e) {
      // Say whether the server is still there: a crash shows here first.
      await sleep(100);
      const err = new Error(`${method} ${p}: ${e.cause?.code ?? e.cause?.message ?? e.message}; `
        + `server exit ${JSON.stringify(this.exit)}; stderr tail:\n${this.stderr.slice(-3000)}`);
      err.cause = e.cause ?? e;
      throw err;
    }
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: r.status, headers: r.headers, text, json, h: (n) => r.headers.get(n) };
  }

  get(p, o) { return this.req('GET', p, o); }
  post(p, o) { return this.req('POST', p, o); }
  patch(p, o) { return this.req('PATCH', p, o); }
  del(p, o) { return this.req('DELETE', p, o); }
}

// The object in a single-object answer ({...} or {"data": {...}}).
export function one(json) {
  if (json && json.data && typeof json.data === 'object' && !Array.isArray(json.data)) return json.data;
  return json;
}

// Asserts an RFC 9457 problem answer with the given status and code.
export function assertProblem(res, status, code, msg = '') {
  const where = `${msg} got ${res.status} ${res.text.slice(0, 400)}`;
  assert.equal(res.status, status, where);
  assert.match(res.h('content-type') ?? '', /^application\/problem\+json/, `problem content type; ${where}`);
  const b = res.json;
  assert.ok(b && typeof b === 'object', `problem body is JSON; ${where}`);
  assert.equal(typeof b.type, 'string', `problem type; ${where}`);
  assert.equal(typeof b.title, 'string', `problem title; ${where}`);
  assert.equal(b.status, status, `problem status member; ${where}`);
  assert.equal(typeof b.detail, 'string', `problem detail; ${where}`);
  if (code) assert.equal(b.code, code, `problem code; ${where}`);
  return b;
}

// Parses a WWW-Authenticate Bearer challenge into {scheme, params}.
export function parseChallenge(v) {
  assert.ok(v, 'WWW-Authenticate present');
  const m = /^(\S+)\s*(.*)$/.exec(v);
  const params = {};
  const re = /([A-Za-z_]+)="((?:[^"\\]|\\.)*)"/g;
  let x;
  for (let i = 0; i < 20 && (x = re.exec(m[2])); i++) params[x[1]] = x[2];
  return { scheme: m[1], params, raw: v };
}

// Parses an RFC 8288 Link header into {rel: url}.
export function parseLink(v) {
  const out = {};
  if (!v) return out;
  for (const part of v.split(/,\s*(?=<)/)) {
    const m = /^<([^>]*)>\s*;\s*rel="?([a-z]+)"?/.exec(part.trim());
    if (m) out[m[2]] = m[1];
  }
  return out;
}

// The scope list of X-OAuth-Scopes style headers ("a, b").
export function scopeHeader(v) {
  if (v === null || v === undefined) return null;
  if (v.trim() === '') return [];
  return v.split(',').map((s) => s.trim());
}

// CRC-32/IEEE and the base62 checksum of SPEC 2, to forge well-formed tokens.
const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
export function crc32(str) {
  let c = 0xffffffff;
  for (const b of Buffer.from(str)) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
export function checksum62(random30) {
  let v = crc32(random30);
  let s = '';
  for (let i = 0; i < 6; i++) { s = B62[v % 62] + s; v = Math.floor(v / 62); }
  return s;
}
export function forgeToken(seed = Math.random().toString()) {
  let r = '';
  for (let i = 0; i < 30; i++) r += B62[(seed.charCodeAt(i % seed.length) * 31 + i * 7 + Math.floor(Math.random() * 62)) % 62];
  return 'piora_token_' + r + checksum62(r);
}
// The same token with its last checksum character changed (still base62).
export function flipLast(tok) {
  const last = tok[tok.length - 1];
  const repl = last === 'A' ? 'B' : 'A';
  return tok.slice(0, -1) + repl;
}

export const ALL_SCOPES = ['servers:read', 'servers:write', 'applications:read', 'applications:write',
  'applications:deploy', 'databases:read', 'databases:write', 'backups:read', 'backups:write'];

export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export function binExists() {
  return existsSync(BIN);
}
