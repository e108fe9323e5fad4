// Issue 13's error states: a real "page not found" with a way back, "Piora
// is not answering" with Retry instead of "Failed to fetch", back to the
// asked-for page after sign-in, and a wrong setup link called wrong.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, shot, PASSWORD } from './lib/harness.mjs';

let srv;
let browser;
let page;

before(async () => {
  srv = await startServer();
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(10000);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('a wrong setup link says the link is wrong, not that it was used', async () => {
  for (const hash of [`#${'A'.repeat(43)}`, '#short', '']) {
    await page.goto(`${srv.base}/setup${hash}`);
    await page.getByRole('heading', { name: 'Setup link not valid' }).waitFor();
    const text = await page.getByRole('alert').innerText();
    assert.match(text, /wrong or incomplete/, hash);
    assert.doesNotMatch(text, /already used/, hash);
  }
  await shot(page, '34-setup-link-wrong');
  await setup(page, srv);
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto(srv.setupLink);
  await p.getByRole('heading', { name: 'Setup link used' }).waitFor();
  await p.getByText('This setup link was already used').waitFor();
  await ctx.close();
});

test('an unknown address and a deleted object get "Page not found" with a way back', async () => {
  await page.goto(`${srv.base}/servers`);
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  await page.goto(`${srv.base}/no/such/page`);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  assert.equal(await page.title(), 'Page not found · Piora');
  await page.getByText('/no/such/page').waitFor();
  await shot(page, '35-not-found');
  await page.getByRole('button', { name: 'Go back' }).click();
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  await page.goto(`${srv.base}/applications/987654`);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await page.goto(`${srv.base}/settings/tokens/987654`);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await page.getByRole('link', { name: 'Go to Servers' }).click();
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
});

test('no answer from the server: "Piora is not answering" and Retry', async () => {
  await page.goto(`${srv.base}/servers`);
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  const down = (route) => route.abort('connectionrefused');
  await page.route('**/web/api/**', down);
  // In the shell: a page change while the server is down.
  await page.getByRole('link', { name: 'Databases', exact: true }).click();
  await page.getByRole('heading', { name: 'Piora is not answering' }).waitFor();
  assert.doesNotMatch(await page.locator('body').innerText(), /Failed to fetch/);
  await shot(page, '36-not-answering');
  await page.unroute('**/web/api/**', down);
  await page.getByRole('button', { name: 'Retry' }).click();
  await page.getByRole('heading', { name: 'Databases', exact: true }).waitFor();
  // A form while the server is down says so, in words.
  await page.goto(`${srv.base}/servers`);
  await page.getByRole('button', { name: 'New server' }).first().click();
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Name').fill('web-9');
  await dlg.getByLabel('IP address').fill('10.0.0.9');
  await page.route('**/web/api/**', down);
  await dlg.getByRole('button', { name: 'Create' }).click();
  await dlg.getByText('Piora is not answering').waitFor();
  // A fresh load while the server is down: the whole page, then Retry.
  await page.reload();
  await page.getByRole('heading', { name: 'Piora is not answering' }).waitFor();
  await page.unroute('**/web/api/**', down);
  await page.getByRole('button', { name: 'Retry' }).click();
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
});

test('after sign-in, back to the page that asked for it (and only to a page of this dashboard)', async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  p.setDefaultTimeout(10000);
  await p.goto(`${srv.base}/settings/members?page=1`);
  await p.getByRole('button', { name: 'Sign in' }).waitFor();
  const at = new URL(p.url());
  assert.equal(at.pathname, '/signin');
  assert.equal(at.searchParams.get('next'), '/settings/members?page=1');
  await p.getByLabel('Email').fill('ada@example.com');
  await p.getByLabel('Password').fill(PASSWORD);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('link', { name: 'Members', exact: true }).waitFor();
  assert.equal(new URL(p.url()).pathname + new URL(p.url()).search, '/settings/members?page=1');
  await p.getByRole('button', { name: 'Sign out' }).click();
  await p.getByText('You are signed out.').waitFor();
  for (const next of ['//evil.example/x', 'https://evil.example/', '/web/api/session', '/signin']) {
    await p.goto(`${srv.base}/signin?${new URLSearchParams({ next })}`);
    await p.getByLabel('Email').fill('ada@example.com');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
    assert.equal(new URL(p.url()).origin, srv.base, next);
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.getByText('You are signed out.').waitFor();
  }
  await ctx.close();
});
