// SPEC 1 (`--redis`) and SPEC 3 step 4: two `piora serve` nodes on one
// SQLite database and one real redis-server share the per-token and
// per-address limits; Redis stopped mid-run, the nodes keep answering with
// their own limits (counted in /metrics, logged once) and share again when
// it is back; without --redis a node says at start that it limits alone.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { makeTemplate, startServer, assertProblem, forgeToken, sleep, T } from './lib/piora.mjs';
import { startRedis } from './lib/redis.mjs';

const SERVERS = '/api/v1/servers';
let tpl;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'rhea@redis.test', team: 'redis' }],
    tokens: ['one', 'two', 'three', 'probe'].map((name) => ({ email: 'rhea@redis.test', name, scopes: 'servers:read' })),
  });
});

function intHeader(r, name) {
  const v = r.h(name);
  assert.ok(v !== null, `${name} present on ${r.status}`);
  assert.match(v, /^\d+$/, `${name} is an integer: ${v}`);
  return Number(v);
}

// Generous: on a loaded test machine the default 100 ms can pass without
// Redis being gone, and these tests are about sharing, not the timeout
// (tests/unit/test_redis.c checks that a hung Redis ends a call with it).
const REDIS_TIMEOUT = ['--redis-timeout', String(T(1000))];

// Two nodes serving one database file through one Redis.
async function twoNodes(t, redis, opts = {}) {
  const args = ['--redis', redis.url, ...REDIS_TIMEOUT, ...(opts.args ?? [])];
  const a = await startServer(t, { template: tpl, ...opts, args });
  const b = await startServer(t, { ...opts, dbPath: a.db, args });
  return [a, b];
}

async function metric(s, name) {
  const r = await s.get('/metrics');
  assert.equal(r.status, 200);
  const m = r.text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : null;
}

function count(text, re) {
  return (text.match(new RegExp(re.source, 'g')) ?? []).length;
}

