// The portal's web UI: plain DOM over the admin REST API under /api (see docs/portal.md).
// No framework: each section has a render function that redraws it from the server's lists.
// Shared helpers are in core.js; the apps (consumers) section is apps.js.

import {
  $, $$, state, ApiError, api, canWrite, el, say, showErrors, clearErrors, submitting, when, copy,
  showLogin, showDashboard,
} from './core.js';
import { loadApps, renderApps } from './apps.js';

$('#login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    state.session = await api('POST', '/api/session', {
      username: form.username.value.trim(),
      password: form.password.value,
    });
    form.password.value = '';
    say(`Logged in as ${state.session.username}.`);
    showDashboard();
    await refresh();
  });
});

$('#logout').addEventListener('click', async () => {
  try { await api('DELETE', '/api/session'); } catch { /* gone already */ }
  showLogin();
  say('Logged out.');
});

// ---------- gateway base URL ----------

const baseInput = $('#gateway-base');
baseInput.value = localStorage.getItem('gatewayBase') || baseInput.value;
baseInput.addEventListener('input', () => {
  localStorage.setItem('gatewayBase', baseInput.value.trim());
  renderApis();
});
const gatewayBase = () => (baseInput.value.trim() || 'http://127.0.0.1:8080').replace(/\/+$/, '');

// ---------- loading ----------

async function refresh() {
  const [backends, schemas, apis, revisions] = await Promise.all([
    api('GET', '/api/backends?limit=500'),
    api('GET', '/api/schemas?limit=500'),
    api('GET', '/api/apis?limit=500'),
    api('GET', '/api/revisions?limit=50'),
  ]);
  state.backends = backends.items;
  state.schemas = schemas.items;
  state.apis = apis.items;
  state.revisions = revisions.items;
  await Promise.all(state.schemas.map(async (s) => {
    const cached = state.services.get(s.name);
    if (cached && cached.version === s.version) return;
    try {
      const full = await api('GET', `/api/schemas/${encodeURIComponent(s.name)}`);
      state.services.set(s.name, { version: s.version, services: full.services || [] });
    } catch {
      state.services.set(s.name, { version: s.version, services: [] });
    }
  }));
  await loadApps();
  renderBackends();
  renderSchemas();
  renderApis();
  renderApps();
  renderRevisions();
  renderSelects();
}

async function removeThing(kind, name, version) {
  if (!confirm(`Delete ${kind} “${name}”? It stays in published revisions until you publish again.`)) return;
  try {
    await api('DELETE', `/api/${kind}s/${encodeURIComponent(name)}`, undefined, { 'If-Match': `"${version}"` });
    say(`Deleted ${kind} ${name}.`);
    await refresh();
  } catch (error) {
    say(`Could not delete ${kind} ${name}: ${error.message}`, true);
  }
}

// ---------- backends ----------

function renderBackends() {
  const rows = state.backends.map((b) => el('tr', {},
    el('td', {}, el('strong', { text: b.name })),
    el('td', { text: { grpc: 'gRPC', dubbo: 'Dubbo', http: 'HTTP' }[b.protocol] || b.protocol }),
    el('td', { class: 'mono', text: (b.endpoints || []).join(', ') || (b.dubbo?.zookeeper ? 'ZooKeeper registry' : '—') }),
    el('td', { class: 'write' }, el('button', {
      type: 'button', class: 'danger', onclick: () => removeThing('backend', b.name, b.version),
      'aria-label': `Delete backend ${b.name}`, text: 'Delete',
    }))));
  $('#backends-rows').replaceChildren(...(rows.length ? rows
    : [el('tr', {}, el('td', { colspan: 4, class: 'empty', text: 'No backend yet: add one below.' }))]));
}

$('#backend-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    const body = {
      name: form.name.value.trim(),
      protocol: form.protocol.value,
      endpoints: form.endpoints.value.split(/[\s,]+/).filter(Boolean),
    };
    await api('POST', '/api/backends', body);
    say(`Added backend ${body.name}.`);
    form.reset();
    await refresh();
  });
});

