#!/usr/bin/env node
'use strict';
// Calls the three Dubbo2 providers with independent clients and prints what comes back:
//  1. sofa-rpc-node's RpcClient with dubbo-remoting (a complete Dubbo2 consumer): getUser, greet (both
//     overloads), ping and the rest of the contract;
//  2. raw frames written and read with hessian.js (types kept), to show the wire: status, response flag,
//     class names, attachments, heartbeats, error shapes.
//  3. with --zk: starts ZooKeeper (zookeeper.sh), registers the Java provider with register.py and calls it
//     through sofa-rpc-node's ZookeeperRegistry (root /dubbo), which proves the registry layout.
//  4. with --triple: starts triple_server.js and calls it with Python grpcio (triple/grpc_check.py).
//
// Usage: node probe.js [--sofa PORT] [--dubbots PORT] [--java PORT] [--zk] [--triple] [--quiet]
// Without ports it starts each provider itself (and stops it afterwards). Exits non-zero if a check fails.

const path = require('path');
const net = require('net');
const { spawn } = require('child_process');
const hessian = require('hessian.js');
const java = require('js-to-java');
const { RpcClient } = require('sofa-rpc-node').client;
const { ZookeeperRegistry } = require('sofa-rpc-node').registry;
const protocol = require('dubbo-remoting');

const HERE = __dirname;
const ROOT = path.resolve(HERE, '../../..');
const INTERFACE = 'org.apache.dubbo.demo.UserService';
const VERSION = '1.0.0';
const argv = process.argv.slice(2);
const quiet = argv.includes('--quiet');
const opt = name => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

const logger = { debug() {}, info() {}, warn() {}, error(...a) { if (!quiet) console.error('[probe]', ...a); } };
const started = [];
const tempDirs = [];
const tempDir = prefix => {
  const dir = require('fs').mkdtempSync(path.join(require('os').tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};
let failures = 0;

function check(ok, what) {
  if (!ok) {
    failures++;
    console.log(`  FAIL ${what}`);
  }
}

/** Starts `cmd args`, resolves with the port from its `LISTENING <port>` line. */
function startPeer(name, cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: HERE, stdio: ['pipe', 'pipe', 'inherit'] });
    started.push(child);
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${name}: no LISTENING line in 60 s`)), 60000);
    child.stdout.on('data', d => {
      buf += d;
      const m = /LISTENING (\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', code => reject(new Error(`${name} exited with ${code} before LISTENING`)));
  });
}

function stopAll() {
  for (const child of started) {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
}

// ------------------------------------------------------------------------------ sofa-rpc-node client

async function sofaCalls(name, consumer) {
  const call = (method, args, extra = {}) => consumer.invoke(method, args, Object.assign({ responseTimeout: 5000 }, extra));
  const show = (label, v) => console.log(`  ${label} -> ${JSON.stringify(v)}`);
  const user = await call('getUser', [java.long(1)]);
  show('getUser(1)', user);
  check(user && user.name === 'alice' && user.role && user.address && user.address.city === 'Hangzhou', `${name} getUser(1)`);
  const u7 = await call('getUser', [java.long(7)]);
  check(u7 && u7.name === 'user-7' && Number(u7.id) === 7, `${name} getUser(7)`);
  const greet1 = await call('greet', [java.String('bob')]);
  show('greet("bob")', greet1);
  check(greet1 === 'hello, bob', `${name} greet(String)`);
  try {
    const greet2 = await call('greet', [java.String('bob'), java.int(2)]);
    show('greet("bob", 2)', greet2);
    check(greet2 === 'hello, bob hello, bob', `${name} greet(String, int)`);
  } catch (err) {
    show('greet("bob", 2) error', err.message);
    check(false, `${name} greet(String, int)`);
  }
  const pong = await call('ping', []);
  show('ping()', pong);
  check(pong === 'pong', `${name} ping`);
  try {
    await call('getUser', [java.long(404)]);
    check(false, `${name} getUser(404) should fail`);
  } catch (err) {
    // dubbo.ts answers status 70 with a flag + message + attachments; dubbo-remoting expects a bare string there,
    // fails to decode and drops the connection (the client reconnects for the next call).
    show('getUser(404) error', `${err.name}: ${String(err.message).split('\n')[0]}`);
  }
  const created = await call('createUser', [java('org.apache.dubbo.demo.User', {
    id: java.long(0), name: 'carol', age: java.int(41), createdAt: new Date(0),
    balance: java.BigDecimal('9.99'), tags: ['x'], attrs: { k: 'v' },
    address: java('org.apache.dubbo.demo.Address', { city: 'Paris', street: 'Rue 1' }),
    role: java.enum('org.apache.dubbo.demo.Role', 'MEMBER'),
  })]);
  show('createUser(carol)', created);
  check(created && Number(created.id) === 1000 && created.name === 'carol', `${name} createUser`);
  const total = await call('sum', [java('java.util.List', [java.long(1), java.long(2), java.long(40)])]);
  show('sum([1,2,40])', total);
  check(Number(total) === 43, `${name} sum`);
  const dec = await call('echoDecimal', [java.BigDecimal('12345678901234567890.123456789')]);
  show('echoDecimal', dec);
  check(dec && dec.value === '12345678901234567890.123456789', `${name} echoDecimal`);
  const date = await call('echoDate', [new Date(Date.UTC(2020, 1, 29, 12))]);
  show('echoDate', date);
  check(date instanceof Date && date.getTime() === Date.UTC(2020, 1, 29, 12), `${name} echoDate`);
  const bytes = await call('echoBytes', [Buffer.from([0, 1, 2, 255])]);
  show('echoBytes', bytes && bytes.toString('hex'));
  check(Buffer.isBuffer(bytes) && bytes.toString('hex') === '000102ff', `${name} echoBytes`);
  const map = await call('echoMap', [java('java.util.Map', { a: 1, b: 'two', c: true })]);
  show('echoMap', map);
  check(map && map.b === 'two', `${name} echoMap`);
  const slept = await call('slow', [java.int(50)]);
  check(slept === 'slept', `${name} slow`);
  try {
    const nothing = await call('nullResult', []);
    show('nullResult()', nothing);
    check(nothing == null, `${name} nullResult`);
  } catch (err) {
    // sofa-rpc-node's provider writes a null result with no response flag, which its own client rejects.
    show('nullResult() error', `${err.name}: ${err.message}`);
    check(name.startsWith('sofa'), `${name} nullResult`);
  }
}

async function sofaProbe(name, port) {
  console.log(`== ${name} via sofa-rpc-node RpcClient (dubbo-remoting) on 127.0.0.1:${port}`);
  const client = new RpcClient({ logger, protocol });
  const consumer = client.createConsumer({
    interfaceName: INTERFACE, version: VERSION, group: '', serverHost: `dubbo://127.0.0.1:${port}?serialization=hessian2`,
  });
  try {
    await consumer.ready();
    await sofaCalls(name, consumer);
  } catch (err) {
    check(false, `${name}: ${err.stack}`);
  } finally {
    await client.close();
  }
}

