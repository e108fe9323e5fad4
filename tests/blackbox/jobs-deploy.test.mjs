// The job runner end to end (issue 9, SPEC 10): a real `piora serve`, the
// test sshd and a bare git repository made here. A deployment checks the
// repository out on the server and runs its script there; what the API
// says must be what happened on the server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeTemplate, startServer, one, sleep, T, ALL_SCOPES } from './lib/piora.mjs';
import { startSshd } from './lib/sshd.mjs';
import { makeRepo } from './lib/gitrepo.mjs';

let tpl;
let TOK;
let DEPLOY;
let sshd;
let s;
let server;
let repo;

const LEASE = 3;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'ops@runner.test', team: 'runner' }],
    tokens: [
      { email: 'ops@runner.test', name: 'full', scopes: ALL_SCOPES.join(','), expiresIn: 'never' },
      { email: 'ops@runner.test', name: 'deploy-only', scopes: 'applications:deploy', expiresIn: 'never' },
    ],
  });
  TOK = tpl.tokens.full;
  DEPLOY = tpl.tokens['deploy-only'];
  sshd = await startSshd({ users: ['app'] });
  s = await startServer(null, { template: tpl, args: ['--job-lease', String(LEASE), '--job-timeout', '300'] });
  const key = await s.get('/api/v1/ssh-key', { token: TOK });
  assert.equal(key.status, 200, key.text);
  sshd.authorize('app', key.json.public_key);
  repo = makeRepo(sshd, 'app', 'site');
  const sv = await s.post('/api/v1/servers', { token: TOK, body: { name: 'web-1', ip_address: '127.0.0.1', ssh_port: sshd.port, ssh_user: sshd.userName('app') } });
  assert.equal(sv.status, 201, sv.text);
  server = one(sv.json);
});
after(async () => {
  s?.kill();
  await sshd?.stop();
});

const home = () => sshd.home('app');

async function mkApp(srv, name, script, extra = {}) {
  const r = await srv.post('/api/v1/applications', {
    token: TOK, body: { name, server_id: server.id, repository: repo.url, deploy_script: script, ...extra },
  });
  assert.equal(r.status, 201, r.text);
  return one(r.json);
}

async function deploy(srv, app, body, token = TOK) {
  const r = await srv.post(`/api/v1/applications/${app.id}/deploy`, { token, body });
  assert.equal(r.status, 202, r.text);
  return one(r.json);
}

async function waitFor(srv, id, pred, ms = 30000, token = TOK) {
  const end = Date.now() + T(ms);
  let d;
  while (Date.now() < end) {
    const r = await srv.get(`/api/v1/deployments/${id}`, { token });
    assert.equal(r.status, 200, r.text);
    d = one(r.json);
    if (pred(d)) return d;
    await sleep(100);
  }
  assert.fail(`deployment ${id} never reached the state: ${JSON.stringify(d)}`);
}
const ended = (d) => !['queued', 'running'].includes(d.status);

async function logOf(srv, id, token = TOK) {
  const r = await srv.get(`/api/v1/deployments/${id}/log?offset=0`, { token });
  assert.equal(r.status, 200, r.text);
  return r;
}

const remote = (pattern) => {
  try {
    return execFileSync('pgrep', ['-u', sshd.userName('app'), '-f', pattern]).toString().trim();
  } catch { return ''; }
};

