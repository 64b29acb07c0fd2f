#!/usr/bin/env node
'use strict';
// A Dubbo2 provider written with npm sofa-rpc-node 2.10 + dubbo-remoting 2.1 (hessian.js 2.11, js-to-java):
// org.apache.dubbo.demo.UserService:1.0.0 (see lib/user_service.js and ../README.md).
//
// Usage: node sofa_provider.js [--port N]   (0 = a free port). Prints `LISTENING <port>` once ready;
// exits on SIGTERM, SIGINT or when stdin closes.
//
// What is ours and not the library's:
// - sofa-rpc-node's RpcServer listens on all interfaces (no host option); _startServer is overridden to
//   bind 127.0.0.1 with the same code otherwise.
// - sofa-rpc-node dispatches by method name only; createContext hands the request to the handler so greet
//   can pick its overload from the descriptor's parameter types (methodArgSigs), as a Java provider does.
// Everything on the wire (framing, status codes, response flags, hessian) is the library's.

const net = require('net');
const util = require('util');
const { RpcServer } = require('sofa-rpc-node').server;
const protocol = require('dubbo-remoting');
const awaitFirst = require('await-first');
const { INTERFACE, VERSION, methods, SIGNATURES } = require('./lib/user_service');

function parsePort(argv) {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${argv[i + 1]}`);
  return port;
}

const logger = {
  debug() {},
  info() {},
  warn(...args) { console.error('[sofa-provider] warn', util.format(...args)); },
  error(...args) { console.error('[sofa-provider] error', util.format(...args)); },
};

class LoopbackRpcServer extends RpcServer {
  _startServer(port) {
    const server = net.createServer();
    server.once('error', err => { this.emit('error', err); });
    server.on('connection', socket => { this._handleSocket(socket); });
    server.listen(port, '127.0.0.1', () => {
      if (port === this.publishPort && port === 0) this.publishPort = server.address().port;
    });
    return server;
  }

  createContext(req) {
    return { req, logger };
  }
}

function sameTypes(a, b) {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

// sofa-rpc-node matches methods by name alone and reads as many arguments as the descriptor lists, so
// every method accepts whatever types the caller declares (a Java provider would not). Only greet, the
// overloaded method, looks at the descriptor to pick greet(String) or greet(String, int).
const delegate = {};
for (const name of Object.keys(methods)) {
  delegate[name] = async function (...args) {
    if (name === 'greet') {
      const sigs = (this && this.req && this.req.data.methodArgSigs) || [];
      if (!SIGNATURES.greet.some(s => sameTypes(s, sigs))) {
        const err = new Error(`Not found method greet(${sigs.join(', ')}) in ${INTERFACE}:${VERSION}`);
        err.ignoreLog = true;
        throw err;
      }
    }
    return methods[name](...args);
  };
}

async function main() {
  const server = new LoopbackRpcServer({
    logger,
    port: parsePort(process.argv.slice(2)),
    protocol,
    version: VERSION,
    killTimeout: 2000,
  });
  // Unknown services are reported through 'error' (and answered with status 80); keep that to one line.
  server.on('error', err => logger.warn(err && err.message));
  server.addService({ interfaceName: INTERFACE, version: VERSION, group: '' }, delegate);
  await server.start();
  await Promise.all(server._servers.filter(s => !s.listening).map(s => awaitFirst(s, ['listening', 'error'])));
  const port = server._servers[0].address().port;

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close().catch(() => {}).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.stdout.write(`LISTENING ${port}\n`);
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
