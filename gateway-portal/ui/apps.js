// The apps section: consumers, their grants and credentials. A secret is shown once, right after it
// is issued, in the notice at the top of the section; the portal keeps only its hash or sealed form.

import { $, state, api, canWrite, el, say, submitting, when, copy, showErrors, clearErrors } from './core.js';

export async function loadApps() {
  try {
    state.apps = (await api('GET', '/api/apps')).items;
  } catch {
    state.apps = [];
  }
}

async function reloadApps() {
  await loadApps();
  renderApps();
}

function showSecret(appName, issued, secret) {
  const box = $('#secret-box');
  $('#secret-what').textContent = `${issued.kind === 'hmac' ? 'Shared secret' : 'API key'} ${issued.id} of ${appName}`;
  $('#secret-value').textContent = secret;
  box.hidden = false;
  $('#secret-copy').onclick = (e) => copy(secret, e.currentTarget);
  $('#secret-done').onclick = () => { box.hidden = true; $('#secret-value').textContent = ''; };
  $('#secret-value').focus();
}

async function issue(app, kind) {
  const box = $('#apps-errors');
  clearErrors(box);
  try {
    const answer = await api('POST', `/api/apps/${encodeURIComponent(app.name)}/credentials`, { kind });
    await reloadApps();
    showSecret(app.name, answer.credential, answer.secret);
    say(`Issued ${answer.credential.id} for ${app.name}: copy it now, it is not shown again.`);
  } catch (error) {
    showErrors(box, error);
  }
}

async function revoke(app, credential) {
  if (!confirm(`Revoke ${credential.id} of ${app.name}? Calls signed or sent with it stop working at once.`)) return;
  const box = $('#apps-errors');
  clearErrors(box);
  try {
    await api('DELETE', `/api/apps/${encodeURIComponent(app.name)}/credentials/${credential.id}`);
    say(`Revoked ${credential.id} of ${app.name}.`);
    await reloadApps();
  } catch (error) {
    showErrors(box, error);
  }
}

async function save(app, changes) {
  const box = $('#apps-errors');
  clearErrors(box);
  try {
    await api('PUT', `/api/apps/${encodeURIComponent(app.name)}`,
      { name: app.name, app_key: app.app_key, description: app.description, enabled: app.enabled, grants: app.grants, ...changes },
      { 'If-Match': `"${app.version}"` });
    say(`Saved app ${app.name}.`);
    await reloadApps();
  } catch (error) {
    showErrors(box, error);
  }
}

function credentialRow(app, c) {
  const status = c.revoked_at ? `revoked ${when(c.revoked_at)}` : c.expires_at ? `expires ${when(c.expires_at)}` : 'active';
  return el('tr', { 'data-credential': c.id },
    el('td', { class: 'mono', text: c.id }),
    el('td', { text: c.kind === 'hmac' ? `shared secret${c.slot ? ` (slot ${c.slot})` : ''}` : c.kind.replace('_', ' ') }),
    el('td', { class: 'mono', text: c.hint || '' }),
    el('td', { text: when(c.created_at) }),
    el('td', { text: c.last_used_at ? when(c.last_used_at) : 'never' }),
    el('td', { class: c.revoked_at ? 'revoked' : '', text: status }),
    el('td', { class: 'write' }, c.revoked_at ? '' : el('button', {
      type: 'button', class: 'danger', onclick: () => revoke(app, c),
      'aria-label': `Revoke ${c.id} of ${app.name}`, text: 'Revoke',
    })));
}

export function renderApps() {
  const list = $('#apps-list');
  if (!state.apps.length) {
    list.replaceChildren(el('p', { class: 'empty hint', text: 'No app yet: create one below.' }));
    return;
  }
  list.replaceChildren(...state.apps.map((app) => {
    const grants = el('input', { value: app.grants.join(', '), 'aria-label': `Grants of ${app.name}`, spellcheck: 'false' });
    return el('article', { class: 'app', 'data-app': app.name, 'aria-label': `App ${app.name}` },
      el('div', { class: 'api-head' },
        el('h3', { text: app.name }),
        el('span', { class: `badge ${app.enabled ? 'on' : 'off'}`, text: app.enabled ? 'enabled' : 'disabled' }),
        el('span', { class: 'meta mono', text: `app key ${app.app_key}` }),
        el('span', { class: 'actions write' },
          el('button', { type: 'button', onclick: () => issue(app, 'api_key'), text: 'Issue API key' }),
          el('button', { type: 'button', onclick: () => issue(app, 'hmac'), text: 'Issue shared secret' }),
          el('button', { type: 'button', class: 'secondary', onclick: () => save(app, { enabled: !app.enabled }),
            text: app.enabled ? 'Disable' : 'Enable' }))),
      el('div', { class: 'row write' },
        el('label', { class: 'grow' }, 'Grants (API names, or group:NAME) ', grants),
        el('button', { type: 'button', class: 'secondary', 'aria-label': `Save grants of ${app.name}`,
          onclick: () => save(app, { grants: grants.value.split(/[\s,]+/).filter(Boolean) }), text: 'Save grants' })),
      app.credentials.length
        ? el('table', {},
          el('caption', { class: 'sr-only', text: `Credentials of ${app.name}` }),
          el('thead', {}, el('tr', {}, ['Id', 'Kind', 'Hint', 'Issued', 'Last used', 'Status'].map((h) => el('th', { scope: 'col', text: h })),
            el('th', { scope: 'col', class: 'write', text: 'Actions' }))),
          el('tbody', {}, app.credentials.map((c) => credentialRow(app, c))))
        : el('p', { class: 'hint', text: 'No credential yet.' }));
  }));
  if (!canWrite()) list.querySelectorAll('.write button, .write input').forEach((b) => { b.disabled = true; });
}

$('#app-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    const body = {
      name: form.name.value.trim(),
      grants: form.grants.value.split(/[\s,]+/).filter(Boolean),
    };
    if (form.app_key.value.trim()) body.app_key = form.app_key.value.trim();
    await api('POST', '/api/apps', body);
    say(`Created app ${body.name}.`);
    form.reset();
    await reloadApps();
  });
});
