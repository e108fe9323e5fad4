// Settings > API Tokens (the seed's steps, word for word), a token's usage
// log, Settings > Account and Members, and the team's audit log.
import { get, post, patch, del, getAll } from './api.js';
import { h, icon, table, timeEl, badge, emptyState, openDialog, confirmDialog, field, showFormErrors, clearFormErrors, pageHead, toast, pager, pageParam, PER_PAGE } from './ui.js';
import { render } from './app.js';
import { session } from './api.js';

export const SCOPE_GROUPS = [
  { resource: 'Servers', scopes: [['servers:read', 'Read server information'], ['servers:write', 'Manage servers']] },
  { resource: 'Applications', scopes: [['applications:read', 'Read application information'], ['applications:write', 'Manage applications'], ['applications:deploy', 'Deploy applications']] },
  { resource: 'Databases', scopes: [['databases:read', 'Read database information'], ['databases:write', 'Manage databases']] },
  { resource: 'Backups', scopes: [['backups:read', 'Read backup information'], ['backups:write', 'Manage backups']] },
];

const EXPIRY = [
  ['7', '7 days'], ['30', '30 days'], ['60', '60 days'], ['90', '90 days'], ['180', '180 days'],
  ['365', '365 days'], ['custom', 'Custom date…'], ['never', 'No expiration'],
];

const FLAG_TEXT = {
  rotate: ['Rotate', 'Older than 90 days: regenerate it (rotate every 90 days).'],
  unused: ['Unused 90 days', 'Not used for 90 days: revoke it if nothing needs it.'],
  expiring: ['Expires soon', 'Expires within 7 days.'],
};

// /web/api/tokens and /web/api/users page as the API lists do: one page
// of rows and meta.total for the pager.
async function pageOf(path, extra = {}) {
  const page = pageParam();
  const r = await get(`${path}?${new URLSearchParams({ page, per_page: PER_PAGE, ...extra })}`);
  return { page, rows: r.data, total: r.meta.total };
}

function settingsTabs(current) {
  const tabs = [['/settings/tokens', 'API Tokens'], ['/settings/publishers', 'Trusted Publishers'], ['/settings/account', 'Account'], ['/settings/members', 'Members']];
  return h('nav', { class: 'tabs', 'aria-label': 'Settings' },
    tabs.map(([href, label]) => h('a', { href, 'aria-current': current === href ? 'page' : null }, label)));
}

export function settingsHead(current, sub, ...actions) {
  return [h('div', { class: 'crumbs' }, 'Settings'), pageHead('Settings', sub, ...actions), settingsTabs(current)];
}

// Admins may show every member's tokens (?owner=all) to revoke what a
// member left behind; regenerating stays the owner's (it shows the secret).
function ownerFilter(all) {
  if (!session.user.is_admin) return null;
  const f = field({ label: 'Show tokens of', name: 'owner', type: 'select', value: all ? 'all' : 'me',
    options: [{ value: 'me', label: 'Only me' }, { value: 'all', label: 'All members' }] });
  f.querySelector('select').addEventListener('change', (e) => {
    history.pushState(null, '', e.target.value === 'all' ? '/settings/tokens?owner=all' : '/settings/tokens');
    render();
  });
  return h('div', { class: 'filters' }, f);
}

export async function tokensPage() {
  const all = session.user.is_admin && new URLSearchParams(location.search).get('owner') === 'all';
  const shown = await pageOf('/tokens', all ? { owner: 'all' } : {});
  const gen = h('button', { type: 'button', class: 'btn primary', onclick: generateDialog }, icon('key'), 'Generate New Token');
  const head = [settingsHead('/settings/tokens', 'API tokens let scripts and CI/CD pipelines call the Piora API with the scopes you grant.', gen), ownerFilter(all)];
  const mine = (k) => k.owner === session.user.email;
  const usage = h('div', { class: 'notice' }, 'Send a token in the Authorization header: ',
    h('code', {}, 'Authorization: Bearer piora_token_…'), '. Keep it in an environment variable, never in source code; grant only the scopes it needs and rotate it every 90 days.');
  if (shown.total === 0) {
    const again = h('button', { type: 'button', class: 'btn primary', onclick: generateDialog }, icon('key'), 'Generate New Token');
    return [head, emptyState({ iconName: 'key', title: 'No API tokens yet', text: 'Generate a token for each script or pipeline, with only the scopes it needs.', action: again }), usage];
  }
  const t = table([
    { label: 'Name', cell: (k) => h('div', {}, h('a', { class: 'cell-main', href: `/settings/tokens/${k.id}` }, k.name), h('div', { class: 'cell-sub mono' }, k.hint),
      k.note ? h('div', { class: 'cell-sub token-note' }, k.note) : null,
      k.regenerated_at ? h('div', { class: 'cell-sub' }, 'Secret regenerated ', timeEl(k.regenerated_at)) : null) },
    ...(all ? [{ label: 'Owner', cell: (k) => k.owner || '—' }] : []),
    { label: 'Scopes', cell: (k) => h('div', { class: 'chips' }, k.scopes.map((s) => h('span', { class: 'chip' }, s))) },
    { label: 'Created', cell: (k) => timeEl(k.created_at) },
    { label: 'Last used', cell: (k) => timeEl(k.last_used_at, 'Never') },
    { label: 'Expires', cell: (k) => timeEl(k.expires_at, 'Never') },
    { label: 'Limits', cell: (k) => limitsCell(k) },
    { label: 'Status', cell: (k) => h('div', { class: 'badges' }, badge(k.status),
      k.flags.map((f) => h('span', { class: 'badge flag warn', title: FLAG_TEXT[f][1] }, FLAG_TEXT[f][0]))) },
    { label: 'Actions', cell: (k) => h('div', { class: 'actions' },
      h('a', { class: 'btn small', href: `/settings/tokens/${k.id}`, 'aria-label': `Usage of ${k.name}` }, 'Usage'),
      k.status === 'revoked' || !mine(k) ? null : h('button', { type: 'button', class: 'btn small', onclick: () => regenerate(k) }, 'Regenerate'),
      h('button', { type: 'button', class: 'btn small', 'aria-label': `Rename or edit the note of ${k.name}`, onclick: () => editToken(k) }, 'Edit'),
      k.status === 'revoked' ? null : h('button', { type: 'button', class: 'btn small danger-ghost', onclick: () => revoke(k) }, 'Revoke'),
      k.status === 'active' ? null : h('button', { type: 'button', class: 'btn small', 'aria-label': `Remove ${k.name} from the list`, onclick: () => removeToken(k) }, 'Remove from list')) },
  ], shown.rows, { caption: 'API Tokens' });
  t.append(pager({ page: shown.page, total: shown.total }));
  return [head, t, h('p', {}), usage];
}

