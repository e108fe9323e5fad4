// Issue 8 item 5: the response cache is bounded by bytes. One read-only
// token sending many distinct query strings for a list used to grow it by
// up to 64 KiB per string (~200 MiB seen); now /metrics shows its bytes
// staying under --response-cache-bytes while it evicts the oldest pages,
// and the pages it keeps are still replayed.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeTemplate, T } from './lib/piora.mjs';

const BUDGET = 256 * 1024;

function gauge(text, name) {
  const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  assert.ok(m, `/metrics has ${name}`);
  return Number(m[1]);
}

describe('response cache budget', () => {
  let tpl;
  before(async () => {
    tpl = await makeTemplate({
      users: [{ email: 'ops@example.com', team: 'acme' }],
      tokens: [
        { email: 'ops@example.com', name: 'writer', scopes: 'servers:read,servers:write' },
        { email: 'ops@example.com', name: 'reader', scopes: 'servers:read' },
      ],
    });
  });

  it('distinct query strings keep the cache under its byte budget', { timeout: T(120000) }, async (t) => {
    const s = await startServer(t, { template: tpl, args: ['--response-cache-bytes', String(BUDGET)] });
    for (let i = 0; i < 40; i++) {
      const r = await s.post('/api/v1/servers', {
        token: tpl.tokens.writer,
        body: { name: `web-${i}-${'x'.repeat(40)}`, ip_address: `10.0.${i >> 8}.${i & 255}` },
      });
      assert.equal(r.status, 201, r.text);
    }
    const reader = tpl.tokens.reader;
    const first = await s.get('/api/v1/servers?per_page=100&n=0', { token: reader });
    assert.equal(first.status, 200, first.text);
    const pageBytes = first.text.length;
    // Enough distinct pages to hold several times the budget.
    const n = Math.ceil((4 * BUDGET) / pageBytes) + 50;
    let maxSeen = 0;
    for (let i = 1; i <= n; i++) {
      const r = await s.get(`/api/v1/servers?per_page=100&n=${i}`, { token: reader });
      assert.equal(r.status, 200);
      if (i % 25 === 0) {
        const m = await s.get('/metrics');
        maxSeen = Math.max(maxSeen, gauge(m.text, 'piora_response_cache_bytes'));
      }
    }
    // The newest page is replayed; the oldest was pushed out.
    const counts = async () => {
      const m = (await s.get('/metrics')).text;
      return { hits: gauge(m, 'piora_response_cache_hits_total'),
        misses: gauge(m, 'piora_response_cache_misses_total') };
    };
    let c0 = await counts();
    await s.get(`/api/v1/servers?per_page=100&n=${n}`, { token: reader });
    let c1 = await counts();
    assert.deepEqual(c1, { hits: c0.hits + 1, misses: c0.misses }, 'the newest page is a hit');
    await s.get('/api/v1/servers?per_page=100&n=0', { token: reader });
    c0 = c1;
    c1 = await counts();
    assert.deepEqual(c1, { hits: c0.hits, misses: c0.misses + 1 }, 'the oldest page was evicted');

    const text = (await s.get('/metrics')).text;
    const bytes = gauge(text, 'piora_response_cache_bytes');
    maxSeen = Math.max(maxSeen, bytes);
    assert.equal(gauge(text, 'piora_response_cache_budget_bytes'), BUDGET);
    assert.ok(bytes > 0, 'the cache holds pages');
    assert.ok(maxSeen <= BUDGET, `cache bytes ${maxSeen} stayed within ${BUDGET}`);
    assert.ok(bytes >= BUDGET / 2, `the budget is used (${bytes} bytes)`);
    const entries = gauge(text, 'piora_response_cache_entries');
    assert.ok(entries > 0 && entries * pageBytes <= BUDGET, `${entries} pages of ${pageBytes} bytes`);
    assert.ok(gauge(text, 'piora_response_cache_evictions_total') >= n - entries,
      'the pages that did not fit were evicted');
    assert.ok(gauge(text, 'piora_response_cache_hits_total') >= 1, 'kept pages are replayed');
    assert.ok(gauge(text, 'piora_response_cache_misses_total') >= n, 'every new query string missed');
    await s.healthy();
    await s.stop(); // a clean exit: under ASan, every entry was freed
  });

  it('a budget of 0 turns the cache off', { timeout: T(60000) }, async (t) => {
    const s = await startServer(t, { template: tpl, args: ['--response-cache-bytes', '0'] });
    for (let i = 0; i < 3; i++)
      assert.equal((await s.get('/api/v1/servers?per_page=5', { token: tpl.tokens.reader })).status, 200);
    const text = (await s.get('/metrics')).text;
    assert.equal(gauge(text, 'piora_response_cache_bytes'), 0);
    assert.equal(gauge(text, 'piora_response_cache_entries'), 0);
    assert.equal(gauge(text, 'piora_response_cache_hits_total'), 0);
  });
});
