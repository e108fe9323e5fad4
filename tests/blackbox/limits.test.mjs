// Issue 12 / SPEC 11: tokens limited to chosen resources and client
// addresses. One server per describe; the objects are made with an
// unlimited token first, since a grant may only name objects that exist in
// the owner's team.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, makeTemplate, run, cli, createToken, listTokens, assertProblem, parseLink, sleep, T,
  ALL_SCOPES,
} from './lib/piora.mjs';
import { noteSecret } from '../lib/journal.mjs';

const EMAIL = 'ops@example.com';

async function limitedToken(db, name, { resources, ips, scopes = ALL_SCOPES } = {}) {
  const args = ['token', 'create', '--email', EMAIL, '--name', name, '--scopes', scopes.join(','),
    '--database', db];
  if (resources !== undefined) args.push('--resources', resources);
  if (ips !== undefined) args.push('--allowed-ips', ips);
  const r = await cli(args);
  const tok = r.stdout.trim();
  assert.match(tok, /^piora_token_[0-9A-Za-z]{36}$/);
  noteSecret(tok);
  return tok;
}

async function make(s, token, coll, body) {
  const r = await s.post(`/api/v1/${coll}`, { token, body });
  assert.ok(r.status === 201 || r.status === 202, `${coll}: ${r.status} ${r.text}`);
  return r.json.id;
}

const ids = (r) => r.json.data.map((o) => o.id).sort((a, b) => a - b);

