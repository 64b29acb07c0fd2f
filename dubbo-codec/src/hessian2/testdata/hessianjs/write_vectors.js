// Writes hessian2 test vectors with hessian.js 2.11 (+ js-to-java), one file per case, into this folder.
// Usage: npm install --prefix /tmp/hjs hessian.js@2.11.0 js-to-java@2 && NODE_PATH=/tmp/hjs/node_modules node write_vectors.js
'use strict';
const fs = require('fs');
const path = require('path');
const hessian = require('hessian.js');
const java = require('js-to-java');

function write(name, ...values) {
  const encoder = new hessian.EncoderV2();
  for (const value of values) {
    encoder.write(value);
  }
  fs.writeFileSync(path.join(__dirname, name + '.bin'), encoder.get());
}

write('scalars', 0, -16, 47, 48, -2048, 2047, 2048, 262143, 262144, -2147483648, java.long(5), java.long(-262145),
  Math.pow(2, 40), 1.5, 12.25, 0.1, java.double(3), true, false, null, new Date(0), new Date(1700000000123));
write('strings', '', 'a\u{1f600}b', '\u4e2d\u6587', 'x'.repeat(0x8001), 'a'.repeat(0x7fff) + '\u{1f600}b');
write('binary', Buffer.from([1, 2, 3]), Buffer.alloc(0x8001, 7));
write('lists', [1, 'two', true], java.array.int([1, 2, 3]), { $class: 'java.util.ArrayList', $: [1, 2] },
  java.List(['p']));
write('maps', { $class: 'java.util.HashMap', $: { a: 1 } }, java.Map({ k: 'v' }));
const ann = { $class: 'com.example.Person', $: { name: 'Ann', age: 30 } };
const bob = { $class: 'com.example.Person', $: { name: 'Bob', age: 40 } };
write('objects', ann, bob, java.enum('com.example.Color', 'RED'), java.BigDecimal('12.50'));
const node = { $class: 'com.example.Node', $: { name: 'n', self: null } };
node.$.self = node;
write('cycle', node);