// Sudo mode: the server answers 403 reauth_required when the sign-in is
// older than --sudo-window. Ask for the password, then run the action again.
function reauthDialog() {
  const form = h('form', { novalidate: true },
    field({ label: 'Password', name: 'password', type: 'password', required: true, attrs: { autocomplete: 'current-password', autofocus: true } }),
    session.user.totp_enabled ? field({ label: 'Authentication code', name: 'code', required: true, attrs: { autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 6 } }) : null);
  return openDialog((close) => {
    form.append(h('div', { class: 'actions dialog-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn primary' }, 'Confirm')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFormErrors(form);
      try {
        await post('/session/reauth', { password: form.elements.password.value, ...(form.elements.code ? { code: form.elements.code.value.trim() } : {}) });
        close(true);
      } catch (err) {
        if (err.status === 401) close(false); else showFormErrors(form, err);
      }
    });
    return [h('h2', {}, 'Confirm your password'), h('p', { class: 'lead' }, 'Making or regenerating a token needs a recent sign-in. Enter your password to continue.'), form];
  }, { label: 'Confirm your password' });
}

async function withSudo(action) {
  try {
    return await action();
  } catch (e) {
    if (e.code !== 'reauth_required') throw e;
    if (!(await reauthDialog())) return null;
    return action();
  }
}

// SPEC 11's limits in a list row: what the token reaches and from where.
function limitsText(k) {
  const r = k.resources;
  let res = 'All resources';
  if (r) {
    const parts = [['servers', 'server'], ['applications', 'application'], ['databases', 'database']]
      .filter(([key]) => r[key]?.length)
      .map(([key, one]) => `${one}${r[key].length > 1 ? 's' : ''} ${r[key].map((id) => `#${id}`).join(', ')}`);
    res = parts.length ? `Only ${parts.join('; ')}` : 'No resources';
  }
  const ips = k.allowed_ips ? `From ${k.allowed_ips.join(', ')}` : 'Any address';
  return [res, ips];
}

function limitsCell(k) {
  const [res, ips] = limitsText(k);
  return h('div', { class: 'limits' }, h('div', {}, res), h('div', { class: 'cell-sub mono' }, ips));
}

// All resources / Selected: a tree of the team's servers, each with its
// applications and databases. A server covers what runs on it.
function resourcesFieldset() {
  const tree = h('div', { class: 'resource-tree', hidden: true, role: 'group', 'aria-label': 'Selected resources' },
    h('p', { class: 'hint' }, 'Loading the team\'s servers…'));
  let loaded = false;
  const radio = (value, label, checked) => {
    const id = `res-${value}`;
    return h('div', { class: 'check' },
      h('input', { type: 'radio', id, name: 'resources', value, checked }),
      h('label', { for: id }, label));
  };
  const box = (kind, o, label) => {
    const id = `res-${kind}-${o.id}`;
    return h('div', { class: 'check' },
      h('input', { type: 'checkbox', id, name: `res-${kind}`, value: String(o.id) }),
      h('label', { for: id }, label));
  };
  async function load() {
    if (loaded) return;
    loaded = true;
    try {
      const [servers, apps, dbs] = await Promise.all([getAll('/v1/servers'), getAll('/v1/applications'), getAll('/v1/databases')]);
      if (servers.length === 0) {
        tree.replaceChildren(h('p', { class: 'hint' }, 'The team has no servers yet.'));
        return;
      }
      tree.replaceChildren(
        h('ul', { class: 'tree' }, servers.map((sv) => h('li', {},
          box('servers', sv, `Server ${sv.name}`),
          h('ul', {},
            apps.filter((a) => a.server_id === sv.id).map((a) => h('li', {}, box('applications', a, `Application ${a.name}`))),
            dbs.filter((d) => d.server_id === sv.id).map((d) => h('li', {}, box('databases', d, `Database ${d.name}`))))))));
    } catch (ex) {
      loaded = false;
      tree.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, ex.message || 'Could not load the team\'s resources.'));
    }
  }
  const fs = h('fieldset', {},
    h('legend', {}, 'Resources'),
    h('p', { class: 'hint' }, 'Limit the token to chosen servers, applications and databases. A server covers its applications and databases; anything else answers 404 to this token.'),
    radio('all', 'All resources', true), radio('selected', 'Selected', false), tree);
  fs.addEventListener('change', (e) => {
    if (e.target.name !== 'resources') return;
    tree.hidden = e.target.value !== 'selected';
    if (!tree.hidden) load();
  });
  return fs;
}

