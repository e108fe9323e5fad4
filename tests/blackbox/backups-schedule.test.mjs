// Issue 11: a database's backup_schedule fires once per slot (even with two
// `piora serve` on one database), and retention keeps only the newest
// backup_keep completed scheduled backups, files included. The test moves
// the scheduler's clock through PIORA_TEST_CLOCK_FILE (an offset in seconds
// the scheduler reads each tick; an environment variable of the process,
// which no request can set) instead of waiting for 04:30 UTC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTemplate, sqlExec, startServer, tmpDir, one, cli, sleep, T } from './lib/piora.mjs';

// sqlite3 on the file, or psql on the PostgreSQL database (PIORA_TEST_DB)
const sql = sqlExec;

async function until(what, fn, ms = T(15000)) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('a schedule fires once per slot across two nodes; retention prunes rows and files', { timeout: T(60000) }, async (t) => {
  const tpl = await makeTemplate({
    users: [{ email: 'ops@example.com', team: 'acme' }],
    tokens: [{ email: 'ops@example.com', name: 'all', scopes: 'servers:write,databases:read,databases:write,backups:read,backups:write' }],
  });
  const dir = tmpDir('sched');
  const store = path.join(dir, 'dumps');
  const clockFile = path.join(dir, 'clock');
  // the next 04:30 UTC, seen 5 s after it passed
  const now = Math.floor(Date.now() / 1000);
  let slot = Math.floor(now / 86400) * 86400 + 4 * 3600 + 30 * 60;
  if (slot <= now) slot += 86400;
  const setClock = (at) => fs.writeFileSync(clockFile, String(at - Math.floor(Date.now() / 1000)));
  setClock(slot - 3600); // an hour before: nothing is due

  const opts = { template: tpl, args: ['--backup-dir', store, '--schedule-interval', '1'], env: { PIORA_TEST_CLOCK_FILE: clockFile } };
  const s = await startServer(t, opts);
  const tok = tpl.tokens.all;
  const srv = one((await s.post('/api/v1/servers', { token: tok, body: { name: 'db-1', ip_address: '127.0.0.1' } })).json);
  const db = one((await s.post('/api/v1/databases', {
    token: tok, body: { name: 'shop', engine: 'postgresql', server_id: srv.id, backup_schedule: '30 4 * * *', backup_keep: 2 },
  })).json);
  const manual = one((await s.post('/api/v1/backups', { token: tok, body: { database_id: db.id } })).json);
  const list = async () => (await s.get(`/api/v1/backups?database_id=${db.id}&per_page=100`, { token: tok })).json.data;
  const scheduled = async () => (await list()).filter((b) => b.id !== manual.id);

  await sleep(T(2500));
  assert.equal((await scheduled()).length, 0, 'nothing before the slot');

  // a second node on the same database, same clock
  const s2 = await startServer(t, { ...opts, dbPath: s.db });
  setClock(slot + 5);
  await until('the slot to queue a backup', async () => (await scheduled()).length === 1);
  await sleep(T(3000)); // several ticks of both nodes
  const first = await scheduled();
  assert.equal(first.length, 1, 'one backup for the slot, not one per tick or per node');
  // queued by the schedule (the runner then tries it: this server has no
  // sshd, so it fails; backups-ssh.test.mjs runs scheduled ones for real)
  assert.equal(first[0].triggered_by.type, 'schedule');
  assert.equal(first[0].triggered_by.name, '30 4 * * *');
  assert.equal(Number(sql(s.db, `SELECT count(*) FROM backup_slots WHERE database_id=${db.id}`)), 1);

  // two more days: three scheduled backups, each completed with a file
  for (const day of [1, 2]) {
    setClock(slot + day * 86400 + 5);
    await until(`day ${day}'s slot`, async () => (await scheduled()).length === 1 + day);
  }
  await s2.stop();
  setClock(slot + 2 * 86400 + 3600); // past the window: nothing new is due
  fs.mkdirSync(store, { recursive: true });
  const ids = (await scheduled()).map((b) => b.id).sort((a, b) => a - b);
  assert.equal(ids.length, 3);
  for (const [i, id] of [...ids, manual.id].entries()) {
    fs.writeFileSync(path.join(store, `backup-${id}.dump`), `dump ${id}`);
    const done = id === manual.id ? 1000 : slot + i * 86400 + 60;
    sql(s.db, `UPDATE backups SET status='completed', sha256='${'0'.repeat(64)}', size_bytes=9, completed_at=${done} WHERE id=${id}`);
  }
  await until('the oldest scheduled backup to be pruned', async () => (await scheduled()).length === 2);
  const kept = (await scheduled()).map((b) => b.id).sort((a, b) => a - b);
  assert.deepEqual(kept, ids.slice(1), 'the newest two are kept');
  assert.equal(fs.existsSync(path.join(store, `backup-${ids[0]}.dump`)), false, 'its file is gone too');
  for (const id of ids.slice(1)) assert.ok(fs.existsSync(path.join(store, `backup-${id}.dump`)));
  assert.ok((await list()).some((b) => b.id === manual.id), 'a backup made by hand is never pruned');
  assert.ok(fs.existsSync(path.join(store, `backup-${manual.id}.dump`)));

  const audit = JSON.parse((await cli(['audit', '--json', '--database', s.db])).stdout);
  const queued = audit.filter((e) => e.action === 'backup.queued' && e.via === 'schedule');
  assert.deepEqual(queued.map((e) => e.object.id).sort((a, b) => a - b), ids);
  await s.stop();
});
