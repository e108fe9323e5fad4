// Issue 13: every dashboard list pages ("1–50 of 123", Previous and Next),
// so the 51st server, deployment, token or audit entry can be reached.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, shot, textMatching } from './lib/harness.mjs';

let srv;
let browser;
let page;
let appId;

// POSTs n bodies to a /web/api path from the signed-in page, `at` at a
// time (1 where the test relies on the order of the ids).
async function postMany(path, bodies, at = 8) {
  return page.evaluate(async ({ path, bodies, at }) => {
    const s = await (await fetch('/web/api/session')).json();
    const out = [];
    for (let i = 0; i < bodies.length; i += at) {
      const batch = bodies.slice(i, i + at).map(async (b) => {
        const r = await fetch(`/web/api${path}`, { method: 'POST', body: JSON.stringify(b), headers: { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' } });
        if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
        return r.json();
      });
      out.push(...await Promise.all(batch));
    }
    return out;
  }, { path, bodies, at });
}

const range = () => page.getByRole('navigation', { name: 'Pages' }).locator('.pager-range');

before(async () => {
  // 51 deployments wait for one server: past the default --queue-per-server.
  srv = await startServer(['--queue-per-server', '100']);
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  await setup(page, srv);
  const servers = await postMany('/v1/servers', Array.from({ length: 53 }, (_, i) => ({ name: `node-${String(i + 1).padStart(2, '0')}`, ip_address: `10.1.0.${i + 1}` })), 1);
  [{ id: appId }] = await postMany('/v1/applications', [{ name: 'shop', server_id: servers[0].id, repository: 'acme/shop' }]);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('servers: 1–50 of 53, Next shows the rest, Previous goes back', async () => {
  await page.goto(`${srv.base}/servers`);
  await page.getByRole('row', { name: /node-01/ }).waitFor();
  await textMatching(range(), '1–50 of 53');
  assert.equal(await page.getByRole('row', { name: /node-53/ }).count(), 0);
  assert.ok(await page.getByRole('button', { name: 'Previous' }).isDisabled(), 'no page before the first');
  await shot(page, '32-servers-pager');
  await page.getByRole('link', { name: 'Next' }).click();
  await page.getByRole('row', { name: /node-53/ }).waitFor();
  await textMatching(range(), '51–53 of 53');
  assert.equal(new URL(page.url()).search, '?page=2');
  assert.ok(await page.getByRole('button', { name: 'Next' }).isDisabled(), 'no page after the last');
  await page.getByRole('link', { name: 'Previous' }).click();
  await page.getByRole('row', { name: /node-01/ }).waitFor();
  await textMatching(range(), '1–50 of 53');
});

test('deployment #51 can be reached from the application page', async () => {
  const deps = await postMany(`/v1/applications/${appId}/deploy`, Array.from({ length: 51 }, () => ({})));
  const last = Math.max(...deps.map((d) => d.id));
  await page.goto(`${srv.base}/applications/${appId}`);
  await page.getByRole('heading', { name: 'Deployment history' }).waitFor();
  const hist = page.getByRole('table', { name: 'Deployment history' });
  await hist.getByRole('row').nth(1).waitFor();
  await textMatching(range(), /^1–50 of 51$/);
  // Page 1 holds the newest when the API pages newest first; until then
  // the 51st is on page 2.
  if (await hist.getByRole('row', { name: new RegExp(`#${last}\\b`) }).count() === 0) {
    await page.getByRole('link', { name: 'Next' }).click();
    await page.waitForURL(/page=2/);
    await textMatching(range(), '51 of 51');
  }
  await hist.getByRole('row', { name: new RegExp(`#${last}\\b`) }).waitFor();
  await shot(page, '33-deployments-pager');
});

test('tokens and the audit log page too', async () => {
  await postMany('/tokens', Array.from({ length: 52 }, (_, i) => ({ name: `bot-${String(i + 1).padStart(2, '0')}`, scopes: ['servers:read'], expiry: '30' })), 1);
  await page.goto(`${srv.base}/settings/tokens`);
  await page.getByRole('row', { name: /bot-52/ }).waitFor(); // newest first
  await textMatching(range(), '1–50 of 52');
  await page.getByRole('link', { name: 'Next' }).click();
  await page.getByRole('row', { name: /bot-01/ }).waitFor();
  await textMatching(range(), '51–52 of 52');
  await page.goto(`${srv.base}/audit`);
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  const first = await textMatching(range(), /^1–50 of \d+$/);
  const m = first.match(/^1–50 of (\d+)$/);
  assert.ok(m && Number(m[1]) > 52, first);
  await page.getByRole('link', { name: 'Next' }).click();
  await page.waitForURL(/page=2/);
  await textMatching(range(), /^51–\d+ of \d+$/);
  // The oldest entry, the setup, is on the last page.
  const total = Number(m[1]);
  await page.goto(`${srv.base}/audit?page=${Math.ceil(total / 50)}`);
  await page.getByRole('row', { name: /User created/ }).last().waitFor();
});

test('a page past the end says so and links back to the last page', async () => {
  await page.goto(`${srv.base}/servers?page=9`);
  await range().getByText('Page 9 is past the end').waitFor();
  await page.getByRole('link', { name: 'Previous' }).click();
  await page.getByRole('row', { name: /node-53/ }).waitFor();
});
