// Servers, applications, databases and backups: list, create, edit and
// delete (with confirmation) through /web/api/v1/..., the same handlers as
// the REST API. Field errors from the API appear next to their fields.
import { get, post, patch, del, getAll } from './api.js';
import { h, icon, table, timeEl, badge, emptyState, openDialog, confirmDialog, field, showFormErrors, clearFormErrors, pageHead, toast, fmtBytes, pager, pageParam, PER_PAGE } from './ui.js';
import { render, navigate } from './app.js';
import { deploymentsSection } from './deploy.js';
import { jobWords } from './backups.js';

const ENGINES = ['postgresql', 'mysql', 'mariadb', 'redis', 'mongodb'];

const serverOptions = async () => (await getAll('/v1/servers')).map((s) => ({ value: s.id, label: `${s.name} (${s.ip_address})` }));

const KINDS = {
  servers: {
    title: 'Servers', singular: 'server', icon: 'server',
    sub: 'Machines Piora deploys to and backs up from, reached over SSH.',
    empty: 'Add the first server Piora should manage: its name and IP address are enough to start.',
    fields: [
      { name: 'name', label: 'Name', required: true, hint: 'Letters, digits, dots, dashes and underscores, e.g. web-1.' },
      { name: 'ip_address', label: 'IP address', required: true, hint: 'IPv4 or IPv6.' },
      { name: 'provider', label: 'Provider', half: true },
      { name: 'region', label: 'Region', half: true },
      { name: 'ssh_user', label: 'SSH user', placeholder: 'root', half: true },
      { name: 'ssh_port', label: 'SSH port', type: 'number', placeholder: '22', half: true },
      { name: 'host_key_fingerprint', label: 'Host key fingerprint', placeholder: 'SHA256:…', hint: 'Optional: pins the server\'s host key (ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub on the server). Empty: the first check trusts the key it sees.' },
    ],
    columns: (ctx) => [
      { label: 'Name', cell: (s) => h('div', {}, h('a', { class: 'cell-main', href: `/servers/${s.id}` }, s.name), h('div', { class: 'cell-sub mono' }, s.ip_address)) },
      { label: 'Provider', cell: (s) => [s.provider, s.region].filter(Boolean).join(' · ') || h('span', { class: 'muted' }, '—') },
      { label: 'SSH', cell: (s) => sshTarget(s) },
      { label: 'Status', cell: (s) => h('div', {}, badge(s.status), h('div', { class: 'cell-sub' }, 'checked ', timeEl(s.checked_at))) },
      { label: 'Host key', cell: (s) => (s.host_key_fingerprint ? h('span', { class: 'mono', title: s.host_key_fingerprint }, `${s.host_key_fingerprint.slice(0, 19)}…`) : h('span', { class: 'muted' }, 'not pinned')) },
      { label: 'Actions', cell: (s) => rowActions(ctx, s, checkButton(s)) },
    ],
  },
  applications: {
    title: 'Applications', singular: 'application', icon: 'app',
    sub: 'Code Piora deploys to your servers with each application\'s deploy script.',
    empty: 'Create an application from a Git repository, then press Deploy.',
    needs: { key: 'servers', text: 'An application runs on a server: add a server first.' },
    fields: [
      { name: 'name', label: 'Name', required: true },
      { name: 'server_id', label: 'Server', type: 'select', required: true, options: serverOptions, number: true },
      { name: 'repository', label: 'Repository', required: true, hint: 'https://github.com/acme/shop.git, git@host:path or owner/repo.' },
      { name: 'branch', label: 'Branch', placeholder: 'main', half: true },
      { name: 'domain', label: 'Domain', half: true },
      { name: 'deploy_script', label: 'Deploy script', type: 'textarea', hint: 'Runs on the server for each deployment.' },
    ],
    columns: (ctx) => [
      { label: 'Name', cell: (a) => h('div', {}, h('a', { class: 'cell-main', href: `/applications/${a.id}` }, a.name), h('div', { class: 'cell-sub mono' }, a.repository)) },
      { label: 'Server', cell: (a) => ctx.names.servers?.[a.server_id] || `#${a.server_id}` },
      { label: 'Branch', cell: (a) => h('span', { class: 'mono' }, a.branch) },
      { label: 'Status', cell: (a) => badge(a.status) },
      { label: 'Updated', cell: (a) => timeEl(a.updated_at) },
      { label: 'Actions', cell: (a) => rowActions(ctx, a, h('button', { type: 'button', class: 'btn small primary', onclick: () => deploy(a) }, 'Deploy')) },
    ],
  },
  databases: {
    title: 'Databases', singular: 'database', icon: 'db',
    sub: 'Database servers Piora tracks and backs up.',
    empty: 'Add a database running on one of your servers to back it up from here.',
    needs: { key: 'servers', text: 'A database lives on a server: add a server first.' },
    fields: [
      { name: 'name', label: 'Name', required: true },
      { name: 'engine', label: 'Engine', type: 'select', required: true, immutable: true, options: async () => ENGINES.map((e) => ({ value: e, label: e })), half: true },
      { name: 'version', label: 'Version', half: true, placeholder: '16' },
      { name: 'server_id', label: 'Server', type: 'select', required: true, options: serverOptions, number: true },
      // where the dump tool connects; empty: the server's socket, the
      // engine's port, the server's SSH user (no password: docs/backups.md)
      { name: 'host', label: 'Host or socket', half: true, placeholder: 'local socket' },
      { name: 'port', label: 'Port', type: 'number', half: true, placeholder: 'engine default' },
      { name: 'username', label: 'Database user', half: true, placeholder: 'the SSH user' },
      { name: 'backup_schedule', label: 'Backup schedule (cron, UTC)', half: true, placeholder: '30 4 * * *' },
      { name: 'backup_keep', label: 'Scheduled backups kept', type: 'number', half: true, placeholder: '7' },
    ],
    columns: (ctx) => [
      { label: 'Name', cell: (d) => h('div', { class: 'cell-main' }, d.name) },
      { label: 'Engine', cell: (d) => h('span', { class: 'mono' }, `${d.engine}${d.version ? ` ${d.version}` : ''}`) },
      { label: 'Server', cell: (d) => ctx.names.servers?.[d.server_id] || `#${d.server_id}` },
      { label: 'Status', cell: (d) => badge(d.status) },
      { label: 'Schedule', cell: (d) => (d.backup_schedule ? h('span', { class: 'mono', title: `keeps ${d.backup_keep}` }, d.backup_schedule) : h('span', { class: 'muted' }, '—')) },
      { label: 'Created', cell: (d) => timeEl(d.created_at) },
      { label: 'Actions', cell: (d) => rowActions(ctx, d) },
    ],
  },
  backups: {
    title: 'Backups', singular: 'backup', icon: 'backup', noEdit: true,
    sub: 'Dumps of your databases, with their size and SHA-256.',
    empty: 'Create a backup of a database; it appears here with its status.',
    needs: { key: 'databases', text: 'Backups are taken of databases: add a database first.' },
    createLabel: 'Create backup',
    fields: [
      { name: 'database_id', label: 'Database', type: 'select', required: true, number: true,
        options: async () => (await getAll('/v1/databases')).map((d) => ({ value: d.id, label: `${d.name} (${d.engine})` })) },
    ],
    columns: (ctx) => [
      { label: 'Database', cell: (b) => h('div', {}, h('div', { class: 'cell-main' }, ctx.names.databases?.[b.database_id] || `#${b.database_id}`), h('div', { class: 'cell-sub' }, `Backup #${b.id}`)) },
      { label: 'Status', cell: (b) => h('div', {}, badge(b.status), b.error ? h('div', { class: 'cell-sub mono', title: jobWords('backup', b) }, b.error) : '') },
      { label: 'Size', cell: (b) => fmtBytes(b.size_bytes), num: true },
      { label: 'SHA-256', cell: (b) => (b.sha256 ? h('span', { class: 'mono', title: b.sha256 }, `${b.sha256.slice(0, 12)}…`) : h('span', { class: 'muted' }, '—')) },
      { label: 'Created', cell: (b) => timeEl(b.created_at) },
      { label: 'Actions', cell: (b) => rowActions(ctx, b,
        h('a', { class: 'btn small', href: `/backups/${b.id}`, 'aria-label': `Show backup ${b.id}, its log and restores` }, 'Log'),
        ...(b.status === 'completed' ? [
          h('a', { class: 'btn small', href: `/web/api/v1/backups/${b.id}/download`, download: '', 'aria-label': `Download backup ${b.id}` }, 'Download'),
          h('button', { type: 'button', class: 'btn small', onclick: () => restore(b, ctx) }, 'Restore')] : [])) },
    ],
  },
};

