// Issue 11: the backup store and GET /backups/{id}/download. A stored dump
// streams in bounded memory with its SHA-256 in Digest and ETag; only a
// completed backup downloads; a start removes unfinished (.partial-) dumps
// and nothing else; database objects take host/port/username and a cron
// schedule (validated) and every schedule change and download is audited.
// The test plays the runner's part for the completed backup (its server
// has no sshd; backups-ssh.test.mjs runs real dumps): it writes the file
// where the store keeps it and marks the row completed with SQL (sqlite3 or psql), as the
// runner's commit does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeTemplate, sqlExec, startServer, tmpDir, one, assertProblem, cli, SLOW, T } from './lib/piora.mjs';

const MiB = 1 << 20;

// sqlite3 on the file, or psql on the PostgreSQL database (PIORA_TEST_DB)
const sql = sqlExec;

// A dump of n MiB of bytes nobody could guess, written in 1 MiB pieces
// (the test must not hold it in memory either); returns its sha256 hex.
function writeDump(file, mib) {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'w', 0o600);
  const block = crypto.randomBytes(MiB);
  for (let i = 0; i < mib; i++) {
    block.writeUInt32LE(i, 0);
    fs.writeSync(fd, block);
    h.update(block);
  }
  fs.closeSync(fd);
  return h.digest('hex');
}

const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