// The form's resources value: null for all, else the checked ids by kind.
function selectedResources(form) {
  if (form.querySelector('input[name=resources]:checked')?.value !== 'selected') return null;
  const ids = (kind) => [...form.querySelectorAll(`input[name=res-${kind}]:checked`)].map((c) => Number(c.value));
  return { servers: ids('servers'), applications: ids('applications'), databases: ids('databases') };
}

function scopesFieldset() {
  return h('fieldset', {},
    h('legend', {}, 'Scopes'),
    h('p', { class: 'hint' }, 'Select token permission scopes. Grant only what the token needs; write includes read.'),
    h('div', { class: 'scope-groups' }, SCOPE_GROUPS.map((g) => h('div', { class: 'scope-group', role: 'group', 'aria-label': g.resource },
      h('h3', {}, g.resource),
      g.scopes.map(([name, desc]) => {
        const id = `scope-${name.replace(':', '-')}`;
        return h('div', { class: 'check' },
          h('input', { type: 'checkbox', id, name: 'scopes', value: name, 'aria-describedby': `${id}-d` }),
          h('div', {}, h('label', { for: id }, name), h('span', { class: 'hint', id: `${id}-d` }, desc)));
      })))));
}

function generateDialog() {
  const tomorrow = new Date(Date.now() + 86400e3).toISOString().slice(0, 10);
  const custom = field({ label: 'Expiration date', name: 'expires_at', type: 'date', attrs: { min: tomorrow } });
  custom.hidden = true;
  const warnNever = h('div', { class: 'notice warn', hidden: true }, 'A token without an expiration works until you revoke it. Piora recommends rotating tokens every 90 days.');
  const expiry = field({ label: 'Expiration', name: 'expiry', type: 'select', value: '90', options: EXPIRY.map(([value, label]) => ({ value, label })) });
  const sel = expiry.querySelector('select');
  sel.addEventListener('change', () => {
    custom.hidden = sel.value !== 'custom';
    warnNever.hidden = sel.value !== 'never';
  });
  const form = h('form', { novalidate: true },
    field({ label: 'Name', name: 'name', required: true, attrs: { placeholder: 'ci-cd-pipeline', autocomplete: 'off', maxlength: 100 }, hint: 'What uses this token, e.g. ci-cd-pipeline.' }),
    noteField(''),
    scopesFieldset(),
    resourcesFieldset(),
    field({ label: 'Allowed IPs', name: 'allowed_ips', type: 'textarea', attrs: { rows: 3, placeholder: '203.0.113.0/24\n2001:db8:1234::/48', spellcheck: 'false' },
      hint: 'IPv4/IPv6 addresses or CIDR blocks, one per line or comma-separated (at most 32). Leave empty for any address; 0.0.0.0/0 and ::/0 mean every address.' }),
    h('div', { class: 'row-2' }, expiry, custom), warnNever);
  return openDialog((close) => {
    form.append(h('div', { class: 'actions dialog-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => close(null) }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn primary' }, 'Create')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFormErrors(form);
      const scopes = [...form.querySelectorAll('input[name=scopes]:checked')].map((c) => c.value);
      const body = { name: form.elements.name.value.trim(), scopes, expiry: sel.value };
      const note = form.elements.note.value.trim();
      if (note) body.note = note;
      if (sel.value === 'custom') body.expires_at = form.elements.expires_at.value;
      body.resources = selectedResources(form);
      const ips = form.elements.allowed_ips.value.trim();
      body.allowed_ips = ips ? ips : null;
      const err = {};
      const r = body.resources;
      if (r && r.servers.length + r.applications.length + r.databases.length === 0) err.resources = 'Select at least one server, application or database, or choose All resources.';
      if (!body.name) err.name = 'Name the token, e.g. ci-cd-pipeline.';
      if (scopes.length === 0) err.scopes = 'Select at least one scope.';
      if (sel.value === 'custom' && !body.expires_at) err.expires_at = 'Pick a date.';
      if (Object.keys(err).length) {
        showFormErrors(form, { errors: Object.entries(err).map(([field, message]) => ({ field, message })) });
        return;
      }
      try {
        const made = await withSudo(() => post('/tokens', body));
        if (made) close(made);
      } catch (ex) {
        if (ex.status === 401) { close(null); return; }
        showFormErrors(form, ex);
      }
    });
    return [h('h2', {}, 'Generate New Token'), h('p', { class: 'lead' }, 'Name the token, choose its scopes and when it expires.'), form];
  }, { wide: true, label: 'Generate New Token' }).then((made) => {
    if (made) return showSecret(made, `Token ${made.name} created`).then(() => render());
    return null;
  });
}

