#!/usr/bin/env node
'use strict';
// A Dubbo2 provider written with npm @dubbo.ts/provider 2.0 + @dubbo.ts/application 2.0 (hessian.js 2.11):
// org.apache.dubbo.demo.UserService:1.0.0 (see lib/user_service.js and ../README.md).
//
// Usage: node dubbots_provider.js [--port N]   (0 = a free port). Prints `LISTENING <port>` once ready;
// exits on SIGTERM, SIGINT or when stdin closes.
//
// dubbo.ts leaves dispatch to the application: the provider emits one `data` event per request with the
// decoded interface, version, method, arguments and attachments, and the callback's {status, data} is sent
// back (a thrown error becomes status 70 SERVICE_ERROR with its message). The decoder drops the parameter
// types descriptor, so the greet overload is chosen by argument count here.
// What is ours and not the library's: Provider.listen is overridden to bind 127.0.0.1 (the library listens
// on all interfaces); unknown service -> status 60, unknown method -> status 70 is our dispatch choice,
// using the library's status constants. Everything on the wire is the library's.

const { Application } = require('@dubbo.ts/application');
const { Provider } = require('@dubbo.ts/provider');
const { INTERFACE, VERSION, methods } = require('./lib/user_service');

function parsePort(argv) {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${argv[i + 1]}`);
  return port;
}

class LoopbackProvider extends Provider {
  async listen() {
    await new Promise((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(this.application.port, '127.0.0.1', () => {
        this.tcp.removeListener('error', reject);
        resolve();
      });
    });
    await this.emitAsync('start');
  }
}

const ARITY = { greet: [1, 2] };

async function main() {
  const app = new Application();
  app.port = parsePort(process.argv.slice(2));
  app.application = 'dubbots-peer';
  app.useLogger({
    debug() {}, info() {}, log() {},
    warn(...args) { console.error('[dubbots-provider] warn', ...args); },
    error(...args) { console.error('[dubbots-provider] error', ...args); },
  });
  const provider = new LoopbackProvider(app);
  app.useProvider(provider);

  provider.on('data', exec => exec(async (schema, STATUS) => {
    if (schema.interface !== INTERFACE || (schema.version || '') !== VERSION) {
      return { status: STATUS.SERVICE_NOT_FOUND, data: `not found service ${schema.interface}:${schema.version}` };
    }
    const impl = Object.prototype.hasOwnProperty.call(methods, schema.method) ? methods[schema.method] : null;
    const args = schema.parameters || [];
    const arity = ARITY[schema.method] || (impl ? [impl.length] : []);
    if (!impl || !arity.includes(args.length)) {
      return { status: STATUS.SERVICE_ERROR, data: `not found method ${schema.method} with ${args.length} argument(s) in ${INTERFACE}:${VERSION}` };
    }
    // A rejection here is answered by the library as status 70 with the error's message.
    return { status: STATUS.OK, data: await impl(...args) };
  }));

  await app.start();
  const port = provider.tcp.address().port;

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    app.stop().catch(() => {}).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  // The application itself installs SIGINT/SIGTERM handlers that stop it and exit.
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.stdout.write(`LISTENING ${port}\n`);
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
