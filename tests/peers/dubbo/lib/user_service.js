'use strict';
// The UserService contract shared by the Node Dubbo2 providers (sofa_provider.js, dubbots_provider.js).
// Results are built with js-to-java so hessian.js writes them with the Java class names
// (org.apache.dubbo.demo.User / Address / Role, java.math.BigDecimal, long, int), exactly as the Java
// provider in java/ does. Keep the data in step with java/src/org/apache/dubbo/demo/UserServiceImpl.java.

const java = require('js-to-java');

const INTERFACE = 'org.apache.dubbo.demo.UserService';
const VERSION = '1.0.0';
const USER = 'org.apache.dubbo.demo.User';
const ADDRESS = 'org.apache.dubbo.demo.Address';
const ROLE = 'org.apache.dubbo.demo.Role';

/** Fixed and generated users, as plain data (see ../README.md for the table). */
function userData(id) {
  if (id === 1) {
    return {
      id: 1,
      name: 'alice',
      age: 30,
      createdAt: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)),
      balance: '1234.56',
      tags: ['admin', 'early'],
      attrs: { team: 'core', tz: 'UTC' },
      address: { city: 'Hangzhou', street: '1 West Lake Rd' },
      role: 'ADMIN',
    };
  }
  return {
    id,
    name: `user-${id}`,
    age: 20 + (Math.abs(id) % 50),
    createdAt: new Date(1704067200000 + id * 1000), // 2024-01-01T00:00:00Z + id seconds
    balance: `${id}.50`,
    tags: ['generated'],
    attrs: { source: 'generated' },
    address: { city: `City ${id}`, street: `${id} Main St` },
    role: 'MEMBER',
  };
}

/** Plain data -> the typed (js-to-java) User that hessian.js writes as `org.apache.dubbo.demo.User`. */
function typedUser(u) {
  if (u == null) return null;
  const decimal = u.balance == null ? null : java.BigDecimal(String(u.balance));
  return java(USER, {
    id: java.long(Number(u.id || 0)),
    name: u.name == null ? null : String(u.name),
    age: java.int(Number(u.age || 0)),
    createdAt: u.createdAt == null ? null : new Date(u.createdAt),
    balance: decimal,
    tags: u.tags == null ? null : u.tags.map(String),
    attrs: u.attrs == null ? null : Object.assign({}, u.attrs),
    address: u.address == null ? null : java(ADDRESS, {
      city: u.address.city == null ? null : String(u.address.city),
      street: u.address.street == null ? null : String(u.address.street),
    }),
    role: u.role == null ? null : java.enum(ROLE, u.role),
  });
}

/** A User as hessian.js decodes it (class names dropped, BigDecimal as {value}, enum as {name}) -> plain data. */
function plainUser(u) {
  if (u == null) return null;
  const unwrap = v => (v && typeof v === 'object' && '$' in v && '$class' in v ? v.$ : v);
  const balance = unwrap(u.balance);
  const role = unwrap(u.role);
  return {
    id: Number(unwrap(u.id) || 0),
    name: unwrap(u.name),
    age: Number(unwrap(u.age) || 0),
    createdAt: unwrap(u.createdAt),
    balance: balance == null ? null : (typeof balance === 'object' ? balance.value : String(balance)),
    tags: unwrap(u.tags),
    attrs: unwrap(u.attrs),
    address: unwrap(u.address),
    role: role == null ? null : (typeof role === 'object' ? role.name : String(role)),
  };
}

class BusinessError extends Error {
  constructor(className, message) {
    super(message);
    this.name = className;
    this.ignoreLog = true; // sofa-rpc-node: do not log expected business failures
  }
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/**
 * The contract as async functions over decoded arguments. `types` is the list of Java parameter types
 * from the request's descriptor when the library exposes it (sofa-rpc-node), else null (dubbo.ts only
 * gives the arguments) and overloads are told apart by argument count.
 */
const methods = {
  async getUser(id) {
    id = Number(id);
    if (id === 404) throw new BusinessError('java.lang.IllegalArgumentException', 'no user 404');
    return typedUser(userData(id));
  },
  async createUser(user) {
    const u = plainUser(user);
    if (u == null) return null;
    if (!u.id) u.id = 1000;
    return typedUser(u);
  },
  async ping() {
    return 'pong';
  },
  async greet(name, times) {
    if (times === undefined) return `hello, ${name}`;
    return Array.from({ length: Math.max(Number(times), 0) }, () => `hello, ${name}`).join(' ');
  },
  async sum(values) {
    let total = 0;
    for (const v of values || []) total += Number(v);
    return java.long(total);
  },
  async echoMap(m) {
    return m;
  },
  async echoBytes(b) {
    return b;
  },
  async echoDecimal(d) {
    if (d == null) return null;
    return java.BigDecimal(typeof d === 'object' ? String(d.value) : String(d));
  },
  async echoDate(d) {
    return d == null ? null : new Date(d);
  },
  async slow(millis) {
    await sleep(Number(millis));
    return 'slept';
  },
  async nullResult() {
    return null;
  },
};

/** Method name -> the accepted Java parameter-type lists (what a Java provider would match on). */
const SIGNATURES = {
  getUser: [['long']],
  createUser: [[USER]],
  ping: [[]],
  greet: [['java.lang.String'], ['java.lang.String', 'int']],
  sum: [['java.util.List']],
  echoMap: [['java.util.Map']],
  echoBytes: [['[byte']],
  echoDecimal: [['java.math.BigDecimal']],
  echoDate: [['java.util.Date']],
  slow: [['int']],
  nullResult: [[]],
};

module.exports = { INTERFACE, VERSION, USER, ADDRESS, ROLE, methods, SIGNATURES, userData, typedUser, plainUser, BusinessError };