describe('deployments run on the server', () => {
  it('checks the repository out, runs the script there, records the commit and the log', async () => {
    const app = await mkApp(s, 'site', 'echo "deploying $PIORA_REF at $PIORA_COMMIT"; cat README.md; echo "$PIORA_DEPLOYMENT_ID" > deployed.txt; echo warn >&2');
    const dep = await deploy(s, app, { ref: 'main' });
    assert.equal(dep.status, 'queued');
    const d = await waitFor(s, dep.id, ended);
    assert.equal(d.status, 'succeeded', JSON.stringify(d));
    assert.equal(d.error, null);
    assert.equal(d.exit_code, 0);
    assert.equal(d.ref, 'main');
    assert.equal(d.commit, repo.head);
    assert.ok(d.started_at && d.finished_at);
    assert.equal(d.triggered_by.type, 'token');
    assert.equal(d.triggered_by.name, 'full');
    assert.ok(d.triggered_by.id > 0);
    // on the server, in ~/piora/apps/<id>, written by the script
    const dir = path.join(home(), 'piora', 'apps', String(app.id));
    assert.equal(readFileSync(path.join(dir, 'deployed.txt'), 'utf8').trim(), String(dep.id));
    assert.ok(existsSync(path.join(dir, 'README.md')));
    const log = await logOf(s, dep.id);
    assert.match(log.headers.get('content-type'), /^text\/plain/);
    assert.equal(log.headers.get('x-log-complete'), 'true');
    assert.match(log.text, new RegExp(`deploying main at ${repo.head}`));
    assert.match(log.text, /# site/);
    assert.match(log.text, /warn/);
    // offset: the rest from byte N
    const tail = await s.get(`/api/v1/deployments/${dep.id}/log?offset=5`, { token: TOK });
    assert.equal(tail.text, log.text.slice(5));
    const past = await s.get(`/api/v1/deployments/${dep.id}/log?offset=${log.text.length + 100}`, { token: TOK });
    assert.equal(past.status, 200);
    assert.equal(past.text, '');
    const bad = await s.get(`/api/v1/deployments/${dep.id}/log?offset=-1`, { token: TOK });
    assert.equal(bad.status, 422);
    const a = await s.get(`/api/v1/applications/${app.id}`, { token: TOK });
    assert.equal(one(a.json).status, 'running');
    // the second deployment fetches and resets the same checkout
    const again = await waitFor(s, (await deploy(s, app)).id, ended);
    assert.equal(again.status, 'succeeded', JSON.stringify(again));
    assert.equal(again.commit, repo.head);
    const audit = await s.get('/api/v1/audit?per_page=100', { token: TOK });
    if (audit.status === 200) assert.ok(JSON.stringify(audit.json).includes('deployment.queued'));
  });

  it('script_failed with the exit code; the application is failed', async () => {
    const app = await mkApp(s, 'broken', 'echo about to fail; exit 7');
    const d = await waitFor(s, (await deploy(s, app)).id, ended);
    assert.equal(d.status, 'failed');
    assert.equal(d.error, 'script_failed');
    assert.equal(d.exit_code, 7);
    assert.equal(d.commit, repo.head);
    assert.match((await logOf(s, d.id)).text, /about to fail/);
    assert.equal(one((await s.get(`/api/v1/applications/${app.id}`, { token: TOK })).json).status, 'failed');
  });

  it('checkout_failed for a ref the repository does not have; the script never runs', async () => {
    const app = await mkApp(s, 'noref', 'touch ran.txt');
    const d = await waitFor(s, (await deploy(s, app, { ref: 'no-such-branch' })).id, ended);
    assert.equal(d.status, 'failed');
    assert.equal(d.error, 'checkout_failed');
    assert.equal(d.exit_code, null);
    assert.ok(!existsSync(path.join(home(), 'piora', 'apps', String(app.id), 'ran.txt')));
    const bad = await s.post(`/api/v1/applications/${app.id}/deploy`, { token: TOK, body: { ref: '--upload-pack=x' } });
    assert.equal(bad.status, 422, bad.text);
  });

  it('cancel: a queued one at once, a running sleep 600 within 15 s with the remote sleep gone', async () => {
    const app = await mkApp(s, 'sleepy', 'echo started; sleep 600');
    const first = await deploy(s, app);
    const second = await deploy(s, app); // waits behind the first
    await waitFor(s, first.id, (d) => d.status === 'running');
    const c2 = await s.post(`/api/v1/deployments/${second.id}/cancel`, { token: DEPLOY });
    assert.equal(c2.status, 200, c2.text);
    assert.equal(one(c2.json).status, 'cancelled');
    const end = Date.now() + T(15000);
    while (!remote('sleep 600') && Date.now() < end) await sleep(100);
    assert.ok(remote('sleep 600'), 'the script runs on the server');
    const t0 = Date.now();
    const c1 = await s.post(`/api/v1/deployments/${first.id}/cancel`, { token: DEPLOY });
    assert.equal(c1.status, 200, c1.text);
    const d = await waitFor(s, first.id, ended, 15000);
    assert.ok(Date.now() - t0 < T(15000));
    assert.equal(d.status, 'cancelled');
    assert.equal(d.error, 'cancelled');
    const gone = Date.now() + T(12000);
    while (remote('sleep 600') && Date.now() < gone) await sleep(200);
    assert.equal(remote('sleep 600'), '', 'the remote sleep is killed');
    // a finished one answers as it is
    const again = await s.post(`/api/v1/deployments/${first.id}/cancel`, { token: DEPLOY });
    assert.equal(one(again.json).status, 'cancelled');
  });

  it('two deployments of one application run one after the other, in order', async () => {
    const app = await mkApp(s, 'ordered', 'echo "start $PIORA_DEPLOYMENT_ID" >> ~/order-log; sleep 1; echo "end $PIORA_DEPLOYMENT_ID" >> ~/order-log');
    const a = await deploy(s, app);
    const b = await deploy(s, app);
    const da = await waitFor(s, a.id, ended);
    const db = await waitFor(s, b.id, ended);
    assert.equal(da.status, 'succeeded');
    assert.equal(db.status, 'succeeded');
    const lines = readFileSync(path.join(home(), 'order-log'), 'utf8').trim().split('\n');
    assert.deepEqual(lines, [`start ${a.id}`, `end ${a.id}`, `start ${b.id}`, `end ${b.id}`]);
    assert.ok(db.started_at >= da.finished_at);
  });

  it('the deploy-only token deploys, follows and cancels, and reads nothing else', async () => {
    const app = await mkApp(s, 'ci', 'echo from-ci');
    const dep = await deploy(s, app, undefined, DEPLOY);
    const d = await waitFor(s, dep.id, ended, 30000, DEPLOY);
    assert.equal(d.status, 'succeeded');
    const log = await logOf(s, dep.id, DEPLOY);
    assert.match(log.text, /from-ci/);
    const list = await s.get(`/api/v1/applications/${app.id}/deployments`, { token: DEPLOY });
    assert.equal(list.status, 200);
    for (const p of ['/api/v1/servers', `/api/v1/applications/${app.id}`, '/api/v1/databases']) {
      const r = await s.get(p, { token: DEPLOY });
      assert.equal(r.status, 403, `${p}: ${r.text}`);
    }
    const w = await s.patch(`/api/v1/applications/${app.id}`, { token: DEPLOY, body: { deploy_script: 'rm -rf ~' } });
    assert.equal(w.status, 403);
  });

  // One runner at a time on the database: each node claims any queued job.
  it('the job timeout kills the remote group and fails with timeout', async () => {
    if (!s.exit) await s.stop();
    const t = await startServer(null, { dbPath: s.db, args: ['--job-timeout', '2', '--job-lease', String(LEASE)] });
    try {
      const app = await mkApp(t, 'slowpoke', 'echo begin; sleep 601');
      const d = await waitFor(t, (await deploy(t, app)).id, ended, 30000);
      assert.equal(d.status, 'failed');
      assert.equal(d.error, 'timeout');
      const gone = Date.now() + T(12000);
      while (remote('sleep 601') && Date.now() < gone) await sleep(200);
      assert.equal(remote('sleep 601'), '');
    } finally {
      await t.stop();
    }
  });

  it('piora serve SIGKILLed during a deployment: lost after restart, queued ones still run', async () => {
    if (!s.exit) await s.stop();
    const k = await startServer(null, { dbPath: s.db, args: ['--job-lease', String(LEASE)] });
    // the first run sleeps (and is killed with its node), the next one does not
    const app = await mkApp(k, 'crashy', 'if [ -e ~/crashed-once ]; then echo second-run; else touch ~/crashed-once; echo up; sleep 20; fi');
    const running = await deploy(k, app);
    await waitFor(k, running.id, (d) => d.status === 'running');
    const queued = await deploy(k, app); // waits behind the running one
    const end = Date.now() + T(15000);
    while (!remote('sleep 20') && Date.now() < end) await sleep(100);
    assert.ok(remote('sleep 20'), 'the first run is in its script');
    k.kill();
    await k.exited;
    const r = await startServer(null, { dbPath: k.db, args: ['--job-lease', String(LEASE)] });
    try {
      const t0 = Date.now();
      const d = await waitFor(r, running.id, ended, 20000);
      assert.equal(d.status, 'failed');
      assert.equal(d.error, 'lost');
      assert.ok(Date.now() - t0 < T((LEASE + 5) * 1000), 'lost within the lease bound');
      const q = await waitFor(r, queued.id, ended, 30000);
      assert.equal(q.status, 'succeeded', JSON.stringify(q));
      assert.match((await logOf(r, queued.id)).text, /second-run/);
    } finally {
      await r.stop();
    }
  });
});
