// Black-box tests of the `piora` command line against PostgreSQL (SPEC 7):
// user add, user list, user password, token create / list / revoke on a postgres:// URL,
// a never-migrated database refused by every command but user add (and
// nothing made in it), an unreachable server answered within seconds.
// PIORA_TEST_PG names an admin URL (postgresql://postgres@127.0.0.1:P/postgres):
// each run makes its own database there and drops it afterwards. Without it
// the file starts its own throwaway cluster with tests/lib/pgserver.sh, so
// it always runs (it never passes without having talked to PostgreSQL).
// Run: PIORA_BIN=build/piora node --test tests/blackbox/cli-postgres.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.PIORA_BIN ? path.resolve(process.env.PIORA_BIN) : path.join(REPO, 'build', 'piora');
const PGSERVER = path.join(REPO, 'tests', 'lib', 'pgserver.sh');
const SLOW = /asan|sanitize/i.test(BIN) || !!process.env.ASAN_OPTIONS;
const TOKEN_RE = /piora_token_[0-9A-Za-z]{36}/;
const TOKEN_LINE = /^piora_token_[0-9A-Za-z]{36}\n$/;
const PASSWORD = 'correct horse battery staple';

let admin; // the admin URL
let ownDir = null; // our own cluster's directory, when we started one
const made = []; // databases to drop
const allStderr = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60000, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function psql(url, sqlText) {
  return sh('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sqlText]).trim();
}

// The admin URL with another database name (and no query string: none is
// needed against our own servers).
function dbUrl(name) {
  const u = new URL(admin);
  u.pathname = '/' + name;
  return u.toString();
}

function newDatabase() {
  const name = `piora_cli_${process.pid}_${made.length}`;
  psql(admin, `DROP DATABASE IF EXISTS ${name}`);
  psql(admin, `CREATE DATABASE ${name}`);
  made.push(name);
  return dbUrl(name);
}

function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIORA_')) env[k] = v;
  return { ...env, ...extra };
}

function run(args, { input = '', env = {}, cwd = undefined } = {}) {
  const t0 = Date.now();
  const r = spawnSync(BIN, args, { input, env: cleanEnv(env), cwd, encoding: 'utf8', timeout: SLOW ? 60000 : 20000 });
  if (r.error && r.error.code !== 'EPIPE') throw r.error;
  assert.equal(typeof r.status, 'number', `${args.join(' ')}: killed by ${r.signal}`);
  allStderr.push(r.stderr);
  return { code: r.status, out: r.stdout, err: r.stderr, ms: Date.now() - t0 };
}

function assertFails(r) {
  assert.notEqual(r.code, 0, `expected failure, got 0; stdout=${r.out}`);
  assert.equal(r.out, '', 'nothing on stdout');
  assert.match(r.err, /^piora: [^\n]+\n$/, `one line on stderr, got ${JSON.stringify(r.err)}`);
}

function assertOk(r) {
  assert.equal(r.code, 0, `exit ${r.code}, stderr=${r.err}`);
  assert.equal(r.err, '', 'nothing on stderr');
}

const addUser = (db, email, team) =>
  run(['user', 'add', '--database', db, '--email', email, '--team', team, '--password-stdin'], { input: PASSWORD + '\n' });

before(async () => {
  if (process.env.PIORA_TEST_PG) {
    admin = process.env.PIORA_TEST_PG;
  } else {
    const base = mkdtempSync(path.join(os.tmpdir(), 'piora-cli-pg-'));
    chmodSync(base, 0o755); // the cluster runs as the postgres user, inside it
    ownDir = path.join(base, 'cluster');
    admin = sh('bash', [PGSERVER, 'start', ownDir, String(await freePort())]).trim();
    ownDir = { base, dir: ownDir };
  }
  // the server answers: a test below that passes has really talked to it
  assert.equal(psql(admin, 'SELECT 1'), '1');
});

after(() => {
  try {
    for (const name of made) psql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    if (ownDir) {
      sh('bash', [PGSERVER, 'stop', ownDir.dir]);
      rmSync(ownDir.base, { recursive: true, force: true });
    }
  }
});

