// SPEC 3 step 4: the per-token rate limit with its X-RateLimit-* headers and
// Retry-After, and the limit on failed authentication per client address.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeTemplate, startServer, assertProblem, forgeToken, flipLast } from './lib/piora.mjs';

const SERVERS = '/api/v1/servers';
let tpl;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'rita@rl.test', team: 'rl' }],
    tokens: [
      { email: 'rita@rl.test', name: 'one', scopes: 'servers:read' },
      { email: 'rita@rl.test', name: 'two', scopes: 'servers:read' },
    ],
  });
});

function intHeader(r, name) {
  const v = r.h(name);
  assert.ok(v !== null, `${name} present on ${r.status}`);
  assert.match(v, /^\d+$/, `${name} is an integer: ${v}`);
  return Number(v);
}

describe('per-token rate limit (SPEC 3.4)', () => {
  it('with --rate-limit 5 the 6th request in a minute is 429 rate_limited', async (t) => {
    const s = await startServer(t, { template: tpl, rateLimit: 5 });
    const tok = tpl.tokens.one;
    for (let i = 1; i <= 5; i++) {
      const r = await s.get(SERVERS, { token: tok });
      assert.equal(r.status, 200, `request ${i}: ${r.text}`);
      assert.equal(intHeader(r, 'x-ratelimit-limit'), 5);
      assert.equal(intHeader(r, 'x-ratelimit-remaining'), 5 - i, `remaining after ${i}`);
      assert.equal(intHeader(r, 'x-ratelimit-used'), i, `used after ${i}`);
      const reset = intHeader(r, 'x-ratelimit-reset');
      const now = Date.now() / 1000;
      assert.ok(reset > now - 1 && reset < now + 3600, `reset is epoch seconds in the future: ${reset} vs ${now}`);
    }
    const r6 = await s.get(SERVERS, { token: tok });
    assertProblem(r6, 429, 'rate_limited');
    const ra = r6.h('retry-after');
    assert.match(ra ?? '', /^\d+$/, `Retry-After integer seconds: ${ra}`);
    assert.ok(Number(ra) >= 1 && Number(ra) <= 60, `Retry-After ${ra}`);
    assert.equal(intHeader(r6, 'x-ratelimit-remaining'), 0);
    assert.equal(intHeader(r6, 'x-ratelimit-limit'), 5);
    assert.ok(intHeader(r6, 'x-ratelimit-reset') >= Math.floor(Date.now() / 1000));
    // Still limited on another endpoint: the limit is per token, not per path.
    assertProblem(await s.get('/api/v1/token', { token: tok }), 429, 'rate_limited');
    // Another token of the same user has its own budget.
    const other = await s.get(SERVERS, { token: tpl.tokens.two });
    assert.equal(other.status, 200, other.text);
    assert.equal(intHeader(other, 'x-ratelimit-remaining'), 4);
    await s.healthy();
    await s.stop();
  });

  it('every authenticated answer carries the X-RateLimit-* headers, errors included', async (t) => {
    const s = await startServer(t, { template: tpl, rateLimit: 50 });
    const tok = tpl.tokens.one;
    const answers = [
      await s.get(SERVERS, { token: tok }),
      await s.get(`${SERVERS}/99999`, { token: tok }), // 404
      await s.post(SERVERS, { token: tok, body: { name: 'x', ip_address: '10.0.0.1' } }), // 403
      await s.get('/api/v1/token', { token: tok }),
    ];
    let used = 0;
    for (const r of answers) {
      used++;
      assert.equal(intHeader(r, 'x-ratelimit-limit'), 50, `limit on ${r.status}`);
      assert.equal(intHeader(r, 'x-ratelimit-used'), used, `used on ${r.status}`);
      assert.equal(intHeader(r, 'x-ratelimit-remaining'), 50 - used, `remaining on ${r.status}`);
      assert.ok(intHeader(r, 'x-ratelimit-reset') > Date.now() / 1000 - 1);
    }
    await s.stop();
  });

  it('rate limit answers are not sent before authentication: a bad token under a spent limit is 401', async (t) => {
    const s = await startServer(t, { template: tpl, rateLimit: 2 });
    const tok = tpl.tokens.one;
    await s.get(SERVERS, { token: tok });
    await s.get(SERVERS, { token: tok });
    assertProblem(await s.get(SERVERS, { token: tok }), 429, 'rate_limited');
    assertProblem(await s.get(SERVERS, { token: flipLast(tok) }), 401, 'invalid_token');
    assertProblem(await s.get(SERVERS), 401, 'missing_token');
    await s.stop();
  });
});

describe('failed authentication limit per address (SPEC 3.4)', () => {
  it('with --auth-fail-limit 5, the 6th bad token from one address is 429', async (t) => {
    const s = await startServer(t, { template: tpl, authFailLimit: 5 });
    const bad = [forgeToken('a'), flipLast(tpl.tokens.one), 'garbage', forgeToken('b'), forgeToken('c')];
    for (const b of bad) {
      const r = await s.get(SERVERS, { auth: `Bearer ${b}` });
      assertProblem(r, 401, 'invalid_token', `bad token ${b.slice(0, 16)}`);
    }
    const r6 = await s.get(SERVERS, { auth: `Bearer ${forgeToken('d')}` });
    assertProblem(r6, 429, 'rate_limited');
    const ra = r6.h('retry-after');
    assert.match(ra ?? '', /^\d+$/, `Retry-After on the address limit: ${ra}`);
    assert.ok(Number(ra) >= 1);
    await s.healthy();
    await s.stop();
  });
});
