// Issue 10, "no polling thread waits on the network", for Redis: with
// --redis a rate-limit decision that needs a Redis round trip is a step the
// store pool runs (the connection suspended), also with a local SQLite
// file. Redis SIGSTOPped (it accepts connections and answers nothing), the
// limited requests wait for --redis-timeout and then fall back to the
// node's own limits, while /healthz, /metrics and requests that need no
// limit answer at once on the two polling threads. Redis down, decisions
// are the node's own and are not handed over (at most one reconnect a
// second is). The shared limits' answers themselves: redis-limits.test.mjs.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, makeTemplate, sleep, startServer, T } from './lib/piora.mjs';
import { startRedis } from './lib/redis.mjs';

const SERVERS = '/api/v1/servers';
const REDIS_TIMEOUT_MS = T(1200); // --redis-timeout takes at most 5000
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

describe('--redis: the polling threads never wait on Redis', () => {
  let tpl;
  before(async () => {
    tpl = await makeTemplate({
      users: [{ email: 'rho@slow-redis.test', team: 'slowredis' }],
      tokens: ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((name) => ({ email: 'rho@slow-redis.test', name, scopes: 'servers:read' })),
    });
  });

  it('Redis SIGSTOPped: limited requests wait for the timeout and fall back; /healthz and unlimited requests answer at once',
    { timeout: T(120000) }, async (t) => {
      const redis = await startRedis(t);
      t.after(() => redis.resume());
      const s = await startServer(t, {
        template: tpl, rateLimit: 50,
        args: ['--threads', '2', '--redis', redis.url, '--redis-timeout', String(REDIS_TIMEOUT_MS)],
      });
      assert.match(s.stderr, /rate limits: shared by every node through Redis/);
      const toks = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => tpl.tokens[n]);
      // Redis answering: the decision is Redis's, made on the pool.
      for (const tok of toks) {
        const r = await s.get(SERVERS, { token: tok });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.h('x-ratelimit-remaining'), '49');
      }
      const handed0 = await metric(s, 'piora_store_pool_handed_total');
      assert.ok(handed0 >= toks.length, `each limit decision went to the pool (${handed0})`);
      assert.equal(await metric(s, 'piora_ratelimit_redis_up'), 1);
      assert.equal(await metric(s, 'piora_ratelimit_redis_fallbacks_total'), 0);
      assert.ok(redis.cli('--scan', '--pattern', 'piora:rl:token:*').split('\n').filter(Boolean).length >= toks.length);

      redis.pause();
      // Limited requests on six connections: before this change each held
      // a polling thread for the whole timeout.
      const limited = toks.map((tok) => timed(s.get(SERVERS, { token: tok })));
      await sleep(T(50)); // they are all in flight now
      const quick = [];
      for (let i = 0; i < 5; i++) {
        quick.push(['healthz', await timed(s.get('/healthz'))]);
        quick.push(['metrics', await timed(s.get('/metrics'))]);
        quick.push(['no token', await timed(s.get(SERVERS))]);
      }
      const inflight = await metric(s, 'piora_store_pool_jobs');
      const done = await Promise.all(limited);

      for (const [what, { r, ms }] of quick) {
        assert.ok(ms < FAST_MS, `${what} answered in ${ms.toFixed(1)} ms while Redis hung`);
        if (what === 'no token') assertProblem(r, 401, 'missing_token');
        else assert.equal(r.status, 200, r.text);
      }
      assert.ok(inflight >= 1, `limited requests were waiting on the pool (${inflight})`);
      const slowest = Math.max(...done.map((d) => d.ms));
      assert.ok(slowest >= REDIS_TIMEOUT_MS * 0.9, `the limited requests waited for Redis (${slowest.toFixed(0)} ms)`);
      // The same answers as ever: the node's own count (it counted the
      // request Redis allowed too; one request comes back every 1.2 s of
      // the 50 a minute, and the timeout is about that long), the same
      // headers.
      for (const { r } of done) {
        assert.equal(r.status, 200, r.text);
        assert.equal(r.h('x-ratelimit-limit'), '50');
        const left = Number(r.h('x-ratelimit-remaining'));
        assert.ok(left === 48 || left === 49, `the node's own count: ${left} left`);
        assert.equal(r.h('x-ratelimit-used'), String(50 - left));
        assert.match(r.h('x-oauth-scopes') ?? '', /servers:read/);
      }
      assert.equal(await metric(s, 'piora_ratelimit_redis_up'), 0);
      assert.ok(await metric(s, 'piora_ratelimit_redis_fallbacks_total') >= 1);
      // (a pool thread's first call connects, and then its SCRIPT LOAD is
      // what times out)
      assert.match(s.stderr, /Redis at 127\.0\.0\.1:\d+ is not answering \((no answer within \d+ ms|SCRIPT LOAD failed)\)/);

      // Redis down: the node's own limiter answers on the polling thread,
      // nothing is handed over (but a reconnect a second, on the pool).
      const handed1 = await metric(s, 'piora_store_pool_handed_total');
      const local = [];
      for (let i = 0; i < 4; i++) local.push(await timed(s.get(SERVERS, { token: tpl.tokens.g })));
      const handed2 = await metric(s, 'piora_store_pool_handed_total');
      assert.ok(handed2 - handed1 <= 1, `decisions while down stay on the polling thread (${handed2 - handed1} handed)`);
      local.forEach(({ r }, i) => {
        assert.equal(r.status, 200, r.text);
        assert.equal(r.h('x-ratelimit-remaining'), String(49 - i), 'counted by the node');
      });
      assert.ok(local.filter(({ ms }) => ms < FAST_MS).length >= 3, `local decisions answer at once: ${local.map((x) => x.ms.toFixed(0))}`);

      // Continued: a request (on the pool, at most a second later) finds it
      // and the limits are shared again.
      redis.resume();
      const deadline = Date.now() + T(10000);
      while (await metric(s, 'piora_ratelimit_redis_up') !== 1 && Date.now() < deadline) {
        await s.get(SERVERS, { token: tpl.tokens.g });
        await sleep(100);
      }
      assert.equal(await metric(s, 'piora_ratelimit_redis_up'), 1, 'shared limits again');
      assert.match(s.stderr, /answers again: limits are shared by every node/);
      await s.stop();
    });

  it('a token past its shared limit: 429 with Retry-After decided on the pool; a failed authentication counted there too',
    { timeout: T(60000) }, async (t) => {
      const redis = await startRedis(t);
      const s = await startServer(t, {
        template: tpl, rateLimit: 3, authFailLimit: 2,
        args: ['--threads', '2', '--redis', redis.url, '--redis-timeout', String(T(1000))],
      });
      const tok = tpl.tokens.a;
      for (let i = 1; i <= 3; i++) assert.equal((await s.get(SERVERS, { token: tok })).status, 200);
      const over = await s.get(SERVERS, { token: tok });
      assertProblem(over, 429, 'rate_limited');
      assert.match(over.h('retry-after') ?? '', /^[1-9]\d*$/);
      assert.equal(over.h('x-ratelimit-remaining'), '0');
      const h0 = await metric(s, 'piora_store_pool_handed_total');
      for (let i = 1; i <= 2; i++) assertProblem(await s.get(SERVERS, { auth: 'Bearer piora_nonsense' }), 401, 'invalid_token');
      assertProblem(await s.get(SERVERS, { auth: 'Bearer piora_nonsense' }), 429, 'rate_limited');
      assert.ok(await metric(s, 'piora_store_pool_handed_total') >= h0 + 3, 'each failure was counted on the pool');
      assert.ok(redis.cli('--scan', '--pattern', 'piora:rl:authfail:*').length > 0, 'in Redis');
      assert.equal(await metric(s, 'piora_ratelimit_redis_fallbacks_total'), 0);
      await s.stop();
    });
});
