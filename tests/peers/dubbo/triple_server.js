#!/usr/bin/env node
'use strict';
// A Triple (Dubbo 3) server written with npm @apachedubbo/dubbo + @apachedubbo/dubbo-node 3.0.0-alpha and
// @bufbuild/protobuf 1.x, serving org.apache.dubbo.demo.triple.Greeter from triple/greeter.proto over h2c
// (HTTP/2 without TLS) on 127.0.0.1. One server answers the Triple protocol (application/proto or
// application/json POSTs), gRPC (application/grpc) and gRPC-web.
//
// Usage: node triple_server.js [--port N]   (0 = a free port). Prints `LISTENING <port>` once ready; exits
// on SIGTERM, SIGINT or when stdin closes.
//
// Greet(name) answers "hello, <name>"; an empty name fails with INVALID_ARGUMENT "name is required".
// The service is registered twice: without a version (plain gRPC clients) and with serviceVersion 1.0.0,
// which this library routes to only when the request carries `tri-service-version: 1.0.0` (and no
// tri-service-group). Each answer carries the response header `x-served-version` (`1.0.0` or `none`).
//
// The library has a code generator (protoc-gen-apache-dubbo-es) but no protoc is available here; the
// definitions below are what it would generate, built with @bufbuild/protobuf's proto3.makeMessageType.

const http2 = require('http2');
const { proto3, MethodKind } = require('@bufbuild/protobuf');
const { DubboError, Code } = require('@apachedubbo/dubbo');
const { dubboNodeAdapter } = require('@apachedubbo/dubbo-node');

const GreetRequest = proto3.makeMessageType('org.apache.dubbo.demo.triple.GreetRequest', [
  { no: 1, name: 'name', kind: 'scalar', T: 9 /* ScalarType.STRING */ },
]);
const GreetReply = proto3.makeMessageType('org.apache.dubbo.demo.triple.GreetReply', [
  { no: 1, name: 'message', kind: 'scalar', T: 9 /* ScalarType.STRING */ },
]);
const Greeter = {
  typeName: 'org.apache.dubbo.demo.triple.Greeter',
  methods: {
    greet: { name: 'Greet', I: GreetRequest, O: GreetReply, kind: MethodKind.Unary },
  },
};

function parsePort(argv) {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${argv[i + 1]}`);
  return port;
}

function greeter(version) {
  return {
    async greet(req, context) {
      context.responseHeader.set('x-served-version', version || 'none');
      if (!req.name) throw new DubboError('name is required', Code.InvalidArgument);
      return { message: `hello, ${req.name}` };
    },
  };
}

function main() {
  const handler = dubboNodeAdapter({
    routes: router => {
      router.service(Greeter, greeter(''));
      router.service(Greeter, greeter('1.0.0'), { serviceVersion: '1.0.0' });
    },
  });
  const server = http2.createServer(handler);
  const sessions = new Set();
  server.on('session', s => { sessions.add(s); s.on('close', () => sessions.delete(s)); });
  server.on('error', err => { console.error(err); process.exit(1); });
  server.listen(parsePort(process.argv.slice(2)), '127.0.0.1', () => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      for (const s of sessions) s.destroy();
      server.close(() => process.exit(0));
      setTimeout(() => process.exit(0), 1000).unref();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.resume();
    process.stdout.write(`LISTENING ${server.address().port}\n`);
  });
}

main();