test('a command other than user add refuses a database never migrated, and makes nothing in it', () => {
  const db = newDatabase();
  for (const args of [['token', 'list'], ['user', 'list'], ['audit'],
    ['token', 'create', '--email', 'a@example.com', '--name', 'ci', '--scopes', 'servers:read']]) {
    const r = run([...args, '--database', db]);
    assertFails(r);
    assert.match(r.err, /no piora schema/, args.join(' '));
  }
  assert.equal(psql(db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"), '0');
});

test('user add makes the schema and the user; tokens are made, listed and revoked', () => {
  const db = newDatabase();
  let r = addUser(db, 'Alice@Example.com', 'acme');
  assertOk(r);
  assert.match(r.out, /^\d+ alice@example\.com\n$/);
  // every migration file applied, each once (numbers may have gaps: 0013 is not PostgreSQL's)
  const files = readdirSync(path.join(REPO, 'src', 'store', 'migrations', 'postgres')).filter((f) => /^\d{4}_.*\.sql$/.test(f));
  assert.equal(psql(db, 'SELECT count(DISTINCT version) FROM schema_migrations'), String(files.length));
  assert.equal(psql(db, 'SELECT count(*) FROM schema_migrations'), String(files.length));
  // the email is taken, whatever its case
  assertFails(addUser(db, 'ALICE@example.com', 'other'));

  r = run(['user', 'list', '--database', db]);
  assertOk(r);
  assert.match(r.out, /alice@example\.com\s+acme\s+no/);

  // a new password replaces the stored Argon2id string
  const before = psql(db, 'SELECT password_hash FROM users');
  assert.match(before, /^\$argon2id\$/);
  r = run(['user', 'password', '--database', db, '--email', 'alice@example.com', '--password-stdin'],
    { input: 'another long passphrase\n' });
  assertOk(r);
  const afterHash = psql(db, 'SELECT password_hash FROM users');
  assert.match(afterHash, /^\$argon2id\$/);
  assert.notEqual(afterHash, before);

  r = run(['token', 'create', '--database', db, '--email', 'alice@example.com', '--name', 'ci', '--scopes', 'servers:read']);
  assertOk(r);
  assert.match(r.out, TOKEN_LINE);
  const token = r.out.trim();
  // only the digest is in the database
  assert.equal(psql(db, `SELECT count(*) FROM tokens WHERE position('${token}' in hint) > 0`), '0');
  assert.equal(psql(db, 'SELECT octet_length(digest) FROM tokens'), '32');

  r = run(['token', 'list', '--database', db]);
  assertOk(r);
  const line = r.out.split('\n').find((l) => /^\d+\s+ci\s/.test(l));
  assert.ok(line, r.out);
  assert.match(line, /\bactive\b/);
  assert.ok(!r.out.includes(token), 'the token itself is never listed');
  const id = line.split(/\s+/)[0];

  // the URL through PIORA_DATABASE works as --database does
  r = run(['token', 'revoke', id], { env: { PIORA_DATABASE: db } });
  assertOk(r);
  assert.match(r.out, /revoked token \d+ "ci" of alice@example\.com/);
  assert.notEqual(psql(db, `SELECT revoked_at FROM tokens WHERE id = ${id}`), '');

  r = run(['token', 'list', '--database', db]);
  assertOk(r);
  assert.match(r.out.split('\n').find((l) => /^\d+\s+ci\s/.test(l)), /\brevoked\b/);
});

test('serve on a database URL refuses to start without a shared backup directory or key file, and leaves nothing behind', () => {
  const db = newDatabase();
  assertOk(addUser(db, 'ops@example.com', 'ops'));
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'piora-cli-pg-cwd-'));
  try {
    const shared = path.join(cwd, 'shared');
    let r = run(['serve', '--database', db, '--listen', '127.0.0.1:0', '--secret-key-file', path.join(shared, 'piora.key')], { cwd });
    assertFails(r);
    assert.match(r.err, /--backup-dir is required with a database URL/);
    r = run(['serve', '--database', db, '--listen', '127.0.0.1:0', '--backup-dir', path.join(shared, 'backups')], { cwd });
    assertFails(r);
    assert.match(r.err, /--secret-key-file is required with a database URL/);
    // no backups/ (or anything else) made in the working directory
    assert.deepEqual(readdirSync(cwd).filter((f) => f !== 'shared'), []);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('an unreachable server fails within seconds, saying so', async () => {
  const port = await freePort(); // nothing listens there
  const r = run(['token', 'list', '--database', `postgresql://postgres@127.0.0.1:${port}/piora`]);
  assertFails(r);
  assert.match(r.err, /cannot connect to PostgreSQL/);
  assert.ok(r.ms < 5000, `took ${r.ms} ms`);
});

test('no token or password ever reached stderr', () => {
  for (const e of allStderr) {
    assert.doesNotMatch(e, TOKEN_RE);
    assert.ok(!e.includes(PASSWORD));
  }
});
