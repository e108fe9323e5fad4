// SPEC 2 scopes and SPEC 3 step 5: 403 insufficient_scope with its challenge
// and body, X-OAuth-Scopes / X-Accepted-OAuth-Scopes, write implies read, and
// the deploy-only token that may follow its deployments.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeTemplate, startServer, assertProblem, parseChallenge, scopeHeader, one, ALL_SCOPES } from './lib/piora.mjs';

let tpl;
const E = 'sam@scopes.test';

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: E, team: 'scopes' }],
    tokens: [
      { email: E, name: 'full', scopes: ALL_SCOPES.join(',') },
      { email: E, name: 'sread', scopes: 'servers:read' },
      { email: E, name: 'swrite', scopes: 'servers:write' },
      { email: E, name: 'deploy', scopes: 'applications:deploy' },
      { email: E, name: 'aread', scopes: 'applications:read' },
      { email: E, name: 'awrite', scopes: 'applications:write' },
      { email: E, name: 'mixed', scopes: 'servers:read,databases:read,backups:write' },
      { email: E, name: 'dread', scopes: 'databases:read' },
      { email: E, name: 'dwrite', scopes: 'databases:write' },
      { email: E, name: 'bread', scopes: 'backups:read' },
      { email: E, name: 'bwrite', scopes: 'backups:write' },
    ],
  });
});

// Creates a server, an application, a database and a backup with the full token.
async function world(s) {
  const tok = tpl.tokens.full;
  const srv = await s.post('/api/v1/servers', { token: tok, body: { name: 'web-1', ip_address: '192.0.2.10' } });
  assert.equal(srv.status, 201, srv.text);
  const server = one(srv.json);
  const app = await s.post('/api/v1/applications', {
    token: tok,
    body: { name: 'shop', server_id: server.id, repository: 'https://github.com/example/shop.git', domain: 'shop.example.com' },
  });
  assert.equal(app.status, 201, app.text);
  const db = await s.post('/api/v1/databases', {
    token: tok, body: { name: 'shopdb', engine: 'postgresql', version: '16', server_id: server.id },
  });
  assert.equal(db.status, 201, db.text);
  const database = one(db.json);
  const bk = await s.post('/api/v1/backups', { token: tok, body: { database_id: database.id } });
  assert.equal(bk.status, 202, bk.text);
  return { server, app: one(app.json), database, backup: one(bk.json) };
}

function assert403(r, needed, granted) {
  const b = assertProblem(r, 403, 'insufficient_scope');
  const c = parseChallenge(r.h('www-authenticate'));
  assert.equal(c.scheme, 'Bearer');
  assert.equal(c.params.realm, 'piora');
  assert.equal(c.params.error, 'insufficient_scope', c.raw);
  assert.match(c.raw, /^Bearer realm="piora", error="insufficient_scope", /);
  if (needed) {
    assert.ok(c.params.scope.split(' ').includes(needed), `challenge scope ${c.raw} names ${needed}`);
    assert.ok(Array.isArray(b.required_scopes), 'required_scopes array');
    assert.ok(b.required_scopes.includes(needed), `required_scopes ${JSON.stringify(b.required_scopes)}`);
  }
  assert.ok(Array.isArray(b.granted_scopes), 'granted_scopes array');
  if (granted) assert.deepEqual([...b.granted_scopes].sort(), [...granted].sort());
  assert.deepEqual(scopeHeader(r.h('x-oauth-scopes'))?.sort(), [...b.granted_scopes].sort(), 'X-OAuth-Scopes on a 403');
  assert.ok(r.h('x-accepted-oauth-scopes'), 'X-Accepted-OAuth-Scopes on a 403');
  return b;
}