// ---------- schemas ----------

function servicesOf(name) {
  return state.services.get(name)?.services || [];
}

function renderSchemas() {
  const rows = state.schemas.map((s) => el('tr', {},
    el('td', {}, el('strong', { text: s.name })),
    el('td', { text: s.kind }),
    el('td', { class: 'mono' }, servicesOf(s.name).map((svc) =>
      el('div', { text: `${svc.name} (${(svc.methods || []).length} methods)` }))),
    el('td', { text: when(s.updated_at) }),
    el('td', { class: 'write' },
      s.kind === 'reflection' ? el('button', {
        type: 'button', onclick: () => pullAgain(s),
        'aria-label': `Pull schema ${s.name} again`, text: 'Pull again',
      }) : null,
      el('button', {
        type: 'button', class: 'danger', onclick: () => removeThing('schema', s.name, s.version),
        'aria-label': `Delete schema ${s.name}`, text: 'Delete',
      }))));
  $('#schemas-rows').replaceChildren(...(rows.length ? rows
    : [el('tr', {}, el('td', { colspan: 5, class: 'empty', text: 'No schema yet: import one below.' }))]));
}

function sourceChanged() {
  const source = $('#schema-form').source.value;
  $('#schema-proto').hidden = source !== 'proto';
  $('#schema-reflection').hidden = source !== 'reflection';
}
$$('#schema-form input[name=source]').forEach((r) => r.addEventListener('change', sourceChanged));

function addProtoFile(path = '', text = '') {
  const node = $('#proto-file-template').content.firstElementChild.cloneNode(true);
  $('.proto-path', node).value = path;
  $('.proto-text', node).value = text;
  $('.proto-remove', node).addEventListener('click', () => node.remove());
  $('#proto-files').append(node);
  return node;
}
$('#add-proto').addEventListener('click', () => $('.proto-path', addProtoFile()).focus());

/** The path a file is imported by: an import in any of the files that ends with its name, else its name. */
function importPath(fileName, texts) {
  for (const text of texts) {
    for (const match of text.matchAll(/^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"/gm)) {
      const imported = match[1];
      if (imported === fileName || imported.endsWith(`/${fileName}`)) return imported;
    }
  }
  return fileName;
}

$('#schema-files').addEventListener('change', async (event) => {
  const files = [...event.target.files];
  const texts = await Promise.all(files.map((f) => f.text()));
  files.forEach((file, i) => {
    const path = importPath(file.webkitRelativePath || file.name, texts);
    const existing = $$('.proto-file').find((n) => $('.proto-path', n).value === path);
    const node = existing || addProtoFile(path, '');
    $('.proto-text', node).value = texts[i];
    // A file another one imports is a dependency: compile it only through its importer.
    $('.proto-compile', node).checked = path === file.name || !texts.some((t) => t.includes(`"${path}"`));
  });
  event.target.value = '';
});

$('#schema-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    const name = form.name.value.trim();
    let body;
    if (form.source.value === 'reflection') {
      body = {
        name,
        reflection: {
          backend: form.backend.value,
          services: form.services.value.split(/[\s,]+/).filter(Boolean),
        },
      };
    } else {
      const files = {};
      const compile = [];
      for (const node of $$('.proto-file')) {
        const path = $('.proto-path', node).value.trim();
        if (!path) continue;
        files[path] = $('.proto-text', node).value;
        if ($('.proto-compile', node).checked) compile.push(path);
      }
      if (!Object.keys(files).length) throw new Error('Add at least one .proto file (upload or paste).');
      body = { name, proto: { files, compile } };
    }
    const existing = state.schemas.find((s) => s.name === name);
    if (existing) {
      if (!await updateSchema(existing, body)) return;
    } else {
      const created = await api('POST', '/api/schemas', body);
      const count = (created.services || []).length;
      say(`Imported schema ${name} with ${count} service${count === 1 ? '' : 's'}.`);
    }
    form.reset();
    $('#proto-files').replaceChildren();
    sourceChanged();
    await refresh();
    $('#gen-schema').value = name;
    renderServiceSelect();
  });
});