test('backup store, download, database backup fields and their audit', { timeout: T(90000) }, async (t) => {
  const tpl = await makeTemplate({
    users: [{ email: 'ops@example.com', team: 'acme' }],
    tokens: [
      { email: 'ops@example.com', name: 'all', scopes: 'servers:write,databases:read,databases:write,backups:read,backups:write' },
      { email: 'ops@example.com', name: 'dbonly', scopes: 'databases:read' },
    ],
  });
  const store = path.join(tmpDir('bstore'), 'dumps');
  fs.mkdirSync(store, { recursive: true });
  // what a killed writer leaves, and a finished dump: only the first goes
  fs.writeFileSync(path.join(store, '.partial-9-0badc0de.dump'), 'half a dump');
  fs.writeFileSync(path.join(store, 'backup-999.dump'), 'kept');
  const s = await startServer(t, { template: tpl, args: ['--backup-dir', store] });
  const tok = tpl.tokens.all;
  assert.deepEqual(fs.readdirSync(store).sort(), ['backup-999.dump'], 'the stale partial dump is removed at start');
  assert.match(s.stderr, /removed 1 unfinished dump/);

  const srv = one((await s.post('/api/v1/servers', { token: tok, body: { name: 'db-1', ip_address: '127.0.0.1' } })).json);
  let r = await s.post('/api/v1/databases', { token: tok, body: { name: 'shop', engine: 'postgresql', server_id: srv.id } });
  assert.equal(r.status, 201, r.text);
  const db = one(r.json);
  assert.equal(db.host, null);
  assert.equal(db.port, null);
  assert.equal(db.username, null);
  assert.equal(db.backup_schedule, null);
  assert.equal(db.backup_keep, 7);
  assert.equal('password' in db, false);

  r = await s.patch(`/api/v1/databases/${db.id}`, { token: tok, body: { backup_schedule: '61 * * * *' } });
  assertProblem(r, 422, 'validation_failed');
  assert.ok(r.json.errors.some((e) => e.field === 'backup_schedule'));
  r = await s.patch(`/api/v1/databases/${db.id}`, { token: tok, body: { host: '$(reboot)' } });
  assertProblem(r, 422, 'validation_failed');
  r = await s.patch(`/api/v1/databases/${db.id}`, { token: tok, body: { password: 'hunter2' } });
  assertProblem(r, 422, 'validation_failed');
  r = await s.patch(`/api/v1/databases/${db.id}`, {
    token: tok, body: { backup_schedule: '15 3 * * mon-fri', backup_keep: 3, host: '127.0.0.1', port: 5433, username: 'backup' },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(one(r.json).backup_schedule, '15 3 * * mon-fri');
  assert.equal(one(r.json).backup_keep, 3);
  assert.equal(one(r.json).port, 5433);

  r = await s.post('/api/v1/backups', { token: tok, body: { database_id: db.id } });
  assert.equal(r.status, 202, r.text);
  const backup = one(r.json);
  assert.equal(backup.status, 'pending');
  r = await s.get(`/api/v1/backups/${backup.id}/download`, { token: tok });
  assertProblem(r, 409, 'backup_not_completed');
  assert.equal(fs.existsSync(path.join(store, `backup-${backup.id}.dump`)), false);

  // the runner's part: a 200 MB dump in the store, the row completed
  const mib = 200;
  const file = path.join(store, `backup-${backup.id}.dump`);
  const sha = writeDump(file, mib);
  sql(s.db, `UPDATE backups SET status='completed', sha256='${sha}', size_bytes=${mib * MiB}, completed_at=${Math.floor(Date.now() / 1000)} WHERE id=${backup.id}`);

  r = await s.get(`/api/v1/backups/${backup.id}/download`, { token: tpl.tokens.dbonly });
  assertProblem(r, 403, 'insufficient_scope');

  // stream it through a hash, reading the server's RSS as it goes
  const before = rssOf(s.proc.pid);
  let peak = before;
  const res = await fetch(`${s.base}/api/v1/backups/${backup.id}/download`, {
    headers: { Authorization: `Bearer ${tok}` }, signal: AbortSignal.timeout(T(60000)),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  assert.equal(res.headers.get('content-length'), String(mib * MiB));
  assert.equal(res.headers.get('etag'), `"${sha}"`);
  assert.equal(res.headers.get('digest'), `sha-256=${Buffer.from(sha, 'hex').toString('base64')}`);
  assert.match(res.headers.get('content-disposition'), new RegExp(`filename="backup-${backup.id}\\.pgdump"`));
  const h = crypto.createHash('sha256');
  let got = 0;
  let chunks = 0;
  for await (const chunk of res.body) {
    h.update(chunk);
    got += chunk.length;
    if (++chunks % 64 === 0) peak = Math.max(peak, rssOf(s.proc.pid));
  }
  peak = Math.max(peak, rssOf(s.proc.pid));
  assert.equal(got, mib * MiB);
  const downloaded = h.digest('hex');
  const stored = one((await s.get(`/api/v1/backups/${backup.id}`, { token: tok })).json).sha256;
  assert.equal(downloaded, sha, "the download's SHA-256 is the file's");
  assert.equal(stored, sha, 'and the one the backup records');
  t.diagnostic(`server RSS ${(before / MiB).toFixed(1)} MiB before, peak ${(peak / MiB).toFixed(1)} MiB during the ${mib} MB download`);
  const bound = (SLOW ? 160 : 50) * MiB;
  assert.ok(peak < bound, `server RSS peaked at ${(peak / MiB).toFixed(1)} MiB (start ${(before / MiB).toFixed(1)} MiB) during a ${mib} MB download`);

  // a file that is gone or cut short is not served as the backup
  fs.truncateSync(file, 1000);
  r = await s.get(`/api/v1/backups/${backup.id}/download`, { token: tok });
  assertProblem(r, 410, 'backup_file_missing');
  fs.rmSync(file);
  r = await s.get(`/api/v1/backups/${backup.id}/download`, { token: tok });
  assertProblem(r, 410, 'backup_file_missing');
  r = await s.get('/api/v1/backups/424242/download', { token: tok });
  assertProblem(r, 404, 'not_found');

  const audit = JSON.parse((await cli(['audit', '--json', '--database', s.db])).stdout);
  const of = (action) => audit.filter((e) => e.action === action);
  assert.equal(of('database.schedule_changed').length, 1, 'one schedule change (the refused PATCHes are not)');
  assert.deepEqual(of('database.schedule_changed')[0].object, { kind: 'database', id: db.id });
  assert.deepEqual(of('backup.queued').map((e) => e.object), [{ kind: 'backup', id: backup.id }]);
  assert.deepEqual(of('backup.downloaded').map((e) => e.object), [{ kind: 'backup', id: backup.id }]);
  assert.equal(of('backup.downloaded')[0].via, 'api');
  await s.stop();
});
