// SPEC 3 step 6 and SPEC 2 "Owner": a token never sees another team's
// objects. Another team's id answers exactly like an id that never existed,
// and lists only ever hold the caller's team.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeTemplate, startServer, assertProblem, one, ALL_SCOPES } from './lib/piora.mjs';

let tpl;

before(async () => {
  tpl = await makeTemplate({
    users: [
      { email: 'alice@alpha.test', team: 'alpha' },
      { email: 'bob@beta.test', team: 'beta' },
      { email: 'carl@alpha.test', team: 'alpha' },
    ],
    tokens: [
      { email: 'alice@alpha.test', name: 'a', scopes: ALL_SCOPES.join(',') },
      { email: 'bob@beta.test', name: 'b', scopes: ALL_SCOPES.join(',') },
      { email: 'carl@alpha.test', name: 'c', scopes: 'servers:read' },
    ],
  });
});

async function populate(s, tok, tag) {
  const srv = one((await s.post('/api/v1/servers', { token: tok, body: { name: `${tag}-srv`, ip_address: '198.51.100.7' } })).json);
  const app = one((await s.post('/api/v1/applications', {
    token: tok,
    body: { name: `${tag}-app`, server_id: srv.id, repository: 'https://github.com/example/app.git', domain: `${tag}.example.com` },
  })).json);
  const db = one((await s.post('/api/v1/databases', {
    token: tok, body: { name: `${tag}-db`, engine: 'mysql', version: '8.0', server_id: srv.id },
  })).json);
  const dep = one((await s.post(`/api/v1/applications/${app.id}/deploy`, { token: tok })).json);
  const bk = one((await s.post('/api/v1/backups', { token: tok, body: { database_id: db.id } })).json);
  for (const [k, v] of Object.entries({ srv, app, db, dep, bk })) assert.ok(v && v.id, `${tag} ${k} created`);
  return { srv, app, db, dep, bk };
}

