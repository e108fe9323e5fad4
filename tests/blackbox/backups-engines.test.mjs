// Issue 11: the dump and restore command lines Piora builds
// (core/dumpcmd.c; their exact text is pinned in tests/unit/test_dumpcmd.c)
// against real engines started by the test (lib/engines.mjs), run as an OS
// user that authenticates without any password: known rows dumped, rows
// changed, restored, the originals back; a restore into a second database;
// a missing database fails (what the runner reports as dump_failed).
// The test runs them as that user with runuser, which is what the runner's
// SSH session does (backups-ssh.test.mjs goes through the runner for
// PostgreSQL; this file covers MariaDB and Redis too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, startMariadb, startRedis, makeOsUser } from './lib/engines.mjs';
import { T } from './lib/piora.mjs';

const q = (v) => `'${String(v).replace(/'/g, "'\\''")}'`;

test('PostgreSQL: pg_dump --format=custom / pg_restore round trip by peer authentication', { timeout: T(90000) }, async (t) => {
  const pg = await startPostgres();
  t.after(() => pg.stop());
  const u = makeOsUser('pg');
  t.after(() => u.remove());
  pg.grant(u.name);
  pg.createDb('shop', u.name);
  pg.createDb('shop_copy', u.name);
  const as = (sqlText, db = 'shop') => pg.psql(sqlText, db, u.name);
  as("CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'scones'), (3, 'jam')");
  const conn = `--no-password --host=${q(pg.socket)} --port=${pg.port} --username=${q(u.name)}`;

  const dump = await u.run(`exec pg_dump --format=custom ${conn} --dbname=${q('shop')}`);
  assert.equal(dump.code, 0, dump.stderr);
  assert.equal(dump.stdout.subarray(0, 5).toString(), 'PGDMP', 'a custom-format archive');

  as("UPDATE orders SET item = 'coffee' WHERE id = 1; DELETE FROM orders WHERE id = 3; INSERT INTO orders VALUES (4, 'cake')");
  const restore = (db) => u.run(`exec pg_restore --clean --if-exists --no-owner --single-transaction ${conn} --dbname=${q(db)}`, { input: dump.stdout });
  let r = await restore('shop');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(as('SELECT string_agg(id || item, \',\' ORDER BY id) FROM orders'), '1tea,2scones,3jam', 'the original rows are back');

  r = await restore('shop_copy');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(as('SELECT count(*) FROM orders', 'shop_copy'), '3', 'restored into a second database');

  const missing = await u.run(`exec pg_dump --format=custom ${conn} --dbname=${q('no_such_db')}`);
  assert.notEqual(missing.code, 0, 'a missing database fails the dump');
  assert.match(missing.stderr, /no_such_db/);
  // no password anywhere: peer authentication, no ~/.pgpass
  assert.equal(pg.psql(`SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = '${u.name}'`), 't');
});

test('MariaDB: mariadb-dump --single-transaction / mariadb round trip by unix_socket', { timeout: T(90000) }, async (t) => {
  const db = await startMariadb();
  t.after(() => db.stop());
  const u = makeOsUser('my');
  t.after(() => u.remove());
  db.grant(u.name);
  db.createDb('shop');
  db.createDb('shop2');
  const as = (sqlText, name = 'shop') => db.sql(sqlText, name, u.name);
  as("CREATE TABLE orders (id int PRIMARY KEY, item varchar(20)) ENGINE=InnoDB; INSERT INTO orders VALUES (1,'tea'),(2,'scones')");
  const conn = `--socket=${q(db.socket)} --user=${q(u.name)}`;
  const dump = await u.run(`exec mariadb-dump --single-transaction --routines --triggers ${conn} -- ${q('shop')}`);
  assert.equal(dump.code, 0, dump.stderr);
  assert.match(dump.stdout.toString(), /INSERT INTO `orders` VALUES\s*\(1,'tea'\),\s*\(2,'scones'\)/);
  assert.doesNotMatch(dump.stdout.toString(), /^USE /m, 'the dump names no database, so it loads into any');

  as("UPDATE orders SET item='coffee' WHERE id=1; DELETE FROM orders WHERE id=2");
  let r = await u.run(`exec mariadb --batch ${conn} -- ${q('shop')}`, { input: dump.stdout });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(as("SELECT GROUP_CONCAT(CONCAT(id,item) ORDER BY id) FROM orders"), '1tea,2scones');
  r = await u.run(`exec mariadb --batch ${conn} -- ${q('shop2')}`, { input: dump.stdout });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(as('SELECT COUNT(*) FROM orders', 'shop2'), '2');

  const missing = await u.run(`exec mariadb-dump --single-transaction --routines --triggers ${conn} -- ${q('no_such_db')}`);
  assert.notEqual(missing.code, 0);
});

test('Redis: redis-cli --rdb - streams an RDB file', { timeout: T(60000) }, async (t) => {
  const rd = await startRedis();
  t.after(() => rd.stop());
  const u = makeOsUser('rd');
  t.after(() => u.remove());
  rd.cli('SET', 'greeting', 'hello piora');
  const dump = await u.run(`exec redis-cli -h ${q('127.0.0.1')} -p ${rd.port} --rdb -`);
  assert.equal(dump.code, 0, dump.stderr);
  assert.equal(dump.stdout.subarray(0, 5).toString(), 'REDIS', 'an RDB file on stdout');
  assert.ok(dump.stdout.includes(Buffer.from('hello piora')), 'holding the key');
  const down = await u.run(`exec redis-cli -h ${q('127.0.0.1')} -p 1 --rdb -`);
  assert.notEqual(down.code, 0, 'no server: the dump fails');
});