// The secret, once: a Copy button and the warning that it will not be
// shown again. The page never stores it. Until it has been copied (the
// button, or a copy from the field), Done, Escape and a click outside ask
// first, since closing loses the secret for good.
function showSecret(tok, title) {
  let copied = false;
  let asking = false;
  const leave = async (close) => {
    if (copied) { close(true); return; }
    if (asking) return;
    asking = true;
    const sure = await confirmDialog({ title: 'Close without copying?',
      body: 'You have not copied the token. Once this window closes it cannot be shown again; you would have to regenerate it.',
      action: 'Close without copying', cancelLabel: 'Keep it open' });
    asking = false;
    if (sure) close(true);
  };
  return openDialog((close, dismiss) => {
    const input = h('input', { class: 'input', readonly: true, 'aria-label': 'New token', id: 'new-token', value: tok.token });
    const copy = h('button', { type: 'button', class: 'btn primary', onclick: async () => {
      try {
        await navigator.clipboard.writeText(tok.token);
        copied = true;
      } catch {
        input.focus();
        input.select();
        copied = document.execCommand('copy');
      }
      if (!copied) {
        toast('Copying was refused: select the token and press Ctrl+C.', 'error');
        return;
      }
      copy.textContent = 'Copied';
      toast('Token copied to the clipboard.');
      setTimeout(() => { copy.textContent = 'Copy'; }, 2000);
    } }, 'Copy');
    input.addEventListener('focus', () => input.select());
    input.addEventListener('copy', () => { copied = true; });
    return [
      h('h2', {}, title),
      h('div', { class: 'notice warn', role: 'alert' }, 'Copy this token now. It will not be shown again.'),
      h('div', { class: 'secret-box' }, input, copy),
      h('p', { class: 'hint' }, 'Scopes: ', tok.scopes.join(', '), ' · Expires: ', tok.expires_at ? new Date(tok.expires_at).toUTCString() : 'never'),
      h('p', { class: 'hint' }, limitsText(tok).join(' · ')),
      h('div', { class: 'actions dialog-actions' }, h('button', { type: 'button', class: 'btn', onclick: dismiss }, 'Done')),
    ];
  }, { label: title, onDismiss: leave, backdrop: true });
}

async function revoke(k) {
  const ok = await confirmDialog({ title: `Revoke token ${k.name}?`,
    body: 'Every request with this token will immediately receive 401 Unauthorized. This cannot be undone.', action: 'Revoke' });
  if (!ok) return;
  try {
    await post(`/tokens/${k.id}/revoke`);
    toast(`Token ${k.name} revoked.`);
    render();
  } catch (e) {
    if (e.status !== 401) toast(e.detail || e.message, 'error');
  }
}

// A token's note: one line of at most 500 bytes (the server counts bytes,
// the field counts characters, so the server has the last word).
function noteField(value) {
  return field({ label: 'Note', name: 'note', value, attrs: { autocomplete: 'off', maxlength: 500, placeholder: 'What it is for, who to ask' },
    hint: 'Optional, at most 500 characters: what uses the token and who to ask about it.' });
}

// Rename and the note in one dialog; only what changed is sent.
function editToken(k) {
  const form = h('form', { novalidate: true },
    field({ label: 'Name', name: 'name', value: k.name, required: true, attrs: { autocomplete: 'off', maxlength: 100, autofocus: true } }),
    noteField(k.note || ''));
  return openDialog((close) => {
    form.append(h('div', { class: 'actions dialog-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn primary' }, 'Save')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFormErrors(form);
      const name = form.elements.name.value.trim();
      const note = form.elements.note.value.trim();
      if (!name) {
        showFormErrors(form, { errors: [{ field: 'name', message: 'Name the token, e.g. ci-cd-pipeline.' }] });
        return;
      }
      const body = {};
      if (name !== k.name) body.name = name;
      if (note !== (k.note || '')) body.note = note || null;
      if (Object.keys(body).length === 0) { close(false); return; }
      try {
        await patch(`/tokens/${k.id}`, body);
        close(true);
      } catch (err) {
        if (err.status === 401) close(false); else showFormErrors(form, err);
      }
    });
    return [h('h2', {}, `Edit token ${k.name}`), h('p', { class: 'lead' }, 'Rename the token or change its note. Its secret, scopes and limits stay as they are.'), form];
  }, { label: `Edit token ${k.name}` }).then((saved) => {
    if (!saved) return;
    toast('Token updated.');
    render();
  });
}

async function removeToken(k) {
  const ok = await confirmDialog({ title: `Remove token ${k.name} from the list?`,
    body: `It is ${k.status} and stays so: requests with it keep getting 401. The audit log keeps its history.`, action: 'Remove from list' });
  if (!ok) return;
  try {
    await del(`/tokens/${k.id}`);
    toast(`Token ${k.name} removed from the list.`);
    render();
  } catch (e) {
    if (e.status !== 401) toast(e.detail || e.message, 'error');
  }
}

