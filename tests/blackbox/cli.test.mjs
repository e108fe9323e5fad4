// Black-box tests of the `piora` command line (SPEC 7) against the real
// binary: exit statuses, what goes to stdout and stderr, PIORA_* variables,
// and that a token never shows anywhere but once on create's stdout.
// Self-contained: node:test and the standard library only.
// Run: node --test tests/blackbox/cli.test.mjs  (PIORA_BIN=path/to/piora)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { atRest, dbArgs, newDatabase } from '../lib/testdb.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.PIORA_BIN ? path.resolve(process.env.PIORA_BIN) : path.join(REPO, 'build', 'piora');
const SLOW = /asan|sanitize/i.test(BIN) || !!process.env.ASAN_OPTIONS;
const TOKEN_RE = /piora_token_[0-9A-Za-z]{36}/;
const TOKEN_LINE = /^piora_token_[0-9A-Za-z]{36}$/;
const PASSWORD = 'correct horse battery staple';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dirs = [];
function tmpDir() {
  const d = mkdtempSync(path.join(os.tmpdir(), 'piora-cli-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// The environment without any PIORA_* variable of the caller's, plus extra.
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIORA_')) env[k] = v;
  return { ...env, ...extra };
}

// Every stderr we saw, checked at the end for tokens and passwords.
const allStderr = [];

function run(args, { input = '', env = {}, cwd } = {}) {
  const r = spawnSync(BIN, args, {
    input,
    env: cleanEnv(env),
    cwd,
    encoding: 'utf8',
    timeout: SLOW ? 60000 : 20000,
  });
  // EPIPE: the command exited (rightly) before reading its input.
  if (r.error && r.error.code !== 'EPIPE') throw r.error;
  assert.equal(typeof r.status, 'number', `${args.join(' ')}: killed by ${r.signal}`);
  allStderr.push(r.stderr);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// A failure: the wanted exit status (or any non-zero), nothing on stdout,
// exactly one line on stderr starting with "piora: ".
function assertFails(r, code) {
  if (code === undefined) assert.notEqual(r.code, 0, `expected failure, got 0; stdout=${r.out}`);
  else assert.equal(r.code, code, `exit ${r.code}, stderr=${r.err}`);
  assert.equal(r.out, '', 'nothing on stdout');
  assert.match(r.err, /^piora: [^\n]+\n$/, `one line on stderr, got ${JSON.stringify(r.err)}`);
}

function assertOk(r) {
  assert.equal(r.code, 0, `exit ${r.code}, stderr=${r.err}`);
  assert.equal(r.err, '', 'nothing on stderr');
}

function addUser(db, email, team, { admin = false, password = PASSWORD } = {}) {
  const args = ['user', 'add', '--database', db, '--email', email, '--team', team, '--password-stdin'];
  if (admin) args.push('--admin');
  return run(args, { input: password + '\n' });
}

function createToken(db, email, name, scopes, extra = []) {
  return run(['token', 'create', '--database', db, '--email', email, '--name', name, '--scopes', scopes, ...extra]);
}

function tokenList(db, extra = []) {
  const r = run(['token', 'list', '--database', db, '--json', ...extra]);
  assertOk(r);
  return JSON.parse(r.out);
}


describe('piora CLI', () => {
  before(() => {
    assert.ok(existsSync(BIN), `binary not found at ${BIN} (set PIORA_BIN)`);
  });

  test('version prints "piora <version>"', () => {
    const r = run(['version']);
    assertOk(r);
    assert.match(r.out, /^piora \d+\.\d+\.\d+\S*\n$/);
  });

  test('--help and -h on every command and subcommand: usage on stdout, exit 0', () => {
    const paths = [[], ['serve'], ['user'], ['user', 'add'], ['user', 'list'], ['user', 'password'], ['user', 'disable'], ['user', 'enable'], ['user', 'remove'],
      ['token'], ['token', 'create'], ['token', 'list'], ['token', 'revoke'], ['version']];
    for (const p of paths) {
      for (const h of ['--help', '-h']) {
        const r = run([...p, h]);
        assertOk(r);
        assert.match(r.out, /^Usage: piora/, `${p.join(' ')} ${h}`);
      }
    }
    // Help text names the contract's flags.
    assert.match(run(['serve', '--help']).out, /--listen[\s\S]*--database[\s\S]*--rate-limit/);
    assert.match(run(['token', 'create', '--help']).out, /--email[\s\S]*--name[\s\S]*--scopes[\s\S]*--expires-in/);
    // Help wins even after other flags, and takes no database.
    const r = run(['token', 'list', '--database', '/nonexistent/dir/x.db', '--help']);
    assertOk(r);
  });

  test('usage errors: one line on stderr, exit 2', () => {
    // "nothing was created" is about the SQLite file: a path in both modes
    const dir = tmpDir();
    const db = path.join(dir, 'p.db');
    const cases = [
      [],
      ['bogus'],
      ['--bogus'],
      ['user'],
      ['user', 'frobnicate'],
      ['token', 'create', '--database', db, '--email'],
      ['token', 'create', '--database', db, '--email', 'a@b.example', '--name', 'x', '--scopes', 'servers:read', '--nope'],
      ['token', 'create', '--database', db, '--name', 'x', '--scopes', 'servers:read'],
      ['token', 'create', '--database', db, '--email', 'a@b.example', '--name', 'x', '--scopes', 'servers:read', '--expires-in', '10y'],
      ['token', 'revoke', '--database', db],
      ['token', 'revoke', '--database', db, 'abc'],
      ['token', 'revoke', '--database', db, '1', '2'],
      ['user', 'list', '--database', db, '--json=1'],
      ['user', 'add', '--database', db, '--email', 'not-an-email', '--team', 't', '--password-stdin'],
      ['user', 'add', '--database', db, '--email', 'a@b.example', '--team', 't'],
      ['version', '--bogus'],
      ['serve', '--listen', '127.0.0.1:65536'],
      ['serve', '--listen', '127.0.0.1'],
      ['serve', '--listen', '::1:8080'],
      ['serve', '--rate-limit', '-1'],
      ['serve', '--rate-limit', 'lots'],
      ['serve', '--last-used-interval', '61'],
      ['serve', '--last-used-interval', '0'],
      ['serve', '--threads'],
    ];
    for (const args of cases) {
      const r = run(args, { input: PASSWORD + '\n' });
      assertFails(r, 2);
    }
    // Nothing was created by any of them.
    assert.equal(existsSync(db), false);
  });

  test('user add, list, password', () => {
    const db = newDatabase(tmpDir(), 'p.db');

    let r = addUser(db, 'Alice@Example.COM', 'Acme Corp', { admin: true });
    assertOk(r);
    const m = r.out.match(/^(\d+) alice@example\.com\n$/);
    assert.ok(m, `id and lower-cased email, got ${JSON.stringify(r.out)}`);
    const aliceId = Number(m[1]);

    // The password comes from stdin; a trailing \r\n is a line end.
    r = run(['user', 'add', '--database', db, '--email', 'bob@example.com', '--team=Acme Corp', '--password-stdin'],
      { input: 'another password\r\n' });
    assertOk(r);
    assert.match(r.out, /^\d+ bob@example\.com\n$/);
    r = addUser(db, 'carol@other.example', 'Other');
    assertOk(r);

    // Taken email (any case): runtime failure.
    assertFails(addUser(db, 'ALICE@example.com', 'Acme Corp'), 1);
    // Bad passwords: empty, too short, none at all.
    assertFails(addUser(db, 'dave@example.com', 'Acme Corp', { password: '' }), 1);
    assertFails(addUser(db, 'dave@example.com', 'Acme Corp', { password: 'short' }), 1);
    assertFails(run(['user', 'add', '--database', db, '--email', 'dave@example.com', '--team', 'T', '--password-stdin']), 1);
    // Bad team names.
    assertFails(addUser(db, 'dave@example.com', ''), 2);
    assertFails(addUser(db, 'dave@example.com', 'x'.repeat(65)), 2);
    assertFails(addUser(db, 'dave@example.com', 'a\tb'), 2);

    r = run(['user', 'list', '--database', db]);
    assertOk(r);
    const lines = r.out.trimEnd().split('\n');
    assert.match(lines[0], /^ID\s+EMAIL\s+TEAM\s+ADMIN\s+CREATED\s+STATUS$/);
    assert.equal(lines.length, 4);
    assert.match(lines[1], /^\d+\s+alice@example\.com\s+Acme Corp\s+yes\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+active$/);
    assert.match(lines[2], /bob@example\.com\s+Acme Corp\s+no/);

    r = run(['user', 'list', '--database', db, '--json']);
    assertOk(r);
    const users = JSON.parse(r.out);
    assert.equal(users.length, 3);
    assert.deepEqual(Object.keys(users[0]).sort(), ['admin', 'created_at', 'disabled', 'email', 'id', 'team']);
    assert.deepEqual(users.map((u) => [u.email, u.team, u.admin]), [
      ['alice@example.com', 'Acme Corp', true],
      ['bob@example.com', 'Acme Corp', false],
      ['carol@other.example', 'Other', false],
    ]);
    assert.equal(users[0].id, aliceId);
    assert.match(users[0].created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    for (const out of [r.out, lines.join('\n')]) {
      assert.ok(!out.includes(PASSWORD) && !out.includes('argon2'), 'no password or hash in lists');
    }

    // Password change: known user ok (silent), unknown user fails.
    r = run(['user', 'password', '--database', db, '--email', 'bob@example.com', '--password-stdin'],
      { input: 'a brand new password\n' });
    assertOk(r);
    assertFails(run(['user', 'password', '--database', db, '--email', 'nobody@example.com', '--password-stdin'],
      { input: 'a brand new password\n' }), 1);
    assertFails(run(['user', 'password', '--database', db, '--email', 'bob@example.com'], { input: 'x\n' }), 2);

    // No password in the database (its files, or its pg_dump) in clear.
    for (const [f, bytes] of atRest(db)) {
      for (const pw of [PASSWORD, 'another password', 'a brand new password']) {
        assert.equal(bytes.includes(Buffer.from(pw)), false, `${pw} in ${f}`);
      }
    }
  });

  test('token create, list, revoke', () => {
    const db = newDatabase(tmpDir(), 'p.db');
    assertOk(addUser(db, 'alice@example.com', 'Acme'));
    assertOk(addUser(db, 'bob@example.com', 'Acme'));

    // The token, alone, on one line of stdout.
    let r = createToken(db, 'alice@example.com', 'ci deploy', 'servers:read,applications:deploy');
    assertOk(r);
    assert.ok(r.out.endsWith('\n') && r.out.split('\n').length === 2, 'exactly one line');
    const tok = r.out.trimEnd();
    assert.match(tok, TOKEN_LINE);

    r = createToken(db, 'Bob@Example.com', 'forever', 'backups:write', ['--expires-in', 'never']);
    assertOk(r);
    const tokBob = r.out.trimEnd();
    assert.match(tokBob, TOKEN_LINE);
    assert.notEqual(tokBob, tok);
    r = createToken(db, 'bob@example.com', 'short', 'servers:read', ['--expires-in=12h']);
    assertOk(r);
    const tokShort = r.out.trimEnd();

    // Bad input: nothing on stdout, one line naming the problem, no token made.
    const before = tokenList(db).length;
    r = createToken(db, 'alice@example.com', 'x', 'servers:read,servers:admin');
    assertFails(r);
    assert.match(r.err, /servers:admin/);
    r = createToken(db, 'alice@example.com', 'x', ',');
    assertFails(r);
    assert.match(r.err, /scope/);
    assertFails(createToken(db, 'nobody@example.com', 'x', 'servers:read'));
    assertFails(createToken(db, 'alice@example.com', '', 'servers:read'));
    assertFails(createToken(db, 'alice@example.com', 'n'.repeat(101), 'servers:read'));
    assertFails(createToken(db, 'alice@example.com', 'x', 'servers:read', ['--expires-in', '0s']));
    assertFails(createToken(db, 'alice@example.com', 'x', 'servers:read', ['--expires-in', '4000d']));
    assert.equal(tokenList(db).length, before);

    // The JSON list: every field of SPEC 2, the hint, never the token.
    r = run(['token', 'list', '--database', db, '--json']);
    assertOk(r);
    assert.equal(TOKEN_RE.test(r.out), false, 'no token in list output');
    const all = JSON.parse(r.out);
    assert.equal(all.length, 3);
    const ci = all.find((t) => t.name === 'ci deploy');
    for (const k of ['id', 'name', 'scopes', 'created_at', 'last_used_at', 'expires_at', 'status', 'hint']) {
      assert.ok(k in ci, `field ${k}`);
    }
    assert.deepEqual(ci.scopes, ['servers:read', 'applications:deploy']);
    assert.equal(ci.status, 'active');
    assert.equal(ci.last_used_at, null);
    assert.equal(ci.hint, `piora_token_${tok.slice(12, 16)}…${tok.slice(-4)}`);
    const days = (Date.parse(ci.expires_at) - Date.parse(ci.created_at)) / 86400e3;
    assert.ok(Math.abs(days - 90) < 0.001, `default expiry 90d, got ${days}`);
    assert.equal(all.find((t) => t.name === 'forever').expires_at, null);
    const short = all.find((t) => t.name === 'short');
    assert.equal((Date.parse(short.expires_at) - Date.parse(short.created_at)) / 1000, 12 * 3600);

    // --email narrows the list to one user.
    const bobs = tokenList(db, ['--email', 'bob@example.com']);
    assert.deepEqual(bobs.map((t) => t.name).sort(), ['forever', 'short']);
    assertFails(run(['token', 'list', '--database', db, '--email', 'nobody@example.com']), 1);

    // The table: the header of SPEC 2's fields, aligned, hints not tokens.
    r = run(['token', 'list', '--database', db]);
    assertOk(r);
    assert.equal(TOKEN_RE.test(r.out), false);
    const lines = r.out.trimEnd().split('\n');
    assert.match(lines[0], /^ID\s+NAME\s+SCOPES\s+CREATED\s+LAST USED\s+EXPIRES\s+STATUS\s+HINT\b/);
    assert.equal(lines.length, 4);
    const statusCol = lines[0].indexOf('STATUS');
    for (const l of lines.slice(1)) assert.equal(l.slice(statusCol, statusCol + 6), 'active');
    assert.ok(lines.some((l) => l.includes(ci.hint)));

    // Revoke: exit 0, the list says revoked; again is fine; unknown fails.
    r = run(['token', 'revoke', '--database', db, String(ci.id)]);
    assertOk(r);
    assert.equal(tokenList(db).find((t) => t.id === ci.id).status, 'revoked');
    assert.equal(tokenList(db).find((t) => t.name === 'forever').status, 'active');
    assertOk(run(['token', 'revoke', '--database', db, String(ci.id)]));
    assertFails(run(['token', 'revoke', '--database', db, '999999']), 1);

    // At rest only digests: no token in any database file (or the pg_dump).
    for (const [f, bytes] of atRest(db)) {
      for (const t of [tok, tokBob, tokShort]) {
        assert.equal(bytes.includes(Buffer.from(t)), false, `token in ${f}`);
        assert.equal(bytes.includes(Buffer.from(t.slice(12))), false, `token body in ${f}`);
      }
    }
  });

  test('a token made with --expires-in 2s is listed as expired after 2 s', async () => {
    const db = newDatabase(tmpDir(), 'p.db');
    assertOk(addUser(db, 'alice@example.com', 'Acme'));
    assertOk(createToken(db, 'alice@example.com', 'brief', 'servers:read', ['--expires-in', '2s']));
    assert.equal(tokenList(db)[0].status, 'active');
    await sleep(3100);
    assert.equal(tokenList(db)[0].status, 'expired');
  });

  test('PIORA_DATABASE is honoured and --database wins over it', () => {
    // about the files PIORA_DATABASE, --database and the default name: paths in both modes
    const dir = tmpDir();
    const envDb = path.join(dir, 'env.db');
    const flagDb = path.join(dir, 'flag.db');
    const env = { PIORA_DATABASE: envDb };
    let r = run(['user', 'add', '--email', 'env@example.com', '--team', 'T', '--password-stdin'], { input: PASSWORD + '\n', env });
    assertOk(r);
    assert.ok(existsSync(envDb));
    r = run(['token', 'create', '--email', 'env@example.com', '--name', 'n', '--scopes', 'servers:read'], { env });
    assertOk(r);
    assert.match(r.out.trimEnd(), TOKEN_LINE);

    r = run(['user', 'list', '--json'], { env });
    assertOk(r);
    assert.deepEqual(JSON.parse(r.out).map((u) => u.email), ['env@example.com']);
    // The flag wins, in both forms. Issue 13 (SPEC 7): user list does not
    // create the missing flag database any more; the refusal names it.
    for (const args of [['--database', flagDb], [`--database=${flagDb}`]]) {
      r = run(['user', 'list', '--json', ...args], { env });
      assertFails(r, 1);
      assert.ok(r.err.includes(flagDb), r.err);
    }
    assert.ok(!existsSync(flagDb));
    assert.equal(tokenList(envDb).length, 1);
    // Without either, ./piora.db in the working directory: user add makes it.
    const cwd = tmpDir();
    assertOk(run(['user', 'add', '--email', 'cwd@example.com', '--team', 'T', '--password-stdin'],
      { cwd, input: PASSWORD + '\n', env: { PIORA_DATABASE: '' } }));
    assert.ok(existsSync(path.join(cwd, 'piora.db')));
  });

  test('no token or password ever reached stderr', () => {
    const joined = allStderr.join('');
    assert.equal(TOKEN_RE.test(joined), false);
    assert.equal(joined.includes(PASSWORD), false);
  });
});

// ---- with a running server ------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startServer(args, env = {}) {
  const child = spawn(BIN, ['serve', ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
  return { child, exited, log: () => log };
}

async function waitHealthy(port, srv) {
  const deadline = Date.now() + (SLOW ? 40000 : 10000);
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.status === 200) return;
    } catch { /* not yet */ }
    if (srv.child.exitCode !== null) throw new Error(`server exited: ${srv.log()}`);
    await sleep(50);
  }
  throw new Error(`server not healthy on ${port}: ${srv.log()}`);
}

async function stopServer(srv) {
  if (srv.child.exitCode === null) srv.child.kill('SIGTERM');
  return srv.exited;
}

describe('piora serve with the CLI', () => {
  test('--listen wins over PIORA_LISTEN; PIORA_* settings are read', async () => {
    // PIORA_DATABASE is seen by the file serve makes: a path in both modes
    const dir = tmpDir();
    const db = path.join(dir, 'p.db');
    const [p1, p2] = [await freePort(), await freePort()];
    const srv = await startServer(['--listen', `127.0.0.1:${p2}`], { PIORA_LISTEN: `127.0.0.1:${p1}`, PIORA_DATABASE: db });
    try {
      await waitHealthy(p2, srv);
      await assert.rejects(fetch(`http://127.0.0.1:${p1}/healthz`));
    } finally {
      const { code } = await stopServer(srv);
      assert.equal(code, 0, 'graceful stop exits 0');
    }
    assert.ok(existsSync(db), 'PIORA_DATABASE used by serve');

    const srv2 = await startServer([], { PIORA_LISTEN: `127.0.0.1:${p1}`, PIORA_DATABASE: db });
    try {
      await waitHealthy(p1, srv2);
    } finally {
      await stopServer(srv2);
    }
    // A bad environment value is a usage error before anything starts.
    const r = run(['serve'], { env: { PIORA_RATE_LIMIT: 'many', PIORA_DATABASE: db } });
    assertFails(r, 2);
    assert.match(r.err, /PIORA_RATE_LIMIT/);
  });

  test('piora token revoke while serving: the next request gets 401', async () => {
    const db = newDatabase(tmpDir(), 'p.db');
    assertOk(addUser(db, 'alice@example.com', 'Acme'));
    const r = createToken(db, 'alice@example.com', 'live', 'servers:read');
    assertOk(r);
    const tok = r.out.trimEnd();
    const port = await freePort();
    const srv = await startServer(['--listen', `127.0.0.1:${port}`, ...dbArgs(db)]);
    try {
      await waitHealthy(port, srv);
      const get = () => fetch(`http://127.0.0.1:${port}/api/v1/servers`, { headers: { Authorization: `Bearer ${tok}` } });
      let res = await get();
      assert.equal(res.status, 200);
      res = await get(); // now surely cached by the server
      assert.equal(res.status, 200);
      const id = tokenList(db)[0].id;
      assertOk(run(['token', 'revoke', '--database', db, String(id)]));
      res = await get();
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') || '', /error="invalid_token"/);
      assert.match(res.headers.get('www-authenticate') || '', /revoked/);
    } finally {
      await stopServer(srv);
    }
    assert.equal(TOKEN_RE.test(srv.log()), false, 'no token in the server log');
    // last_used_at was written on the graceful stop.
    const t = tokenList(db)[0];
    assert.equal(t.status, 'revoked');
    assert.match(t.last_used_at || '', /^\d{4}-/);
  });
});
