// Cluster harness (issue 10): a real PostgreSQL of its own (tests/lib/pgserver.sh,
// initdb + pg_ctl in a temporary directory on a free port), one database per
// test, and several `piora serve` nodes on it sharing one secret-key file.
// Every process is started here and stopped by its pid or its directory.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO, cli, freePort, startServer, tmpDir, T } from './piora.mjs';
import { noteSecret } from '../../lib/journal.mjs';

const PGSERVER = path.join(REPO, 'tests', 'lib', 'pgserver.sh');

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60000, ...opts });
}

// A PostgreSQL server of its own (tests/lib/pgserver.sh): pause() stops it
// (fast shutdown: every session is cut) and resume() starts the same
// cluster again on the same port; stop() stops it and removes it.
// psql(sql, db) runs as the admin; createDb(name) answers the new URL.
const PG_BIN = '/usr/lib/postgresql/15/bin';
export async function startPg() {
  const parent = tmpDir('pgc');
  fs.chmodSync(parent, 0o755); // the postgres user walks into it
  const dir = path.join(parent, 'pg');
  const port = await freePort();
  const asPg = (args) => sh('runuser', ['-u', 'postgres', '--', ...args]);
  const pg = {
    dir, port, url: '',
    stop() { sh('bash', [PGSERVER, 'stop', dir]); },
    pause() { asPg([`${PG_BIN}/pg_ctl`, '-D', `${dir}/data`, '-m', 'fast', '-w', '-t', '30', 'stop']); },
    resume() {
      // the options pgserver.sh starts it with
      asPg([`${PG_BIN}/pg_ctl`, '-D', `${dir}/data`, '-l', `${dir}/server.log`, '-w', '-t', '30', '-o',
        `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
        'start']);
    },
    psql(sqlText, db) {
      return sh('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', pg.dbUrl(db), '-c', sqlText]).trim();
    },
    dbUrl(db) {
      if (!db) return pg.url;
      const u = new URL(pg.url);
      u.pathname = '/' + db;
      return u.toString();
    },
    createDb(name) { pg.psql(`CREATE DATABASE "${name}"`); return pg.dbUrl(name); },
  };
  pg.url = sh('bash', [PGSERVER, 'start', dir, String(port)]).trim().split('\n').pop();
  process.on('exit', () => { try { pg.stop(); } catch { /* already stopped */ } });
  return pg;
}

// n nodes on one database URL, one after the other (the first makes the
// shared secret-key file, the others must find the same one).
// opts go to startServer (rateLimit, ...).
export async function startNodes(t, url, n = 3, extra = [], opts = {}) {
  const shared = tmpDir('shared');
  const key = path.join(shared, 'piora.key');
  const backups = path.join(shared, 'backups'); // the directory every node shares (docs/cluster.md)
  const nodes = [];
  for (let i = 0; i < n; i++) {
    nodes.push(await startServer(t, { ...opts, dbPath: url, args: ['--secret-key-file', key, '--backup-dir', backups, '--threads', '4', ...extra] }));
  }
  nodes.keyFile = key;
  return nodes;
}

export async function cliToken(url, { email, name, scopes = 'servers:read,servers:write' }) {
  const r = await cli(['token', 'create', '--email', email, '--name', name, '--scopes', scopes, '--database', url]);
  const tok = r.stdout.trim();
  noteSecret(tok); // the suite's secrets scan looks for it in every log
  return tok;
}

// Requests on every node as fast as `workers` loops per node allow, each
// recorded with the time it was sent (performance.now(), before fetch was
// called) and what came back, until stop() resolves.
export function loadUntil(nodes, { path: p, token, workers = 3 }) {
  const recs = [];
  let done = false;
  const loops = [];
  for (const [i, s] of nodes.entries()) {
    for (let w = 0; w < workers; w++) {
      loops.push((async () => {
        while (!done) {
          const sent = performance.now();
          let status;
          try {
            const r = await fetch(s.base + p, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(T(10000)) });
            await r.arrayBuffer();
            status = r.status;
          } catch (e) {
            status = `error ${e.cause?.code ?? e.message}`;
          }
          recs.push({ node: i, sent, got: performance.now(), status });
        }
      })());
    }
  }
  return { recs, async stop() { done = true; await Promise.all(loops); return recs; } };
}

// After a revoke returned at `returned` (performance.now()): no request sent
// later got 200, and enough were sent later on every node to mean it.
export function assertNoStale(assert, recs, returned, nodes, what) {
  const after = recs.filter((r) => r.sent > returned);
  const stale = after.filter((r) => r.status !== 401);
  assert.deepEqual(stale.slice(0, 10), [], `${what}: answers other than 401 sent after the revoke returned`);
  for (let i = 0; i < nodes; i++) {
    const n = after.filter((r) => r.node === i).length;
    assert.ok(n >= 5, `${what}: node ${i} got ${n} requests after the revoke (the load did not run)`);
  }
  const before = recs.filter((r) => r.got < returned);
  assert.ok(before.some((r) => r.status === 200), `${what}: the token worked before the revoke`);
  return after.length;
}

// nginx in front of the nodes with the upstream block of docs/cluster.md, as
// written there: only the node addresses and the listen port are replaced.
export async function startNginx(nodes) {
  const doc = fs.readFileSync(path.join(REPO, 'docs', 'cluster.md'), 'utf8');
  const m = /```nginx\n(# piora-cluster-upstream[^\n]*\n[\s\S]*?)```/.exec(doc);
  if (!m) throw new Error('docs/cluster.md has no piora-cluster-upstream nginx block');
  const servers = m[1].match(/^\s*server \S+:\d+ [^\n]*$/gm) ?? [];
  if (servers.length !== nodes.length) throw new Error(`the nginx block names ${servers.length} nodes, not ${nodes.length}`);
  let block = m[1];
  servers.forEach((line, i) => { block = block.replace(line, line.replace(/server \S+:\d+/, `server 127.0.0.1:${nodes[i].port}`)); });
  const port = await freePort();
  if (!/listen 80;/.test(block)) throw new Error('the nginx block does not listen on 80');
  block = block.replace('listen 80;', `listen 127.0.0.1:${port};`);
  const dir = tmpDir('nginx');
  fs.chmodSync(dir, 0o777);
  const conf = `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\n`
    + `events { worker_connections 512; }\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n`
    + `  proxy_temp_path ${dir}/proxy;\n  fastcgi_temp_path ${dir}/fastcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n`
    + `  scgi_temp_path ${dir}/scgi;\n${block}\n}\n`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const proc = spawn('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => proc.on('close', r));
  process.on('exit', () => { try { proc.kill('SIGKILL'); } catch { /* gone */ } });
  const base = `http://127.0.0.1:${port}`;
  const end = Date.now() + T(10000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${err} ${fs.existsSync(`${dir}/error.log`) ? fs.readFileSync(`${dir}/error.log`, 'utf8') : ''}`);
    try { const r = await fetch(base + '/healthz'); await r.arrayBuffer(); if (r.status === 200) break; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`nginx did not answer: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    base, port,
    async stop() { proc.kill('SIGTERM'); await exited; },
  };
}