// How Piora reaches a server: user@address:port (an IPv6 address in
// brackets), leaving out a user or port that is not set; "—" without an
// address, where user@:port would mean nothing.
function sshTarget(s) {
  if (!s.ip_address) return h('span', { class: 'muted' }, '—');
  const host = s.ip_address.includes(':') ? `[${s.ip_address}]` : s.ip_address;
  const user = s.ssh_user ? `${s.ssh_user}@` : '';
  const port = s.ssh_port ? `:${s.ssh_port}` : '';
  return h('span', { class: 'mono' }, `${user}${host}${port}`);
}

// POST /servers/{id}/check: connects with the team key, runs nothing.
function checkButton(s) {
  const b = h('button', { type: 'button', class: 'btn small', 'aria-label': `Check ${s.name}` }, 'Check');
  b.addEventListener('click', async () => {
    b.disabled = true;
    b.textContent = 'Checking…';
    try {
      const r = await post(`/v1/servers/${s.id}/check`);
      const words = { reachable: 'reachable', unreachable: 'unreachable', auth_failed: 'refused the team key', host_key_mismatch: 'showed another host key' };
      toast(`${s.name}: ${words[r.status] || r.status}. ${r.detail || ''}`, r.status === 'reachable' ? '' : 'error');
      render();
    } catch (e) {
      toast(e.message, 'error');
      b.disabled = false;
      b.textContent = 'Check';
    }
  });
  return b;
}