/**
 * A new version of a stored schema: the preview's changes and broken APIs are shown for confirmation,
 * then it is saved (breaking on purpose only once the user said so). False when the user declined.
 */
async function updateSchema(schema, body) {
  const path = `/api/schemas/${encodeURIComponent(schema.name)}`;
  const preview = await api('POST', `${path}/preview`, body);
  const changes = preview.changes.map((c) => `• ${c.change} ${c.element} ${c.name}: ${c.detail}`);
  const broken = preview.broken.map((b) => `• ${b.api}: ${b.problems.join('; ')}`);
  const question = [
    `Update schema “${schema.name}”? ${changes.length || 'No'} change${changes.length === 1 ? '' : 's'}.`,
    ...changes.slice(0, 20),
    ...(changes.length > 20 ? [`… and ${changes.length - 20} more`] : []),
    ...(broken.length ? ['', 'It breaks these APIs; publishing stays refused until they are fixed:', ...broken] : []),
  ].join('\n');
  if (!confirm(question)) return false;
  const query = broken.length ? '?allow_breaking=true' : '';
  const saved = await api('PUT', `${path}${query}`, body, { 'If-Match': `"${schema.version}"` });
  say(`Updated schema ${schema.name} to version ${saved.version}: ${changes.length} change${changes.length === 1 ? '' : 's'}`
    + (broken.length ? `, breaking ${preview.broken.map((b) => b.api).join(', ')}.` : '.'), broken.length > 0);
  return true;
}

function pullAgain(schema) {
  submitting($('#schema-form'), async () => {
    if (await updateSchema(schema, {})) await refresh();
  });
}

// ---------- selects shared by the forms ----------

function fillSelect(select, values, placeholder) {
  const current = select.value;
  select.replaceChildren(
    el('option', { value: '', text: placeholder, disabled: true }),
    ...values.map((v) => el('option', { value: v, text: v })),
  );
  select.value = values.includes(current) ? current : (values[0] ?? '');
}

function renderSelects() {
  const backends = state.backends.map((b) => b.name);
  $$('.backend-select').forEach((s) => fillSelect(s, backends, backends.length ? 'Pick a backend' : 'Add a backend first'));
  const schemas = state.schemas.map((s) => s.name);
  fillSelect($('#gen-schema'), schemas, schemas.length ? 'Pick a schema' : 'Import a schema first');
  const relays = state.backends.filter((b) => b.protocol === 'http').map((b) => b.name);
  fillSelect($('#import-backend'), relays, relays.length ? 'Pick an HTTP backend' : 'Add an HTTP backend first');
  renderServiceSelect();
}

function renderServiceSelect() {
  const services = servicesOf($('#gen-schema').value);
  fillSelect($('#gen-service'), services.map((s) => s.name), services.length ? 'Pick a service' : 'No service');
  renderMethods();
}

function renderMethods() {
  const service = servicesOf($('#gen-schema').value).find((s) => s.name === $('#gen-service').value);
  const box = $('#gen-methods');
  box.replaceChildren();
  if (!service) return;
  const methods = service.methods || [];
  const annotated = methods.filter((m) => m.http);
  box.append(`${methods.length} methods, ${annotated.length} with HTTP annotations`);
}

$('#gen-schema').addEventListener('change', renderServiceSelect);
$('#gen-service').addEventListener('change', renderMethods);

// ---------- APIs ----------