// ------------------------------------------------------------------------------------ raw frames

/** Compact rendering of a hessian.js value decoded with types: `Class{field=...}`, `long 1`, ... */
function describe(v, seen = new Set()) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') {
    if (seen.has(v)) return '<back-reference>';
    seen = new Set(seen).add(v);
    if (v.$ && typeof v.$ === 'object') seen.add(v.$);
  }
  const d = x => describe(x, seen);
  if (Buffer.isBuffer(v)) return `bytes(${v.toString('hex')})`;
  if (Array.isArray(v)) return `[${v.map(x => d(x)).join(', ')}]`;
  if (v instanceof Date) return v.toISOString();
  if (typeof v !== 'object') return JSON.stringify(v);
  if (v instanceof Error) return `Error(${v.name}: ${v.message})`;
  if ('$class' in v && '$' in v) {
    const cls = v.$class;
    const val = v.$;
    if (['int', 'long', 'double', 'boolean'].includes(cls)) return `${cls} ${val}`;
    if (cls === 'java.lang.String') return JSON.stringify(val);
    if (cls === 'java.util.Date') return `Date ${val.toISOString()}`;
    if (cls === '[B' || Buffer.isBuffer(val)) return `bytes(${Buffer.from(val).toString('hex')})`;
    if (Array.isArray(val)) return `${cls}[${val.map(x => d(x)).join(', ')}]`;
    if (val instanceof Error) {
      return `${cls}{message=${JSON.stringify(String(val.message).split('\n')[0])}, cause=${d(val.cause)}}`;
    }
    if (val && typeof val === 'object') {
      return `${cls}{${Object.keys(val).map(k => `${k}=${k === 'stackTrace' ? '[...]' : k === 'detailMessage' ? JSON.stringify(String(d(val[k])).split('\\n')[0]) : d(val[k])}`).join(', ')}}`;
    }
    return `${cls} ${JSON.stringify(val)}`;
  }
  return `{${Object.keys(v).map(k => `${k}=${d(v[k])}`).join(', ')}}`;
}

