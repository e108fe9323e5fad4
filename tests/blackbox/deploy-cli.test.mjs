// SPEC 7/10: `piora deploy APP_ID [--ref R] [--wait]`, the API client for CI.
// Its exit statuses (0 succeeded or queued, 1 the deployment failed or was
// cancelled, 2 usage or missing environment, 3 the API refused or could not
// be reached) against a real `piora serve`; the runs that deploy for real
// use the test sshd (deploy-cli-ssh.test.mjs).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeTemplate, startServer, run, one, freePort, ALL_SCOPES } from './lib/piora.mjs';

let tpl;
let TOK;
let DEPLOY_ONLY;
let READ_ONLY;

before(async () => {
  tpl = await makeTemplate({
    users: [{ email: 'cid@ci.test', team: 'ci' }, { email: 'eve@other.test', team: 'other' }],
    tokens: [
      { email: 'cid@ci.test', name: 'full', scopes: ALL_SCOPES.join(','), expiresIn: 'never' },
      { email: 'cid@ci.test', name: 'deploy', scopes: 'applications:deploy', expiresIn: 'never' },
      { email: 'cid@ci.test', name: 'read', scopes: 'applications:read', expiresIn: 'never' },
    ],
  });
  TOK = tpl.tokens.full;
  DEPLOY_ONLY = tpl.tokens.deploy;
  READ_ONLY = tpl.tokens.read;
});

async function mkApp(s) {
  const sv = await s.post('/api/v1/servers', { token: TOK, body: { name: 'web-1', ip_address: '203.0.113.5' } });
  assert.equal(sv.status, 201, sv.text);
  const a = await s.post('/api/v1/applications', {
    token: TOK,
    body: { name: 'shop', server_id: one(sv.json).id, repository: 'https://git.example.com/shop.git', domain: 'shop.example.com' },
  });
  assert.equal(a.status, 201, a.text);
  return one(a.json);
}

const deploy = (args, env) => run(['deploy', ...args], { env: { PIORA_URL: '', PIORA_API_TOKEN: '', ...env } });

describe('piora deploy: command line and environment', () => {
  it('--help explains the exit statuses and exits 0', async () => {
    const r = await deploy(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: piora deploy APP_ID/);
    assert.match(r.stdout, /PIORA_API_TOKEN/);
    assert.match(r.stdout, /Exit status/);
  });

  it('a missing PIORA_URL or PIORA_API_TOKEN exits 2 naming the variable', async () => {
    let r = await deploy(['1'], { PIORA_API_TOKEN: 'x' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /PIORA_URL/);
    r = await deploy(['1'], { PIORA_URL: 'http://127.0.0.1:1' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /PIORA_API_TOKEN/);
    r = await deploy(['1'], { PIORA_URL: 'ftp://example.com', PIORA_API_TOKEN: 'x' });
    assert.equal(r.code, 2, r.stderr);
  });

  it('a bad APP_ID or --ref, or no APP_ID, exits 2', async () => {
    const env = { PIORA_URL: 'http://127.0.0.1:1', PIORA_API_TOKEN: 'x' };
    for (const args of [[], ['0'], ['abc'], ['1', '2'], ['1', '--ref', 'a b'], ['1', '--token', 'x']]) {
      const r = await deploy(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line on stderr');
    }
  });

  it('a server that is not there exits 3', async () => {
    const port = await freePort();
    const r = await deploy(['1'], { PIORA_URL: `http://127.0.0.1:${port}`, PIORA_API_TOKEN: DEPLOY_ONLY });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /connect/i);
    assert.ok(!r.stderr.includes(DEPLOY_ONLY), 'the token is not printed');
  });
});

describe('piora deploy: against the API', () => {
  it('queues a deployment and prints its id; 401, 403 and 404 exit 3 with the code', async (t) => {
    const s = await startServer(t, { template: tpl });
    const app = await mkApp(s);
    const env = { PIORA_URL: s.base, PIORA_API_TOKEN: DEPLOY_ONLY };

    let r = await deploy([String(app.id)], env);
    assert.equal(r.code, 0, r.stderr);
    const id = Number(r.stdout.trim());
    assert.ok(Number.isInteger(id) && id > 0, `an id on stdout: ${r.stdout}`);
    const d = await s.get(`/api/v1/deployments/${id}`, { token: TOK });
    assert.equal(d.status, 200);
    assert.equal(one(d.json).application_id, app.id);

    // PIORA_URL may name the API base or end in a slash
    r = await deploy([String(app.id)], { ...env, PIORA_URL: `${s.base}/api/v1/` });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Number(r.stdout.trim()) > id);

    r = await deploy([String(app.id)], { ...env, PIORA_API_TOKEN: 'piora_token_notarealtokenatall' });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /401 invalid_token/);
    assert.ok(!r.stderr.includes('notarealtoken'), 'the token is not printed');

    r = await deploy([String(app.id)], { ...env, PIORA_API_TOKEN: READ_ONLY });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /403 insufficient_scope/);

    r = await deploy(['999999'], env);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /404 not_found/);
    for (const tok of [DEPLOY_ONLY, READ_ONLY]) assert.ok(!r.stderr.includes(tok));
  });
});