describe('resource-limited tokens (SPEC 11)', () => {
  let tpl, s, admin, lim, o;
  before(async () => {
    tpl = await makeTemplate({
      users: [{ email: EMAIL, team: 'acme' }, { email: 'eve@example.com', team: 'evil' }],
      tokens: [{ email: EMAIL, name: 'admin', scopes: ALL_SCOPES },
        { email: 'eve@example.com', name: 'eve', scopes: ALL_SCOPES }],
    });
    s = await startServer(null, { template: tpl });
    admin = tpl.tokens.admin;
    o = {};
    o.s1 = await make(s, admin, 'servers', { name: 's1', ip_address: '10.0.0.1' });
    o.s2 = await make(s, admin, 'servers', { name: 's2', ip_address: '10.0.0.2' });
    const app = (name, server) => ({ name, server_id: server, repository: 'https://example.com/r.git' });
    o.a1 = await make(s, admin, 'applications', app('a1', o.s1));
    o.a2 = await make(s, admin, 'applications', app('a2', o.s2));
    o.a3 = await make(s, admin, 'applications', app('a3', o.s2));
    o.d1 = await make(s, admin, 'databases', { name: 'd1', engine: 'postgresql', server_id: o.s1 });
    o.d2 = await make(s, admin, 'databases', { name: 'd2', engine: 'redis', server_id: o.s2 });
    o.eveServer = await make(s, tpl.tokens.eve, 'servers', { name: 'e1', ip_address: '10.9.0.1' });
    // Granted: server s1 (so a1 and d1 below it) and application a2 alone.
    lim = await limitedToken(s.db, 'limited', { resources: `servers:${o.s1},applications:${o.a2}` });
  });
  after(() => s?.kill());

  it('creation refuses ids that are not objects of the owner team', async () => {
    for (const bad of ['servers:999999', `servers:${o.eveServer}`, 'widgets:1', 'servers:0', 'servers:x']) {
      const r = await run(['token', 'create', '--email', EMAIL, '--name', 'bad', '--scopes', 'servers:read',
        '--resources', bad, '--database', s.db]);
      assert.equal(r.code, 1, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /resources/, bad);
      assert.equal(r.stdout, '', 'no token printed');
    }
  });

  it('lists show only what is granted, with right totals and Link headers', async () => {
    let r = await s.get('/api/v1/servers', { token: lim });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(ids(r), [o.s1]);
    assert.equal(r.json.meta.total, 1);
    r = await s.get('/api/v1/applications?per_page=1', { token: lim });
    assert.equal(r.status, 200);
    assert.equal(r.json.meta.total, 2, 'a1 under s1 and a2 itself');
    assert.equal(r.json.data.length, 1);
    const link = parseLink(r.h('link'));
    assert.match(link.last, /page=2/, r.h('link'));
    r = await s.get('/api/v1/applications?per_page=1&page=2', { token: lim });
    const seen = [r.json.data[0].id];
    r = await s.get('/api/v1/applications?per_page=1&page=1', { token: lim });
    seen.push(r.json.data[0].id);
    assert.deepEqual(seen.sort((a, b) => a - b), [o.a1, o.a2]);
    r = await s.get('/api/v1/databases', { token: lim });
    assert.deepEqual(ids(r), [o.d1]);
    assert.equal(r.json.meta.total, 1);
    // The unlimited token of the same team still sees everything.
    r = await s.get('/api/v1/applications', { token: admin });
    assert.equal(r.json.meta.total, 3);
  });

  it('out-of-grant objects are 404 exactly like missing ones', async () => {
    const missing = await s.get('/api/v1/servers/999999', { token: lim });
    assertProblem(missing, 404, 'not_found');
    for (const p of [`/api/v1/servers/${o.s2}`, `/api/v1/applications/${o.a3}`, `/api/v1/databases/${o.d2}`,
      `/api/v1/applications/${o.a3}/deployments`]) {
      const r = await s.get(p, { token: lim });
      assertProblem(r, 404, 'not_found', p);
      assert.deepEqual(r.json, { ...missing.json, ...(r.json.instance ? { instance: r.json.instance } : {}) }, p);
    }
    for (const p of [`/api/v1/servers/${o.s1}`, `/api/v1/applications/${o.a1}`, `/api/v1/applications/${o.a2}`,
      `/api/v1/databases/${o.d1}`, `/api/v1/applications/${o.a1}/deployments`]) {
      const r = await s.get(p, { token: lim });
      assert.equal(r.status, 200, `${p}: ${r.text}`);
    }
    assertProblem(await s.patch(`/api/v1/servers/${o.s2}`, { token: lim, body: { region: 'x' } }), 404, 'not_found');
    assertProblem(await s.del(`/api/v1/applications/${o.a3}`, { token: lim }), 404, 'not_found');
    assertProblem(await s.del(`/api/v1/databases/${o.d2}`, { token: lim }), 404, 'not_found');
  });

  it('creates check the parent; servers cannot be created', async () => {
    const app = (server) => ({ name: 'n', server_id: server, repository: 'https://example.com/n.git' });
    let r = await s.post('/api/v1/applications', { token: lim, body: app(o.s1) });
    assert.equal(r.status, 201, r.text);
    assertProblem(await s.post('/api/v1/applications', { token: lim, body: app(o.s2) }), 404, 'not_found');
    r = await s.post('/api/v1/databases', { token: lim, body: { name: 'dn', engine: 'mysql', server_id: o.s1 } });
    assert.equal(r.status, 201, r.text);
    assertProblem(await s.post('/api/v1/databases', { token: lim, body: { name: 'dn', engine: 'mysql', server_id: o.s2 } }),
      404, 'not_found');
    // Moving a granted application under an ungranted server is that 404 too.
    assertProblem(await s.patch(`/api/v1/applications/${o.a2}`, { token: lim, body: { server_id: o.s2 } }), 404,
      'not_found');
    assertProblem(await s.patch(`/api/v1/applications/${o.a2}`, { token: lim, body: { server_id: o.s2 + 1000 } }), 404,
      'not_found');
    assertProblem(await s.post('/api/v1/servers', { token: lim, body: { name: 'x', ip_address: '10.1.1.1' } }), 403,
      'resource_restricted');
  });

  it('jobs follow their chain: deployments, backups, restores', async () => {
    let r = await s.post(`/api/v1/applications/${o.a1}/deploy`, { token: lim });
    assert.equal(r.status, 202, r.text);
    const dep1 = r.json.id;
    assertProblem(await s.post(`/api/v1/applications/${o.a3}/deploy`, { token: lim }), 404, 'not_found');
    r = await s.post(`/api/v1/applications/${o.a3}/deploy`, { token: admin });
    assert.equal(r.status, 202, r.text);
    const dep3 = r.json.id;
    assert.equal((await s.get(`/api/v1/deployments/${dep1}`, { token: lim })).status, 200);
    assertProblem(await s.get(`/api/v1/deployments/${dep3}`, { token: lim }), 404, 'not_found');

    r = await s.post('/api/v1/backups', { token: lim, body: { database_id: o.d1 } });
    assert.equal(r.status, 202, r.text);
    const b1 = r.json.id;
    assertProblem(await s.post('/api/v1/backups', { token: lim, body: { database_id: o.d2 } }), 404, 'not_found');
    r = await s.post('/api/v1/backups', { token: admin, body: { database_id: o.d2 } });
    const b2 = r.json.id;
    assert.equal((await s.get(`/api/v1/backups/${b1}`, { token: lim })).status, 200);
    assertProblem(await s.get(`/api/v1/backups/${b2}`, { token: lim }), 404, 'not_found');
    r = await s.get('/api/v1/backups', { token: lim });
    assert.deepEqual(ids(r), [b1]);
    assert.equal(r.json.meta.total, 1);
    r = await s.get(`/api/v1/backups?database_id=${o.d2}`, { token: lim });
    assert.equal(r.status, 200);
    assert.equal(r.json.meta.total, 0);
    // In the grant, the restore reaches the backup's own rule (it has not
    // completed: 409), never the 404 an ungranted backup or target gets.
    assertProblem(await s.post(`/api/v1/backups/${b1}/restore`, { token: lim }), 409, 'backup_not_completed');
    assertProblem(await s.post(`/api/v1/backups/${b1}/restore`, { token: lim, body: { database_id: o.d2 } }),
      404, 'not_found');
    assertProblem(await s.post(`/api/v1/backups/${b2}/restore`, { token: lim }), 404, 'not_found');
    assertProblem(await s.del(`/api/v1/backups/${b2}`, { token: lim }), 404, 'not_found');
  });

  it('GET /token and token list show the limits', async () => {
    const r = await s.get('/api/v1/token', { token: lim });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.resources, { servers: [o.s1], applications: [o.a2], databases: [] });
    assert.equal(r.json.allowed_ips, null);
    const a = await s.get('/api/v1/token', { token: admin });
    assert.equal(a.json.resources, null);
    const list = await listTokens(s.db);
    const t = list.find((x) => x.name === 'limited');
    assert.deepEqual(t.resources, { servers: [o.s1], applications: [o.a2], databases: [] });
    const table = (await cli(['token', 'list', '--database', s.db])).stdout;
    assert.match(table.split('\n')[0], /RESOURCES\s+ALLOWED IPS/);
    assert.match(table, new RegExp(`servers:${o.s1},applications:${o.a2}`));
  });

  it('cached pages never cross differently limited tokens of one team', async () => {
    const t1 = await limitedToken(s.db, 'only-s1', { resources: `servers:${o.s1}`, scopes: ['servers:read'] });
    const t2 = await limitedToken(s.db, 'only-s2', { resources: `servers:${o.s2}`, scopes: ['servers:read'] });
    // At least three rounds, and on until a replay happened: a node whose
    // change feed is behind (a poll late by more than the health window on
    // a loaded machine) rightly answers from the store, not the cache.
    const hits = async () => Number(/^piora_response_cache_hits_total (\d+)$/m.exec((await s.get('/metrics')).text)[1]);
    const before = await hits();
    for (let i = 0; i < 3 || (i < 40 && (await hits()) === before); i++) {
      for (const [tok, want] of [[t1, [o.s1]], [t2, [o.s2]], [admin, [o.s1, o.s2]]]) {
        const r = await s.get('/api/v1/servers', { token: tok });
        assert.equal(r.status, 200);
        assert.deepEqual(ids(r), want, `round ${i}`);
        assert.equal(r.json.meta.total, want.length);
      }
      assert.equal((await s.get(`/api/v1/servers/${o.s1}`, { token: t1 })).status, 200);
      assertProblem(await s.get(`/api/v1/servers/${o.s1}`, { token: t2 }), 404, 'not_found');
    }
    // The replays happened (the cache was in play, not bypassed).
    assert.ok((await hits()) > before, 'some of these answers were replays from the response cache');
  });
});