class RawConnection {
  constructor(port) {
    this.port = port;
    this.nextId = 1;
    this.waiters = new Map();
    this.unsolicited = [];
    this.buf = Buffer.alloc(0);
  }

  open() {
    return new Promise((resolve, reject) => {
      this.socket = net.connect(this.port, '127.0.0.1', resolve);
      this.socket.once('error', reject);
      this.socket.on('data', d => this.onData(d));
    });
  }

  onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 16) {
      const len = this.buf.readUInt32BE(12);
      if (this.buf.length < 16 + len) return;
      const frame = this.buf.subarray(0, 16 + len);
      this.buf = this.buf.subarray(16 + len);
      const flag = frame[2];
      const id = Number(frame.readBigUInt64BE(4));
      if ((flag & 0x80) !== 0 || !this.waiters.has(id)) {
        this.unsolicited.push(frame);
        continue;
      }
      const w = this.waiters.get(id);
      this.waiters.delete(id);
      w(frame);
    }
  }

  send(flag, body, timeoutMs = 5000, id = this.nextId++) {
    const header = Buffer.alloc(16);
    header[0] = 0xda;
    header[1] = 0xbb;
    header[2] = flag;
    header.writeBigUInt64BE(BigInt(id), 4);
    header.writeUInt32BE(body.length, 12);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiters.delete(id); reject(new Error(`no response in ${timeoutMs} ms`)); }, timeoutMs);
      this.waiters.set(id, frame => { clearTimeout(timer); resolve(frame); });
      this.socket.write(Buffer.concat([header, body]));
    });
  }

  invoke({ dubbo = '2.0.2', service = INTERFACE, version = VERSION, method, desc, args = [], attachments = {} }) {
    const enc = new hessian.EncoderV2();
    enc.write(dubbo);
    enc.write(service);
    enc.write(version);
    enc.write(method);
    enc.write(desc);
    for (const a of args) enc.write(a);
    enc.write(Object.assign({ path: service, version, interface: service }, attachments));
    return this.send(0xc2, enc.get());
  }

  heartbeat() {
    const enc = new hessian.EncoderV2();
    enc.write(null);
    return this.send(0xe2, enc.get(), 2000);
  }

  close() {
    this.socket.destroy();
  }
}

function parseResponse(frame) {
  const flagByte = frame[2];
  const status = frame[3];
  const body = frame.subarray(16);
  const out = { status, event: (flagByte & 0x20) !== 0, bodyLength: body.length };
  const dec = new hessian.DecoderV2(body);
  try {
    if (out.event) {
      out.value = dec.read(true);
    } else if (status !== 20) {
      const first = dec.read(true);
      out.message = typeof first === 'string' ? first : first && first.$class === 'java.lang.String' ? first.$ : undefined;
      if (out.message === undefined) {
        out.note = `body is not a bare string: starts with ${describe(first)}`;
        out.rest = [];
        while (dec.byteBuffer.position() < body.length) out.rest.push(dec.read(true));
      }
    } else {
      const first = dec.read(true);
      const flag = typeof first === 'number' ? first : first && first.$class === 'int' ? first.$ : undefined;
      if (flag === undefined) {
        out.note = `no response flag: body is ${describe(first)}`;
        out.value = first;
      } else {
        out.flag = flag;
        if ([0, 1, 3, 4].includes(out.flag)) out.value = dec.read(true);
        if ([3, 4, 5].includes(out.flag)) out.attachments = dec.read(false);
      }
    }
  } catch (err) {
    out.decodeError = err.message;
  }
  if (out.value && /Exception$/.test(out.value.$class || '')) {
    out.classDefs = dec.classes.map(c => `${c.name}(${c.fields.join(', ')})`);
    // hessian.js loses detailMessage when keeping types; read the body again without them for the message.
    const plain = new hessian.DecoderV2(body);
    plain.read();
    const e = plain.read();
    out.exceptionMessage = e && e.message;
  }
  return out;
}

