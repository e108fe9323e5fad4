// The database the black-box and browser suites run on (issue 10): a SQLite
// file by default, a PostgreSQL database with PIORA_TEST_DB=postgres.
// In PostgreSQL mode the first call starts one throwaway cluster for this
// test process (tests/lib/pgserver.sh; one per test file, so files run side
// by side never share its max_connections) and stops it when the process
// exits. Every helper is synchronous (execFileSync): call sites stay as they
// were with a file path.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PG_MODE = process.env.PIORA_TEST_DB === 'postgres';

const PGSERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pgserver.sh');

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60000, ...opts });
}

export const isUrl = (db) => /^postgres(ql)?:\/\//.test(db);

// A free port on 127.0.0.1, synchronously (a child binds port 0 and says
// which it got).
function freePortSync() {
  const js = "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();});";
  return Number(sh(process.execPath, ['-e', js]));
}

let pg = null; // {dir, admin}
const dirs = new Map(); // database URL -> the directory of its key file and backups

function cluster() {
  if (pg) return pg;
  const parent = mkdtempSync(path.join(os.tmpdir(), 'piora-pgt-'));
  chmodSync(parent, 0o755); // the postgres user walks into it
  const dir = path.join(parent, 'pg');
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePortSync();
    try {
      const admin = sh('bash', [PGSERVER, 'start', dir, String(port)]).trim().split('\n').pop();
      pg = { dir, parent, admin, n: 0 };
      break;
    } catch (e) {
      lastErr = e;
      try { sh('bash', [PGSERVER, 'stop', dir]); } catch { /* nothing to stop */ }
    }
  }
  if (!pg) throw new Error(`PIORA_TEST_DB=postgres: cannot start PostgreSQL: ${lastErr?.stderr ?? lastErr}`);
  process.on('exit', () => {
    try { sh('bash', [PGSERVER, 'stop', dir]); } catch { /* already stopped */ }
    try { rmSync(parent, { recursive: true, force: true }); } catch { /* ignore */ }
  });
  return pg;
}

function dbUrl(name) {
  const u = new URL(cluster().admin);
  u.pathname = '/' + name;
  return u.toString();
}

export function psql(url, statement) {
  return sh('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', statement]);
}

function createDb(dir, template) {
  const c = cluster();
  const name = `piora_${process.pid}_${c.n++}`;
  psql(c.admin, `CREATE DATABASE ${name}${template ? ` TEMPLATE ${new URL(template).pathname.slice(1)}` : ''}`);
  const url = dbUrl(name);
  // a database URL has no directory beside it for the key file and the
  // backup store: the servers on this database share dir's
  dirs.set(url, dir);
  return url;
}

// A new, empty database: the file `file` in dir (SQLite mode) or a fresh
// PostgreSQL database (PG mode), whose key file lives in dir.
export function newDatabase(dir, file = 'piora.db') {
  return PG_MODE ? createDb(dir) : path.join(dir, file);
}

// A copy of the database template.db (template.dir holds it) for dir: its
// files copied (SQLite) or CREATE DATABASE ... TEMPLATE (PostgreSQL; no
// session may be open on the template then, so only after its CLI commands
// exited).
export function copyDatabase(template, dir) {
  if (isUrl(template.db)) return createDb(dir, template.db);
  const base = path.basename(template.db);
  for (const f of readdirSync(template.dir)) {
    if (f.startsWith(base)) copyFileSync(path.join(template.dir, f), path.join(dir, f));
  }
  return path.join(dir, base);
}

// The --secret-key-file a server on this database needs (a URL has none
// beside it), or null for a SQLite file.
export function keyFileFor(db) {
  return isUrl(db) && dirs.has(db) ? path.join(dirs.get(db), 'piora.key') : null;
}

// The `piora serve` flags a database URL of newDatabase needs to behave as
// a SQLite file in the same directory would: --secret-key-file DIR/piora.key
// and --backup-dir DIR/backups (a URL has no default for either: serve
// refuses to start without them), each unless args has it already. [] for a file.
export function serveArgs(db, args = []) {
  if (!isUrl(db) || !dirs.has(db)) return [];
  const out = [];
  if (!args.some((a) => a.startsWith('--secret-key-file'))) out.push('--secret-key-file', path.join(dirs.get(db), 'piora.key'));
  if (!args.some((a) => a.startsWith('--backup-dir'))) out.push('--backup-dir', path.join(dirs.get(db), 'backups'));
  return out;
}

// One SQL statement on the database: sqlite3 for a path, psql for a URL.
// Answers its output (rows one a line, columns |-separated in both).
export function sqlExec(db, statement) {
  if (isUrl(db)) return psql(db, statement);
  return sh('sqlite3', ['-cmd', '.timeout 5000', db, statement]);
}

// `--database DB` and, for a URL, the flags of serveArgs: the arguments of
// a `piora serve` spawned by hand (args: its other flags).
export function dbArgs(db, args = []) {
  return ['--database', db, ...serveArgs(db, args)];
}

// What the database keeps at rest, to look for secrets in: [name, bytes]
// of each of its files (SQLite: the file, -wal, -shm) or of its pg_dump.
export function atRest(db) {
  if (isUrl(db)) {
    const dump = execFileSync('/usr/lib/postgresql/15/bin/pg_dump', ['--no-owner', '-d', db], { timeout: 60000, maxBuffer: 256 << 20 });
    return [[`pg_dump of ${db}`, dump]];
  }
  const dir = path.dirname(db);
  const base = path.basename(db);
  return readdirSync(dir).filter((f) => f.startsWith(base))
    .map((f) => [path.join(dir, f), readFileSync(path.join(dir, f))]);
}

// PostgreSQL only: the database stops answering its servers (no new
// session is allowed, the open ones are cut), as a lost database would.
export function cutOff(url) {
  const name = new URL(url).pathname.slice(1);
  psql(cluster().admin, `ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
  psql(cluster().admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
}
