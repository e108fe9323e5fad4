// Two-factor sign-in in the browser (issue 13): enrolment on the Account
// page with a code the test computes (node:crypto HMAC-SHA1), recovery codes
// shown once, sign-in with a code and with a recovery code, and a team that
// requires it sending a member to enrolment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, setup, signIn, shot, noteCookies, EMAIL } from './lib/harness.mjs';
import { noteSecret } from '../lib/journal.mjs';
import { totp } from '../lib/totp.mjs';

let srv;
let browser;
let page;
let secret;
let recovery;

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

// A code the server has not seen yet: one per 30-second step, so wait for
// the next step when this one's code was used.
let lastStep = -1;
async function freshCode() {
  let step = Math.floor(Date.now() / 30000);
  if (step <= lastStep) {
    await page.waitForTimeout((lastStep + 1) * 30000 - Date.now() + 200);
    step = Math.floor(Date.now() / 30000);
  }
  lastStep = step;
  return totp(secret);
}

test('enrolment: the key as URI and text, confirmed with a code; recovery codes once', async () => {
  await page.goto(`${srv.base}/settings/account`);
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  const uri = await page.getByLabel('Setup URI').inputValue();
  assert.match(uri, /^otpauth:\/\/totp\/Piora:ada@example\.com\?secret=[A-Z2-7]{32}&issuer=Piora/);
  secret = (await page.getByLabel('Setup key').inputValue()).replace(/ /g, '');
  noteSecret(secret);
  assert.equal(new URL(uri).searchParams.get('secret'), secret);
  await page.getByLabel('Code from the app').fill(await freshCode());
  await shot(page, '43-totp-setup');
  await page.getByRole('button', { name: 'Turn on' }).click();
  const dlg = page.getByRole('dialog', { name: 'Recovery codes' });
  await dlg.waitFor();
  recovery = await dlg.getByRole('listitem').allTextContents();
  recovery.forEach(noteSecret);
  assert.equal(recovery.length, 10);
  await dlg.getByRole('button', { name: 'I saved them' }).click();
  await page.getByRole('button', { name: 'Turn off two-factor sign-in' }).waitFor();
  assert.equal((await page.content()).includes(secret), false, 'the key is gone from the page');
});

test('sign-in asks for the code after the password; a recovery code works instead', async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  p.setDefaultTimeout(10000);
  await signIn(p, srv);
  await p.getByRole('heading', { name: 'Two-factor sign-in' }).waitFor();
  await p.getByLabel('Authentication code').fill('000000' === totp(secret) ? '111111' : '000000');
  await p.getByRole('button', { name: 'Verify' }).click();
  await p.getByRole('alert').getByText('Wrong or used code.').waitFor();
  await p.getByLabel('Authentication code').fill(await freshCode());
  await p.getByRole('button', { name: 'Verify' }).click();
  await p.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  await noteCookies(p);
  await ctx.close();

  const ctx2 = await browser.newContext();
  const q = await ctx2.newPage();
  q.setDefaultTimeout(10000);
  await signIn(q, srv);
  await q.getByRole('button', { name: 'Use a recovery code' }).click();
  await q.getByLabel('Recovery code').fill(recovery[0]);
  await q.getByRole('button', { name: 'Verify' }).click();
  await q.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  await noteCookies(q);
  await ctx2.close();
});

test('a team that requires two-factor sign-in sends a member to enrolment first', async () => {
  await page.goto(`${srv.base}/settings/account`);
  await page.getByLabel('Require two-factor sign-in for everyone in the team').check();
  await page.getByText('now requires two-factor sign-in').waitFor();
  // A member joins through an invitation.
  await page.goto(`${srv.base}/settings/members`);
  await page.getByRole('button', { name: 'Invite member' }).click();
  await page.getByRole('dialog').getByLabel('Email').fill('cy@example.com');
  await page.getByRole('dialog').getByRole('button', { name: 'Create invitation' }).click();
  const link = await page.getByRole('dialog').getByLabel('Invitation link').inputValue();
  noteSecret(new URL(link).hash.slice(1));
  await page.getByRole('dialog').getByRole('button', { name: 'Done' }).click();
  const ctx = await browser.newContext();
  const cy = await ctx.newPage();
  cy.setDefaultTimeout(10000);
  await cy.goto(link);
  await cy.getByLabel('Password').fill('cys own password');
  noteSecret('cys own password');
  await cy.getByRole('button', { name: 'Join team' }).click();
  await cy.getByText('requires two-factor sign-in: set it up below').waitFor();
  assert.equal(new URL(cy.url()).pathname, '/settings/account');
  await noteCookies(cy);
  await cy.goto(`${srv.base}/servers`);
  await cy.getByText('requires two-factor sign-in: set it up below').waitFor();
  assert.equal(new URL(cy.url()).pathname, '/settings/account', 'nothing else until enrolled');
  await cy.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  const cySecret = (await cy.getByLabel('Setup key').inputValue()).replace(/ /g, '');
  noteSecret(cySecret);
  await cy.getByLabel('Code from the app').fill(totp(cySecret));
  await cy.getByRole('button', { name: 'Turn on' }).click();
  const dlg = cy.getByRole('dialog', { name: 'Recovery codes' });
  (await dlg.getByRole('listitem').allTextContents()).forEach(noteSecret);
  await dlg.getByRole('button', { name: 'I saved them' }).click();
  await cy.goto(`${srv.base}/servers`);
  await cy.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
  await shot(cy, '44-enrolled');
  await ctx.close();
  assert.ok(EMAIL);
});