describe('address-limited tokens (SPEC 11)', () => {
  let tpl;
  before(async () => {
    tpl = await makeTemplate({ users: [{ email: EMAIL, team: 'acme' }] });
  });

  it('creation validates the list', async () => {
    const bad = ['', '203.0.113.7/24', '10.0.0.0/33', 'not-an-ip', '1.2.3', '2001:db8::/129',
      Array.from({ length: 33 }, (_, i) => `10.0.0.${i}`).join(',')];
    for (const ips of bad) {
      const r = await run(['token', 'create', '--email', EMAIL, '--name', 'x', '--scopes', 'servers:read',
        '--allowed-ips', ips, '--database', tpl.db]);
      assert.equal(r.code, 1, `${JSON.stringify(ips)}: ${r.stderr}`);
      assert.match(r.stderr, /allowed_ips/);
    }
  });

  it('the client address from --trusted-proxies decides; refusals are counted', { timeout: T(60000) }, async (t) => {
    const s = await startServer(t, { template: tpl, args: ['--trusted-proxies', '127.0.0.1'] });
    const tok = await limitedToken(s.db, 'ci', { ips: '203.0.113.0/24, 2001:db8:1234::/48', scopes: ['servers:read'] });
    const xff = (a) => ({ token: tok, headers: { 'X-Forwarded-For': a } });
    for (const a of ['203.0.113.9', '::ffff:203.0.113.9', '2001:db8:1234::5']) {
      const r = await s.get('/api/v1/servers', xff(a));
      assert.equal(r.status, 200, `${a}: ${r.text}`);
    }
    for (const a of ['198.51.100.1', '2001:db8:1235::1', '203.0.114.1']) {
      assertProblem(await s.get('/api/v1/servers', xff(a)), 403, 'ip_not_allowed', a);
    }
    // The proxy itself (no header) is not an allowed address.
    assertProblem(await s.get('/api/v1/servers', { token: tok }), 403, 'ip_not_allowed');
    // Before the scope check: a scope this token lacks still answers ip_not_allowed.
    assertProblem(await s.post('/api/v1/servers', { ...xff('198.51.100.1'), body: { name: 'x', ip_address: '10.0.0.1' } }),
      403, 'ip_not_allowed');
    assertProblem(await s.post('/api/v1/servers', { ...xff('203.0.113.9'), body: { name: 'x', ip_address: '10.0.0.1' } }),
      403, 'insufficient_scope');
    const m = (await s.get('/metrics')).text;
    assert.match(m, /^piora_auth_failures_total\{reason="ip_not_allowed"\} 5$/m);
    // Usage log rows for the refusals (the writer flushes every second).
    const id = (await listTokens(s.db)).find((x) => x.name === 'ci').id;
    let rows = [];
    for (let i = 0; i < 100; i++) {
      const r = await cli(['token', 'usage', String(id), '--json', '--status', '403', '--database', s.db]);
      rows = JSON.parse(r.stdout);
      if (rows.length >= 5) break;
      await sleep(T(100));
    }
    const refused = rows.reduce((n, x) => n + (x.count ?? 1), 0);
    assert.ok(refused >= 5, `usage rows for 403: ${JSON.stringify(rows)}`);
    assert.ok(rows.some((x) => x.addr === '198.51.100.1'), 'the refused client address is recorded');
  });

  it('without --trusted-proxies, X-Forwarded-For is ignored', async (t) => {
    const s = await startServer(t, { template: tpl });
    const tok = await limitedToken(s.db, 'ci2', { ips: '203.0.113.0/24', scopes: ['servers:read'] });
    assertProblem(await s.get('/api/v1/servers', { token: tok, headers: { 'X-Forwarded-For': '203.0.113.9' } }), 403,
      'ip_not_allowed');
    const loop = await limitedToken(s.db, 'loop', { ips: '127.0.0.0/8', scopes: ['servers:read'] });
    assert.equal((await s.get('/api/v1/servers', { token: loop })).status, 200);
    const every = await limitedToken(s.db, 'every', { ips: '0.0.0.0/0,::/0', scopes: ['servers:read'] });
    assert.equal((await s.get('/api/v1/servers', { token: every })).status, 200);
    const r = await s.get('/api/v1/token', { token: every });
    assert.deepEqual(r.json.allowed_ips, ['0.0.0.0/0', '::/0']);
  });
});

