// The seed's walk, end to end in Chromium: set up via the printed link, sign
// in, Settings > API Tokens > Generate New Token > Name > scopes > Create,
// read the token from the page, use it (200 in scope, 403 out of scope), see
// it listed with its scopes and last use, revoke with confirmation: 401 at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, signIn, shot, apiCall, EMAIL, PASSWORD } from './lib/harness.mjs';

let srv;
let browser;
let page;

before(async () => {
  srv = await startServer();
  browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await ctx.newPage();
  page.setDefaultTimeout(10000);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('the console prints a one-time setup link; the setup page creates the first admin and signs in', async () => {
  assert.match(srv.stderr(), /First run: open http:\/\/127\.0\.0\.1:\d+\/setup#[A-Za-z0-9_-]{43} /);
  await page.goto(srv.setupLink);
  await page.getByLabel('Team name').waitFor();
  await shot(page, '01-setup');
  await page.getByLabel('Team name').fill('acme');
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.getByText('Use at least 8 characters.').waitFor();
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the secret leaves the address bar');
  await page.getByText('No servers yet').waitFor();
  await shot(page, '02-servers-empty');
});

test('the setup link stops working once used', async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto(srv.setupLink);
  await p.getByText('This setup link was already used').waitFor();
  await shot(p, '03-setup-used');
  const r = await fetch(`${srv.base}/web/api/setup`, {
    method: 'POST', body: JSON.stringify({ secret: srv.setupLink.split('#')[1], email: 'eve@example.com', password: 'password123', team: 'evil' }),
  });
  assert.equal(r.status, 404);
  await ctx.close();
});

let token;

test('Settings > API Tokens > Generate New Token > Name > scopes > Create shows the token once', async () => {
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('link', { name: 'API Tokens' }).click();
  await page.getByText('No API tokens yet').waitFor();
  await shot(page, '04-tokens-empty');
  await page.getByRole('button', { name: 'Generate New Token' }).first().click();
  const dlg = page.getByRole('dialog', { name: 'Generate New Token' });
  await dlg.getByLabel('Name', { exact: true }).fill('ci-cd-pipeline');
  for (const s of ['servers:read', 'servers:write', 'applications:read', 'applications:write', 'applications:deploy',
    'databases:read', 'databases:write', 'backups:read', 'backups:write']) {
    assert.equal(await dlg.getByRole('checkbox', { name: s, exact: true }).count(), 1, `checkbox ${s}`);
  }
  await dlg.getByRole('checkbox', { name: 'servers:read', exact: true }).check();
  await dlg.getByRole('checkbox', { name: 'applications:deploy', exact: true }).check();
  const expiry = dlg.getByLabel('Expiration', { exact: true });
  assert.equal(await expiry.inputValue(), '90', '90 days is the default');
  const options = await expiry.locator('option').allTextContents();
  assert.deepEqual(options, ['7 days', '30 days', '60 days', '90 days', '180 days', '365 days', 'Custom date…', 'No expiration']);
  await expiry.selectOption('never');
  await dlg.getByText('A token without an expiration works until you revoke it').waitFor();
  await expiry.selectOption('30');
  await shot(page, '05-generate-token');
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  const shown = page.getByRole('dialog', { name: /Token ci-cd-pipeline created/ });
  await shown.getByText('It will not be shown again').waitFor();
  token = await shown.getByLabel('New token', { exact: true }).inputValue();
  assert.match(token, /^piora_token_[0-9A-Za-z]{36}$/);
  assert.equal(await shown.getByRole('button', { name: 'Copy', exact: true }).count(), 1);
  await shown.getByRole('button', { name: 'Copy', exact: true }).click();
  await shot(page, '06-token-created');
  await shown.getByRole('button', { name: 'Done' }).click();
  const html = await page.content();
  assert.ok(!html.includes(token), 'after "Done" the secret is nowhere in the page');
});

test('the token works in scope (200) and is refused out of scope (403)', async () => {
  const ok = await apiCall(srv, token, '/api/v1/servers');
  assert.equal(ok.status, 200);
  const denied = await apiCall(srv, token, '/api/v1/databases');
  assert.equal(denied.status, 403);
  const write = await apiCall(srv, token, '/api/v1/servers', { method: 'POST', body: '{"name":"x","ip_address":"10.0.0.1"}' });
  assert.equal(write.status, 403);
});

test('the list shows name, scopes, created, last used, expires and status', async () => {
  await new Promise((r) => setTimeout(r, 2500)); // --last-used-interval 1
  await page.reload();
  const row = page.getByRole('row', { name: /ci-cd-pipeline/ });
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /servers:read/);
  assert.match(text, /applications:deploy/);
  assert.doesNotMatch(text, /databases:read/);
  assert.match(text, /active/);
  const times = row.locator('time');
  assert.equal(await times.count(), 3, 'created, last used, expires');
  assert.match(await times.nth(1).getAttribute('title'), /UTC$/, 'the exact time on hover');
  assert.doesNotMatch(text, /Never/, 'last used is filled in');
  for (const h of ['Name', 'Scopes', 'Created', 'Last used', 'Expires', 'Status']) {
    assert.equal(await page.getByRole('columnheader', { name: h, exact: true }).count(), 1, h);
  }
  await shot(page, '07-tokens-list');
});

test('the usage view lists the token\'s requests, filters them and exports CSV', async () => {
  await page.getByRole('link', { name: 'Usage of ci-cd-pipeline' }).click();
  await page.getByRole('heading', { name: 'ci-cd-pipeline' }).waitFor();
  await shot(page, '08-token-usage');
  const csv = await page.evaluate(async (href) => (await fetch(href)).text(),
    await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href'));
  assert.match(csv, /^time,method,path,status,addr,user_agent,count\r\n/);
  // Every data row carries a positive count (identical requests of one second share a row).
  const rows = csv.trim().split('\r\n').slice(1);
  assert.ok(rows.length > 0, 'the token\'s requests are exported');
  for (const row of rows) assert.match(row, /,"[1-9][0-9]*"$/, row);
  await page.getByLabel('Status').selectOption('403');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/status=403/);
  await page.getByRole('link', { name: 'Settings / API Tokens' }).click();
});

test('"Revoke" asks for confirmation, then the token gets 401 at once', async () => {
  const row = page.getByRole('row', { name: /ci-cd-pipeline/ });
  await row.getByRole('button', { name: 'Revoke', exact: true }).click();
  const dlg = page.getByRole('dialog', { name: /Revoke token ci-cd-pipeline/ });
  await dlg.getByText('immediately receive 401').waitFor();
  await shot(page, '09-revoke-confirm');
  await dlg.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await apiCall(srv, token, '/api/v1/servers')).status, 200, 'cancel keeps it');
  await row.getByRole('button', { name: 'Revoke', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke', exact: true }).click();
  await row.getByText('revoked').waitFor();
  const r = await apiCall(srv, token, '/api/v1/servers');
  assert.equal(r.status, 401);
  assert.equal((await r.json()).code, 'token_revoked');
  await shot(page, '10-tokens-revoked');
});

test('"Regenerate" asks for confirmation and shows a new secret once; the old one gets 401', async () => {
  await page.getByRole('button', { name: 'Generate New Token' }).first().click();
  const dlg = page.getByRole('dialog', { name: 'Generate New Token' });
  await dlg.getByLabel('Name', { exact: true }).fill('deploy-bot');
  await dlg.getByRole('checkbox', { name: 'applications:read', exact: true }).check();
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  const first = await page.getByLabel('New token', { exact: true }).inputValue();
  // Copy first: Done before a copy asks "Close without copying?" (issue 13).
  await page.getByRole('button', { name: 'Copy', exact: true }).click();
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('row', { name: /deploy-bot/ }).getByRole('button', { name: 'Regenerate' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Regenerate' }).click();
  const second = await page.getByLabel('New token', { exact: true }).inputValue();
  assert.notEqual(first, second);
  await page.getByRole('button', { name: 'Copy', exact: true }).click();
  await page.getByRole('button', { name: 'Done' }).click();
  assert.equal((await apiCall(srv, first, '/api/v1/applications')).status, 401);
  assert.equal((await apiCall(srv, second, '/api/v1/applications')).status, 200);
});

test('token management is not reachable with a bearer token', async () => {
  const r = await fetch(`${srv.base}/web/api/tokens`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(r.status, 401);
});

test('sign-out ends the session; signing in again works', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You are signed out.').waitFor();
  await shot(page, '11-signin');
  await page.goto(`${srv.base}/settings/tokens`);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await signIn(page, srv);
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
});
