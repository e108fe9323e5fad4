// Issue 13's dialogs: the one-time token is not lost to a stray Escape, Done
// or click outside before it was copied; Revoke and Delete open on Cancel,
// and deleting a server, application or database wants its name typed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, shot } from './lib/harness.mjs';

let srv;
let browser;
let ctx;
let page;

before(async () => {
  srv = await startServer();
  browser = await launch();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.base });
  page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  await setup(page, srv);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function createToken(name) {
  await page.goto(`${srv.base}/settings/tokens`);
  await page.getByRole('button', { name: 'Generate New Token' }).first().click();
  const dlg = page.getByRole('dialog', { name: 'Generate New Token' });
  await dlg.getByLabel('Name', { exact: true }).fill(name);
  await dlg.getByRole('checkbox', { name: 'servers:read', exact: true }).check();
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
  const shown = page.getByRole('dialog', { name: `Token ${name} created` });
  await shown.waitFor();
  return shown;
}

const ask = () => page.getByRole('dialog', { name: 'Close without copying?' });

test('the new token: Escape, Done and a click outside ask first until it is copied; after Copy it closes at once', async () => {
  const shown = await createToken('ci');
  const secret = await shown.getByLabel('New token', { exact: true }).inputValue();
  await page.keyboard.press('Escape');
  await ask().getByText('You have not copied the token').waitFor();
  await shot(page, '30-token-not-copied');
  // The prompt opens on the safe choice: Enter keeps the token on screen.
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Keep it open');
  await page.keyboard.press('Enter');
  await ask().waitFor({ state: 'detached' });
  assert.equal(await shown.getByLabel('New token', { exact: true }).inputValue(), secret);
  await shown.getByRole('button', { name: 'Done' }).click();
  await ask().getByRole('button', { name: 'Keep it open' }).click();
  await ask().waitFor({ state: 'detached' });
  await page.mouse.click(8, 8); // the backdrop
  await ask().waitFor();
  await page.keyboard.press('Escape'); // Escape on the prompt keeps the token too
  await ask().waitFor({ state: 'detached' });
  assert.ok(await shown.isVisible());
  await shown.getByRole('button', { name: 'Copy', exact: true }).click();
  await shown.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await page.keyboard.press('Escape');
  await shown.waitFor({ state: 'detached' });
  assert.equal(await ask().count(), 0, 'no question once copied');
  await page.getByRole('row', { name: /ci/ }).waitFor();
});

test('the new token: "Close without copying" closes it and the secret is gone from the page', async () => {
  const shown = await createToken('throwaway');
  const secret = await shown.getByLabel('New token', { exact: true }).inputValue();
  await shown.getByRole('button', { name: 'Done' }).click();
  await ask().getByRole('button', { name: 'Close without copying' }).click();
  await shown.waitFor({ state: 'detached' });
  await page.getByRole('row', { name: /throwaway/ }).waitFor();
  assert.ok(!(await page.content()).includes(secret));
});

test('Revoke opens on Cancel: Enter on the Revoke button and Enter again keep the token', async () => {
  const row = page.getByRole('row', { name: /throwaway/ });
  await row.getByRole('button', { name: 'Revoke', exact: true }).focus();
  await page.keyboard.press('Enter');
  const dlg = page.getByRole('dialog', { name: /Revoke token throwaway/ });
  await dlg.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel');
  await page.keyboard.press('Enter');
  await dlg.waitFor({ state: 'detached' });
  assert.match(await row.innerText(), /active/);
  assert.doesNotMatch(await row.innerText(), /revoked/);
});

test('deleting a server, an application or a database asks for its name; Delete stays disabled until it matches', async () => {
  const made = await page.evaluate(async () => {
    const s = await (await fetch('/web/api/session')).json();
    const call = async (path, body) => (await fetch(`/web/api/v1/${path}`, {
      method: 'POST', body: JSON.stringify(body), headers: { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' } })).json();
    const keep = await call('servers', { name: 'keep-1', ip_address: '10.0.0.9' });
    await call('servers', { name: 'doomed-1', ip_address: '10.0.0.8' });
    await call('applications', { name: 'doomed-app', server_id: keep.id, repository: 'acme/doomed' });
    await call('databases', { name: 'doomed-db', engine: 'postgresql', server_id: keep.id });
    return keep.id;
  });
  assert.ok(made > 0);
  for (const [path, name] of [['/servers', 'doomed-1'], ['/applications', 'doomed-app'], ['/databases', 'doomed-db']]) {
    await page.goto(`${srv.base}${path}`);
    const del = page.getByRole('button', { name: `Delete ${name}` });
    await del.focus();
    await page.keyboard.press('Enter');
    const dlg = page.getByRole('dialog', { name: new RegExp(`Delete .*${name}`) });
    await dlg.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel', `${path}: focus on Cancel`);
    const go = dlg.getByRole('button', { name: 'Delete', exact: true });
    assert.ok(await go.isDisabled(), `${path}: Delete disabled before the name is typed`);
    await page.keyboard.press('Enter');
    await dlg.waitFor({ state: 'detached' });
    await page.getByRole('row', { name: new RegExp(name) }).waitFor();
    await del.click();
    await dlg.getByLabel(`Type ${name} to confirm`).fill(name.slice(0, -1));
    assert.ok(await go.isDisabled(), `${path}: a partial name is not enough`);
    await dlg.getByLabel(`Type ${name} to confirm`).fill(name);
    if (path === '/servers') await shot(page, '31-delete-type-name');
    assert.ok(await go.isEnabled());
    await go.click();
    await page.getByRole('row', { name: new RegExp(name) }).waitFor({ state: 'detached' });
  }
});
