// Issue 9: the application page in Chromium against a real sshd and a real
// git (tests/blackbox/lib/sshd.mjs): Deploy, the log's lines appearing while
// the script still runs, the outcome in words, a failing script's exit
// code, and Cancel of a `sleep` that then is gone from the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, launch, setup, shot } from './lib/harness.mjs';
import { startSshd } from '../blackbox/lib/sshd.mjs';
import { makeRepo } from '../blackbox/lib/gitrepo.mjs';

let srv;
let sshd;
let browser;
let page;
let appId;

// A /web/api call from the signed-in page (session cookie + CSRF token).
async function web(method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const s = await (await fetch('/web/api/session')).json();
    const r = await fetch(`/web/api${path}`, {
      method, headers: { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }, { method, path, body });
}

const live = () => page.getByRole('log');
const remoteSleeps = () => {
  try {
    return execFileSync('pgrep', ['-u', sshd.userName('app'), '-f', 'sleep 600']).toString().trim();
  } catch { return ''; }
};

before(async () => {
  sshd = await startSshd({ users: ['app'] });
  srv = await startServer(['--job-timeout', '120']);
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20000);
  await setup(page, srv);
  const key = await web('GET', '/v1/ssh-key');
  sshd.authorize('app', key.public_key);
  const repo = makeRepo(sshd, 'app', 'shop');
  const server = await web('POST', '/v1/servers', { name: 'web-1', ip_address: '127.0.0.1', ssh_port: sshd.port, ssh_user: sshd.userName('app') });
  const app = await web('POST', '/v1/applications', {
    name: 'shop', server_id: server.id, repository: repo.url, domain: 'shop.example.com',
    // lines a second apart, so the page shows the first before the last exists
    deploy_script: 'for i in 1 2 3 4; do echo "step $i of 4"; sleep 1; done; echo done',
  });
  appId = app.id;
});
after(async () => {
  await browser?.close();
  await srv?.stop();
  await sshd?.stop();
});

test('Deploy: the log follows the running script, then says it succeeded', async () => {
  await page.goto(`${srv.base}/applications/${appId}`);
  await page.getByText('No deployments yet').waitFor();
  await page.getByLabel('Ref to deploy').fill('main');
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  await page.getByText(/Deployment #\d+ of shop queued/).waitFor();
  await live().getByText('step 1 of 4').waitFor();
  // seen while it still runs: the last line is not there yet
  assert.equal(await live().getByText('done').count(), 0, 'the first line showed before the script ended');
  assert.match(await page.locator('.live-log .badge').innerText(), /running|queued/);
  await shot(page, '40-deploy-live-log');
  await live().getByText(/^done$|\ndone/).waitFor();
  await page.getByText(/Succeeded at commit [0-9a-f]{12}/).waitFor();
  assert.equal(await page.locator('.live-log .badge').innerText(), 'succeeded');
  assert.equal(await live().getAttribute('aria-busy'), 'false', 'polling stopped at X-Log-Complete');
  const hist = page.getByRole('table', { name: 'Deployment history' });
  await hist.getByRole('row', { name: /succeeded/ }).waitFor();
});

test('a failing script: the exit code in words', async () => {
  await web('PATCH', `/v1/applications/${appId}`, { deploy_script: 'echo about to fail; exit 3' });
  await page.goto(`${srv.base}/applications/${appId}`);
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  await page.getByText('The deploy script exited with code 3. Its output is in the log below.').waitFor();
  await live().getByText('about to fail').waitFor();
  assert.equal(await page.locator('.live-log .badge').innerText(), 'failed');
});

test('Cancel stops a running sleep on the server', async () => {
  await web('PATCH', `/v1/applications/${appId}`, { deploy_script: 'echo sleeping; sleep 600' });
  await page.goto(`${srv.base}/applications/${appId}`);
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  await live().getByText('sleeping').waitFor();
  assert.notEqual(remoteSleeps(), '', 'the sleep runs on the server');
  const id = Number((await page.locator('.live-log h2').innerText()).replace(/\D+/g, ''));
  await page.locator('.live-log').getByRole('button', { name: `Cancel deployment #${id}` }).click();
  await page.getByText('Cancelled; its processes on the server were stopped.').waitFor({ timeout: 20000 });
  assert.equal(await page.locator('.live-log .badge').innerText(), 'cancelled');
  for (let i = 0; i < 50 && remoteSleeps() !== ''; i++) await new Promise((r) => setTimeout(r, 200));
  assert.equal(remoteSleeps(), '', 'the remote sleep is gone');
  await shot(page, '41-deploy-cancelled');
});