async function regenerate(k) {
  const ok = await confirmDialog({ title: `Regenerate token ${k.name}?`,
    body: 'It keeps its name and scopes and gets a new secret. The current secret stops working immediately: update every place that uses it.', action: 'Regenerate', danger: false });
  if (!ok) return;
  try {
    const t = await withSudo(() => post(`/tokens/${k.id}/regenerate`));
    if (!t) return;
    await showSecret(t, `Token ${t.name} regenerated`);
    render();
  } catch (e) {
    if (e.status !== 401) toast(e.detail || e.message, 'error');
  }
}

export async function tokenUsagePage(id) {
  const q = new URLSearchParams(location.search);
  const page = pageParam();
  const params = new URLSearchParams({ page, per_page: PER_PAGE });
  if (q.get('since')) params.set('since', q.get('since'));
  if (q.get('status')) params.set('status', q.get('status'));
  const r = await get(`/tokens/${id}/usage?${params}`);
  const k = r.token;
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter usage' },
    field({ label: 'Since', name: 'since', type: 'select', value: q.get('since') || '', options: [
      { value: '', label: 'All retained' }, { value: '1h', label: 'Last hour' }, { value: '24h', label: 'Last 24 hours' },
      { value: '7d', label: 'Last 7 days' }, { value: '30d', label: 'Last 30 days' }] }),
    field({ label: 'Status', name: 'status', type: 'select', value: q.get('status') || '', options: [
      { value: '', label: 'Any status' }, ...[200, 201, 202, 204, 401, 403, 404, 422, 429].map((s) => ({ value: s, label: String(s) }))] }),
    h('button', { type: 'submit', class: 'btn' }, 'Apply'),
    h('a', { class: 'btn', href: `/web/api/tokens/${id}/usage?${new URLSearchParams({ format: 'csv', ...(q.get('since') ? { since: q.get('since') } : {}), ...(q.get('status') ? { status: q.get('status') } : {}) })}`, download: `token-${id}-usage.csv` }, 'Export CSV'));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (filters.elements.since.value) p.set('since', filters.elements.since.value);
    if (filters.elements.status.value) p.set('status', filters.elements.status.value);
    history.pushState(null, '', `/settings/tokens/${id}${p.size ? `?${p}` : ''}`);
    render();
  });
  const facts = h('div', { class: 'card card-pad' }, h('dl', { class: 'kv' },
    h('dt', {}, 'Status'), h('dd', {}, h('div', { class: 'badges' }, badge(k.status), k.flags.map((f) => h('span', { class: 'badge flag warn' }, FLAG_TEXT[f][0])))),
    h('dt', {}, 'Token'), h('dd', { class: 'mono' }, k.hint),
    h('dt', {}, 'Scopes'), h('dd', {}, h('div', { class: 'chips' }, k.scopes.map((s) => h('span', { class: 'chip' }, s)))),
    h('dt', {}, 'Limits'), h('dd', {}, limitsText(k).join(' · ')),
    h('dt', {}, 'Created'), h('dd', {}, timeEl(k.created_at)),
    h('dt', {}, 'Last used'), h('dd', {}, timeEl(k.last_used_at, 'Never'), k.last_used_addr ? ` from ${k.last_used_addr}` : ''),
    h('dt', {}, 'Expires'), h('dd', {}, timeEl(k.expires_at, 'Never'))));
  const list = r.data.length === 0
    ? emptyState({ iconName: 'audit', title: 'No requests recorded', text: q.get('since') || q.get('status') ? 'Nothing matches these filters; widen them.' : 'Requests made with this token appear here: time, method, path, status and client address.' })
    : table([
      { label: 'Time', cell: (u) => timeEl(u.time) },
      { label: 'Method', cell: (u) => h('span', { class: 'mono' }, u.method) },
      { label: 'Path', cell: (u) => h('span', { class: 'mono' }, u.path) },
      { label: 'Status', cell: (u) => badge(String(u.status), u.status < 400 ? 'ok' : u.status === 429 || u.status === 404 ? 'warn' : 'danger') },
      { label: 'Client address', cell: (u) => h('span', { class: 'mono' }, u.addr) },
      { label: 'User agent', cell: (u) => h('span', { class: 'cell-sub' }, u.user_agent || '—') },
      { label: 'Requests', cell: (u) => String(u.count || 1) },
    ], r.data, { caption: 'Usage log' });
  const more = r.meta.total > 0 ? pager({ page, perPage: r.meta.per_page, total: r.meta.total }) : null;
  return [
    h('div', { class: 'crumbs' }, h('a', { href: '/settings/tokens' }, 'Settings / API Tokens'), ' / ', k.name),
    pageHead(k.name, 'Token usage log: every authenticated or denied request made with this token.'),
    facts, h('h2', { class: 'section' }, 'Usage log'), filters, list, more];
}

