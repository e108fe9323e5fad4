// The whole team (issue 13) in the browser: sudo mode asks for the password
// before a token is made on a stale sign-in and then finishes the action;
// offboarding: a member's token works, the admin disables the member on the
// Members page, the token answers 401 and the member's session is gone;
// the admin sees every member's token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, signIn, shot, apiCall, noteCookies, PASSWORD } from './lib/harness.mjs';
import { noteSecret } from '../lib/journal.mjs';

let srv;
let browser;
let page;
const SUDO_S = 3;

before(async () => {
  srv = await startServer(['--sudo-window', String(SUDO_S)]);
  browser = await launch();
  page = await browser.newPage();
  page.setDefaultTimeout(10000);
  await setup(page, srv);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function createToken(p, name) {
  await p.goto(`${srv.base}/settings/tokens`);
  await p.getByRole('button', { name: 'Generate New Token' }).first().click();
  const dlg = p.getByRole('dialog', { name: 'Generate New Token' });
  await dlg.getByLabel('Name', { exact: true }).fill(name);
  await dlg.getByRole('checkbox', { name: 'servers:read', exact: true }).check();
  await dlg.getByRole('button', { name: 'Create', exact: true }).click();
}

async function readSecret(p, name) {
  const shown = p.getByRole('dialog', { name: new RegExp(`Token ${name} created`) });
  const token = await shown.getByLabel('New token', { exact: true }).inputValue();
  noteSecret(token);
  await shown.getByRole('button', { name: 'Copy', exact: true }).click();
  await shown.getByRole('button', { name: 'Done' }).click();
  return token;
}

test('sudo mode: a stale sign-in is asked for the password, then the token is made', async () => {
  await page.waitForTimeout((SUDO_S + 1) * 1000);
  await createToken(page, 'after-a-while');
  const ask = page.getByRole('dialog', { name: 'Confirm your password' });
  await ask.waitFor();
  await shot(page, '40-sudo-prompt');
  await ask.getByLabel('Password').fill('not my password');
  await ask.getByRole('button', { name: 'Confirm' }).click();
  await ask.getByText('That is not your password.').waitFor();
  await ask.getByLabel('Password').fill(PASSWORD);
  await ask.getByRole('button', { name: 'Confirm' }).click();
  const token = await readSecret(page, 'after-a-while');
  assert.equal((await apiCall(srv, token, '/api/v1/servers')).status, 200);
});

test('offboarding: the admin invites a member, disables them on the Members page; their token and session end at once', async () => {
  // Invite bob and let him join in a second browser context.
  await page.goto(`${srv.base}/settings/members`);
  await page.getByRole('button', { name: 'Invite member' }).click();
  await page.getByRole('dialog').getByLabel('Email').fill('bob@example.com');
  await page.getByRole('dialog').getByRole('button', { name: 'Create invitation' }).click();
  const link = await page.getByRole('dialog').getByLabel('Invitation link').inputValue();
  noteSecret(new URL(link).hash.slice(1));
  await page.getByRole('dialog').getByRole('button', { name: 'Done' }).click();

  const ctx = await browser.newContext();
  const bob = await ctx.newPage();
  bob.setDefaultTimeout(10000);
  await bob.goto(link);
  await bob.getByLabel('Password').fill('bobs own password');
  noteSecret('bobs own password');
  await bob.getByRole('button', { name: 'Join team' }).click();
  await bob.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  await noteCookies(bob);
  await createToken(bob, 'bob-ci');
  const token = await readSecret(bob, 'bob-ci');
  assert.equal((await apiCall(srv, token, '/api/v1/servers')).status, 200);

  // The admin sees bob's token among all members'.
  await page.goto(`${srv.base}/settings/tokens`);
  await page.getByLabel('Show tokens of').selectOption('all');
  await page.getByRole('row', { name: /bob-ci.*bob@example\.com/ }).waitFor();
  assert.equal(await page.getByRole('row', { name: /bob-ci/ }).getByRole('button', { name: 'Regenerate' }).count(), 0,
    'an admin cannot regenerate (and so read) a member\'s secret');
  await shot(page, '41-all-tokens');

  await page.goto(`${srv.base}/settings/members`);
  await page.getByRole('button', { name: 'Disable bob@example.com' }).click();
  const confirm = page.getByRole('dialog', { name: /Disable bob@example.com/ });
  await confirm.getByRole('button', { name: 'Disable' }).click();
  await page.getByRole('row', { name: /bob@example\.com.*disabled/ }).waitFor();
  await shot(page, '42-member-disabled');

  const after = await apiCall(srv, token, '/api/v1/servers');
  assert.equal(after.status, 401);
  assert.equal((await after.json()).code, 'token_revoked');
  await bob.goto(`${srv.base}/servers`);
  await bob.getByRole('button', { name: 'Sign in' }).waitFor();
  await signIn(bob, srv, 'bob@example.com', 'bobs own password');
  await bob.getByRole('alert').waitFor();
  assert.equal(await bob.getByRole('alert').innerText(), 'Wrong email or password.');
  await ctx.close();

  // The last admin is kept: the admin cannot demote or disable themselves here.
  assert.equal(await page.getByRole('row', { name: /ada@example\.com/ }).getByRole('button').count(), 0);
  await page.goto(`${srv.base}/audit`);
  await page.getByText('User disabled').first().waitFor();
});
