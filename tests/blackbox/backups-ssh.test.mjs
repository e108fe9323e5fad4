// Issue 11: a backup and a restore over SSH (jobs/backup.h through
// tests/jobs/backup_probe.c) against the test sshd and a real PostgreSQL
// cluster, the SSH user authenticating to it by peer authentication (no
// password anywhere): known rows dumped into the backup store with the
// SHA-256 of exactly the file's bytes; rows changed, restored, originals
// back; a restore into a second database; a tampered file refused with
// checksum_mismatch and the target untouched; a dump of a missing database
// is dump_failed and leaves no file, partial or whole. The runner (issue 9)
// calls the same two functions for its backup and restore jobs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, T, tmpDir } from './lib/piora.mjs';
import { startSshd, makeKeyPair } from './lib/sshd.mjs';
import { startPostgres } from './lib/engines.mjs';

const PROBE = path.join(path.dirname(BIN), 'piora-backup-probe');
let sshd;
let pg;
let keys;
let user;
let store;

before(async () => {
  sshd = await startSshd({ users: ['dba'] });
  keys = makeKeyPair(tmpDir('keys'), 'team');
  sshd.authorize('dba', keys.publicLine);
  user = sshd.userName('dba');
  pg = await startPostgres();
  pg.grant(user);
  for (const db of ['shop', 'shop_copy']) pg.createDb(db, user);
  pg.psql("CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'scones'), (3, 'jam')", 'shop', user);
  store = path.join(tmpDir('store'), 'backups');
  fs.mkdirSync(store, { mode: 0o700 });
});
after(async () => { await pg?.stop(); await sshd?.stop(); });

function probe(mode, { id, db = 'shop', sha, source = 'shop' }) {
  const args = ['127.0.0.1', String(sshd.port), user, keys.privateFile, sshd.fingerprint(), store, String(id),
    'postgresql', db, pg.socket, String(pg.port), '-', mode];
  if (mode === 'restore') args.push(sha, source);
  return new Promise((resolve, reject) => {
    const p = spawn(PROBE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => {
      const m = /^RESULT error=(\S+) sha=(\S+) size=(\d+) exit=(-?\d+)$/m.exec(out);
      assert.ok(m, `probe printed a result: ${out} ${err}`);
      resolve({ code, error: m[1], sha: m[2], size: Number(m[3]), exit: Number(m[4]), log: err });
    });
  });
}

const rows = (db = 'shop') => pg.psql("SELECT string_agg(id || item, ',' ORDER BY id) FROM orders", db, user);
const fileSha = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

test('dump over SSH into the store, restore it back, and into a second database', { timeout: T(60000) }, async () => {
  const b = await probe('dump', { id: 1 });
  assert.equal(b.error, 'ok', b.log);
  const file = path.join(store, 'backup-1.dump');
  assert.deepEqual(fs.readdirSync(store), ['backup-1.dump'], 'one whole file, no partial left');
  assert.equal(fs.readFileSync(file).subarray(0, 5).toString(), 'PGDMP');
  assert.equal(b.sha, fileSha(file), "the recorded SHA-256 is the file's");
  assert.equal(b.size, fs.statSync(file).size);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);

  pg.psql("UPDATE orders SET item = 'coffee' WHERE id = 1; DELETE FROM orders WHERE id = 3", 'shop', user);
  assert.equal(rows(), '1coffee,2scones');
  const r = await probe('restore', { id: 1, sha: b.sha });
  assert.equal(r.error, 'ok', r.log);
  assert.equal(rows(), '1tea,2scones,3jam', 'the original rows are back');

  const r2 = await probe('restore', { id: 1, sha: b.sha, db: 'shop_copy' });
  assert.equal(r2.error, 'ok', r2.log);
  assert.equal(rows('shop_copy'), '1tea,2scones,3jam', 'restored into a second database');
});

test('a tampered stored file is refused with checksum_mismatch, the target untouched', { timeout: T(60000) }, async () => {
  const b = await probe('dump', { id: 2 });
  assert.equal(b.error, 'ok', b.log);
  pg.psql("UPDATE orders SET item = 'changed' WHERE id = 2", 'shop', user);
  const file = path.join(store, 'backup-2.dump');
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 10] ^= 0xff;
  fs.writeFileSync(file, bytes);
  const r = await probe('restore', { id: 2, sha: b.sha });
  assert.equal(r.error, 'checksum_mismatch');
  assert.equal(r.exit, -1, 'nothing ran');
  assert.equal(rows(), '1tea,2changed,3jam', 'the target is untouched');
});

test('a dump of a missing database is dump_failed and leaves no file', { timeout: T(60000) }, async () => {
  const before = fs.readdirSync(store).sort();
  const b = await probe('dump', { id: 3, db: 'no_such_db' });
  assert.equal(b.error, 'dump_failed');
  assert.notEqual(b.exit, 0);
  assert.match(b.log, /no_such_db/, "the tool's stderr is the job's log");
  assert.deepEqual(fs.readdirSync(store).sort(), before, 'no backup-3 file, no partial file');
});