// The team's public key, for authorized_keys on each server.
async function teamKeyCard() {
  let key;
  try {
    key = await get('/v1/ssh-key');
  } catch (e) {
    return h('div', { class: 'card card-pad' }, h('p', { class: 'muted' }, `The team's SSH key could not be read: ${e.message}`));
  }
  const line = key.public_key;
  const input = h('input', { class: 'input mono', readonly: true, 'aria-label': 'Team SSH public key', id: 'team-ssh-key', value: line });
  const copy = h('button', { type: 'button', class: 'btn', onclick: async () => {
    let ok = false;
    try {
      await navigator.clipboard.writeText(line);
      ok = true;
    } catch {
      input.focus();
      input.select();
      ok = document.execCommand('copy');
    }
    toast(ok ? 'Public key copied.' : 'Copying was refused: select the key and press Ctrl+C.', ok ? '' : 'error');
  } }, 'Copy');
  input.addEventListener('focus', () => input.select());
  return h('div', { class: 'card card-pad', id: 'team-key' },
    h('h2', {}, 'Team SSH key'),
    h('p', { class: 'muted' }, 'Add this line to ~/.ssh/authorized_keys of each server\'s SSH user, then press Check. The private key never leaves Piora.'),
    h('div', { class: 'key-row' }, input, copy),
    h('p', { class: 'cell-sub mono' }, `Fingerprint ${key.fingerprint}`),
    key.previous ? h('p', { class: 'cell-sub' }, `The previous key (${key.previous.fingerprint}) is still offered as a fallback.`) : null,
    h('pre', { class: 'mono cell-sub' }, `echo '${line}' >> ~/.ssh/authorized_keys`));
}

function rowActions(ctx, obj, ...extra) {
  const k = ctx.kind;
  return h('div', { class: 'actions' }, extra,
    k.noEdit ? null : h('button', { type: 'button', class: 'btn small', 'aria-label': `Edit ${obj.name || `${k.singular} ${obj.id}`}`, onclick: () => editDialog(ctx, obj) }, 'Edit'),
    h('button', { type: 'button', class: 'btn small danger-ghost', 'aria-label': `Delete ${obj.name || `${k.singular} ${obj.id}`}`, onclick: () => remove(ctx, obj) }, 'Delete'));
}

async function nameMap(key) {
  const m = {};
  for (const o of await getAll(`/v1/${key}`)) m[o.id] = o.name;
  return m;
}

