// Issue 7: the Audit log page names the token of a token change (its name
// at the time, beside the id), for changes made on the dashboard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, shot } from './lib/harness.mjs';
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

test('the audit log shows the token name of a token change', async () => {
  // Made through the dashboard's own endpoint, as its Settings page does.
  const made = await page.evaluate(async () => {
    const s = await (await fetch('/web/api/session')).json();
    const r = await fetch('/web/api/tokens', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf },
      body: JSON.stringify({ name: 'deploy-bot', scopes: ['servers:read'] }),
    });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(made.status, 201);
  noteSecret(made.body.token);
  await page.getByRole('link', { name: 'Audit log', exact: true }).click();
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  const row = page.getByRole('row', { name: /Token created/ });
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(`token deploy-bot \\(#${made.body.id}\\)`));
  await shot(page, '24-audit-token-name');
});