export async function accountPage() {
  const form = h('form', { novalidate: true, class: 'card card-pad' },
    h('h2', {}, 'Change password'),
    field({ label: 'Current password', name: 'current_password', type: 'password', required: true, attrs: { autocomplete: 'current-password' } }),
    field({ label: 'New password', name: 'new_password', type: 'password', required: true, attrs: { autocomplete: 'new-password' }, hint: 'At least 8 characters. Your other sessions are signed out.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn primary' }, 'Change password')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFormErrors(form);
    try {
      await post('/account/password', { current_password: form.elements.current_password.value, new_password: form.elements.new_password.value });
      form.reset();
      toast('Password changed.');
    } catch (err) {
      if (err.status !== 401) showFormErrors(form, err);
    }
  });
  const u = session.user;
  const facts = h('div', { class: 'card card-pad' }, h('h2', {}, 'Account'), h('dl', { class: 'kv' },
    h('dt', {}, 'Email'), h('dd', {}, u.email), h('dt', {}, 'Team'), h('dd', {}, u.team),
    h('dt', {}, 'Role'), h('dd', {}, u.is_admin ? 'Admin' : 'Member')));
  return [...settingsHead('/settings/account', 'Your account and password.'),
    u.must_enrol ? h('div', { class: 'notice warn', role: 'alert' }, `${u.team} requires two-factor sign-in: set it up below to use Piora.`) : null,
    h('div', { class: 'grid-2' }, facts, form), h('div', { class: 'grid-2' }, twoFactorCard(), u.is_admin ? teamTwoFactorCard() : null)];
}

// Two-factor sign-in (TOTP): the key is shown during set-up only, as an
// otpauth:// URI and as base32 text; a code confirms it; the 10 recovery
// codes are shown once.
function twoFactorCard() {
  const u = session.user;
  if (u.totp_enabled) {
    return h('div', { class: 'card card-pad' }, h('h2', {}, 'Two-factor sign-in'),
      h('p', {}, badge('on', 'ok'), ' Sign-in asks for a code from your authenticator app.'),
      u.team_requires_2fa ? h('p', { class: 'hint' }, `${u.team} requires it, so it stays on.`)
        : h('button', { type: 'button', class: 'btn danger-ghost', onclick: turnOffDialog }, 'Turn off two-factor sign-in'));
  }
  const body = h('div', {});
  const start = h('button', { type: 'button', class: 'btn primary', onclick: async () => {
    try {
      const r = await post('/account/totp/start');
      const form = h('form', { novalidate: true },
        h('p', {}, 'Add this key to your authenticator app (its "enter a setup key" or a link from this URI), then enter the code it shows.'),
        h('label', { for: 'totp-uri' }, 'Setup URI'), h('input', { class: 'input mono', id: 'totp-uri', readonly: true, value: r.uri }),
        h('label', { for: 'totp-key' }, 'Setup key'), h('input', { class: 'input mono', id: 'totp-key', readonly: true, value: r.secret.replace(/(.{4})/g, '$1 ').trim() }),
        field({ label: 'Code from the app', name: 'code', required: true, attrs: { autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 6 } }),
        h('button', { type: 'submit', class: 'btn primary' }, 'Turn on'));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearFormErrors(form);
        try {
          const done = await post('/account/totp/confirm', { code: form.elements.code.value.trim() });
          await showRecoveryCodes(done.recovery_codes);
          render();
        } catch (err) {
          if (err.status !== 401) showFormErrors(form, err);
        }
      });
      body.replaceChildren(form);
    } catch (err) {
      if (err.status !== 401) toast(err.detail || err.message, 'error');
    }
  } }, 'Set up two-factor sign-in');
  body.append(h('p', {}, badge('off'), ' Protect your account with a code from an authenticator app (TOTP).'), start);
  return h('div', { class: 'card card-pad' }, h('h2', {}, 'Two-factor sign-in'), body);
}

function showRecoveryCodes(codes) {
  return openDialog((close) => [
    h('h2', {}, 'Recovery codes'),
    h('div', { class: 'notice warn', role: 'alert' }, 'Save these codes now. Each signs you in once if you lose your authenticator app. They will not be shown again.'),
    h('ul', { class: 'mono', 'aria-label': 'Recovery codes' }, codes.map((c) => h('li', {}, c))),
    h('div', { class: 'actions dialog-actions' }, h('button', { type: 'button', class: 'btn primary', onclick: () => close(true) }, 'I saved them')),
  ], { label: 'Recovery codes' });
}

function turnOffDialog() {
  const form = h('form', { novalidate: true },
    field({ label: 'Password', name: 'password', type: 'password', required: true, attrs: { autocomplete: 'current-password' } }),
    field({ label: 'Authentication code', name: 'code', required: true, attrs: { autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 6 } }));
  openDialog((close) => {
    form.append(h('div', { class: 'actions dialog-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn danger' }, 'Turn off')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFormErrors(form);
      try {
        await post('/account/totp/disable', { password: form.elements.password.value, code: form.elements.code.value.trim() });
        close(true);
      } catch (err) {
        if (err.status === 401) close(false); else showFormErrors(form, err);
      }
    });
    return [h('h2', {}, 'Turn off two-factor sign-in?'), h('p', { class: 'lead' }, 'Sign-in will ask for your password only.'), form];
  }, { label: 'Turn off two-factor sign-in' }).then((off) => { if (off) { toast('Two-factor sign-in is off.'); render(); } });
}