// SQLite gave a new row the id of a deleted newest one: a token limited to
// "servers:N" reached the next server made after server N was deleted.
describe('a deleted object’s id is never given again (migration 0016)', () => {
  it('a token limited to a deleted server does not reach the next server made', async (t) => {
    const tpl = await makeTemplate({
      users: [{ email: EMAIL, team: 'acme' }],
      tokens: [{ email: EMAIL, name: 'admin', scopes: ALL_SCOPES }],
    });
    const s = await startServer(t, { template: tpl });
    const admin = tpl.tokens.admin;
    await make(s, admin, 'servers', { name: 'kept', ip_address: '10.0.0.1' });
    const doomed = await make(s, admin, 'servers', { name: 'doomed', ip_address: '10.0.0.2' });
    const app = await make(s, admin, 'applications', { name: 'app', server_id: doomed, repository: 'https://example.com/r.git' });
    const lim = await limitedToken(s.db, 'only-doomed', { resources: `servers:${doomed}` });
    assert.equal((await s.get(`/api/v1/servers/${doomed}`, { token: lim })).status, 200);
    assert.equal((await s.del(`/api/v1/applications/${app}`, { token: admin })).status, 204);
    assert.equal((await s.del(`/api/v1/servers/${doomed}`, { token: admin })).status, 204);

    const next = await make(s, admin, 'servers', { name: 'next', ip_address: '10.0.0.3' });
    assert.notEqual(next, doomed, 'the new server has an id of its own');
    assertProblem(await s.get(`/api/v1/servers/${next}`, { token: lim }), 404, 'not_found');
    const list = await s.get('/api/v1/servers', { token: lim });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.data, []);
    assert.equal(list.json.meta.total, 0);
    const nextApp = await make(s, admin, 'applications', { name: 'app2', server_id: next, repository: 'https://example.com/r.git' });
    assert.notEqual(nextApp, app, 'the new application has an id of its own');
    assertProblem(await s.get(`/api/v1/applications/${nextApp}`, { token: lim }), 404, 'not_found');
  });
});
