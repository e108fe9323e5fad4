// Issue 13: a server has a detail page (its fields, its applications and
// databases), reached from the Servers list; an unknown dashboard address
// answers a real HTTP 404 with the dashboard's "Page not found".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, shot } from './lib/harness.mjs';

let srv;
let browser;
let page;

before(async () => {
  srv = await startServer();
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(10000);
  await setup(page, srv);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('a server page shows its fields and what runs on it', async () => {
  await page.goto(`${srv.base}/servers`);
  await page.getByRole('button', { name: 'New server' }).first().click();
  let dlg = page.getByRole('dialog');
  await dlg.getByLabel('Name').fill('web-7');
  await dlg.getByLabel('IP address').fill('10.0.0.7');
  await dlg.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('link', { name: 'web-7' }).waitFor();

  await page.goto(`${srv.base}/applications`);
  await page.getByRole('button', { name: 'New application' }).first().click();
  dlg = page.getByRole('dialog');
  await dlg.getByLabel('Name').fill('shop');
  await dlg.getByLabel('Server').selectOption({ label: 'web-7 (10.0.0.7)' });
  await dlg.getByLabel('Repository').fill('acme/shop');
  await dlg.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('link', { name: 'shop' }).waitFor();

  await page.goto(`${srv.base}/servers`);
  await page.getByRole('link', { name: 'web-7' }).click();
  await page.getByRole('heading', { name: 'web-7', exact: true }).waitFor();
  assert.match(page.url(), /\/servers\/\d+$/);
  const main = page.locator('main');
  await main.getByText('root@10.0.0.7:22').waitFor();
  await main.getByRole('link', { name: 'shop' }).waitFor();
  await main.getByText('No databases on this server').waitFor();
  await shot(page, '40-server-page');
  await main.getByRole('link', { name: 'shop' }).click();
  await page.getByRole('heading', { name: 'shop', exact: true }).waitFor();
});

test('an unknown address is an HTTP 404 with the "Page not found" page', async () => {
  const res = await page.goto(`${srv.base}/servers/not-a-number`);
  assert.equal(res.status(), 404);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  const ok = await page.goto(`${srv.base}/servers`);
  assert.equal(ok.status(), 200);
});