export async function resourcePage(key, page = pageParam()) {
  const kind = KINDS[key];
  const list = await get(`/v1/${key}?page=${page}&per_page=${PER_PAGE}`);
  const ctx = { key, kind, names: {} };
  if (key === 'applications' || key === 'databases') ctx.names.servers = await nameMap('servers');
  if (key === 'backups') ctx.names.databases = await nameMap('databases');
  const createBtn = h('button', { type: 'button', class: 'btn primary', onclick: () => createDialog(ctx) }, icon('plus'), kind.createLabel || `New ${kind.singular}`);
  const head = pageHead(kind.title, kind.sub, createBtn);
  if (list.meta.total === 0) {
    let text = kind.empty;
    let action = createBtn.cloneNode(true);
    action.addEventListener('click', () => createDialog(ctx));
    if (kind.needs) {
      const n = await get(`/v1/${kind.needs.key}?per_page=1`);
      if (n.meta.total === 0) {
        text = kind.needs.text;
        action = h('a', { class: 'btn primary', href: `/${kind.needs.key}` }, `Go to ${kind.needs.key[0].toUpperCase()}${kind.needs.key.slice(1)}`);
      }
    }
    const empty = emptyState({ iconName: kind.icon, title: `No ${key} yet`, text, action });
    if (key === 'servers') return [head, await teamKeyCard(), empty];
    return [head, empty];
  }
  const t = table(kind.columns(ctx), list.data, { caption: kind.title });
  t.append(pager({ page, perPage: list.meta.per_page, total: list.meta.total }));
  if (key === 'servers') return [head, await teamKeyCard(), t];
  return [head, t];
}

async function buildForm(kind, obj) {
  const form = h('form', { novalidate: true });
  const halves = [];
  for (const f of kind.fields) {
    const value = obj ? (obj[f.name] ?? '') : '';
    const options = f.options ? await f.options() : null;
    const el = field({ label: f.label, name: f.name, type: f.type || 'text', value, required: f.required, hint: f.hint, options,
      attrs: { placeholder: f.placeholder, disabled: obj && f.immutable, min: f.type === 'number' ? 1 : null, max: f.type === 'number' ? 65535 : null } });
    if (f.half) {
      halves.push(el);
      if (halves.length === 2) form.append(h('div', { class: 'row-2' }, halves.splice(0)));
    } else {
      if (halves.length) form.append(...halves.splice(0));
      form.append(el);
    }
  }
  if (halves.length) form.append(...halves);
  return form;
}

// The JSON body: on create only what was filled in; on edit only what
// changed, an emptied optional field as null.
function values(kind, form, obj) {
  const out = {};
  for (const f of kind.fields) {
    const c = form.elements[f.name];
    if (!c || c.disabled) continue;
    let v = c.value.trim();
    if (f.type === 'textarea') v = c.value;
    const orig = obj ? (obj[f.name] ?? '') : '';
    if (obj && String(orig) === v) continue;
    if (v === '') {
      if (obj && !f.required) out[f.name] = null;
      continue;
    }
    out[f.name] = f.number || f.type === 'number' ? (Number.isFinite(Number(v)) ? Number(v) : v) : v;
  }
  return out;
}

function formDialog(ctx, title, form, submitLabel, onSubmit) {
  return openDialog((close) => {
    form.append(h('div', { class: 'actions dialog-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => close(null) }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn primary' }, submitLabel)));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFormErrors(form);
      const btn = form.querySelector('button[type=submit]');
      btn.disabled = true;
      try {
        close(await onSubmit());
      } catch (err) {
        if (err.status === 401) { close(null); return; }
        showFormErrors(form, err);
      } finally {
        btn.disabled = false;
      }
    });
    return [h('h2', {}, title), form];
  }, { label: title });
}

async function createDialog(ctx) {
  const { kind, key } = ctx;
  const form = await buildForm(kind);
  const title = kind.createLabel || `New ${kind.singular}`;
  const made = await formDialog(ctx, title, form, kind.createLabel ? 'Create backup' : 'Create', () => post(`/v1/${key}`, values(kind, form)));
  if (made) {
    toast(key === 'backups' ? 'Backup queued.' : `${kind.singular[0].toUpperCase()}${kind.singular.slice(1)} ${made.name} created.`);
    render();
  }
}

async function editDialog(ctx, obj) {
  const { kind, key } = ctx;
  const form = await buildForm(kind, obj);
  const saved = await formDialog(ctx, `Edit ${obj.name}`, form, 'Save', async () => {
    const body = values(kind, form, obj);
    if (Object.keys(body).length === 0) return obj;
    return patch(`/v1/${key}/${obj.id}`, body);
  });
  if (saved) { toast('Saved.'); render(); }
}