// The 404 body with the id itself masked, so "another team's" and "never
// existed" can be compared byte for byte.
function masked(r, id) {
  const re = new RegExp(`\\b${id}\\b`, 'g');
  const walk = (v) => {
    if (typeof v === 'string') return v.replace(re, '{id}');
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  assert.ok(r.json, `404 body is JSON: ${r.text}`);
  return JSON.stringify(walk(r.json));
}

describe('team isolation (SPEC 3.6)', () => {
  it('another team\'s object is a 404 identical to a missing id, on every route', async (t) => {
    const s = await startServer(t, { template: tpl });
    const A = await populate(s, tpl.tokens.a, 'alpha');
    const B = await populate(s, tpl.tokens.b, 'beta');
    const bt = tpl.tokens.b;
    // A deleted id of B's own is a real "does not exist".
    const gone = one((await s.post('/api/v1/servers', { token: bt, body: { name: 'gone', ip_address: '198.51.100.9' } })).json);
    assert.equal((await s.del(`/api/v1/servers/${gone.id}`, { token: bt })).status, 204);
    const missing = await s.get(`/api/v1/servers/${gone.id}`, { token: bt });
    assertProblem(missing, 404, 'not_found');
    const foreign = await s.get(`/api/v1/servers/${A.srv.id}`, { token: bt });
    assertProblem(foreign, 404, 'not_found');
    assert.equal(masked(foreign, A.srv.id), masked(missing, gone.id), 'identical bodies');
    assert.equal(foreign.h('content-type'), missing.h('content-type'));

    const probes = [
      ['GET', `/api/v1/servers/${A.srv.id}`],
      ['PATCH', `/api/v1/servers/${A.srv.id}`, { name: 'stolen' }],
      ['DELETE', `/api/v1/servers/${A.srv.id}`],
      ['GET', `/api/v1/applications/${A.app.id}`],
      ['PATCH', `/api/v1/applications/${A.app.id}`, { branch: 'evil' }],
      ['DELETE', `/api/v1/applications/${A.app.id}`],
      ['POST', `/api/v1/applications/${A.app.id}/deploy`],
      ['GET', `/api/v1/applications/${A.app.id}/deployments`],
      ['GET', `/api/v1/deployments/${A.dep.id}`],
      ['GET', `/api/v1/databases/${A.db.id}`],
      ['PATCH', `/api/v1/databases/${A.db.id}`, { version: '9' }],
      ['DELETE', `/api/v1/databases/${A.db.id}`],
      ['GET', `/api/v1/backups/${A.bk.id}`],
      ['POST', `/api/v1/backups/${A.bk.id}/restore`],
      ['DELETE', `/api/v1/backups/${A.bk.id}`],
    ];
    const absent = 987654321;
    for (const [m, p, body] of probes) {
      const r = await s.req(m, p, { token: bt, body });
      assertProblem(r, 404, 'not_found', `${m} ${p}`);
      const id = Number(p.split('/')[4]);
      const r0 = await s.req(m, p.replace(`/${id}`, `/${absent}`), { token: bt, body });
      assert.equal(r0.status, 404, `${m} on a missing id`);
      assert.equal(masked(r, id), masked(r0, absent), `${m} ${p}: same body as a missing id`);
    }
    // Alpha's objects are untouched.
    const at = tpl.tokens.a;
    assert.equal(one((await s.get(`/api/v1/servers/${A.srv.id}`, { token: at })).json).name, 'alpha-srv');
    assert.equal(one((await s.get(`/api/v1/applications/${A.app.id}`, { token: at })).json).branch, 'main');
    assert.equal(one((await s.get(`/api/v1/databases/${A.db.id}`, { token: at })).json).version, '8.0');
    assert.equal((await s.get(`/api/v1/backups/${A.bk.id}`, { token: at })).status, 200);
    const deps = await s.get(`/api/v1/applications/${A.app.id}/deployments`, { token: at });
    assert.equal(deps.json.meta.total, 1, 'beta\'s deploy attempt created nothing');
    assert.ok(B.srv.id);
    await s.stop();
  });

  it('lists hold only the caller\'s team; a teammate sees the team\'s objects', async (t) => {
    const s = await startServer(t, { template: tpl });
    const A = await populate(s, tpl.tokens.a, 'alpha');
    const B = await populate(s, tpl.tokens.b, 'beta');
    const lists = {
      servers: '/api/v1/servers', applications: '/api/v1/applications',
      databases: '/api/v1/databases', backups: '/api/v1/backups',
    };
    for (const [who, tok, mine, theirs] of [['alpha', tpl.tokens.a, A, B], ['beta', tpl.tokens.b, B, A]]) {
      for (const [k, p] of Object.entries(lists)) {
        const r = await s.get(`${p}?per_page=100`, { token: tok });
        assert.equal(r.status, 200, `${who} ${p}`);
        assert.equal(r.json.meta.total, 1, `${who} ${p} total counts only its team`);
        const ids = r.json.data.map((x) => x.id);
        const key = { servers: 'srv', applications: 'app', databases: 'db', backups: 'bk' }[k];
        assert.deepEqual(ids, [mine[key].id], `${who} ${p}`);
        assert.ok(!ids.includes(theirs[key].id));
      }
      const d = await s.get(`/api/v1/applications/${mine.app.id}/deployments`, { token: tok });
      assert.deepEqual(d.json.data.map((x) => x.id), [mine.dep.id]);
    }
    // Filtering backups by the other team's database shows nothing of theirs.
    const f = await s.get(`/api/v1/backups?database_id=${A.db.id}`, { token: tpl.tokens.b });
    if (f.status === 200) assert.deepEqual(f.json.data, [], 'no foreign backups through the filter');
    else assert.ok([404, 422].includes(f.status), `filter by a foreign database: ${f.status}`);
    // Carl is in alpha: he sees Alice's server, not Bob's.
    const c = await s.get('/api/v1/servers', { token: tpl.tokens.c });
    assert.deepEqual(c.json.data.map((x) => x.id), [A.srv.id]);
    await s.stop();
  });

  it('references to another team\'s objects are refused (422 on server_id, no job on database_id)', async (t) => {
    const s = await startServer(t, { template: tpl });
    const A = await populate(s, tpl.tokens.a, 'alpha');
    const bt = tpl.tokens.b;
    const app = await s.post('/api/v1/applications', {
      token: bt,
      body: { name: 'sneaky', server_id: A.srv.id, repository: 'https://github.com/example/x.git', domain: 'x.example.com' },
    });
    const b = assertProblem(app, 422, 'validation_failed');
    assert.ok(b.errors.some((e) => e.field === 'server_id'), JSON.stringify(b.errors));
    const db = await s.post('/api/v1/databases', {
      token: bt, body: { name: 'sneaky', engine: 'redis', version: '7', server_id: A.srv.id },
    });
    assertProblem(db, 422, 'validation_failed');
    const bk = await s.post('/api/v1/backups', { token: bt, body: { database_id: A.db.id } });
    assert.ok([404, 422].includes(bk.status), `backup of a foreign database: ${bk.status} ${bk.text}`);
    // Moving one's own application onto a foreign server is refused too.
    const B = await populate(s, bt, 'beta');
    const mv = await s.patch(`/api/v1/applications/${B.app.id}`, { token: bt, body: { server_id: A.srv.id } });
    assertProblem(mv, 422, 'validation_failed');
    assert.equal(one((await s.get(`/api/v1/applications/${B.app.id}`, { token: bt })).json).server_id, B.srv.id);
    const total = (await s.get('/api/v1/backups', { token: tpl.tokens.a })).json.meta.total;
    assert.equal(total, 1, 'alpha still has only its own backup');
    await s.stop();
  });
});
