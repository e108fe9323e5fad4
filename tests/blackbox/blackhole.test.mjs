// Issue 9 / SPEC 10 "Connect timeout 10 s": a server whose address
// black-holes SYNs (a network namespace this test makes, with an nftables
// drop rule; lib/netns.mjs) is `unreachable` once the connect timeout
// passes, for POST /servers/{id}/check and for a deployment, and neither
// holds up the rest of the API while it waits. A closed port would be
// refused at once; only a real black hole makes the timeout do the work.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeTemplate, startServer, one, sleep, T, ALL_SCOPES } from './lib/piora.mjs';
import { spawn } from 'node:child_process';
import { blackhole, gone, sweep } from './lib/netns.mjs';

const CONNECT_TIMEOUT_MS = 10000;
// The bound: the timeout, plus the time to notice and record it.
const BOUND_MS = T(CONNECT_TIMEOUT_MS + 5000);

let tpl;
let TOK;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'bo@hole.test', team: 'hole' }],
    tokens: [{ email: 'bo@hole.test', name: 'full', scopes: ALL_SCOPES.join(','), expiresIn: 'never' }],
  });
  TOK = tpl.tokens.full;
});

// A piora serve and a server object at a fresh black-holed address; the
// namespace goes when the test ends, whatever happens.
async function voidServer(t, name) {
  const bh = blackhole();
  t.after(() => bh.cleanup());
  const s = await startServer(t, { template: tpl });
  const sv = await s.post('/api/v1/servers', {
    token: TOK, body: { name, ip_address: bh.addr, ssh_port: 22, ssh_user: 'deploy' },
  });
  assert.equal(sv.status, 201, sv.text);
  return { bh, s, server: one(sv.json) };
}

describe('a black-holed server', () => {
  it('POST /servers/{id}/check answers unreachable after the connect timeout; the namespace is removed', async (t) => {
    const { bh, s, server } = await voidServer(t, 'void-1');

    // The check waits on SSH in the background, not on an HTTP thread.
    let t0 = Date.now();
    // (not s.post: its 10 s client timeout is the bound being measured)
    const check = fetch(`${s.base}/api/v1/servers/${server.id}/check`, {
      method: 'POST', headers: { Authorization: `Bearer ${TOK}` }, signal: AbortSignal.timeout(BOUND_MS + T(10000)),
    }).then(async (r) => ({ status: r.status, text: await r.text() }));
    await sleep(500);
    const hz0 = Date.now();
    await s.healthy();
    const other = await s.get(`/api/v1/servers/${server.id}`, { token: TOK });
    assert.equal(other.status, 200);
    assert.ok(Date.now() - hz0 < T(2000), 'the API answers while the check waits');
    const c = await check;
    const checkMs = Date.now() - t0;
    assert.equal(c.status, 200, c.text);
    assert.equal(JSON.parse(c.text).status, 'unreachable', c.text);
    assert.ok(checkMs >= CONNECT_TIMEOUT_MS - 1500, `a black hole is waited out, not refused (${checkMs} ms)`);
    assert.ok(checkMs <= BOUND_MS, `check answered in ${checkMs} ms, bound ${BOUND_MS}`);
    const after = one((await s.get(`/api/v1/servers/${server.id}`, { token: TOK })).json);
    assert.equal(after.status, 'unreachable');
    assert.ok(after.checked_at, 'checked_at is set');

    await s.stop();
    bh.cleanup();
    assert.ok(gone(bh), 'the namespace and its veth pair are gone');
  });

  it('a deployment to it fails unreachable within the bound', async (t) => {
    const { bh, s, server } = await voidServer(t, 'void-2');
    const ap = await s.post('/api/v1/applications', {
      token: TOK,
      body: { name: 'void-app', server_id: server.id, repository: 'https://git.example.com/void.git', domain: 'void.example.com', deploy_script: 'true' },
    });
    assert.equal(ap.status, 201, ap.text);
    const t0 = Date.now();
    const d = await s.post(`/api/v1/applications/${one(ap.json).id}/deploy`, { token: TOK });
    assert.equal(d.status, 202, d.text);
    const id = one(d.json).id;
    let dep;
    while (Date.now() - t0 < BOUND_MS + T(5000)) {
      dep = one((await s.get(`/api/v1/deployments/${id}`, { token: TOK })).json);
      if (['succeeded', 'failed', 'cancelled'].includes(dep.status)) break;
      await sleep(200);
    }
    const depMs = Date.now() - t0;
    assert.equal(dep.status, 'failed', JSON.stringify(dep));
    assert.equal(dep.error, 'unreachable', JSON.stringify(dep));
    assert.ok(depMs >= CONNECT_TIMEOUT_MS - 1500, `the deployment waited the timeout out (${depMs} ms)`);
    assert.ok(depMs <= BOUND_MS, `deployment failed in ${depMs} ms, bound ${BOUND_MS}`);
    const apNow = one((await s.get(`/api/v1/applications/${one(ap.json).id}`, { token: TOK })).json);
    assert.equal(apNow.status, 'failed');

    await s.stop();
    bh.cleanup();
    assert.ok(gone(bh), 'the namespace and its veth pair are gone');
  });

  it('a namespace left by a killed run is swept by the next one', async () => {
    // A child makes a black hole and is SIGKILLed (no exit handler runs).
    const lib = new URL('./lib/netns.mjs', import.meta.url).href;
    const child = spawn(process.execPath, ['--input-type=module', '-e',
      `import { blackhole } from ${JSON.stringify(lib)}; const b = blackhole();
       process.stdout.write(JSON.stringify(b) + '\\n'); setInterval(() => {}, 1000);`],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    const left = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(JSON.parse(out)); });
      child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    assert.equal(gone(left), false, 'the killed run left its namespace');
    sweep();
    assert.ok(gone(left), 'the sweep removed it and its veth pair');
  });
});
