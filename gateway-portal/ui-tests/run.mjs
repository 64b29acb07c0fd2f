// Clicks through the portal's web UI in headless Chromium, the way a backend developer would:
// log in → add the demo gRPC backend → import the bookstore protos → generate APIs → publish →
// run the curl line the UI shows against a gateway that follows the portal's revisions; then write a
// Dubbo API in the editor, publish and call it, edit its route, and see bad definitions refused; then
// create an app, issue it an API key (shown once), call a key-protected API with it, and revoke it;
// and import the Petstore's OpenAPI file against an HTTP backend, preview it, save it, publish it and
// call one of its operations through the gateway.
//
// Started by run.sh, which provides the processes. Environment:
//   PORTAL_URL      the portal, e.g. http://127.0.0.1:9000
//   ADMIN_PASSWORD  the password of user `admin`
//   BACKEND_ADDR    the demo gRPC backend (host:port)
//   DUBBO_ADDR      a Dubbo2 provider (dubbo-mock-provider: every call answers user 42)
//   PROTO_FILE      demo/proto/demo/bookstore/v1/bookstore.proto
//   UPSTREAM_URL    a plain HTTP server that echoes what it received (tests/peers/http_upstream.py)
//   PETSTORE_FILE   the Petstore's OpenAPI 3.0 document (from npm's @readme/oas-examples)
//   GATEWAY_URL     a gateway in Postgres mode on the portal's database; empty = stop after publishing
//   SCREENSHOT      where to write the dashboard screenshot (default /tmp/portal.png)

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const PORTAL_URL = env('PORTAL_URL');
const ADMIN_PASSWORD = env('ADMIN_PASSWORD');
const BACKEND_ADDR = env('BACKEND_ADDR');
const PROTO_FILE = env('PROTO_FILE');
const DUBBO_ADDR = env('DUBBO_ADDR');
const UPSTREAM_URL = env('UPSTREAM_URL');
const PETSTORE_FILE = env('PETSTORE_FILE');
const GATEWAY_URL = env('GATEWAY_URL', '');
const SCREENSHOT = env('SCREENSHOT', '/tmp/portal.png');

// GETs `url` until it answers 200 (the gateway picks a revision up by NOTIFY, or its poll); its body.
async function untilOk(url) {
  let last = '';
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const response = await fetch(url).catch((error) => ({ status: 0, text: async () => String(error) }));
    last = `${response.status} ${await response.text()}`;
    if (response.status === 200) return last.slice(4);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} did not answer 200: ${last}`);
}

// Sends `headers` to `url` until it answers `status`; its body.
async function untilStatus(url, headers, status) {
  let last = '';
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const response = await fetch(url, { headers }).catch((error) => ({ status: 0, text: async () => String(error) }));
    last = `${response.status} ${await response.text()}`;
    if (response.status === status) return last.slice(4);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer ${status}: ${last}`);
}