/** `/v1/{name=shelves/*}/books/{book}` → `/v1/shelves/NAME/books/BOOK`: something a shell can run as is. */
function examplePath(template) {
  return template.replace(/\{([^}=]+)(?:=([^}]*))?\}/g, (_, field, pattern) => {
    const word = field.split('.').pop().toUpperCase();
    if (!pattern) return word;
    return pattern.replace(/\*\*|\*/g, word);
  });
}

function curlLine(route) {
  const method = route.method.toUpperCase();
  const parts = ['curl'];
  if (method !== 'GET') parts.push('-X', method);
  if (route.host) parts.push('-H', `'Host: ${route.host}'`);
  if (['POST', 'PUT', 'PATCH'].includes(method)) parts.push('-H', "'Content-Type: application/json'", '-d', "'{}'");
  parts.push(`'${gatewayBase()}${examplePath(route.path)}'`);
  return parts.join(' ');
}

async function setPublished(apiBody, published) {
  try {
    await api('PUT', `/api/apis/${encodeURIComponent(apiBody.name)}/published`, { published },
      { 'If-Match': `"${apiBody.version}"` });
    say(`${apiBody.name} is ${published ? 'in' : 'left out of'} the next revision: publish to apply.`);
  } catch (error) {
    say(`Could not change ${apiBody.name}: ${error.message}`, true);
  }
  await refresh();
}

function renderApis() {
  const list = $('#apis-list');
  if (!state.apis.length) {
    list.replaceChildren(el('p', { class: 'empty hint', text: 'No API yet: generate some from a service below.' }));
    return;
  }
  list.replaceChildren(...state.apis.map((a) => {
    const target = a.grpc ? `${a.grpc.service}${a.grpc.method ? `/${a.grpc.method}` : ''}`
      : a.dubbo ? `${a.dubbo.interface || ''}${a.dubbo.method ? `#${a.dubbo.method}` : ''}` : '';
    const sorted = [...(a.routes || [])].sort((x, y) => x.path.localeCompare(y.path) || x.method.localeCompare(y.method));
    const routes = sorted.map((r) => {
      const line = curlLine(r);
      return el('li', {},
        el('span', { class: 'method mono', text: r.method.toUpperCase() }),
        el('code', { class: 'curl', 'data-path': r.path, 'data-method': r.method, tabindex: 0, text: line }),
        el('button', { type: 'button', 'aria-label': `Copy curl for ${r.method} ${r.path}`,
          onclick: (e) => copy(line, e.currentTarget), text: 'Copy' }));
    });
    return el('article', { class: 'api', 'data-api': a.name, 'aria-label': `API ${a.name}` },
      el('div', { class: 'api-head' },
        el('h3', { text: a.name }),
        el('span', { class: `badge ${a.published ? 'on' : 'off'}`, text: a.published ? 'published' : 'unpublished' }),
        el('span', { class: 'meta', text: `backend ${a.backend} · schema ${a.schema || '—'} · ${target}` }),
        el('span', { class: 'actions write' },
          el('button', { type: 'button', class: 'secondary', onclick: () => setPublished(a, !a.published),
            text: a.published ? 'Unpublish' : 'Publish in next revision' }),
          el('button', { type: 'button', class: 'secondary', onclick: () => editApi(a),
            'aria-label': `Edit API ${a.name}`, text: 'Edit' }),
          el('button', { type: 'button', class: 'danger', onclick: () => removeThing('api', a.name, a.version),
            'aria-label': `Delete API ${a.name}`, text: 'Delete' }))),
      routes.length ? el('ul', { class: 'routes', 'aria-label': `Routes of ${a.name}` }, routes)
        : el('p', { class: 'hint', text: 'No route.' }));
  }));
  if (!canWrite()) $$('.write button', list).forEach((b) => { b.disabled = true; });
}