function teamTwoFactorCard() {
  const u = session.user;
  const box = h('input', { type: 'checkbox', id: 'team-2fa', checked: u.team_requires_2fa });
  box.addEventListener('change', async () => {
    try {
      await post('/team/require-2fa', { required: box.checked });
      toast(box.checked ? `${u.team} now requires two-factor sign-in.` : 'Two-factor sign-in is optional again.');
      render();
    } catch (err) {
      box.checked = !box.checked;
      if (err.status !== 401) toast(err.detail || err.message, 'error');
    }
  });
  return h('div', { class: 'card card-pad' }, h('h2', {}, 'Team security'),
    h('div', { class: 'check' }, box, h('label', { for: 'team-2fa' }, 'Require two-factor sign-in for everyone in the team')),
    h('p', { class: 'hint' }, 'Members without it are sent to set it up after sign-in and can do nothing else until they have.'));
}

// Offboarding and roles (admins): each asks first and says what happens.
const MEMBER_ACTIONS = {
  disable: { label: 'Disable', title: (u) => `Disable ${u.email}?`, danger: true,
    body: 'Their dashboard sessions end and every token of theirs is revoked now: requests with them get 401. They cannot sign in until enabled again; revoked tokens stay revoked.' },
  enable: { label: 'Enable', title: (u) => `Enable ${u.email}?`, danger: false,
    body: 'They can sign in again. Their revoked tokens stay revoked.' },
  remove: { label: 'Remove', title: (u) => `Remove ${u.email} from the team?`, danger: true,
    body: 'As Disable, and they leave this list for good. What they created stays with the team; the audit log keeps their email.' },
  role: { label: (u) => (u.is_admin ? 'Make member' : 'Make admin'), title: (u) => (u.is_admin ? `Make ${u.email} a member?` : `Make ${u.email} an admin?`), danger: false,
    body: 'Admins manage members and see every token of the team.' },
};

async function memberAction(u, what) {
  const a = MEMBER_ACTIONS[what];
  const label = typeof a.label === 'function' ? a.label(u) : a.label;
  const ok = await confirmDialog({ title: a.title(u), body: a.body, action: label, danger: a.danger });
  if (!ok) return;
  try {
    await post(`/users/${u.id}/${what}`, what === 'role' ? { is_admin: !u.is_admin } : undefined);
    toast(what === 'role' ? `${u.email} is now ${u.is_admin ? 'a member' : 'an admin'}.` : `${u.email}: ${label.toLowerCase()}d.`);
    render();
  } catch (e) {
    if (e.status !== 401) toast(e.detail || e.message, 'error');
  }
}

export async function membersPage() {
  const shown = await pageOf('/users');
  const admin = session.user.is_admin;
  const add = admin ? h('button', { type: 'button', class: 'btn primary', onclick: inviteMember }, icon('plus'), 'Invite member') : null;
  const btn = (u, what) => {
    const a = MEMBER_ACTIONS[what];
    const label = typeof a.label === 'function' ? a.label(u) : a.label;
    return h('button', { type: 'button', class: `btn small${a.danger ? ' danger-ghost' : ''}`, 'aria-label': `${label} ${u.email}`, onclick: () => memberAction(u, what) }, label);
  };
  const t = table([
    { label: 'Email', cell: (u) => h('span', { class: 'cell-main' }, u.email) },
    { label: 'Role', cell: (u) => badge(u.is_admin ? 'admin' : 'member', u.is_admin ? 'info' : '') },
    { label: 'Status', cell: (u) => badge(u.disabled ? 'disabled' : 'active', u.disabled ? 'danger' : 'ok') },
    { label: 'Added', cell: (u) => timeEl(u.created_at) },
    ...(admin ? [{ label: 'Actions', cell: (u) => (u.id === session.user.id ? h('span', { class: 'cell-sub' }, 'You') : h('div', { class: 'actions' },
      btn(u, 'role'), btn(u, u.disabled ? 'enable' : 'disable'), btn(u, 'remove'))) }] : []),
  ], shown.rows, { caption: 'Members' });
  t.append(pager({ page: shown.page, total: shown.total }));
  let pending = null;
  if (admin) {
    const inv = (await get('/invites')).data;
    pending = inv.length === 0 ? null : [h('h2', { class: 'section' }, 'Pending invitations'), table([
      { label: 'Email', cell: (i) => h('span', { class: 'cell-main' }, i.email) },
      { label: 'Role', cell: (i) => badge(i.is_admin ? 'admin' : 'member', i.is_admin ? 'info' : '') },
      { label: 'Expires', cell: (i) => timeEl(i.expires_at) },
      { label: 'Actions', cell: (i) => h('button', { type: 'button', class: 'btn small danger-ghost', 'aria-label': `Revoke invitation of ${i.email}`, onclick: () => revokeInvite(i) }, 'Revoke') },
    ], inv, { caption: 'Pending invitations' })];
  }
  return [...settingsHead('/settings/members', `The people in ${session.user.team}.`, ...(add ? [add] : [])),
    session.user.is_admin ? null : h('div', { class: 'notice' }, 'Only an admin can invite members.'), t, ...(pending || [])];
}