describe('scopes (SPEC 2, 3.5)', () => {
  it('a read token cannot write: 403 with the exact challenge and body', async (t) => {
    const s = await startServer(t, { template: tpl });
    const r = await s.post('/api/v1/servers', { token: tpl.tokens.sread, body: { name: 'x', ip_address: '192.0.2.1' } });
    assert403(r, 'servers:write', ['servers:read']);
    assert.equal(r.h('www-authenticate'), 'Bearer realm="piora", error="insufficient_scope", scope="servers:write"');
    assert.deepEqual(r.json.required_scopes, ['servers:write']);
    assert.deepEqual(r.json.granted_scopes, ['servers:read']);
    // Nothing was created.
    const l = await s.get('/api/v1/servers', { token: tpl.tokens.sread });
    assert.equal(l.json.meta.total, 0);
    await s.stop();
  });

  it('the scope check comes before the object lookup (403, not 404, for a missing id)', async (t) => {
    const s = await startServer(t, { template: tpl });
    assert403(await s.del('/api/v1/servers/424242', { token: tpl.tokens.sread }), 'servers:write');
    assert403(await s.patch('/api/v1/servers/424242', { token: tpl.tokens.sread, body: { name: 'y' } }), 'servers:write');
    assert403(await s.get('/api/v1/databases/424242', { token: tpl.tokens.sread }), 'databases:read');
    await s.stop();
  });

  it('X-OAuth-Scopes and X-Accepted-OAuth-Scopes on every authenticated answer', async (t) => {
    const s = await startServer(t, { template: tpl });
    const r = await s.get('/api/v1/servers', { token: tpl.tokens.mixed });
    assert.equal(r.status, 200);
    const granted = r.h('x-oauth-scopes');
    assert.match(granted, /^[a-z]+:[a-z]+(, [a-z]+:[a-z]+)*$/, `comma+space separated: ${granted}`);
    assert.deepEqual(scopeHeader(granted).sort(), ['backups:write', 'databases:read', 'servers:read']);
    assert.ok(scopeHeader(r.h('x-accepted-oauth-scopes')).includes('servers:read'), r.h('x-accepted-oauth-scopes'));
    // On a 404 too, and with the endpoint's own accepted scopes.
    const nf = await s.get('/api/v1/databases/31337', { token: tpl.tokens.mixed });
    assertProblem(nf, 404, 'not_found');
    assert.deepEqual(scopeHeader(nf.h('x-oauth-scopes')).sort(), ['backups:write', 'databases:read', 'servers:read']);
    assert.ok(scopeHeader(nf.h('x-accepted-oauth-scopes')).includes('databases:read'));
    // backups:write implies backups:read.
    const b = await s.get('/api/v1/backups', { token: tpl.tokens.mixed });
    assert.equal(b.status, 200, b.text);
    assert.ok(scopeHeader(b.h('x-accepted-oauth-scopes')).includes('backups:read'));
    // GET /token needs only a valid token; the headers are still there.
    const me = await s.get('/api/v1/token', { token: tpl.tokens.deploy });
    assert.equal(me.status, 200);
    assert.deepEqual(scopeHeader(me.h('x-oauth-scopes')), ['applications:deploy']);
    assert.notEqual(me.h('x-accepted-oauth-scopes'), null, 'X-Accepted-OAuth-Scopes present (may be empty)');
    await s.stop();
  });

  it('X:write includes X:read for every resource, and nothing else', async (t) => {
    const s = await startServer(t, { template: tpl });
    const w = await world(s);
    const cases = [
      ['swrite', '/api/v1/servers', `/api/v1/servers/${w.server.id}`, '/api/v1/applications', 'applications:read'],
      ['awrite', '/api/v1/applications', `/api/v1/applications/${w.app.id}`, '/api/v1/databases', 'databases:read'],
      ['dwrite', '/api/v1/databases', `/api/v1/databases/${w.database.id}`, '/api/v1/backups', 'backups:read'],
      ['bwrite', '/api/v1/backups', `/api/v1/backups/${w.backup.id}`, '/api/v1/servers', 'servers:read'],
    ];
    for (const [name, list, item, other, otherScope] of cases) {
      const tok = tpl.tokens[name];
      const l = await s.get(list, { token: tok });
      assert.equal(l.status, 200, `${name} GET ${list}: ${l.text}`);
      assert.equal(l.json.meta.total, 1, `${name} sees its object`);
      assert.equal((await s.get(item, { token: tok })).status, 200, `${name} GET ${item}`);
      assert.deepEqual(scopeHeader(l.h('x-oauth-scopes')), [name === 'swrite' ? 'servers:write'
        : name === 'awrite' ? 'applications:write' : name === 'dwrite' ? 'databases:write' : 'backups:write']);
      assert403(await s.get(other, { token: tok }), otherScope);
    }
    await s.stop();
  });

  it('read tokens cannot write any resource', async (t) => {
    const s = await startServer(t, { template: tpl });
    const w = await world(s);
    assert403(await s.patch(`/api/v1/applications/${w.app.id}`, { token: tpl.tokens.aread, body: { branch: 'dev' } }), 'applications:write');
    assert403(await s.post('/api/v1/databases', {
      token: tpl.tokens.dread, body: { name: 'x', engine: 'redis', version: '7', server_id: w.server.id },
    }), 'databases:write');
    assert403(await s.post('/api/v1/backups', { token: tpl.tokens.bread, body: { database_id: w.database.id } }), 'backups:write');
    assert403(await s.del(`/api/v1/backups/${w.backup.id}`, { token: tpl.tokens.bread }), 'backups:write');
    assert403(await s.post(`/api/v1/backups/${w.backup.id}/restore`, { token: tpl.tokens.bread }), 'backups:write');
    assert403(await s.del(`/api/v1/servers/${w.server.id}`, { token: tpl.tokens.sread }), 'servers:write');
    // Still all there.
    assert.equal((await s.get(`/api/v1/backups/${w.backup.id}`, { token: tpl.tokens.bread })).status, 200);
    await s.stop();
  });

  it('a deploy-only token deploys and follows its deployments, and reads nothing else', async (t) => {
    const s = await startServer(t, { template: tpl });
    const w = await world(s);
    const tok = tpl.tokens.deploy;
    const d = await s.post(`/api/v1/applications/${w.app.id}/deploy`, { token: tok });
    assert.equal(d.status, 202, d.text);
    const dep = one(d.json);
    assert.equal(dep.application_id, w.app.id);
    const g = await s.get(`/api/v1/deployments/${dep.id}`, { token: tok });
    assert.equal(g.status, 200, g.text);
    assert.equal(one(g.json).id, dep.id);
    assert.ok(scopeHeader(g.h('x-accepted-oauth-scopes')).includes('applications:deploy'), g.h('x-accepted-oauth-scopes'));
    const l = await s.get(`/api/v1/applications/${w.app.id}/deployments`, { token: tok });
    assert.equal(l.status, 200, l.text);
    assert.ok(l.json.data.some((x) => x.id === dep.id));
    assert403(await s.get('/api/v1/applications', { token: tok }), 'applications:read', ['applications:deploy']);
    assert403(await s.get(`/api/v1/applications/${w.app.id}`, { token: tok }), 'applications:read');
    assert403(await s.post('/api/v1/applications', { token: tok, body: { name: 'x' } }), 'applications:write');
    assert403(await s.get('/api/v1/servers', { token: tok }), 'servers:read');
    await s.stop();
  });

  it('applications:read and applications:write cannot deploy; read can follow deployments', async (t) => {
    const s = await startServer(t, { template: tpl });
    const w = await world(s);
    assert403(await s.post(`/api/v1/applications/${w.app.id}/deploy`, { token: tpl.tokens.aread }), 'applications:deploy');
    assert403(await s.post(`/api/v1/applications/${w.app.id}/deploy`, { token: tpl.tokens.awrite }), 'applications:deploy');
    const d = await s.post(`/api/v1/applications/${w.app.id}/deploy`, { token: tpl.tokens.full });
    assert.equal(d.status, 202);
    const id = one(d.json).id;
    assert.equal((await s.get(`/api/v1/deployments/${id}`, { token: tpl.tokens.aread })).status, 200);
    assert.equal((await s.get(`/api/v1/applications/${w.app.id}/deployments`, { token: tpl.tokens.aread })).status, 200);
    assert403(await s.get(`/api/v1/deployments/${id}`, { token: tpl.tokens.sread }));
    await s.stop();
  });
});