async function remove(ctx, obj) {
  const { kind, key } = ctx;
  const what = obj.name ? `${kind.singular} ${obj.name}` : `${kind.singular} #${obj.id}`;
  const extra = { servers: ' Servers still used by applications or databases cannot be deleted.',
    applications: ' Its deployment history goes with it.', databases: ' Its backups go with it.', backups: '' }[key];
  // A backup has no name to type; the others are typed, as GitHub asks for
  // a repository's name, so a mistaken row is not deleted on reflex.
  const typeName = key === 'backups' ? null : obj.name;
  if (!await confirmDialog({ title: `Delete ${what}?`, body: `This cannot be undone.${extra}`, action: 'Delete', typeName })) return;
  try {
    await del(`/v1/${key}/${obj.id}`);
    toast(`Deleted ${what}.`);
    render();
  } catch (e) {
    if (e.status !== 401) toast(e.detail || e.message, 'error');
  }
}

async function deploy(appObj) {
  try {
    const d = await post(`/v1/applications/${appObj.id}/deploy`);
    toast(`Deployment #${d.id} of ${appObj.name} queued.`);
    render();
  } catch (e) {
    if (e.status !== 401) toast(e.detail || e.message, 'error');
  }
}

// Restore: choose the target (the backup's database or another of the same
// engine), then type its name, since its contents are replaced.
// From a backup's own page: the same dialog, then that page with the new
// restore's log.
export async function restoreBackup(b) { return restore(b, { backupPage: true }); }