$('#generate-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    const body = {
      backend: form.backend.value,
      schema: form.schema.value,
      service: form.service.value,
      auto_route: form.auto_route.checked,
    };
    if (form.name.value.trim()) body.name = form.name.value.trim();
    const created = await api('POST', '/api/apis/generate', body);
    say(`Generated API ${created.name} with ${(created.routes || []).length} routes: publish to make it live.`);
    form.name.value = '';
    await refresh();
  });
});

// ---------- writing one API ----------

// The API being edited ({name, version}) or null when the form creates a new one. The version goes out
// as If-Match, so a save over somebody else's newer edit is refused (409) rather than overwriting it.
let editing = null;

const firstName = (list, fallback) => (list[0] && list[0].name) || fallback;

function apiTemplate(kind) {
  const backend = firstName(state.backends.filter((b) => b.protocol === kind), `my-${kind}-backend`);
  if (kind === 'dubbo') {
    return {
      name: 'get-user',
      backend,
      dubbo: {
        interface: 'org.apache.dubbo.demo.UserService',
        version: '1.0.0',
        method: 'getUser',
        params: [{ name: 'id', type: 'long', from: 'path.id' }],
      },
      http: { get: '/v1/users/{id}' },
      timeout: '3s',
    };
  }
  return {
    name: 'echo',
    backend,
    schema: firstName(state.schemas, 'my-schema'),
    grpc: { service: 'demo.echo.v1.Echo', method: 'Echo' },
    http: { post: '/v1/echo', body: '*' },
    timeout: '3s',
  };
}

function fillApiForm(definition, target) {
  editing = target;
  $('#api-form-title').textContent = target ? `Edit API ${target.name}` : 'Write an API';
  $('#api-save').textContent = target ? `Save ${target.name}` : 'Save API';
  $('#api-definition').value = definition ? JSON.stringify(definition, null, 2) : '';
  clearErrors($('#api-form'));
}

function editApi(apiBody) {
  const { version, published, routes, ...definition } = apiBody;
  fillApiForm(definition, { name: apiBody.name, version });
  $('#api-definition').focus();
  $('#api-form').scrollIntoView({ block: 'nearest' });
}

$('#api-template-grpc').addEventListener('click', () => fillApiForm(apiTemplate('grpc'), null));
$('#api-template-dubbo').addEventListener('click', () => fillApiForm(apiTemplate('dubbo'), null));
$('#api-new').addEventListener('click', () => fillApiForm(null, null));

$('#api-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    let definition;
    try {
      definition = JSON.parse(form.definition.value);
    } catch (error) {
      throw new ApiError(400, { message: `The definition is not valid JSON: ${error.message}` });
    }
    const saved = editing
      ? await api('PUT', `/api/apis/${encodeURIComponent(editing.name)}`, definition,
        { 'If-Match': `"${editing.version}"` })
      : await api('POST', '/api/apis', definition);
    say(`Saved API ${saved.name} with ${(saved.routes || []).length} route(s): publish to make it live.`);
    fillApiForm(null, null);
    await refresh();
  });
});

// ---------- revisions ----------

function renderRevisions() {
  const rows = state.revisions.map((r, i) => el('tr', { 'data-revision': r.id },
    el('td', {}, el('strong', { text: `#${r.id}` }), i === 0 ? [' ', el('span', { class: 'badge live', title: 'the newest revision: what gateways run once they have picked it up', text: 'latest' })] : ''),
    el('td', { text: when(r.created_at) }),
    el('td', { text: r.created_by }),
    el('td', {}, r.comment || '', r.restored_from ? el('span', { class: 'hint', text: ` (restored from #${r.restored_from})` }) : ''),
    el('td', { class: 'write' }, i === 0 ? '' : el('button', {
      type: 'button', onclick: () => restore(r.id), 'aria-label': `Restore revision ${r.id}`, text: 'Restore',
    }))));
  $('#revisions-rows').replaceChildren(...(rows.length ? rows
    : [el('tr', {}, el('td', { colspan: 5, class: 'empty', text: 'Nothing published yet.' }))]));
}

