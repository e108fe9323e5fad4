// bench/backup.sh's work (issue 11), side by side in one run on this machine:
//   backup    `ssh user@127.0.0.1 pg_dump --format=custom ... > file` by hand
//             vs POST /backups until `completed` (the runner's pg_dump over
//             SSH into the backup store, SHA-256 on the way, fsync, rename),
//             of the same database, alternating, --rounds each
//   download  curl of GET /backups/{id}/download vs curl of nginx serving
//             the same file (sendfile on, as bench/run.sh's nginx), to /dev/null
// It reuses the black-box tests' sshd, PostgreSQL and piora helpers
// (tests/blackbox/lib), so it needs root as they do. Prints MB/s and ratios.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTemplate, startServer, tmpDir, one, sleep, freePort, ALL_SCOPES } from '../tests/blackbox/lib/piora.mjs';
import { startSshd, makeKeyPair } from '../tests/blackbox/lib/sshd.mjs';
import { startPostgres } from '../tests/blackbox/lib/engines.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const MB = arg('--mb', 200);
const ROUNDS = arg('--rounds', 3);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const mbps = (bytes, s) => bytes / 1e6 / s;
const secs = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

const sshd = await startSshd({ users: ['dba'] });
const pg = await startPostgres();
let srv;
let nginxPid;
try {
  const user = sshd.userName('dba');
  pg.grant(user);
  pg.createDb('bench', user);
  pg.psql('CREATE EXTENSION IF NOT EXISTS pgcrypto', 'bench');
  // incompressible rows: the dump is about as big as the data (hex, gzip'd)
  pg.psql(`CREATE TABLE blobs (id int PRIMARY KEY, b bytea); INSERT INTO blobs SELECT g, gen_random_bytes(1000) FROM generate_series(1, ${MB * 1000}) g`, 'bench', user);

  const hand = makeKeyPair(tmpDir('bench-keys'), 'hand');
  sshd.authorize('dba', hand.publicLine);
  const tpl = await makeTemplate({
    users: [{ email: 'b@bench.test', team: 'bench' }],
    tokens: [{ email: 'b@bench.test', name: 'all', scopes: ALL_SCOPES.join(','), expiresIn: 'never' }],
  });
  const TOK = tpl.tokens.all;
  const store = path.join(tmpDir('bench-store'), 'store');
  srv = await startServer(null, { template: tpl, args: ['--backup-dir', store] });
  sshd.addAuthorized('dba', (await srv.get('/api/v1/ssh-key', { token: TOK })).json.public_key);
  const server = one((await srv.post('/api/v1/servers', { token: TOK, body: { name: 'db', ip_address: '127.0.0.1', ssh_port: sshd.port, ssh_user: user } })).json);
  const db = one((await srv.post('/api/v1/databases', { token: TOK, body: { name: 'bench', engine: 'postgresql', server_id: server.id, host: pg.socket, port: pg.port } })).json);

  const out = path.join(tmpDir('bench-hand'), 'hand.pgdump');
  // spawned, not execFileSync: the event loop keeps running meanwhile, so
  // the HTTP client's idle connections are closed in time, not found dead
  const byHand = () => new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn('sh', ['-c', `ssh -q -i '${hand.privateFile}' -p ${sshd.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null `
      + `${user}@127.0.0.1 "pg_dump -Fc --no-password --host='${pg.socket}' --port=${pg.port} --username=${user} --dbname=bench" > '${out}'`],
    { stdio: 'inherit' });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve({ s: secs(t0), bytes: fs.statSync(out).size }) : reject(new Error(`ssh pg_dump exited ${code}`))));
  });
  const byPiora = async () => {
    const t0 = process.hrtime.bigint();
    const b = one((await srv.post('/api/v1/backups', { token: TOK, body: { database_id: db.id } })).json);
    for (;;) {
      const g = one((await srv.get(`/api/v1/backups/${b.id}`, { token: TOK })).json);
      if (g.status === 'completed') return { s: secs(t0), bytes: g.size_bytes, id: g.id };
      if (g.status === 'failed') throw new Error(`backup failed: ${JSON.stringify(g)}`);
      await sleep(20);
    }
  };
  const hs = [];
  const ps = [];
  let last;
  for (let i = 0; i < ROUNDS; i++) {
    const h = await byHand();
    hs.push(mbps(h.bytes, h.s));
    last = await byPiora();
    ps.push(mbps(last.bytes, last.s));
    console.log(`round ${i + 1}: by hand ${h.s.toFixed(2)} s (${(h.bytes / 1e6).toFixed(0)} MB), piora ${last.s.toFixed(2)} s (${(last.bytes / 1e6).toFixed(0)} MB)`);
  }

  // nginx serving the same file, as bench/run.sh runs it
  const file = path.join(store, `backup-${last.id}.dump`);
  const www = tmpDir('bench-www');
  fs.chmodSync(www, 0o755);
  fs.copyFileSync(file, path.join(www, 'dump'));
  fs.chmodSync(path.join(www, 'dump'), 0o644);
  const nport = await freePort();
  const conf = path.join(www, 'nginx.conf');
  fs.writeFileSync(conf, `worker_processes 2; pid ${www}/nginx.pid; error_log ${www}/nginx-error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; server { listen 127.0.0.1:${nport}; location = /dump { default_type application/octet-stream; alias ${www}/dump; } } }
`);
  execFileSync('nginx', ['-c', conf]);
  await sleep(300);
  nginxPid = Number(fs.readFileSync(path.join(www, 'nginx.pid'), 'utf8'));
  const curl = (url, auth) => {
    const args = ['-s', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', url];
    if (auth) args.push('-H', `Authorization: Bearer ${auth}`);
    const [n, t] = execFileSync('curl', args, { encoding: 'utf8' }).trim().split(' ').map(Number);
    return mbps(n, t);
  };
  const dp = [];
  const dn = [];
  for (let i = 0; i < ROUNDS; i++) {
    dp.push(curl(`${srv.base}/api/v1/backups/${last.id}/download`, TOK));
    dn.push(curl(`http://127.0.0.1:${nport}/dump`));
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  console.log(`\n${new Date().toISOString()}  ${os.cpus().length} x ${cpu}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`dump of ${(last.bytes / 1e6).toFixed(0)} MB, ${ROUNDS} rounds, medians:`);
  console.log(`backup    by hand ${median(hs).toFixed(1)} MB/s   piora ${median(ps).toFixed(1)} MB/s   ratio ${(median(ps) / median(hs)).toFixed(2)} (target >= 0.9)`);
  console.log(`download  nginx   ${median(dn).toFixed(1)} MB/s   piora ${median(dp).toFixed(1)} MB/s   ratio ${(median(dp) / median(dn)).toFixed(2)}`);
} finally {
  if (nginxPid) { try { process.kill(nginxPid, 'SIGQUIT'); } catch { /* gone */ } }
  if (srv) await srv.stop().catch(() => srv.kill());
  await pg.stop();
  await sshd.stop();
}
