// `piora deploy --wait` end to end (issue 9): a real `piora serve`, the test
// sshd and a git repository made here (lib/sshd.mjs). Exit 0 for a script
// that succeeded (its output on stdout), 1 with script_failed and the exit
// code, 1 with cancelled when the deployment is cancelled while it waits.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { makeTemplate, startServer, one, sleep, T, BIN, ALL_SCOPES } from './lib/piora.mjs';
import { startSshd } from './lib/sshd.mjs';
import { makeRepo } from './lib/gitrepo.mjs';

let tpl;
let TOK;
let DEPLOY;
let sshd;
let s;
let server;
let repo;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'ci@jobs.test', team: 'jobs' }],
    tokens: [
      { email: 'ci@jobs.test', name: 'full', scopes: ALL_SCOPES.join(','), expiresIn: 'never' },
      { email: 'ci@jobs.test', name: 'deploy', scopes: 'applications:deploy', expiresIn: 'never' },
    ],
  });
  TOK = tpl.tokens.full;
  DEPLOY = tpl.tokens.deploy;
  sshd = await startSshd({ users: ['app'] });
  s = await startServer(null, { template: tpl, args: ['--job-timeout', '120'] });
  const key = await s.get('/api/v1/ssh-key', { token: TOK });
  assert.equal(key.status, 200, key.text);
  sshd.authorize('app', key.json.public_key);
  repo = makeRepo(sshd, 'app', 'shop');
  const sv = await s.post('/api/v1/servers', { token: TOK, body: { name: 'web-1', ip_address: '127.0.0.1', ssh_port: sshd.port, ssh_user: sshd.userName('app') } });
  assert.equal(sv.status, 201, sv.text);
  server = one(sv.json);
});
after(async () => {
  await s?.stop();
  await sshd?.stop();
});

async function mkApp(name, script) {
  const r = await s.post('/api/v1/applications', {
    token: TOK, body: { name, server_id: server.id, repository: repo.url, domain: `${name}.example.com`, deploy_script: script },
  });
  assert.equal(r.status, 201, r.text);
  return one(r.json);
}

// `piora deploy ARGS` as CI runs it; onStdout sees the output as it comes.
function deploy(args, { onStdout } = {}) {
  return new Promise((resolve) => {
    const p = spawn(BIN, ['deploy', ...args], { env: { ...process.env, PIORA_URL: s.base, PIORA_API_TOKEN: DEPLOY } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; onStdout?.(stdout); });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), T(60000));
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe('piora deploy --wait against a real server', () => {
  it('succeeded: exit 0, the log on stdout, the commit on stderr', async () => {
    const app = await mkApp('ok', 'echo "hello from $PIORA_REF"; echo to-stderr >&2');
    const r = await deploy([String(app.id), '--ref', 'main', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from main/);
    assert.match(r.stdout, /to-stderr/);
    assert.match(r.stderr, new RegExp(`succeeded at commit ${repo.head}`));
    assert.ok(!r.stderr.includes(DEPLOY) && !r.stdout.includes(DEPLOY), 'the token is not printed');
  });

  it('script_failed: exit 1 with the code and the script exit code', async () => {
    const app = await mkApp('bad', 'echo failing now; exit 7');
    const r = await deploy([String(app.id), '--wait']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /failing now/);
    assert.match(r.stderr, /failed: script_failed \(exit code 7\)/);
  });

  it('cancelled while it runs: exit 1 with cancelled', async () => {
    const app = await mkApp('slow', 'echo started; sleep 600');
    let cancelled = false;
    const r = await deploy([String(app.id), '--wait'], {
      onStdout: (out) => {
        if (cancelled || !out.includes('started')) return;
        cancelled = true;
        (async () => {
          const list = await s.get(`/api/v1/applications/${app.id}/deployments`, { token: TOK });
          const dep = list.json.data.find((d) => d.status === 'running');
          const c = await s.post(`/api/v1/deployments/${dep.id}/cancel`, { token: DEPLOY });
          assert.ok([200, 202].includes(c.status), c.text);
        })();
      },
    });
    assert.ok(cancelled, 'the script started');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cancelled/);
  });

  it('a deployment that never reaches the server: exit 1 with the error code', async () => {
    const sv = await s.post('/api/v1/servers', { token: TOK, body: { name: 'closed', ip_address: '127.0.0.1', ssh_port: 1 } });
    const a = await s.post('/api/v1/applications', {
      token: TOK, body: { name: 'nowhere', server_id: one(sv.json).id, repository: repo.url, domain: 'n.example.com', deploy_script: 'true' },
    });
    const r = await deploy([String(one(a.json).id), '--wait']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /failed: unreachable/);
    await sleep(10);
  });
});
