// Issue 12 / SPEC 11 in the dashboard: the Generate New Token form offers
// All resources / Selected (a tree of the team's servers with their
// applications and databases) and Allowed IPs, shows the server's 422
// messages under the fields, and the token list shows the limits. The made
// token is then checked against the API: it reaches only what was ticked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, apiCall, shot } from './lib/harness.mjs';
import { noteSecret } from '../lib/journal.mjs';

let srv;
let browser;
let page;

before(async () => {
  srv = await startServer();
  browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.base });
  page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  await setup(page, srv);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function openForm(name) {
  await page.goto(`${srv.base}/settings/tokens`);
  await page.getByRole('button', { name: 'Generate New Token' }).first().click();
  const dlg = page.getByRole('dialog', { name: 'Generate New Token' });
  await dlg.getByLabel('Name', { exact: true }).fill(name);
  return dlg;
}

async function created(dlg, name) {
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  const shown = page.getByRole('dialog', { name: `Token ${name} created` });
  await shown.waitFor();
  const tok = await shown.getByLabel('New token', { exact: true }).inputValue();
  noteSecret(tok);
  await shown.getByRole('button', { name: /Copy/ }).click();
  await shown.getByRole('button', { name: 'Copied' }).waitFor();
  await page.keyboard.press('Escape');
  return tok;
}

test('Generate New Token: Selected resources and Allowed IPs', async () => {
  // A token to make the team's objects with, through the same form.
  let dlg = await openForm('maker');
  for (const s of ['servers:write', 'applications:write', 'databases:write'])
    await dlg.getByRole('checkbox', { name: s, exact: true }).check();
  const maker = await created(dlg, 'maker');
  const mk = async (coll, body) => {
    const r = await apiCall(srv, maker, `/api/v1/${coll}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const text = await r.text();
    assert.equal(r.status, 201, text);
    return JSON.parse(text).id;
  };
  const s1 = await mk('servers', { name: 'web-1', ip_address: '10.0.0.1' });
  const s2 = await mk('servers', { name: 'web-2', ip_address: '10.0.0.2' });
  const a1 = await mk('applications', { name: 'shop', server_id: s2, repository: 'https://example.com/shop.git' });
  await mk('applications', { name: 'blog', server_id: s2, repository: 'https://example.com/blog.git' });
  await mk('databases', { name: 'main-db', engine: 'postgresql', server_id: s1 });

  dlg = await openForm('deploy-shop');
  await dlg.getByRole('checkbox', { name: 'applications:read', exact: true }).check();
  await dlg.getByRole('checkbox', { name: 'servers:read', exact: true }).check();
  assert.ok(await dlg.getByRole('radio', { name: 'All resources' }).isChecked());
  await dlg.getByRole('radio', { name: 'Selected' }).check();
  const tree = dlg.getByRole('group', { name: 'Selected resources' });
  await tree.getByRole('checkbox', { name: 'Server web-1' }).waitFor();
  assert.ok(await tree.getByRole('checkbox', { name: 'Application blog' }).isVisible());
  assert.ok(await tree.getByRole('checkbox', { name: 'Database main-db' }).isVisible());
  // Selected with nothing ticked is refused before it is sent.
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  await dlg.getByText(/Select at least one server, application or database/).waitFor();
  await tree.getByRole('checkbox', { name: 'Application shop' }).check();
  // The server's 422 for a bad address shows under the field.
  const ips = dlg.getByLabel('Allowed IPs');
  await ips.fill('203.0.113.7/24');
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  await dlg.getByText(/host bits set/).waitFor();
  assert.equal(await ips.getAttribute('aria-invalid'), 'true');
  await shot(page, 'token-limits-form');
  await ips.fill('127.0.0.1\n2001:db8:1234::/48');
  const tok = await created(dlg, 'deploy-shop');

  // The list shows the limits.
  const row = page.getByRole('row', { name: /deploy-shop/ });
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, new RegExp(`application #${a1}`));
  assert.match(text, /127\.0\.0\.1, 2001:db8:1234::\/48/);
  const makerRow = await page.getByRole('row', { name: /maker/ }).innerText();
  assert.match(makerRow, /All resources/);
  assert.match(makerRow, /Any address/);

  // And the API holds the token to them.
  let r = await apiCall(srv, tok, '/api/v1/applications');
  const list = await r.json();
  assert.deepEqual(list.data.map((a) => a.id), [a1]);
  assert.equal(list.meta.total, 1);
  r = await apiCall(srv, tok, `/api/v1/servers/${s1}`);
  assert.equal(r.status, 404);
  r = await apiCall(srv, tok, '/api/v1/token');
  const self = await r.json();
  assert.deepEqual(self.resources, { servers: [], applications: [a1], databases: [] });
  assert.deepEqual(self.allowed_ips, ['127.0.0.1', '2001:db8:1234::/48']);
});
