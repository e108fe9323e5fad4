// Settings > Trusted Publishers (SPEC 12): CI jobs whose OIDC token the
// team trusts to get a 15-minute API token, with GitHub Actions and GitLab
// CI presets (the issuer and the claims worth pinning).
import { get, post, session } from './api.js';
import { h, icon, table, timeEl, emptyState, openDialog, confirmDialog, field, showFormErrors, clearFormErrors, toast } from './ui.js';
import { render } from './app.js';
import { settingsHead, SCOPE_GROUPS } from './settings.js';

export const PRESETS = {
  github: {
    label: 'GitHub Actions',
    issuer: 'https://token.actions.githubusercontent.com',
    claims: [['repository', 'Repository', 'acme/web'], ['repository_owner_id', 'Repository owner id', '4242'],
      ['job_workflow_ref', 'Workflow', 'acme/web/.github/workflows/deploy.yml@refs/heads/main'], ['environment', 'Environment', 'production']],
    ref: 'refs/heads/main',
  },
  gitlab: {
    label: 'GitLab CI',
    issuer: 'https://gitlab.com',
    claims: [['project_path', 'Project path', 'acme/api'], ['namespace_id', 'Namespace id', '71'], ['environment', 'Environment', 'production']],
    ref: 'main',
  },
};

const claimsText = (c) => Object.entries(c).map(([k, v]) => `${k}=${v}`);

export async function publishersPage() {
  const r = await get('/publishers');
  const admin = session.user.is_admin;
  const add = admin ? h('button', { type: 'button', class: 'btn primary', onclick: addDialog }, icon('plus'), 'Add Trusted Publisher') : null;
  const head = settingsHead('/settings/publishers', 'CI jobs that exchange their OIDC token for a 15-minute API token: no secret is stored in the CI system.', ...(add ? [add] : []));
  const how = h('div', { class: 'notice' }, 'A matching job posts its OIDC token to ', h('code', {}, 'POST /api/v1/oidc/token'),
    ' and gets a token valid 15 minutes, listed under API Tokens as "via trusted publisher NAME". See docs/trusted-publishing.md.');
  const note = admin ? null : h('div', { class: 'notice' }, 'Only an admin can add or remove trusted publishers.');
  if (r.data.length === 0)
    return [head, note, emptyState({ iconName: 'key', title: 'No trusted publishers yet', text: 'Add your GitHub Actions workflow or GitLab CI project so its jobs deploy without a stored token.', action: add }), how];
  const t = table([
    { label: 'Name', cell: (p) => h('span', { class: 'cell-main' }, p.name) },
    { label: 'Issuer', cell: (p) => h('div', {}, h('span', { class: 'mono' }, p.issuer), h('div', { class: 'cell-sub' }, `audience ${p.audience}`)) },
    { label: 'Conditions', cell: (p) => h('div', { class: 'chips' }, [...claimsText(p.claims), `ref ${p.ref_glob ?? '*'}`].map((c) => h('span', { class: 'chip mono' }, c))) },
    { label: 'Scopes', cell: (p) => h('div', { class: 'chips' }, p.scopes.map((s) => h('span', { class: 'chip' }, s))) },
    { label: 'Resources', cell: (p) => (p.resources ? Object.entries(p.resources).map(([k, ids]) => `${k} ${ids.join(', ')}`).join('; ') : 'All') },
    { label: 'Added', cell: (p) => timeEl(p.created_at) },
    { label: 'Actions', cell: (p) => (admin ? h('button', { type: 'button', class: 'btn small danger-ghost', 'aria-label': `Remove ${p.name}`, onclick: () => remove(p) }, 'Remove') : '—') },
  ], r.data, { caption: 'Trusted Publishers' });
  return [head, note, t, h('p', {}), how];
}

async function remove(p) {
  const ok = await confirmDialog({ title: `Remove trusted publisher ${p.name}?`,
    body: 'Its jobs can no longer get tokens. Tokens it minted expire within 15 minutes; revoke them under API Tokens to stop them now.', action: 'Remove' });
  if (!ok) return;
  try {
    await post(`/publishers/${p.id}/remove`);
    toast(`Trusted publisher ${p.name} removed.`);
    render();
  } catch (e) {
    if (e.status !== 401) toast(e.detail || e.message, 'error');
  }
}