const steps = [];
async function step(name, body) {
  const started = Date.now();
  try {
    await body();
    steps.push(`ok   ${name} (${Date.now() - started} ms)`);
    console.log(`ok   ${name}`);
  } catch (error) {
    console.log(`FAIL ${name}`);
    throw error;
  }
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
let failed = false;
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const consoleErrors = [];
page.on('pageerror', (error) => consoleErrors.push(String(error)));
page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
page.on('dialog', (dialog) => dialog.accept());
page.setDefaultTimeout(15000);

try {
  await step('the login form is shown to a stranger', async () => {
    await page.goto(PORTAL_URL);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    assert.equal(await page.locator('#dashboard').isHidden(), true);
  });

  await step('a wrong password is refused next to the form', async () => {
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#login-form .errors').filter({ hasText: /./ }).waitFor();
  });

  await step('log in as admin', async () => {
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('admin (admin)').waitFor();
    await page.getByRole('heading', { name: '1. Backends' }).waitFor();
  });

  await step('an invalid backend shows the server\'s problems next to the form', async () => {
    await page.locator('#backend-name').fill('broken');
    await page.locator('#backend-endpoints').fill('');
    await page.getByRole('button', { name: 'Add backend' }).click();
    const errors = page.locator('#backend-form .errors');
    await errors.filter({ hasText: /./ }).waitFor();
    console.log(`     server said: ${(await errors.innerText()).replace(/\s+/g, ' ')}`);
  });

  await step('add the demo gRPC backend', async () => {
    await page.locator('#backend-name').fill('bookstore');
    await page.locator('#backend-protocol').selectOption('grpc');
    await page.locator('#backend-endpoints').fill(BACKEND_ADDR);
    await page.getByRole('button', { name: 'Add backend' }).click();
    await page.locator('#backends-rows tr', { hasText: 'bookstore' }).waitFor();
    assert.equal(await page.locator('#backend-form .errors').innerText(), '');
  });

  await step('a proto with a syntax error is refused with file:line', async () => {
    await page.locator('#schema-name').fill('broken');
    await page.getByRole('button', { name: 'Add a file by pasting' }).click();
    await page.locator('.proto-file .proto-path').last().fill('broken.proto');
    await page.locator('.proto-file .proto-text').last().fill('syntax = "proto3";\nmessage {');
    await page.getByRole('button', { name: 'Import schema' }).click();
    const errors = page.locator('#schema-form .errors');
    await errors.filter({ hasText: /broken\.proto/ }).waitFor();
    await page.getByRole('button', { name: 'Remove file' }).click();
  });

  await step('import the bookstore protos by upload', async () => {
    await page.locator('#schema-name').fill('bookstore');
    await page.locator('#schema-files').setInputFiles(PROTO_FILE);
    await page.locator('.proto-file .proto-path').first().waitFor();
    await page.getByRole('button', { name: 'Import schema' }).click();
    await page.locator('#schemas-rows tr', { hasText: 'demo.bookstore.v1.Bookstore' }).waitFor();
  });

  await step('import two .proto files where one imports the other, update it, then delete the schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-protos-'));
    writeFileSync(join(dir, 'types.proto'),
      'syntax = "proto3";\npackage acme.v1;\nmessage Thing { string id = 1; }\n');
    writeFileSync(join(dir, 'things.proto'), [
      'syntax = "proto3";', 'package acme.v1;', 'import "google/api/annotations.proto";',
      'import "acme/v1/types.proto";',
      'service Things { rpc GetThing(Thing) returns (Thing) { option (google.api.http) = {get: "/acme/things/{id}"}; } }',
      ''].join('\n'));
    await page.locator('#schema-name').fill('acme');
    await page.locator('#schema-files').setInputFiles([join(dir, 'types.proto'), join(dir, 'things.proto')]);
    // The UI names each file by the path the other one imports it by, and compiles only the importer.
    const paths = await page.locator('.proto-file .proto-path').evaluateAll((inputs) => inputs.map((i) => i.value));
    assert.deepEqual(paths, ['acme/v1/types.proto', 'things.proto']);
    const compile = await page.locator('.proto-file .proto-compile').evaluateAll((boxes) => boxes.map((b) => b.checked));
    assert.deepEqual(compile, [false, true]);
    await page.getByRole('button', { name: 'Import schema' }).click();
    const row = page.locator('#schemas-rows tr', { hasText: 'acme.v1.Things' });
    await row.waitFor();
    // The same name again is an update: its changes are confirmed (the dialog is accepted), then saved.
    writeFileSync(join(dir, 'types.proto'),
      'syntax = "proto3";\npackage acme.v1;\nmessage Thing { string id = 1; string label = 2; }\n');
    let asked = '';
    page.once('dialog', (dialog) => { asked = dialog.message(); });
    await page.locator('#schema-name').fill('acme');
    await page.locator('#schema-files').setInputFiles([join(dir, 'types.proto'), join(dir, 'things.proto')]);
    await page.getByRole('button', { name: 'Import schema' }).click();
    await page.locator('#status', { hasText: 'Updated schema acme to version 2: 1 change.' }).waitFor();
    assert.match(asked, /added field acme\.v1\.Thing\.label: string = 2/);
    await row.getByRole('button', { name: 'Delete schema acme' }).click();
    await row.waitFor({ state: 'detached' });
    rmSync(dir, { recursive: true, force: true });
  });

  await step('add and delete a Dubbo backend', async () => {
    await page.locator('#backend-name').fill('users');
    await page.locator('#backend-protocol').selectOption('dubbo');
    await page.locator('#backend-endpoints').fill('127.0.0.1:20880, 127.0.0.1:20881');
    await page.getByRole('button', { name: 'Add backend' }).click();
    const row = page.locator('#backends-rows tr', { hasText: 'users' });
    await row.getByText('Dubbo').waitFor();
    await row.getByText('127.0.0.1:20880, 127.0.0.1:20881').waitFor();
    await row.getByRole('button', { name: 'Delete backend users' }).click();
    await row.waitFor({ state: 'detached' });
  });

  await step('import a schema by reflection from the backend', async () => {
    await page.locator('#schema-name').fill('bookstore-reflected');
    await page.getByLabel('Reflection from a backend').check();
    await page.locator('#schema-backend').selectOption('bookstore');
    await page.locator('#schema-services').fill('demo.bookstore.v1.Bookstore');
    await page.getByRole('button', { name: 'Import schema' }).click();
    await page.locator('#schemas-rows tr', { hasText: 'bookstore-reflected' }).waitFor();
  });

  await step('generate APIs for demo.bookstore.v1.Bookstore', async () => {
    await page.locator('#gen-schema').selectOption('bookstore');
    await page.locator('#gen-service').selectOption('demo.bookstore.v1.Bookstore');
    await page.locator('#gen-backend').selectOption('bookstore');
    await page.getByRole('button', { name: 'Generate APIs' }).click();
    await page.locator('article.api[data-api="demo.bookstore.v1.Bookstore"]').waitFor();
    await page.locator('code.curl[data-path="/v1/shelves"][data-method="GET"]').waitFor();
  });

  await step('generating the same routes again is refused with the holder named', async () => {
    await page.locator('#gen-name').fill('copy');
    await page.getByRole('button', { name: 'Generate APIs' }).click();
    await page.locator('#generate-form .errors').filter({ hasText: /./ }).waitFor();
    console.log(`     server said: ${(await page.locator('#generate-form .errors').innerText()).replace(/\s+/g, ' ')}`);
    await page.locator('#gen-name').fill('');
  });

  await step('publish a revision with a comment', async () => {
    await page.getByLabel('Comment').fill('bookstore over HTTP');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.locator('#revisions-rows tr', { hasText: 'bookstore over HTTP' }).waitFor();
  });

  await step('unpublish, publish again, then roll back to the first revision', async () => {
    const api = page.locator('article.api[data-api="demo.bookstore.v1.Bookstore"]');
    await api.getByRole('button', { name: 'Unpublish' }).click();
    await api.getByText('unpublished').waitFor();
    await page.getByLabel('Comment').fill('without bookstore');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.locator('#revisions-rows tr', { hasText: 'without bookstore' }).waitFor();
    await api.getByRole('button', { name: 'Publish in next revision' }).click();
    await api.getByText('published', { exact: true }).waitFor();
    const first = page.locator('#revisions-rows tr', { hasText: 'bookstore over HTTP' });
    const firstId = await first.getAttribute('data-revision');
    await first.getByRole('button', { name: 'Restore' }).click();
    await page.locator('#revisions-rows tr', { hasText: `restored from #${firstId}` }).waitFor();
    assert.equal(await page.locator('#revisions-rows tr').count(), 3);
  });

  let curl = '';
  await step('the curl line follows the gateway base URL', async () => {
    const base = GATEWAY_URL || 'http://127.0.0.1:18080';
    await page.getByLabel('Gateway base URL').fill(base);
    const line = page.locator('code.curl[data-path="/v1/shelves"][data-method="GET"]');
    await page.waitForFunction(([b]) =>
      document.querySelector('code.curl[data-path="/v1/shelves"][data-method="GET"]')?.textContent.includes(b), [base]);
    curl = await line.innerText();
    assert.equal(curl, `curl '${base}/v1/shelves'`);
  });

  await step('screenshot of the dashboard', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  if (GATEWAY_URL) {
    await step('the curl line answers through the gateway', async () => {
      // The gateway picks the revision up by NOTIFY (or its poll); give it a few seconds.
      let last = '';
      for (let attempt = 0; attempt < 40; attempt += 1) {
        try {
          const { stdout } = await run('sh', ['-c', `${curl} -sS -w '\\n%{http_code}'`], { timeout: 5000 });
          last = stdout;
          if (stdout.trim().endsWith('\n200')) break;
        } catch (error) {
          last = String(error.stderr || error.message);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      console.log(`     ${curl} → ${last.replace(/\s+/g, ' ').slice(0, 200)}`);
      assert.ok(last.trim().endsWith('\n200'), `the gateway did not answer 200: ${last}`);
      assert.ok(last.includes('shelves'), 'the answer is the ListShelves response');
    });
  } else {
    console.log('skip the curl line answers through the gateway (no GATEWAY_URL)');
  }

  await step('write a Dubbo API from the template and publish it', async () => {
    await page.locator('#backend-name').fill('users');
    await page.locator('#backend-protocol').selectOption('dubbo');
    await page.locator('#backend-endpoints').fill(DUBBO_ADDR);
    await page.getByRole('button', { name: 'Add backend' }).click();
    await page.locator('#backends-rows tr', { hasText: 'users' }).waitFor();
    await page.getByRole('button', { name: 'Dubbo template' }).click();
    const template = JSON.parse(await page.getByLabel('API definition (JSON)').inputValue());
    assert.equal(template.backend, 'users', 'the template picks the Dubbo backend');
    assert.equal(template.dubbo.method, 'getUser');
    template.name = 'partner-user';
    template.http = { get: '/v1/partner/users/{id}' };
    await page.getByLabel('API definition (JSON)').fill(JSON.stringify(template, null, 2));
    await page.getByRole('button', { name: 'Save API' }).click();
    await page.locator('article.api[data-api="partner-user"] code.curl[data-path="/v1/partner/users/{id}"]').waitFor();
    await page.getByLabel('Comment').fill('dubbo users');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.locator('#revisions-rows tr', { hasText: 'dubbo users' }).waitFor();
  });

  if (GATEWAY_URL) {
    await step('the Dubbo API answers through the gateway', async () => {
      const answer = await untilOk(`${GATEWAY_URL}/v1/partner/users/7`);
      // The mock provider answers every call with user 42, so this is its reply, relayed and rendered.
      assert.equal(JSON.parse(answer).name, 'user-42', answer);
    });
  }

  await step('import the Petstore\'s OpenAPI file: a preview, then one API per operation', async () => {
    await page.locator('#backend-name').fill('petstore');
    await page.locator('#backend-protocol').selectOption('http');
    await page.locator('#backend-endpoints').fill(UPSTREAM_URL);
    await page.getByRole('button', { name: 'Add backend' }).click();
    await page.locator('#backends-rows tr', { hasText: 'petstore' }).waitFor();
    await page.locator('#import-file').setInputFiles(PETSTORE_FILE);
    await page.locator('#import-backend').selectOption('petstore');
    await page.locator('#import-prefix').fill('/petstore');
    await page.locator('#import-group').fill('petstore');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.locator('#import-summary', { hasText: 'nothing saved yet' }).waitFor();
    const summary = await page.locator('#import-summary').innerText();
    console.log(`     preview: ${summary}`);
    assert.match(summary, /OpenAPI 3\.0\.\d “Swagger Petstore” → group petstore: 20 new/);
    const row = page.locator('#import-rows tr', { hasText: 'petstore-get-pet-by-id' });
    assert.match(await row.innerText(), /GET \/petstore\/pet\/\{petId\} → \/v2\/pet\/\{petId\}\s+new/);
    assert.equal(await page.locator('article.api[data-api="petstore-get-pet-by-id"]').count(), 0, 'a preview saves nothing');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.locator('#import-summary', { hasText: 'imported' }).waitFor();
    await page.locator('article.api[data-api="petstore-get-pet-by-id"]').waitFor();
    // The same file again: every API unchanged, nothing to import.
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.locator('#import-summary', { hasText: '0 new, 0 changed, 20 unchanged' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Import', exact: true }).isDisabled(), true);
    await page.getByLabel('Comment').fill('petstore imported');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.locator('#revisions-rows tr', { hasText: 'petstore imported' }).waitFor();
  });

  if (GATEWAY_URL) {
    await step('an imported operation answers through the gateway, relayed to its server path', async () => {
      const answer = JSON.parse(await untilOk(`${GATEWAY_URL}/petstore/pet/7?x=1`));
      assert.equal(answer.name, 'petstore', JSON.stringify(answer));
      assert.equal(answer.path, '/v2/pet/7?x=1', JSON.stringify(answer));
      assert.equal(answer.method, 'GET');
    });
  }

  await step('edit the Dubbo API: its new route replaces the old one', async () => {
    const api = page.locator('article.api[data-api="partner-user"]');
    await api.getByRole('button', { name: 'Edit API partner-user' }).click();
    await page.getByRole('heading', { name: 'Edit API partner-user' }).waitFor();
    const definition = JSON.parse(await page.getByLabel('API definition (JSON)').inputValue());
    assert.equal(definition.version, undefined, 'the portal\'s own keys are not in the editor');
    definition.http = { get: '/v1/partners/{id}/user' };
    definition.timeout = '2s';
    await page.getByLabel('API definition (JSON)').fill(JSON.stringify(definition));
    await page.getByRole('button', { name: 'Save partner-user' }).click();
    await api.locator('code.curl[data-path="/v1/partners/{id}/user"]').waitFor();
    assert.equal(await api.locator('code.curl[data-path="/v1/partner/users/{id}"]').count(), 0);
  });

  await step('the editor refuses text that is not JSON, and shows the server\'s refusal of a bad API', async () => {
    const errors = page.locator('#api-form .errors');
    await page.getByLabel('API definition (JSON)').fill('{ "name": "half');
    await page.getByRole('button', { name: 'Save API' }).click();
    await errors.filter({ hasText: /not valid JSON/ }).waitFor();
    await page.getByLabel('API definition (JSON)').fill(JSON.stringify({
      name: 'orphan', backend: 'no-such-backend', http: { get: '/v1/orphan' },
      dubbo: { interface: 'a.B', method: 'c' },
    }));
    await page.getByRole('button', { name: 'Save API' }).click();
    await errors.filter({ hasText: /no-such-backend/ }).waitFor();
    console.log(`     server said: ${(await errors.innerText()).replace(/\s+/g, ' ')}`);
    assert.equal(await page.locator('article.api[data-api="orphan"]').count(), 0);
  });

  let apiKey = '';
  await step('create an app granted the Dubbo API, and issue an API key shown once', async () => {
    await page.locator('#app-name').fill('partner-app');
    await page.locator('#app-grants').fill('partner-user');
    await page.getByRole('button', { name: 'Create app' }).click();
    const app = page.locator('article.app[data-app="partner-app"]');
    await app.waitFor();
    await app.getByRole('button', { name: 'Issue API key' }).click();
    await page.locator('#secret-box').waitFor({ state: 'visible' });
    apiKey = (await page.locator('#secret-value').innerText()).trim();
    assert.match(apiKey, /^gwk_[A-Za-z0-9_-]{40,}$/, apiKey);
    await app.locator('tr[data-credential]').first().waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.locator('#secret-box').isHidden(), true);
    await page.reload();
    await page.locator('article.app[data-app="partner-app"] tr[data-credential]').first().waitFor();
    assert.equal((await page.content()).includes(apiKey), false, 'the key is shown only once');
  });

  if (GATEWAY_URL) {
    await step('the key opens an API with an api_key policy through the gateway', async () => {
      const api = page.locator('article.api[data-api="partner-user"]');
      await api.getByRole('button', { name: 'Edit API partner-user' }).click();
      const definition = JSON.parse(await page.getByLabel('API definition (JSON)').inputValue());
      definition.policies = [{ kind: 'api_key' }];
      await page.getByLabel('API definition (JSON)').fill(JSON.stringify(definition));
      await page.getByRole('button', { name: 'Save partner-user' }).click();
      await page.getByRole('heading', { name: 'Write an API' }).waitFor();
      await page.getByLabel('Comment').fill('api key on partner-user');
      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      await page.locator('#revisions-rows tr', { hasText: 'api key on partner-user' }).waitFor();
      const url = `${GATEWAY_URL}/v1/partners/7/user`;
      await untilStatus(url, {}, 401);
      const answer = await untilStatus(url, { 'x-api-key': apiKey }, 200);
      assert.equal(JSON.parse(answer).name, 'user-42', answer);
    });

    await step('revoke the key: the gateway refuses it at once', async () => {
      const app = page.locator('article.app[data-app="partner-app"]');
      await app.getByRole('button', { name: /^Revoke cred-/ }).first().click();
      await app.locator('td.revoked').first().waitFor();
      await untilStatus(`${GATEWAY_URL}/v1/partners/7/user`, { 'x-api-key': apiKey }, 401);
    });
  }

  await step('a viewer sees no write actions', async () => {
    const created = await page.evaluate(async () => {
      const csrf = (await (await fetch('/api/session')).json()).csrf_token;
      const r = await fetch('/api/users', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify({ username: 'vera', password: 'viewer-password-1', role: 'viewer' }),
      });
      return `${r.status} ${await r.text()}`;
    });
    assert.match(created, /^201/, created);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByLabel('User name').fill('vera');
    await page.getByLabel('Password').fill('viewer-password-1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('vera (viewer)').waitFor();
    await page.locator('article.api[data-api="demo.bookstore.v1.Bookstore"]').waitFor();
    for (const name of ['Add backend', 'Import schema', 'Generate APIs', 'Restore', 'Unpublish', 'Save API',
      'Edit API', 'Dubbo template', 'Create app', 'Issue API key', 'Revoke', 'Preview']) {
      assert.equal(await page.getByRole('button', { name, exact: false }).count(), 0, `viewer sees ${name}`);
    }
    assert.equal(await page.getByRole('button', { name: 'Publish', exact: true }).count(), 0);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-viewer.png'), fullPage: true });
  });

  assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), [], 'no script errors');
} catch (error) {
  failed = true;
  console.error(error);
  try { await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-failure.png'), fullPage: true }); } catch { /* closed */ }
  if (consoleErrors.length) console.error('browser console:', consoleErrors);
} finally {
  await browser.close();
}
console.log(failed ? 'UI test FAILED' : `UI test passed (${steps.length} steps)`);
process.exit(failed ? 1 : 0);
