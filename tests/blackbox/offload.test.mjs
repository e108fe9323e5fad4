// Issue 10: no HTTP polling thread waits on the database. PostgreSQL is
// not needed to show it: PIORA_TEST_STORE_REMOTE=1 makes the SQLite file
// count as remote (the server then runs every step that needs the store on
// its store pool) and PIORA_TEST_STORE_DELAY_MS makes every store call
// slow, as a far or struggling database would. With two polling threads
// busy by nothing, what needs no store round trip (liveness, a cached
// token's cached page, a malformed token's 401) must answer at once while
// store-bound requests wait; the pool's bound answers 503.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { addUser, cli, createToken, makeTemplate, sleep, startServer, tmpDir, T, tokenId } from './lib/piora.mjs';

// Under a sanitizer everything is slower: the delay grows with the bound
// so that "well under the delay" keeps its meaning.
const DELAY_MS = T(300);
const FAST_MS = T(100);

async function metric(s, name) {
  const m = await s.get('/metrics');
  assert.equal(m.status, 200);
  const line = m.text.split('\n').find((l) => l.startsWith(name + ' '));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

async function timed(p) {
  const t0 = performance.now();
  const r = await p;
  return { r, ms: performance.now() - t0 };
}

function slowEnv() {
  return { PIORA_TEST_STORE_REMOTE: '1', PIORA_TEST_STORE_DELAY_MS: String(DELAY_MS) };
}

describe('a remote store: the polling threads never wait on it', () => {
  let tpl;
  const ids = [];
  before(async () => {
    tpl = await makeTemplate({
      users: [{ email: 'ops@far.test', team: 'far' }],
      tokens: [
        { email: 'ops@far.test', name: 'writer', scopes: 'servers:read,servers:write' },
        { email: 'ops@far.test', name: 'reader', scopes: 'servers:read' },
        { email: 'ops@far.test', name: 'doomed', scopes: 'servers:read' },
      ],
    });
    // The objects are made on a fast, local server first.
    const s = await startServer(null, { dbPath: tpl.db });
    try {
      for (let i = 0; i < 20; i++) {
        const r = await s.post('/api/v1/servers', {
          token: tpl.tokens.writer, body: { name: `far-${i}`, ip_address: `10.9.0.${i + 1}` },
        });
        assert.equal(r.status, 201, r.text);
        ids.push(r.json.id ?? r.json.data?.id);
      }
    } finally {
      await s.stop();
    }
  });

  it('20 store-bound requests at 300 ms each: /healthz, a cached page and a bad token answer at once, the results are right',
    { timeout: T(120000) }, async (t) => {
      // A store thread per request: none waits in the queue (past 2 s there
      // it would be answered 503, a later test).
      const s = await startServer(t, {
        template: tpl, env: slowEnv(), args: ['--threads', '2', '--store-threads', '24'],
      });
      assert.match(s.stderr, /PIORA_TEST_STORE_REMOTE/);
      const reader = tpl.tokens.reader;
      const page = '/api/v1/servers?per_page=5';
      // Warm up: the token's lookup and the page go to the store once.
      const warm = await timed(s.get(page, { token: reader }));
      assert.equal(warm.r.status, 200, warm.r.text);
      assert.ok(warm.ms >= DELAY_MS, `the first page waited on the slow store (${warm.ms} ms)`);
      const handed0 = await metric(s, 'piora_store_pool_handed_total');
      assert.ok(handed0 >= 1, 'the first page went through the store pool');

      // 20 requests that each need the store (a page not cached yet).
      const bound = ids.map((id) => timed(s.get(`/api/v1/servers/${id}`, { token: reader })));
      await sleep(T(30)); // they are all in flight now
      const quick = [];
      for (let i = 0; i < 5; i++) {
        quick.push(['healthz', await timed(s.get('/healthz'))]);
        quick.push(['cached page', await timed(s.get(page, { token: reader }))]);
        quick.push(['bad token', await timed(s.get(page, { auth: 'Bearer piora_nonsense' }))]);
        quick.push(['no token', await timed(s.get(page))]);
      }
      const inflight = await metric(s, 'piora_store_pool_jobs');
      const done = await Promise.all(bound);

      for (const [what, { r, ms }] of quick) {
        assert.ok(ms < FAST_MS, `${what} answered in ${ms.toFixed(1)} ms while the store was busy`);
        if (what === 'healthz' || what === 'cached page') assert.equal(r.status, 200, r.text);
        else assert.equal(r.status, 401, r.text);
      }
      assert.ok(inflight >= 1, `store-bound requests were still waiting (${inflight})`);
      const slowest = Math.max(...done.map((d) => d.ms));
      assert.ok(slowest >= DELAY_MS, `the store-bound requests did wait (${slowest} ms)`);
      done.forEach(({ r }, i) => {
        assert.equal(r.status, 200, r.text);
        const obj = r.json.data ?? r.json;
        assert.equal(obj.id, ids[i]);
        assert.equal(obj.name, `far-${i}`);
      });
      assert.ok(await metric(s, 'piora_store_pool_handed_total') >= handed0 + ids.length);
      assert.equal(await metric(s, 'piora_store_pool_refused_total'), 0);
      await s.stop();
    });

  it('a revocation from another process is honoured by the next request, cached token or not',
    { timeout: T(60000) }, async (t) => {
      const s = await startServer(t, { template: tpl, env: slowEnv(), args: ['--threads', '2'] });
      const tok = tpl.tokens.doomed;
      assert.equal((await s.get('/api/v1/servers?per_page=2', { token: tok })).status, 200);
      const hot = await timed(s.get('/api/v1/servers?per_page=2', { token: tok }));
      assert.equal(hot.r.status, 200);
      assert.ok(hot.ms < FAST_MS, `a cached token's cached page answers at once (${hot.ms} ms)`);
      await cli(['token', 'revoke', String(await tokenId(s.db, 'doomed')), '--database', s.db]);
      const after = await s.get('/api/v1/servers?per_page=2', { token: tok });
      assert.equal(after.status, 401, after.text);
      assert.equal(after.json.code, 'token_revoked');
      await s.stop();
    });

  it('past --store-max requests running or waiting: 503 unavailable with Retry-After, counted in /metrics',
    { timeout: T(60000) }, async (t) => {
      const s = await startServer(t, {
        template: tpl, env: slowEnv(), args: ['--threads', '2', '--store-threads', '1', '--store-max', '2'],
      });
      const reader = tpl.tokens.reader;
      assert.equal((await s.get('/api/v1/servers?per_page=1', { token: reader })).status, 200);
      const rs = await Promise.all(ids.slice(0, 8).map((id) => s.get(`/api/v1/servers/${id}`, { token: reader })));
      const st = rs.map((r) => r.status);
      const busy = rs.filter((r) => r.status === 503);
      assert.equal(busy.length + rs.filter((r) => r.status === 200).length, rs.length, st.join(','));
      assert.ok(busy.length >= 1 && busy.length <= 6, `some were refused, two at least served: ${st}`);
      for (const r of busy) {
        assert.equal(r.json.code, 'unavailable', r.text);
        assert.equal(r.h('retry-after'), '1');
      }
      assert.equal(await metric(s, 'piora_store_pool_refused_total'), busy.length);
      let jobs = await metric(s, 'piora_store_pool_jobs');
      for (let i = 0; jobs !== 0 && i < 40; i++) { await sleep(50); jobs = await metric(s, 'piora_store_pool_jobs'); }
      assert.equal(jobs, 0, 'nothing is left in the pool');
      assert.equal((await s.get(`/api/v1/servers/${ids[0]}`, { token: reader })).status, 200, 'served again once idle');
      await s.stop();
    });

  it('a request that waited over 2 s for a store thread is answered 503 without touching the store',
    { timeout: T(60000) }, async (t) => {
      const s = await startServer(t, {
        template: tpl, env: slowEnv(), args: ['--threads', '2', '--store-threads', '1', '--store-max', '100'],
      });
      const reader = tpl.tokens.reader;
      assert.equal((await s.get('/api/v1/servers?per_page=1', { token: reader })).status, 200);
      // One thread, each request at least one 300 ms store call: the queue
      // of 14 is far longer than 2 s.
      const rs = await Promise.all(ids.slice(0, 14).map((id) => timed(s.get(`/api/v1/servers/${id}`, { token: reader }))));
      const st = rs.map(({ r }) => r.status);
      const late = rs.filter(({ r }) => r.status === 503);
      assert.equal(late.length + rs.filter(({ r }) => r.status === 200).length, rs.length, st.join(','));
      assert.ok(late.length >= 1 && late.length < rs.length, `the first were served, the late refused: ${st}`);
      for (const { r } of late) {
        assert.equal(r.json.code, 'unavailable', r.text);
        assert.equal(r.h('retry-after'), '1');
      }
      // Each late answer came once its wait passed 2 s plus the one store
      // call in progress, not after the whole queue.
      const slowestLate = Math.max(...late.map((x) => x.ms));
      assert.ok(slowestLate < 2000 + 2 * DELAY_MS + T(500), `late answers within ${slowestLate} ms`);
      assert.equal(await metric(s, 'piora_store_pool_late_total'), late.length);
      assert.equal(await metric(s, 'piora_store_pool_refused_total'), 0);
      await s.stop();
    });

  it('a local SQLite file hands nothing over', { timeout: T(60000) }, async (t) => {
    // (even when the whole suite runs with the store forced remote). A
    // SQLite file in both modes (PIORA_TEST_DB=postgres too): the test is about one.
    const db = path.join(tmpDir('local'), 'piora.db');
    await addUser(db, { email: 'ops@near.test', team: 'near' });
    const tok = await createToken(db, { email: 'ops@near.test', name: 'reader', scopes: 'servers:read,servers:write' });
    const s = await startServer(t, { dbPath: db, env: { PIORA_TEST_STORE_REMOTE: '' } });
    const made = await s.post('/api/v1/servers', { token: tok, body: { name: 'near-0', ip_address: '10.9.1.1' } });
    assert.equal(made.status, 201, made.text);
    assert.equal((await s.get(`/api/v1/servers/${made.json.id ?? made.json.data?.id}`, { token: tok })).status, 200);
    assert.equal(await metric(s, 'piora_store_pool_handed_total'), 0);
    await s.stop();
  });
});