function showResponse(label, r) {
  const parts = [`status ${r.status}`];
  if (r.event) parts.push('event');
  if (r.flag !== undefined) parts.push(`flag ${r.flag}`);
  if (r.note) parts.push(r.note);
  if (r.message !== undefined) parts.push(`text ${JSON.stringify(r.message.split('\n')[0])}${r.message.includes('\n') ? ' (+ stack trace lines)' : ''}`);
  if (r.rest) parts.push(`then ${r.rest.map(x => describe(x)).join(' , ')}`);
  if (r.value !== undefined && r.note === undefined) parts.push(`value ${describe(r.value)}`);
  if (r.attachments) parts.push(`attachments ${JSON.stringify(r.attachments)}`);
  if (r.exceptionMessage) parts.push(`message ${JSON.stringify(String(r.exceptionMessage).split('\n')[0])}`);
  if (r.classDefs) parts.push(`class definitions ${r.classDefs.join(' ')}`);
  if (r.decodeError) parts.push(`decode error: ${r.decodeError}`);
  console.log(`  ${label}: ${parts.join('; ')}`);
}

async function rawProbe(name, port, { generic }) {
  console.log(`== ${name} raw frames (hessian.js, types kept) on 127.0.0.1:${port}`);
  const c = new RawConnection(port);
  await c.open();
  try {
    const r = async (label, inv) => {
      const res = parseResponse(await c.invoke(inv));
      showResponse(label, res);
      return res;
    };
    const ok = await r('getUser(1) dubbo=2.0.2', { method: 'getUser', desc: 'J', args: [java.long(1)] });
    check(ok.status === 20 && ok.value && ok.value.$class === 'org.apache.dubbo.demo.User', `${name} raw getUser class name`);
    await r('getUser(1) dubbo=2.6.0', { dubbo: '2.6.0', method: 'getUser', desc: 'J', args: [java.long(1)] });
    await r('getUser(404)', { method: 'getUser', desc: 'J', args: [java.long(404)] });
    await r('getUser(404) dubbo=2.6.0', { dubbo: '2.6.0', method: 'getUser', desc: 'J', args: [java.long(404)] });
    await r('nullResult()', { method: 'nullResult', desc: '', args: [] });
    await r('nullResult() dubbo=2.6.0', { dubbo: '2.6.0', method: 'nullResult', desc: '', args: [] });
    await r('greet(String,int)', { method: 'greet', desc: 'Ljava/lang/String;I', args: ['x', java.int(3)] });
    await r('sum(List) []', { method: 'sum', desc: 'Ljava/util/List;', args: [[]] });
    await r('echoDecimal', { method: 'echoDecimal', desc: 'Ljava/math/BigDecimal;', args: [java.BigDecimal('-0.000120')] });
    await r('unknown method nope()', { method: 'nope', desc: '', args: [] });
    await r('unknown version 9.9.9', { version: '9.9.9', method: 'ping', desc: '', args: [] });
    await r('unknown service', { service: 'org.example.Nope', method: 'ping', desc: '', args: [] });
    if (generic) {
      const g = await r('$invoke getUser(long 1) generic=true', {
        method: '$invoke', desc: 'Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;',
        args: ['getUser', java.array('java.lang.String', ['long']), { $class: '[java.lang.Object', $: [java.long(1)] }],
        attachments: { generic: 'true' },
      });
      check(g.value && g.value.$class === 'java.util.HashMap', `${name} generic result is a map`);
      await r('$invoke getUser(404) generic=true', {
        method: '$invoke', desc: 'Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;',
        args: ['getUser', java.array('java.lang.String', ['long']), { $class: '[java.lang.Object', $: [java.long(404)] }],
        attachments: { generic: 'true' },
      });
      await r('$invoke createUser(map with class) generic=true', {
        method: '$invoke', desc: 'Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;',
        args: ['createUser', java.array('java.lang.String', ['org.apache.dubbo.demo.User']), { $class: '[java.lang.Object', $: [{
          class: 'org.apache.dubbo.demo.User', name: 'dave', age: 5, role: 'ADMIN', balance: '1.5',
          address: { city: 'Rome', street: 'Via 2' }, tags: ['t'], createdAt: new Date(86400000),
        }] }],
        attachments: { generic: 'true' },
      });
      await r('$invoke greet (no types, overloaded)', {
        method: '$invoke', desc: 'Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;',
        args: ['greet', null, { $class: '[java.lang.Object', $: ['x'] }],
        attachments: { generic: 'true' },
      });
      await r('$echo("hi")', { method: '$echo', desc: 'Ljava/lang/Object;', args: ['hi'] });
    }
    try {
      showResponse('heartbeat request (flag 0xe2)', parseResponse(await c.heartbeat()));
    } catch (err) {
      console.log(`  heartbeat request (flag 0xe2): ${err.message}`);
      check(name.startsWith('dubbo.ts'), `${name} heartbeat answered`);
    }
  } catch (err) {
    check(false, `${name} raw: ${err.message}`);
  } finally {
    if (c.unsolicited.length) {
      console.log(`  unsolicited frames received: ${c.unsolicited.map(f => `flag 0x${f[2].toString(16)} status ${f[3]} id ${f.readBigUInt64BE(4)}`).join(', ')}`);
    }
    c.close();
  }
}