async function restore(b, ctx) {
  const dbs = await getAll('/v1/databases');
  const own = dbs.find((d) => d.id === b.database_id);
  const targets = own ? dbs.filter((d) => d.engine === own.engine) : [];
  if (!own) { toast('The backup\'s database is gone.', 'error'); return; }
  const target = await openDialog((close) => {
    const sel = h('select', { name: 'database_id', id: 'restore-target' },
      targets.map((d) => h('option', { value: String(d.id), selected: d.id === own.id }, `${d.name}${d.id === own.id ? ' (its own)' : ''}`)));
    const typed = h('input', { id: 'restore-confirm', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' });
    const go = h('button', { type: 'button', class: 'btn danger', disabled: true, onclick: () => close(targets.find((d) => String(d.id) === sel.value)) }, 'Restore');
    const pick = () => targets.find((d) => String(d.id) === sel.value);
    const check = () => { go.disabled = typed.value !== pick()?.name; };
    const hint = h('p', { class: 'lead' });
    const say = () => { hint.textContent = `The contents of ${pick()?.name} are replaced with backup #${b.id}. Type ${pick()?.name} to confirm.`; check(); };
    sel.addEventListener('change', say);
    typed.addEventListener('input', check);
    say();
    return [
      h('h2', {}, `Restore backup #${b.id}?`),
      h('div', { class: 'field' }, h('label', { for: 'restore-target' }, 'Restore into'), sel),
      hint,
      h('div', { class: 'field' }, h('label', { for: 'restore-confirm' }, 'Database name'), typed),
      h('div', { class: 'actions dialog-actions' },
        h('button', { type: 'button', class: 'btn', autofocus: true, onclick: () => close(null) }, 'Cancel'), go),
    ];
  }, { label: `Restore backup #${b.id}`, backdrop: true });
  if (!target) return false;
  try {
    const r = await post(`/v1/backups/${b.id}/restore`, { database_id: target.id });
    toast(`Restore #${r.id} of backup #${b.id} into ${target.name} queued.`);
    if (ctx?.backupPage) navigate(`/backups/${b.id}?restore=${r.id}`);
    return true;
  } catch (e) {
    if (e.status !== 401) toast(e.detail || e.message, 'error');
    return false;
  }
}

export async function applicationPage(id) {
  const a = await get(`/v1/applications/${id}`);
  const server = await get(`/v1/servers/${a.server_id}`).catch(() => null);
  const ctx = { key: 'applications', kind: KINDS.applications, names: {} };
  const head = h('div', {},
    h('div', { class: 'crumbs' }, h('a', { href: '/applications' }, 'Applications'), ' / ', a.name),
    pageHead(a.name, a.repository,
      h('button', { type: 'button', class: 'btn', onclick: () => editDialog(ctx, a) }, 'Edit')));
  const status = h('dd', {}, badge(a.status));
  const facts = h('div', { class: 'card card-pad' }, h('dl', { class: 'kv' },
    h('dt', {}, 'Status'), status,
    h('dt', {}, 'Server'), h('dd', {}, server ? `${server.name} (${server.ip_address})` : `#${a.server_id}`),
    h('dt', {}, 'Branch'), h('dd', { class: 'mono' }, a.branch),
    h('dt', {}, 'Domain'), h('dd', {}, a.domain || '—'),
    h('dt', {}, 'Created'), h('dd', {}, timeEl(a.created_at))));
  // When the followed deployment ends, the application's status has moved.
  const refresh = async () => {
    const now = await get(`/v1/applications/${id}`).catch(() => null);
    if (now) status.replaceChildren(badge(now.status));
  };
  return [head, facts, ...await deploymentsSection(a, refresh)];
}

// The team's SSH public key (to put in a server's authorized_keys), when
// the server has that endpoint and answers 200; otherwise nothing is shown.
async function teamKey() {
  try {
    const k = await get('/v1/ssh-key', { quiet401: true });
    return k && typeof k === 'object' ? k : null;
  } catch {
    return null;
  }
}

export async function serverPage(id) {
  const s = await get(`/v1/servers/${id}`);
  const [apps, dbs, key] = await Promise.all([getAll('/v1/applications'), getAll('/v1/databases'), teamKey()]);
  const ctx = { key: 'servers', kind: KINDS.servers, names: {} };
  const head = h('div', {},
    h('div', { class: 'crumbs' }, h('a', { href: '/servers' }, 'Servers'), ' / ', s.name),
    pageHead(s.name, s.ip_address,
      h('button', { type: 'button', class: 'btn', onclick: () => editDialog(ctx, s) }, 'Edit')));
  const kv = [
    ['Status', badge(s.status)],
    ['IP address', h('span', { class: 'mono' }, s.ip_address)],
    ['SSH', sshTarget(s)],
    ['Provider', s.provider || '—'],
    ['Region', s.region || '—'],
    ['Created', timeEl(s.created_at)],
    ['Updated', timeEl(s.updated_at)],
  ];
  // Fields another part of Piora adds to servers (host-key check): shown
  // when the object has them.
  if ('host_key_fingerprint' in s) kv.push(['Host key', s.host_key_fingerprint ? h('span', { class: 'mono' }, s.host_key_fingerprint) : h('span', { class: 'muted' }, 'Not checked yet')]);
  if ('checked_at' in s) kv.push(['Checked', timeEl(s.checked_at, 'Never')]);
  const facts = h('div', { class: 'card card-pad' }, h('dl', { class: 'kv' }, kv.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
  const mine = (list) => list.filter((o) => o.server_id === s.id);
  const appList = mine(apps);
  const dbList = mine(dbs);
  const appTable = appList.length === 0
    ? emptyState({ iconName: 'app', title: 'No applications on this server', text: 'Create an application and choose this server for it.' })
    : table([
      { label: 'Name', cell: (a) => h('a', { class: 'cell-main', href: `/applications/${a.id}` }, a.name) },
      { label: 'Branch', cell: (a) => h('span', { class: 'mono' }, a.branch) },
      { label: 'Status', cell: (a) => badge(a.status) },
    ], appList, { caption: 'Applications on this server' });
  const dbTable = dbList.length === 0
    ? emptyState({ iconName: 'db', title: 'No databases on this server', text: 'Add a database and choose this server for it.' })
    : table([
      { label: 'Name', cell: (d) => h('span', { class: 'cell-main' }, d.name) },
      { label: 'Engine', cell: (d) => h('span', { class: 'mono' }, `${d.engine}${d.version ? ` ${d.version}` : ''}`) },
      { label: 'Status', cell: (d) => badge(d.status) },
    ], dbList, { caption: 'Databases on this server' });
  const out = [head, facts,
    h('h2', { class: 'section' }, 'Applications'), appTable,
    h('h2', { class: 'section' }, 'Databases'), dbTable];
  const pub = key && (key.public_key || key.key);
  if (pub) {
    out.push(h('h2', { class: 'section' }, 'Team SSH key'),
      h('div', { class: 'card card-pad server-key' },
        h('p', {}, 'Piora signs in to this server with the team\'s key: add this line to the SSH user\'s ~/.ssh/authorized_keys.'),
        h('pre', { class: 'log mono' }, pub),
        key.fingerprint ? h('p', { class: 'muted mono' }, key.fingerprint) : null));
  }
  return out;
}
