// SPEC 4 pagination: page/per_page (default 20, max 100), the meta object and
// the Link header with first/prev/next/last, walked end to end over 45 servers.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeTemplate, startServer, assertProblem, one, parseLink } from './lib/piora.mjs';

let tpl;
let TOK;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'pat@page.test', team: 'page' }],
    tokens: [{ email: 'pat@page.test', name: 'rw', scopes: 'servers:write,backups:write,databases:write,applications:write,applications:deploy' }],
  });
  TOK = tpl.tokens.rw;
});

async function fill(s, n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const r = await s.post('/api/v1/servers', { token: TOK, body: { name: `node-${String(i).padStart(2, '0')}`, ip_address: `10.1.0.${i + 1}` } });
    assert.equal(r.status, 201, r.text);
    ids.push(one(r.json).id);
  }
  return ids;
}

function q(url, key) {
  return new URL(url, 'http://x').searchParams.get(key);
}

describe('pagination', () => {
  it('walks 45 servers through Link next, 20 per page by default', async (t) => {
    const s = await startServer(t, { template: tpl });
    const created = await fill(s, 45);
    const first = await s.get('/api/v1/servers', { token: TOK });
    assert.equal(first.status, 200);
    assert.deepEqual(first.json.meta, { page: 1, per_page: 20, total: 45 });
    assert.equal(first.json.data.length, 20);
    const l1 = parseLink(first.h('link'));
    assert.ok(l1.next && l1.last && l1.first, `Link on page 1: ${first.h('link')}`);
    assert.equal(l1.prev, undefined, 'no prev on page 1');
    assert.equal(q(l1.next, 'page'), '2');
    assert.equal(q(l1.last, 'page'), '3');
    assert.equal(q(l1.first, 'page'), '1');
    assert.match(new URL(l1.next, s.base).pathname, /^\/api\/v1\/servers$/);

    const seen = [];
    let url = '/api/v1/servers';
    let pages = 0;
    for (; url && pages < 10; pages++) {
      const u = new URL(url, s.base);
      assert.equal(u.host, new URL(s.base).host, `Link points at this server: ${url}`);
      const r = await s.get(u.pathname + u.search, { token: TOK });
      assert.equal(r.status, 200, `GET ${url}`);
      assert.equal(r.json.meta.total, 45);
      seen.push(...r.json.data.map((x) => x.id));
      const links = parseLink(r.h('link'));
      if (pages > 0) assert.ok(links.prev, `prev on page ${pages + 1}: ${r.h('link')}`);
      assert.equal(q(links.last, 'page'), '3');
      url = links.next;
    }
    assert.equal(pages, 3, 'three pages');
    assert.equal(seen.length, 45);
    assert.equal(new Set(seen).size, 45, 'no object twice across pages');
    assert.deepEqual([...seen].sort((a, b) => a - b), [...created].sort((a, b) => a - b));
    await s.stop();
  });

  it('per_page up to 100, page beyond the end, the last page and its prev', async (t) => {
    const s = await startServer(t, { template: tpl });
    await fill(s, 45);
    const big = await s.get('/api/v1/servers?per_page=100', { token: TOK });
    assert.equal(big.json.data.length, 45);
    assert.deepEqual(big.json.meta, { page: 1, per_page: 100, total: 45 });
    const lb = parseLink(big.h('link'));
    assert.equal(lb.next, undefined);
    assert.equal(q(lb.last, 'page'), '1');
    assert.equal(q(lb.first, 'per_page'), '100', 'links keep per_page');

    const p5 = await s.get('/api/v1/servers?per_page=10&page=5', { token: TOK });
    assert.equal(p5.json.data.length, 5);
    assert.deepEqual(p5.json.meta, { page: 5, per_page: 10, total: 45 });
    const l5 = parseLink(p5.h('link'));
    assert.equal(q(l5.prev, 'page'), '4');
    assert.equal(l5.next, undefined, 'no next on the last page');
    assert.equal(q(l5.last, 'page'), '5');

    const past = await s.get('/api/v1/servers?per_page=10&page=9', { token: TOK });
    assert.equal(past.status, 200);
    assert.deepEqual(past.json.data, []);
    assert.equal(past.json.meta.total, 45);

    const one1 = await s.get('/api/v1/servers?per_page=1&page=45', { token: TOK });
    assert.equal(one1.json.data.length, 1);
    await s.stop();
  });

  it('bad page parameters are 422 validation_failed', async (t) => {
    const s = await startServer(t, { template: tpl });
    for (const qs of ['per_page=101', 'per_page=0', 'per_page=-5', 'per_page=abc', 'page=0', 'page=-1', 'page=x',
      'per_page=1e2', 'page=99999999999999999999999']) {
      const r = await s.get(`/api/v1/servers?${qs}`, { token: TOK });
      const b = assertProblem(r, 422, 'validation_failed', qs);
      assert.ok(b.errors.some((e) => ['page', 'per_page'].includes(e.field)), `${qs}: ${JSON.stringify(b.errors)}`);
    }
    assert.equal((await s.get('/api/v1/servers?per_page=100', { token: TOK })).status, 200);
    await s.stop();
  });

  it('an empty list has meta total 0 and data []', async (t) => {
    const s = await startServer(t, { template: tpl });
    const r = await s.get('/api/v1/backups', { token: TOK });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { data: [], meta: { page: 1, per_page: 20, total: 0 } });
    await s.stop();
  });

  it('the backups filter is kept in the Link header', async (t) => {
    const s = await startServer(t, { template: tpl });
    const srv = one((await s.post('/api/v1/servers', { token: TOK, body: { name: 'dbhost', ip_address: '10.9.9.9' } })).json);
    const db = one((await s.post('/api/v1/databases', { token: TOK, body: { name: 'pg', engine: 'postgresql', version: '15', server_id: srv.id } })).json);
    for (let i = 0; i < 3; i++) assert.equal((await s.post('/api/v1/backups', { token: TOK, body: { database_id: db.id } })).status, 202);
    const r = await s.get(`/api/v1/backups?database_id=${db.id}&per_page=2`, { token: TOK });
    assert.deepEqual(r.json.meta, { page: 1, per_page: 2, total: 3 });
    const l = parseLink(r.h('link'));
    assert.equal(q(l.next, 'database_id'), String(db.id), `Link keeps the filter: ${r.h('link')}`);
    assert.equal(q(l.next, 'page'), '2');
    await s.stop();
  });

  // Issue 13: job lists (backups, deployments, restores) are newest first, so
  // page 1 holds the latest run; the pages still cover every job once.
  it('backups and deployments list newest first across pages', async (t) => {
    const s = await startServer(t, { template: tpl });
    const srv = one((await s.post('/api/v1/servers', { token: TOK, body: { name: 'jobhost', ip_address: '10.9.9.8' } })).json);
    const db = one((await s.post('/api/v1/databases', { token: TOK, body: { name: 'pg', engine: 'postgresql', version: '15', server_id: srv.id } })).json);
    const app = one((await s.post('/api/v1/applications', {
      token: TOK, body: { name: 'shop', server_id: srv.id, repository: 'https://github.com/example/shop.git' },
    })).json);
    const backups = [];
    const deps = [];
    for (let i = 0; i < 5; i++) {
      backups.push(one((await s.post('/api/v1/backups', { token: TOK, body: { database_id: db.id } })).json).id);
      deps.push(one((await s.post(`/api/v1/applications/${app.id}/deploy`, { token: TOK })).json).id);
    }
    const desc = (ids) => [...ids].sort((a, b) => b - a);
    for (const [path, ids] of [['/api/v1/backups', backups], [`/api/v1/backups?database_id=${db.id}`, backups],
      [`/api/v1/applications/${app.id}/deployments`, deps]]) {
      const all = await s.get(path, { token: TOK });
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(all.json.data.map((x) => x.id), desc(ids), `${path} newest first`);
      const sep = path.includes('?') ? '&' : '?';
      const p1 = await s.get(`${path}${sep}per_page=2`, { token: TOK });
      const p3 = await s.get(`${path}${sep}per_page=2&page=3`, { token: TOK });
      assert.deepEqual(p1.json.data.map((x) => x.id), desc(ids).slice(0, 2), `${path} page 1 holds the newest`);
      assert.deepEqual(p3.json.data.map((x) => x.id), desc(ids).slice(4), `${path} the last page holds the oldest`);
      assert.equal(q(parseLink(p1.h('link')).next, 'page'), '2');
    }
    await s.stop();
  });
});