// -------------------------------------------------------------------------------------- zookeeper

async function zkProbe(javaPort) {
  const zkPort = await startPeer('zookeeper', path.join(HERE, 'zookeeper.sh'),
    ['--port', '0', '--dir', tempDir('zk-probe-')]);
  const python = process.env.GATEWAY_TEST_PYTHON || path.join(ROOT, '.venv-peers/bin/python');
  await new Promise((resolve, reject) => {
    const p = spawn(python, [path.join(HERE, 'register.py'), '--zk', `127.0.0.1:${zkPort}`, '--port', String(javaPort)], { stdio: 'inherit' });
    p.on('exit', code => (code === 0 ? resolve() : reject(new Error(`register.py exited with ${code}`))));
  });
  console.log(`== java provider discovered through ZooKeeper 127.0.0.1:${zkPort} (/dubbo root) by sofa-rpc-node`);
  const registry = new ZookeeperRegistry({ logger, address: `127.0.0.1:${zkPort}/dubbo` });
  await registry.ready();
  const client = new RpcClient({ logger, protocol, registry });
  const consumer = client.createConsumer({ interfaceName: INTERFACE, version: VERSION, group: '' });
  try {
    await consumer.ready();
    const user = await consumer.invoke('getUser', [java.long(1)], { responseTimeout: 5000 });
    console.log(`  getUser(1) -> ${JSON.stringify(user)}`);
    check(user && user.name === 'alice', 'zk-discovered getUser(1)');
  } finally {
    await client.close();
    await registry.close();
  }
}

// ----------------------------------------------------------------------------------------- triple

async function tripleProbe() {
  const port = await startPeer('triple', process.execPath, [path.join(HERE, 'triple_server.js'), '--port', '0']);
  console.log(`== triple_server.js on 127.0.0.1:${port} called by Python grpcio (triple/grpc_check.py)`);
  const python = process.env.GATEWAY_TEST_PYTHON || path.join(ROOT, '.venv-peers/bin/python');
  const code = await new Promise(resolve => {
    const p = spawn(python, [path.join(HERE, 'triple/grpc_check.py'), '--port', String(port)], { stdio: 'inherit' });
    p.on('exit', resolve);
  });
  check(code === 0, 'triple gRPC check');
}

// ------------------------------------------------------------------------------------------ main

async function main() {
  const targets = [];
  const given = ['--sofa', '--dubbots', '--java'].some(o => opt(o));
  const want = (flag, name, cmd, args) => {
    if (opt(flag)) targets.push({ name, port: Number(opt(flag)) });
    else if (!given) targets.push({ name, start: [cmd, args] });
  };
  want('--sofa', 'sofa-rpc-node', process.execPath, [path.join(HERE, 'sofa_provider.js'), '--port', '0']);
  want('--dubbots', 'dubbo.ts', process.execPath, [path.join(HERE, 'dubbots_provider.js'), '--port', '0']);
  want('--java', 'java (caucho hessian)', path.join(HERE, 'java/run.sh'), ['--port', '0']);
  for (const t of targets) {
    if (t.start) t.port = await startPeer(t.name, ...t.start);
  }
  for (const t of targets) {
    await sofaProbe(t.name, t.port);
    await rawProbe(t.name, t.port, { generic: t.name.startsWith('java') });
  }
  const javaTarget = targets.find(t => t.name.startsWith('java'));
  if (argv.includes('--zk') && javaTarget) await zkProbe(javaTarget.port);
  if (argv.includes('--triple')) await tripleProbe();
  console.log(failures ? `probe: ${failures} check(s) failed` : 'probe: all checks passed');
}

if (require.main !== module) {
  module.exports = { RawConnection, parseResponse, describe, startPeer, stopAll };
  return;
}

main()
  .catch(err => { console.error(err); failures++; })
  .finally(() => {
    stopAll();
    setTimeout(() => {
      for (const dir of tempDirs) require('fs').rmSync(dir, { recursive: true, force: true });
      process.exit(failures ? 1 : 0);
    }, 500);
  });
