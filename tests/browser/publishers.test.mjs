// Settings > Trusted Publishers (issue 14): an admin adds a GitHub Actions
// publisher from its preset, a CI job of the test issuer exchanges its OIDC
// token, and the minted token shows under API Tokens as "via trusted
// publisher NAME"; the API's field errors sit next to their fields; Remove
// asks first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, shot } from './lib/harness.mjs';
import { startIssuer } from '../blackbox/lib/oidc-issuer.mjs';
import { noteSecret } from '../lib/journal.mjs';

let srv;
let browser;
let page;
let issuer;

before(async () => {
  issuer = await startIssuer();
  srv = await startServer(['--oidc-ca-file', issuer.caFile]);
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(10000);
  await setup(page, srv);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
  await issuer?.close();
});

test('an admin adds a publisher from the GitHub preset; its job gets a token listed via the publisher', async () => {
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('link', { name: 'Trusted Publishers', exact: true }).click();
  await page.getByText('No trusted publishers yet').waitFor();
  await page.getByRole('button', { name: 'Add Trusted Publisher' }).first().click();
  const dlg = page.getByRole('dialog');
  assert.equal(await dlg.getByLabel('Issuer').inputValue(), 'https://token.actions.githubusercontent.com');
  await dlg.getByLabel('Provider').selectOption('gitlab');
  assert.equal(await dlg.getByLabel('Issuer').inputValue(), 'https://gitlab.com');
  await dlg.getByLabel('Project path').waitFor();
  await dlg.getByLabel('Provider').selectOption('github');

  // the API's errors next to their fields
  await dlg.getByLabel('Name').fill('deploy-web');
  await dlg.getByLabel('Issuer').fill('http://insecure.example');
  await dlg.getByLabel('applications:deploy').check();
  await dlg.getByRole('button', { name: 'Add' }).click();
  await dlg.getByText('Must be an https:// URL with a host').waitFor();
  assert.equal(await dlg.getByLabel('Issuer').getAttribute('aria-invalid'), 'true');

  await dlg.getByLabel('Issuer').fill(issuer.url);
  await dlg.getByLabel('Repository', { exact: true }).fill('acme/web');
  await dlg.getByLabel('Repository owner id').fill('4242');
  await dlg.getByLabel('Environment').fill('production');
  await shot(page, '40-publisher-add');
  await dlg.getByRole('button', { name: 'Add' }).click();
  const row = page.getByRole('row', { name: /deploy-web/ });
  await row.waitFor();
  await row.getByText('repository=acme/web').waitFor();
  await row.getByText('ref refs/heads/main').waitFor();
  await shot(page, '41-publishers');

  const r = await fetch(`${srv.base}/api/v1/oidc/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: issuer.mint() }) });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  noteSecret(body.token);

  await page.getByRole('link', { name: 'API Tokens', exact: true }).click();
  await page.getByRole('row', { name: /via trusted publisher deploy-web/ }).waitFor();

  await page.getByRole('link', { name: 'Audit log', exact: true }).click();
  await page.getByText('CI token minted').first().waitFor();
  await page.getByText(/repository acme\/web; ref refs\/heads\/main/).first().waitFor();

  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('link', { name: 'Trusted Publishers', exact: true }).click();
  await page.getByRole('button', { name: 'Remove deploy-web' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
  await page.getByText('No trusted publishers yet').waitFor();
});
