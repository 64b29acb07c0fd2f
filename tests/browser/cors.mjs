// CORS as a real browser does it: headless Chromium on a page of one origin calls the gateway on
// another, with a JSON body and an API key header, so the browser sends a preflight first. From the
// allowed origin the call succeeds and its answer is readable; from another origin the browser
// itself blocks it; an error answer (no key) is readable too, so a page can tell the user why.
//
// Started by cors.sh. Environment: GATEWAY_URL, API_KEY, ALLOWED_PORT, OTHER_PORT (free ports).

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

const { GATEWAY_URL, API_KEY } = process.env;
const ALLOWED_PORT = Number(process.env.ALLOWED_PORT);
const OTHER_PORT = Number(process.env.OTHER_PORT);

// The same empty page on two origins.
const page = '<!doctype html><title>cross-origin caller</title><p>caller</p>';
const servers = [ALLOWED_PORT, OTHER_PORT].map((port) => createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end(page);
}).listen(port, '127.0.0.1'));

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});

// Runs a fetch to the gateway from a page of `origin`; what the page could read, or the error.
async function callFrom(port, headers) {
  const tab = await browser.newPage();
  await tab.goto(`http://127.0.0.1:${port}/`);
  const result = await tab.evaluate(async ({ url, headers }) => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ message: 'from the browser' }),
      });
      return { status: response.status, body: await response.text(), id: response.headers.get('x-request-id') };
    } catch (error) {
      return { error: String(error) };
    }
  }, { url: `${GATEWAY_URL}/v1/echo`, headers });
  await tab.close();
  return result;
}

let failed = false;
try {
  const allowed = await callFrom(ALLOWED_PORT, { 'x-api-key': API_KEY });
  assert.equal(allowed.status, 200, JSON.stringify(allowed));
  assert.equal(JSON.parse(allowed.body).request.message, 'from the browser');
  assert.ok(allowed.id, 'x-request-id is exposed to the page');
  console.log('ok   a preflighted call from the allowed origin is answered and readable');

  const refused = await callFrom(ALLOWED_PORT, {});
  assert.equal(refused.status, 401, JSON.stringify(refused));
  assert.equal(JSON.parse(refused.body).code, 'unauthenticated');
  console.log('ok   a refusal is readable by the allowed origin too');

  const other = await callFrom(OTHER_PORT, { 'x-api-key': API_KEY });
  assert.ok(other.error, `the browser blocked the other origin: ${JSON.stringify(other)}`);
  console.log('ok   the browser blocks the call from another origin');
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await browser.close();
  servers.forEach((server) => server.close());
}
console.log(failed ? 'CORS browser test FAILED' : 'CORS browser test passed');
process.exit(failed ? 1 : 0);