async function revokeInvite(i) {
  const ok = await confirmDialog({ title: `Revoke the invitation of ${i.email}?`, body: 'The link stops working at once. You can invite them again later.', action: 'Revoke' });
  if (!ok) return;
  try {
    await post(`/invites/${i.id}/revoke`);
    toast(`Invitation of ${i.email} revoked.`);
    render();
  } catch (e) {
    if (e.status !== 401) toast(e.detail || e.message, 'error');
  }
}

// Invitations replace admin-chosen passwords: the admin gets a one-time
// link (7 days) to hand over; the invitee chooses their own password.
function inviteMember() {
  const form = h('form', { novalidate: true },
    field({ label: 'Email', name: 'email', type: 'email', required: true, attrs: { autocomplete: 'off' } }),
    h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'm-admin', name: 'is_admin' }), h('label', { for: 'm-admin' }, 'Admin (manages members and every token)')));
  openDialog((close) => {
    form.append(h('div', { class: 'actions dialog-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => close(null) }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn primary' }, 'Create invitation')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFormErrors(form);
      try {
        close(await post('/invites', { email: form.elements.email.value, is_admin: form.elements.is_admin.checked }));
      } catch (err) {
        if (err.status === 401) close(null); else showFormErrors(form, err);
      }
    });
    return [h('h2', {}, 'Invite member'), h('p', { class: 'lead' }, `They join ${session.user.team} through a one-time link and choose their own password.`), form];
  }, { label: 'Invite member' }).then((inv) => {
    if (!inv) return null;
    const link = inv.link || `${location.origin}/invite#${inv.secret}`;
    return openDialog((close) => {
      const input = h('input', { class: 'input', readonly: true, 'aria-label': 'Invitation link', value: link });
      input.addEventListener('focus', () => input.select());
      return [h('h2', {}, `Invitation for ${inv.email}`),
        h('div', { class: 'notice warn', role: 'alert' }, 'Send this link to them privately. It works once, for 7 days, and is not shown again.'),
        h('div', { class: 'secret-box' }, input, h('button', { type: 'button', class: 'btn primary', onclick: async () => {
          try { await navigator.clipboard.writeText(link); toast('Link copied.'); } catch { input.focus(); }
        } }, 'Copy')),
        h('div', { class: 'actions dialog-actions' }, h('button', { type: 'button', class: 'btn', onclick: () => close(true) }, 'Done'))];
    }, { label: `Invitation for ${inv.email}` }).then(() => render());
  });
}

const ACTION_TEXT = {
  signin: 'Signed in', 'signin.failed': 'Failed sign-in', signout: 'Signed out',
  'token.created': 'Token created', 'token.regenerated': 'Token regenerated', 'token.revoked': 'Token revoked',
  'token.renamed': 'Token renamed', 'token.note_changed': 'Token note changed', 'token.removed_from_list': 'Token removed from list',
  'user.created': 'User created', 'password.changed': 'Password changed',
  'user.disabled': 'User disabled', 'user.enabled': 'User enabled', 'user.removed': 'User removed',
  'user.made_admin': 'Made admin', 'user.made_member': 'Made member',
  'user.invited': 'User invited', 'invite.revoked': 'Invitation revoked',
  'signin.reauth': 'Password confirmed', 'mfa.enabled': 'Two-factor on', 'mfa.disabled': 'Two-factor off',
  'mfa.recovery_code_used': 'Recovery code used', 'team.mfa_required': 'Two-factor required', 'team.mfa_optional': 'Two-factor optional',
  'publisher.added': 'Trusted publisher added', 'publisher.removed': 'Trusted publisher removed',
  'oidc.exchanged': 'CI token minted', 'oidc.failed': 'CI token refused',
};

export async function auditPage() {
  const page = pageParam();
  const r = await get(`/audit?page=${page}&per_page=${PER_PAGE}`);
  const head = pageHead('Audit log', 'Sign-ins, token changes and new users in your team, newest first.');
  if (r.meta.total === 0) return [head, emptyState({ iconName: 'audit', title: 'Nothing recorded yet', text: 'Sign-ins and token changes appear here.' })];
  const tone = (a) => (a.endsWith('failed') || a.endsWith('revoked') ? 'danger' : a.startsWith('token') ? 'info' : 'ok');
  const t = table([
    { label: 'Time', cell: (e) => timeEl(e.time) },
    { label: 'Event', cell: (e) => badge(ACTION_TEXT[e.action] || e.action, tone(e.action)) },
    { label: 'Who', cell: (e) => (e.actor ? e.actor.email : (e.email || '—')) },
    { label: 'Details', cell: (e) => h('span', { class: 'cell-sub' }, [e.token_id ? (e.token_name ? `token ${e.token_name} (#${e.token_id})` : `token #${e.token_id}`) : null, !e.token_id && e.subject_user_id && e.email ? e.email : null, e.detail, `via ${e.via}`].filter(Boolean).join(' · ')) },
    { label: 'Address', cell: (e) => h('span', { class: 'mono' }, e.addr || '—') },
  ], r.data, { caption: 'Audit log' });
  t.append(pager({ page, perPage: r.meta.per_page, total: r.meta.total }));
  return [head, t];
}
