// The seed page's client examples (shared/seed/api-authentication.txt), run
// as written against the real server with only the base URL replaced: curl
// (both forms), Node fetch, Python requests (Debian's python3-requests under
// /usr/bin/python3) and Go (only where a Go toolchain is on PATH; otherwise
// reported as skipped). Each must get 200 and the servers list.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTemplate, startServer, one, tmpDir, T } from './lib/piora.mjs';

const SEED = path.join(path.dirname(fileURLToPath(import.meta.url)), 'seed');
let tpl;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'dev@seed.test', team: 'seed' }],
    tokens: [
      { email: 'dev@seed.test', name: 'ci-cd-pipeline', scopes: 'servers:read' },
      { email: 'dev@seed.test', name: 'admin', scopes: 'servers:write' },
    ],
  });
});

function exec(cmd, args, env, timeoutMs = T(30000)) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${cmd} timed out: ${stderr}`)); }, timeoutMs);
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

// A server with one server object in it; the example token can only read.
async function setup(t) {
  const s = await startServer(t, { template: tpl });
  const r = await s.post('/api/v1/servers', { token: tpl.tokens.admin, body: { name: 'web-1', ip_address: '203.0.113.10' } });
  assert.equal(r.status, 201, r.text);
  const env = { PIORA_BASE_URL: s.base, PIORA_API_TOKEN: tpl.tokens['ci-cd-pipeline'] };
  return { s, env, id: one(r.json).id };
}

function assertServersList(data, id, what) {
  assert.ok(data && Array.isArray(data.data), `${what}: a servers list, got ${JSON.stringify(data).slice(0, 300)}`);
  assert.equal(data.code, undefined, `${what}: not a problem document`);
  assert.deepEqual(data.meta, { page: 1, per_page: 20, total: 1 }, what);
  assert.equal(data.data[0].id, id);
  assert.equal(data.data[0].name, 'web-1');
  assert.equal(data.data[0].ip_address, '203.0.113.10');
}

describe('seed examples (shared/seed/api-authentication.txt)', () => {
  for (const form of ['literal', 'env']) {
    it(`curl (${form} form)`, async (t) => {
      const { s, env, id } = await setup(t);
      const r = await exec('bash', [path.join(SEED, 'curl.sh'), form], env);
      assert.equal(r.code, 0, r.stderr);
      assertServersList(JSON.parse(r.stdout), id, 'curl');
      // The same command's status line, to see the 200 itself.
      const v = await exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'GET', `${s.base}/api/v1/servers`,
        '-H', `Authorization: Bearer ${env.PIORA_API_TOKEN}`], {});
      assert.equal(v.stdout, '200');
      await s.stop();
    });
  }

  it('Node.js fetch', async (t) => {
    const { s, env, id } = await setup(t);
    const r = await exec(process.execPath, ['--no-warnings', path.join(SEED, 'fetch.mjs')], env);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.status, 200);
    assertServersList(out.data, id, 'fetch');
    await s.stop();
  });

  it('Python requests (/usr/bin/python3, python3-requests)', async (t) => {
    assert.ok(existsSync('/usr/bin/python3'), '/usr/bin/python3 is installed (scripts/deps.sh)');
    const { s, env, id } = await setup(t);
    const r = await exec('/usr/bin/python3', [path.join(SEED, 'requests_example.py')], { ...env, PYTHONNOUSERSITE: '1' });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.status, 200);
    assertServersList(out.data, id, 'requests');
    await s.stop();
  });

  it('Go net/http', { timeout: T(300000) }, async (t) => {
    const hasGo = spawnSync('go', ['version'], { stdio: 'ignore' });
    if (hasGo.error || hasGo.status !== 0) {
      t.skip('no Go toolchain on PATH');
      return;
    }
    const { s, env, id } = await setup(t);
    const home = tmpDir('go');
    const r = await exec('go', ['run', path.join(SEED, 'main.go')], {
      ...env, GOCACHE: path.join(home, 'cache'), GOPATH: path.join(home, 'gopath'),
      GOTOOLCHAIN: 'local', GOPROXY: 'off', GOFLAGS: '', GO111MODULE: 'auto',
    }, T(240000));
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.status, 200);
    assertServersList(out.data, id, 'go');
    await s.stop();
  });
});