// The client's own bounds, against small servers that misbehave on
// purpose (a real Piora never does these): TLS that does not verify, an
// answer too large, a redirect, a restart in the middle of --wait.
describe('piora deploy: what it does not trust', () => {
  async function fake(handler, { tls } = {}) {
    const http = await import(tls ? 'node:https' : 'node:http');
    const seen = [];
    const srv = http.createServer(tls ?? {}, (req, res) => { seen.push({ url: req.url, auth: req.headers.authorization }); handler(req, res); });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    return { url: `${tls ? 'https' : 'http'}://127.0.0.1:${srv.address().port}`, seen, close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(r); }) };
  }

  it('a certificate that does not verify ends it before the token is sent', async (t) => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/piora-tls-');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', `${dir}/k.pem`, '-out', `${dir}/c.pem`], { stdio: 'ignore' });
    const f = await fake((req, res) => res.writeHead(202).end('{"id":1}'), { tls: { key: readFileSync(`${dir}/k.pem`), cert: readFileSync(`${dir}/c.pem`) } });
    t.after(f.close);
    const r = await deploy(['1'], { PIORA_URL: f.url, PIORA_API_TOKEN: DEPLOY_ONLY });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /certificate/i);
    assert.equal(f.seen.length, 0, 'no request went over the unverified connection');
  });

  it('an answer over 1 MiB is refused; a redirect is not followed', async (t) => {
    const big = await fake((req, res) => res.writeHead(202, { 'Content-Type': 'application/json' }).end(`{"id":1,"x":"${'a'.repeat(2 << 20)}"}`));
    t.after(big.close);
    let r = await deploy(['1'], { PIORA_URL: big.url, PIORA_API_TOKEN: DEPLOY_ONLY });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /too large/);

    const elsewhere = await fake((req, res) => res.writeHead(202).end('{"id":1}'));
    t.after(elsewhere.close);
    const redir = await fake((req, res) => res.writeHead(307, { Location: `${elsewhere.url}${req.url}` }).end());
    t.after(redir.close);
    r = await deploy(['1'], { PIORA_URL: redir.url, PIORA_API_TOKEN: DEPLOY_ONLY });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /HTTP 307/);
    assert.equal(elsewhere.seen.length, 0, 'the token did not follow the redirect');
    assert.equal(redir.seen[0].auth, `Bearer ${DEPLOY_ONLY}`);
  });

  it('--wait follows the log by offset through a 503, escapes control characters, exits 1 with the error', async (t) => {
    let logCalls = 0;
    const f = await fake((req, res) => {
      const u = new URL(req.url, 'http://x');
      if (req.method === 'POST' && u.pathname === '/api/v1/applications/5/deploy') {
        let body = '';
        req.on('data', (d) => { body += d; });
        req.on('end', () => { f.body = body; res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"id":7,"status":"queued"}'); });
        return;
      }
      if (u.pathname === '/api/v1/deployments/7/log') {
        logCalls++;
        if (logCalls === 1) return res.writeHead(200, { 'X-Log-Complete': 'false' }).end('line1\n');
        if (logCalls === 2) return res.writeHead(503, { 'Content-Type': 'application/problem+json' }).end('{"code":"busy"}');
        return res.writeHead(200, { 'X-Log-Complete': 'true' }).end('line2\n\x1b[31m');
      }
      if (u.pathname === '/api/v1/deployments/7') {
        return res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"id":7,"status":"failed","error":"script_failed","exit_code":3}');
      }
      res.writeHead(404).end();
    });
    t.after(f.close);
    const r = await deploy(['5', '--ref', 'v1.2', '--wait'], { PIORA_URL: f.url, PIORA_API_TOKEN: DEPLOY_ONLY });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(JSON.parse(f.body).ref, 'v1.2');
    assert.equal(r.stdout, 'line1\nline2\n\\x1b[31m');
    assert.match(r.stderr, /deployment 7 failed: script_failed \(exit code 3\)/);
    const offsets = f.seen.filter((s) => s.url.includes('/log')).map((s) => new URL(s.url, 'http://x').searchParams.get('offset'));
    assert.deepEqual(offsets, ['0', '6', '6']);
  });
});