async function restore(id) {
  if (!confirm(`Publish revision #${id} again as a new revision?`)) return;
  const box = $('#revisions-errors');
  clearErrors(box);
  try {
    const created = await api('POST', `/api/revisions/${id}/restore`, {});
    say(`Restored revision #${id} as #${created.id}.`);
    await refresh();
  } catch (error) {
    showErrors(box, error);
  }
}

$('#publish-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    const created = await api('POST', '/api/revisions', { comment: form.comment.value.trim() });
    say(`Published revision #${created.id}.`);
    form.reset();
    await refresh();
  });
});

// ---------- start ----------

(async () => {
  sourceChanged();
  try {
    state.session = await api('GET', '/api/session');
    showDashboard();
    await refresh();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showLogin();
    else { showLogin(); say(`The portal did not answer: ${error.message}`, true); }
  }
})();

// ---------- OpenAPI import ----------

// What the form asks for, as the import endpoints take it (docs/portal.md).
async function importRequest(form) {
  const file = $('#import-file').files[0];
  if (!file) throw new ApiError(400, { code: 'bad_request', message: 'Choose an OpenAPI file first.' });
  const policies = [];
  if ($('#import-cors').checked) policies.push({ kind: 'cors', allow_origins: ['*'] });
  if ($('#import-api-key').checked) policies.push({ kind: 'api_key' });
  if ($('#import-limit').checked) {
    const limit = Number($('#import-limit-count').value) || 600;
    policies.push({ kind: 'rate_limit', limits: [{ name: 'per-minute', limit, every: '1m', per: ['consumer'] }] });
  }
  const body = { backend: form.backend.value, document: await file.text(), prefix: form.prefix.value.trim(), policies };
  if (form.group.value.trim()) body.group = form.group.value.trim();
  return body;
}

function renderImport(result) {
  const c = result.counts || {};
  const n = (k) => c[k] || 0;
  $('#import-summary').textContent = `${result.dialect} “${result.title}” → group ${result.group}: `
    + `${n('new')} new, ${n('changed')} changed, ${n('unchanged')} unchanged, ${n('invalid')} invalid, `
    + `${result.skipped.length} left out, ${result.missing.length} no longer in the document`
    + (result.saved ? ' — imported.' : ' — nothing saved yet.');
  const detail = (a) => a.change === 'changed' ? `changed: ${a.detail.parts.join(', ')}`
    : a.change === 'invalid' ? a.detail : (a.summary || '');
  $('#import-rows').replaceChildren(...result.apis.map((a) => el('tr', { class: `change-${a.change}` },
    el('td', { class: 'mono', text: a.name }),
    el('td', { class: 'mono', text: `${a.method} ${a.route}` + (a.upstream_path ? ` → ${a.upstream_path}` : '') }),
    el('td', { text: a.change }),
    el('td', { text: detail(a) }))));
  $('#import-skipped').replaceChildren(
    ...result.skipped.map((s) => el('li', { text: `left out ${s.method} ${s.path}: ${s.reason}` })),
    ...result.missing.map((m) => el('li', { text: `no longer in the document: ${m}` })));
  $('#import-result').hidden = false;
  $('#import-save').disabled = result.saved || (n('new') + n('changed') === 0 && !(result.missing.length && $('#import-remove-missing').checked));
}

$('#import-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    renderImport(await api('POST', '/api/imports/openapi/preview', await importRequest(form)));
  });
});

$('#import-save').addEventListener('click', () => {
  const form = $('#import-form');
  submitting(form, async () => {
    const body = await importRequest(form);
    body.remove_missing = $('#import-remove-missing').checked;
    const result = await api('POST', '/api/imports/openapi', body);
    renderImport(result);
    say(`Imported ${(result.counts.new || 0) + (result.counts.changed || 0)} APIs into group ${result.group}; publish a revision to make them live.`);
    await refresh();
  });
});
