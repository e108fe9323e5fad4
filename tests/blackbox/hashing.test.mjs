// Issue 8 items 1, 3, 6, 8: Argon2id runs on a bounded pool with the
// connection suspended, never before the cheap checks, and never more
// often than the sign-in limits allow. No timings: the hash counter in
// /metrics, the pool's 503s and the order answers arrive in say it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { addUser, cli, sleep, startServer, newDatabase, tmpDir, T } from './lib/piora.mjs';

// A /metrics sample; with optional, undefined when the family is absent
// (so a test can assert its statuses first).
async function metric(s, name, optional = false) {
  const m = await s.get('/metrics');
  assert.equal(m.status, 200);
  const line = m.text.split('\n').find((l) => l.startsWith(name + ' '));
  if (optional && !line) return undefined;
  assert.ok(line, `${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

async function setupSecret(s) {
  // The first-run line goes to standard error only (issue 13).
  for (let i = 0; i < 200 && !/setup#\S+/.test(s.stderr); i++) await sleep(25);
  return /setup#(\S+)/.exec(s.stderr)[1];
}

async function signIn(s, email, password, headers = {}) {
  const r = await s.post('/web/api/signin', { body: { email, password }, headers });
  assert.equal(r.status, 200, r.text);
  const cookie = /^([^;]+)/.exec(r.h('set-cookie'))[1];
  return { Cookie: cookie, 'X-CSRF-Token': r.json.csrf };
}

describe('first-run setup', () => {
  it('a wrong secret, or any secret once a user exists, costs no hash; attempts are limited per address',
    { timeout: T(60000) }, async (t) => {
      const s = await startServer(t, { args: ['--signin-limit', '4'] });
      const secret = await setupSecret(s);
      const fake = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
      const admin = { email: 'first@setup.test', password: 'a long first password', team: 'ops' };
      const h0 = await metric(s, 'piora_password_hashes_total');
      const wrong = await s.post('/web/api/setup', { body: { secret: fake, ...admin } });
      assert.equal(wrong.status, 404, wrong.text);
      assert.equal(wrong.json.code, 'setup_link_invalid');
      assert.equal(await metric(s, 'piora_password_hashes_total'), h0, 'a fake secret is refused before any hash');

      const ok = await s.post('/web/api/setup', { body: { secret, ...admin } });
      assert.equal(ok.status, 201, ok.text);
      const h1 = await metric(s, 'piora_password_hashes_total');
      assert.ok(h1 > h0, 'the real setup hashed the password');
      const again = await s.post('/web/api/setup', { body: { secret, ...admin, email: 'second@setup.test' } });
      assert.equal(again.status, 404, again.text);
      assert.equal(await metric(s, 'piora_password_hashes_total'), h1, 'after setup, no hash either');

      // The fourth attempt from this address in a minute was the last allowed.
      await s.post('/web/api/setup', { body: { secret: fake, ...admin } });
      const limited = await s.post('/web/api/setup', { body: { secret: fake, ...admin } });
      assert.equal(limited.status, 429, limited.text);
      assert.ok(Number(limited.h('retry-after')) >= 1);
      await s.stop();
    });
});

describe('the hashing pool', () => {
  it('past its cap a sign-in gets 503 + Retry-After, and other requests are served meanwhile',
    { timeout: T(60000) }, async (t) => {
      const db = newDatabase(tmpDir('pool'));
      await addUser(db, { email: 'pat@pool.test', team: 'pool' });
      const s = await startServer(t, {
        dbPath: db, args: ['--signin-limit', '0', '--hash-threads', '1', '--hash-max', '2', '--threads', '2'],
      });
      const order = [];
      const tries = Array.from({ length: 24 }, (_, i) =>
        s.post('/web/api/signin', { body: { email: 'pat@pool.test', password: `wrong guess ${i}` } })
          .then((r) => { order.push('signin'); return r; }));
      await sleep(20);
      const health = s.get('/healthz').then((r) => { order.push('healthz'); return r; });
      const [rs, h] = [await Promise.all(tries), await health];
      assert.equal(h.status, 200);
      const busy = rs.filter((r) => r.status === 503);
      const denied = rs.filter((r) => r.status === 401);
      assert.equal(busy.length + denied.length, rs.length, rs.map((r) => r.status).join(','));
      assert.ok(busy.length >= 1, `some sign-in was refused: ${rs.map((r) => r.status)}`);
      assert.ok(denied.length >= 1 && denied.length <= rs.length - 1);
      for (const r of busy) assert.ok(Number(r.h('retry-after')) >= 1, 'Retry-After on 503');
      // Two hashes were running or waiting when /healthz came: it did not wait for them.
      assert.notEqual(order.indexOf('healthz'), order.length - 1, order.join(','));
      assert.ok(await metric(s, 'piora_password_hash_refused_total') >= busy.length);
      // The worker counts its job done just after it resumed the answer: the
      // gauge settles a moment after the last response arrives.
      let jobs = await metric(s, 'piora_password_hash_jobs');
      for (let i = 0; jobs !== 0 && i < 40; i++) { await sleep(50); jobs = await metric(s, 'piora_password_hash_jobs'); }
      assert.equal(jobs, 0, 'no hash job is left running or waiting');
      const good = await s.post('/web/api/signin', { body: { email: 'pat@pool.test', password: 'wrong again' } });
      assert.equal(good.status, 401, 'the pool serves again once idle');
      await s.stop();
    });
});

describe('sign-in limits', () => {
  it('12 concurrent wrong sign-ins with a limit of 10: exactly 10 are checked', { timeout: T(60000) }, async (t) => {
    const db = newDatabase(tmpDir('race'));
    await addUser(db, { email: 'rae@race.test', team: 'race' });
    const s = await startServer(t, { dbPath: db, args: ['--signin-limit', '10', '--threads', '12'] });
    const h0 = await metric(s, 'piora_password_hashes_total', true);
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      s.post('/web/api/signin', { body: { email: 'rae@race.test', password: `guess number ${i}` } })));
    const st = rs.map((r) => r.status);
    assert.equal(st.filter((x) => x === 401).length, 10, st.join(','));
    assert.equal(st.filter((x) => x === 429).length, 2, st.join(','));
    assert.equal(await metric(s, 'piora_password_hashes_total'), h0 + 10, 'a refused try costs no hash');
    await s.stop();
  });

  it('a right password gives its slot back; the current password of a change is limited too',
    { timeout: T(60000) }, async (t) => {
      const db = newDatabase(tmpDir('cur'));
      const password = await addUser(db, { email: 'cy@cur.test', team: 'cur' });
      const s = await startServer(t, { dbPath: db, args: ['--signin-limit', '3'] });
      for (let i = 0; i < 4; i++) await signIn(s, 'cy@cur.test', password); // successes are free
      const hdr = await signIn(s, 'cy@cur.test', password);
      const change = (current) => s.post('/web/api/account/password',
        { headers: hdr, body: { current_password: current, new_password: 'the next long password' } });
      for (let i = 0; i < 3; i++) assert.equal((await change(`not it ${i}`)).status, 422);
      const limited = await change('not it either');
      assert.equal(limited.status, 429, limited.text);
      assert.ok(Number(limited.h('retry-after')) >= 1);
      const locked = await change(password);
      assert.equal(locked.status, 429, 'the right password waits too: no oracle past the limit');
      await s.stop();
    });

  it('IPv6 clients are limited per /64', { timeout: T(60000) }, async (t) => {
    const db = newDatabase(tmpDir('v6'));
    await addUser(db, { email: 'vi@v6.test', team: 'v6' });
    const s = await startServer(t, { dbPath: db, args: ['--signin-limit', '2', '--trusted-proxies', '127.0.0.1'] });
    const from = (addr, email) => s.post('/web/api/signin',
      { headers: { 'X-Forwarded-For': addr }, body: { email, password: 'wrong password here' } });
    assert.equal((await from('2001:db8:1:2::a', 'a@v6.test')).status, 401);
    assert.equal((await from('2001:db8:1:2::b', 'b@v6.test')).status, 401);
    assert.equal((await from('2001:db8:1:2:ffff::c', 'c@v6.test')).status, 429, 'same /64, third try');
    assert.equal((await from('2001:db8:1:3::a', 'd@v6.test')).status, 401, 'another /64 is another client');
    assert.equal((await from('192.0.2.7', 'e@v6.test')).status, 401);
    await s.stop();
  });
});

describe('password resets', () => {
  it('piora user password ends the dashboard sessions of that user', { timeout: T(60000) }, async (t) => {
    const db = newDatabase(tmpDir('reset'));
    const password = await addUser(db, { email: 'ro@reset.test', team: 'reset' });
    const s = await startServer(t, { dbPath: db });
    const hdr = await signIn(s, 'ro@reset.test', password);
    assert.equal((await s.get('/web/api/session', { headers: hdr })).status, 200);
    const r = await cli(['user', 'password', '--email', 'ro@reset.test', '--password-stdin', '--database', db],
      { input: 'a fresh reset password\n' });
    assert.equal(r.code, 0, r.stderr);
    const after = await s.get('/web/api/session', { headers: hdr });
    assert.equal(after.status, 401, after.text);
    await signIn(s, 'ro@reset.test', 'a fresh reset password');
    await s.stop();
  });
});
