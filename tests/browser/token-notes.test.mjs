// Token notes in the browser (issue 13): a note given at creation shows in
// the list, the Edit dialog renames the token and changes its note, and a
// revoked token's "Remove from list" asks first (focus on Cancel) and takes
// it off the page while its secret keeps answering 401 token_revoked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, shot, apiCall } from './lib/harness.mjs';
import { noteSecret } from '../lib/journal.mjs';

let srv;
let browser;
let page;

before(async () => {
  srv = await startServer();
  browser = await launch();
  page = await browser.newPage();
  page.setDefaultTimeout(10000);
  await setup(page, srv);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('a note given at creation is shown in the list', async () => {
  await page.goto(`${srv.base}/settings/tokens`);
  await page.getByRole('button', { name: 'Generate New Token' }).first().click();
  const dlg = page.getByRole('dialog', { name: 'Generate New Token' });
  await dlg.getByLabel('Name', { exact: true }).fill('nightly');
  await dlg.getByLabel('Note', { exact: true }).fill('backup cron on ops-1');
  await dlg.getByRole('checkbox', { name: 'servers:read', exact: true }).check();
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  const shown = page.getByRole('dialog', { name: /Token nightly created/ });
  const token = await shown.getByLabel('New token', { exact: true }).inputValue();
  noteSecret(token);
  await shown.getByRole('button', { name: 'Copy', exact: true }).click();
  await shown.getByRole('button', { name: 'Done' }).click();
  const row = page.getByRole('row', { name: /nightly/ });
  await row.getByText('backup cron on ops-1').waitFor();
  assert.equal((await apiCall(srv, token, '/api/v1/token')).status, 200);
});

test('Edit renames the token and changes its note; a bad note is shown on its field', async () => {
  const row = page.getByRole('row', { name: /nightly/ });
  await row.getByRole('button', { name: 'Rename or edit the note of nightly' }).click();
  const dlg = page.getByRole('dialog', { name: 'Edit token nightly' });
  assert.equal(await dlg.getByLabel('Name', { exact: true }).inputValue(), 'nightly');
  assert.equal(await dlg.getByLabel('Note', { exact: true }).inputValue(), 'backup cron on ops-1');
  await dlg.getByLabel('Name', { exact: true }).fill('nightly-backup');
  // 200 characters of 3 bytes each: under the field's 500 characters, over the server's 500 bytes
  await dlg.getByLabel('Note', { exact: true }).fill('€'.repeat(200));
  await dlg.getByRole('button', { name: 'Save' }).click();
  await dlg.getByText(/at most 500 bytes/).waitFor();
  await shot(page, '60-token-edit-error');
  await dlg.getByLabel('Note', { exact: true }).fill('moved to ops-2');
  await dlg.getByRole('button', { name: 'Save' }).click();
  await dlg.waitFor({ state: 'detached' });
  const renamed = page.getByRole('row', { name: /nightly-backup/ });
  await renamed.getByText('moved to ops-2').waitFor();
  assert.doesNotMatch(await renamed.innerText(), /backup cron/);
});

test('a revoked token: "Remove from list" opens on Cancel, then removes it; its secret stays revoked', async () => {
  const made = await page.evaluate(async () => {
    const s = await (await fetch('/web/api/session')).json();
    const r = await fetch('/web/api/tokens', { method: 'POST', body: JSON.stringify({ name: 'old-ci', scopes: ['servers:read'] }),
      headers: { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' } });
    return r.json();
  });
  noteSecret(made.token);
  await page.goto(`${srv.base}/settings/tokens`);
  const row = page.getByRole('row', { name: /old-ci/ });
  assert.equal(await row.getByRole('button', { name: 'Remove old-ci from the list' }).count(), 0, 'an active token has no Remove');
  await row.getByRole('button', { name: 'Revoke', exact: true }).click();
  await page.getByRole('dialog', { name: /Revoke token old-ci/ }).getByRole('button', { name: 'Revoke' }).click();
  await row.getByText('revoked').first().waitFor();

  await row.getByRole('button', { name: 'Remove old-ci from the list' }).click();
  const dlg = page.getByRole('dialog', { name: /Remove token old-ci from the list/ });
  await dlg.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel');
  await page.keyboard.press('Enter');
  await dlg.waitFor({ state: 'detached' });
  await row.waitFor();
  await row.getByRole('button', { name: 'Remove old-ci from the list' }).click();
  await dlg.getByRole('button', { name: 'Remove from list' }).click();
  await row.waitFor({ state: 'detached' });
  await page.getByRole('row', { name: /nightly-backup/ }).waitFor();
  await shot(page, '61-token-removed');
  const r = await apiCall(srv, made.token, '/api/v1/servers');
  assert.equal(r.status, 401);
  assert.equal((await r.json()).code, 'token_revoked');
});