describe('rate limits shared through Redis (SPEC 1)', () => {
  it('N requests spread over two nodes pass; the N+1st on either node is 429 with the headers', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await twoNodes(t, redis, { rateLimit: 6 });
    for (const s of [a, b]) assert.match(s.stderr, /rate limits: shared by every node through Redis at 127\.0\.0\.1:\d+\/0/);
    const tok = tpl.tokens.one;
    for (let i = 1; i <= 6; i++) {
      const s = i % 2 ? a : b;
      const r = await s.get(SERVERS, { token: tok });
      assert.equal(r.status, 200, `request ${i} on node ${i % 2 ? 'a' : 'b'}: ${r.text}`);
      assert.equal(intHeader(r, 'x-ratelimit-limit'), 6);
      assert.equal(intHeader(r, 'x-ratelimit-remaining'), 6 - i, `remaining after ${i}, counted over both nodes`);
      assert.equal(intHeader(r, 'x-ratelimit-used'), i);
      const reset = intHeader(r, 'x-ratelimit-reset');
      assert.ok(reset >= Date.now() / 1000 - 1 && reset <= Date.now() / 1000 + 61, `reset ${reset}`);
    }
    for (const s of [a, b]) {
      const r = await s.get(SERVERS, { token: tok });
      assertProblem(r, 429, 'rate_limited');
      const ra = r.h('retry-after');
      assert.match(ra ?? '', /^\d+$/, `Retry-After: ${ra}`);
      assert.ok(Number(ra) >= 1 && Number(ra) <= 60, `Retry-After ${ra}`);
      assert.equal(intHeader(r, 'x-ratelimit-remaining'), 0);
      assert.equal(intHeader(r, 'x-ratelimit-limit'), 6);
    }
    // Another token has its own, full budget on both nodes.
    const other = await b.get(SERVERS, { token: tpl.tokens.two });
    assert.equal(other.status, 200);
    assert.equal(intHeader(other, 'x-ratelimit-remaining'), 5);
    // The shared state is a key per token id, with a TTL: no secret, bounded.
    const keys = redis.cli('--scan', '--pattern', 'piora:rl:*').split('\n').filter(Boolean).sort();
    assert.ok(keys.length >= 2, `keys ${keys}`);
    for (const k of keys) {
      assert.match(k, /^piora:rl:(token|authfail|addr):[0-9a-f]{16}$/);
      for (const secret of Object.values(tpl.tokens)) assert.ok(!k.includes(secret.slice(12, 24)));
      const ttl = Number(redis.cli('PTTL', k));
      assert.ok(ttl > 0 && ttl <= 61000, `${k} expires (PTTL ${ttl})`);
    }
    for (const s of [a, b]) {
      assert.equal(await metric(s, 'piora_ratelimit_redis_up'), 1);
      assert.equal(await metric(s, 'piora_ratelimit_redis_fallbacks_total'), 0);
    }
    await a.stop();
    await b.stop();
  });

  it('a concurrent burst on both nodes gets exactly N answers through, the rest 429', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await twoNodes(t, redis, { rateLimit: 20 });
    const tok = tpl.tokens.three;
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).get(SERVERS, { token: tok })));
    const ok = answers.filter((r) => r.status === 200);
    const limited = answers.filter((r) => r.status === 429);
    assert.equal(ok.length, 20, `200s: ${ok.length}, statuses ${answers.map((r) => r.status)}`);
    assert.equal(limited.length, 40);
    // each remaining value 0..19 was handed out once: no two nodes spent one slot
    assert.deepEqual(ok.map((r) => intHeader(r, 'x-ratelimit-remaining')).sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i));
    await a.stop();
    await b.stop();
  });

  it('failed authentications and /credentials/revoke calls per address are counted over both nodes', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await twoNodes(t, redis, { authFailLimit: 4, args: ['--revoke-limit', '3'] });
    for (let i = 1; i <= 4; i++) {
      const r = await (i % 2 ? a : b).get(SERVERS, { token: forgeToken(`bad${i}`) });
      assertProblem(r, 401, 'invalid_token', `failure ${i}`);
    }
    for (const s of [a, b]) {
      const r = await s.get(SERVERS, { token: forgeToken('bad-more') });
      assertProblem(r, 429, 'rate_limited');
      assert.match(r.h('retry-after') ?? '', /^\d+$/);
    }
    // a valid token from the same address is still served
    assert.equal((await a.get(SERVERS, { token: tpl.tokens.two })).status, 200);

    const body = { credentials: [forgeToken('leak')] };
    for (let i = 1; i <= 3; i++) {
      const r = await (i % 2 ? b : a).post('/api/v1/credentials/revoke', { body });
      assert.equal(r.status, 202, `revoke call ${i}: ${r.text}`);
    }
    for (const s of [a, b]) assertProblem(await s.post('/api/v1/credentials/revoke', { body }), 429, 'rate_limited');
    await a.stop();
    await b.stop();
  });

  it('Redis stopped: both nodes keep answering on their own limits, count it, log it once; back: shared again', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await twoNodes(t, redis, { rateLimit: 6 });
    const tok = tpl.tokens.two;
    for (let i = 1; i <= 4; i++) assert.equal((await (i % 2 ? a : b).get(SERVERS, { token: tok })).status, 200);
    // 2 left for the cluster; each node has served 2 of its own 6
    await redis.stop();
    for (const s of [a, b]) {
      for (let i = 1; i <= 4; i++) {
        const t0 = Date.now();
        const r = await s.get(SERVERS, { token: tok });
        assert.equal(r.status, 200, `request ${i} with Redis down: ${r.text}`);
        assert.equal(intHeader(r, 'x-ratelimit-remaining'), 4 - i, 'the node\'s own count goes on');
        assert.ok(Date.now() - t0 < T(1000), 'no request waits on the missing Redis');
      }
      // the node's own limit still holds: 6 of its own
      assertProblem(await s.get(SERVERS, { token: tok }), 429, 'rate_limited');
      assert.equal(await metric(s, 'piora_ratelimit_redis_up'), 0);
      assert.ok((await metric(s, 'piora_ratelimit_redis_fallbacks_total')) >= 5);
    }
    await sleep(1200); // past the retry period: a retry fails and is not logged again
    for (const s of [a, b]) assert.equal((await s.get(SERVERS, { token: tpl.tokens.three })).status, 200);
    for (const s of [a, b]) assert.equal(count(s.stderr, /is not answering/), 1, `one line per outage: ${s.stderr}`);

    await redis.start();
    // Each node tries again at most once a second; a request makes it try.
    for (const s of [a, b]) {
      const deadline = Date.now() + T(5000);
      while (await metric(s, 'piora_ratelimit_redis_up') !== 1 && Date.now() < deadline) {
        await s.get(SERVERS, { token: tpl.tokens.probe });
        await sleep(100);
      }
      assert.equal(await metric(s, 'piora_ratelimit_redis_up'), 1, 'shared limits again');
      assert.equal(count(s.stderr, /answers again: limits are shared by every node/), 1);
    }
    // Shared again: a fresh Redis, so token three starts from its full 6
    // (one request of it was made on each node while Redis was down, which
    // only those nodes' own tables know): 6 over both nodes, then 429.
    const three = tpl.tokens.three;
    for (let i = 1; i <= 6; i++) {
      const r = await (i % 2 ? a : b).get(SERVERS, { token: three });
      assert.equal(r.status, 200, `shared request ${i}: ${r.text}`);
      assert.equal(intHeader(r, 'x-ratelimit-remaining'), 6 - i);
    }
    for (const s of [a, b]) assertProblem(await s.get(SERVERS, { token: three }), 429, 'rate_limited');
    const prom = spawnSync('promtool', ['check', 'metrics'], { input: (await a.get('/metrics')).text, encoding: 'utf8' });
    assert.ok(!prom.error, `promtool runs: ${prom.error}`);
    assert.equal(prom.status, 0, `promtool check metrics: ${prom.stdout}${prom.stderr}`);
    await a.stop();
    await b.stop();
  });

  it('Redis not running at start: the node starts, says so, limits alone, and shares once Redis answers', async (t) => {
    const redis = await startRedis(t);
    await redis.stop();
    const s = await startServer(t, { template: tpl, rateLimit: 3, args: ['--redis', redis.url, ...REDIS_TIMEOUT] });
    assert.match(s.stderr, /Redis at 127\.0\.0\.1:\d+ is not answering .*: this node limits on its own until it answers/);
    for (let i = 1; i <= 3; i++) assert.equal((await s.get(SERVERS, { token: tpl.tokens.one })).status, 200);
    assertProblem(await s.get(SERVERS, { token: tpl.tokens.one }), 429, 'rate_limited');
    await redis.start();
    const deadline = Date.now() + T(5000);
    while (await metric(s, 'piora_ratelimit_redis_up') !== 1 && Date.now() < deadline) {
      await s.get(SERVERS, { token: tpl.tokens.probe });
      await sleep(100);
    }
    assert.equal(await metric(s, 'piora_ratelimit_redis_up'), 1);
    assert.ok(redis.cli('--scan', '--pattern', 'piora:rl:token:*').length > 0, 'the node writes its limits to Redis');
    await s.stop();
  });

  it('without --redis the node says at start that it limits alone; a bad --redis is refused', async (t) => {
    const s = await startServer(t, { template: tpl });
    assert.match(s.stderr, /rate limits: this node limits on its own \(no --redis/);
    assert.equal(await metric(s, 'piora_ratelimit_redis_up'), null, 'no Redis gauges without --redis');
    await s.stop();
    for (const [url, why] of [['http://127.0.0.1:6379', /expected redis:\/\/HOST/], ['redis://:pw@127.0.0.1', /no user, password/],
      ['redis://127.0.0.1:99999', /port must be 1-65535/]]) {
      await assert.rejects(startServer(t, { template: tpl, args: ['--redis', url] }),
        (e) => { assert.match(e.message, /invalid --redis/); assert.match(e.message, why); return true; });
    }
    // PIORA_REDIS is the same setting
    await assert.rejects(startServer(t, { template: tpl, env: { PIORA_REDIS: 'nope' } }), /invalid --redis/);
  });
});