function addDialog() {
  const provider = field({ label: 'Provider', name: 'provider', type: 'select', value: 'github',
    options: [{ value: 'github', label: 'GitHub Actions' }, { value: 'gitlab', label: 'GitLab CI' }, { value: 'custom', label: 'Other OIDC issuer' }] });
  const issuer = field({ label: 'Issuer', name: 'issuer', required: true, value: PRESETS.github.issuer, hint: 'The https:// URL of the OIDC issuer (its iss claim).' });
  const claimsBox = h('fieldset', {}, h('legend', {}, 'Claims to match'),
    h('p', { class: 'hint' }, 'Exact values; leave a field empty not to check it. Pin at least the repository or project.'));
  const refField = field({ label: 'Ref glob', name: 'ref_glob', value: PRESETS.github.ref, hint: 'The ref claim must match, e.g. refs/heads/main or refs/tags/v*. Empty: any ref.' });
  const fillClaims = (key) => {
    claimsBox.querySelectorAll('.field').forEach((n) => n.remove());
    const preset = PRESETS[key];
    const rows = preset ? preset.claims : [['repository', 'Repository', ''], ['environment', 'Environment', '']];
    for (const [name, label, example] of rows)
      claimsBox.append(field({ label, name: `claim:${name}`, attrs: { placeholder: example, autocomplete: 'off', 'data-claim': name } }));
    if (preset) {
      issuer.querySelector('input').value = preset.issuer;
      refField.querySelector('input').value = preset.ref;
    }
  };
  fillClaims('github');
  provider.querySelector('select').addEventListener('change', (e) => fillClaims(e.target.value));
  const scopes = h('fieldset', {}, h('legend', {}, 'Scopes'),
    h('p', { class: 'hint' }, 'What the minted tokens may do. A deploy job needs applications:deploy.'),
    h('div', { class: 'scope-groups' }, SCOPE_GROUPS.map((g) => h('div', { class: 'scope-group', role: 'group', 'aria-label': g.resource },
      h('h3', {}, g.resource),
      g.scopes.map(([name]) => {
        const id = `pub-scope-${name.replace(':', '-')}`;
        return h('div', { class: 'check' }, h('input', { type: 'checkbox', id, name: 'scopes', value: name }), h('label', { for: id }, name));
      })))));
  const form = h('form', { novalidate: true },
    h('div', { class: 'row-2' }, field({ label: 'Name', name: 'name', required: true, attrs: { placeholder: 'deploy-web', autocomplete: 'off', maxlength: 64 } }), provider),
    issuer,
    field({ label: 'Audience', name: 'audience', value: 'piora', hint: 'The audience the job requests for its token.' }),
    claimsBox, refField, scopes,
    field({ label: 'Resources', name: 'resources', attrs: { placeholder: 'servers:1,applications:4' }, hint: 'Limit the tokens to these objects (and what hangs under them). Empty: all of the team\'s.' }));
  return openDialog((close) => {
    form.append(h('div', { class: 'actions dialog-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => close(null) }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn primary' }, 'Add')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFormErrors(form);
      const claims = {};
      form.querySelectorAll('[data-claim]').forEach((i) => { if (i.value.trim()) claims[i.dataset.claim] = i.value.trim(); });
      const body = {
        name: form.elements.name.value.trim(), issuer: form.elements.issuer.value.trim(),
        audience: form.elements.audience.value.trim(), claims, ref_glob: form.elements.ref_glob.value.trim(),
        scopes: [...form.querySelectorAll('input[name=scopes]:checked')].map((c) => c.value),
        resources: form.elements.resources.value.trim(),
      };
      const err = {};
      if (!body.name) err.name = 'Name the publisher, e.g. deploy-web.';
      if (body.scopes.length === 0) err.scopes = 'Select at least one scope.';
      if (Object.keys(err).length) {
        showFormErrors(form, { errors: Object.entries(err).map(([f, message]) => ({ field: f, message })) });
        return;
      }
      try {
        close(await post('/publishers', body));
      } catch (ex) {
        if (ex.status === 401) { close(null); return; }
        showFormErrors(form, ex);
      }
    });
    return [h('h2', {}, 'Add Trusted Publisher'), h('p', { class: 'lead' }, 'Which CI jobs may get a 15-minute token, and what the token may do.'), form];
  }, { wide: true, label: 'Add Trusted Publisher' }).then((p) => { if (p) { toast(`Trusted publisher ${p.name} added.`); render(); } });
}
