#!/usr/bin/env node
// What the router's request observers cost per request, in ns: the Prometheus metrics'
// observe(), the JSON access log's observe() (line built and batched; the batches go to
// /dev/null) and both behind the composite, with 1,000 routes' records in rotation.
// Median of several rounds of a few million calls each, after a warm-up.
//
// Usage: npx nx run router:build && node bench/router-observe.mjs [rounds=7] [calls=2000000]
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const DIST = process.env.ROUTER_DIST ?? path.resolve(import.meta.dirname, '../apps/router/dist');
const { RouterMetrics } = require(path.join(DIST, 'observability/router-metrics.js'));
const { openAccessLog } = require(path.join(DIST, 'observability/access-log.js'));
const { CompositeObserver } = require(path.join(DIST, 'observability/router-observers.js'));

const ROUNDS = Number(process.argv[2] ?? 7);
// BENCH_SMOKE=1 (npm test): fewer calls, to prove the bench runs; its figures are not for the table.
const CALLS = Number(process.argv[3] ?? (process.env.BENCH_SMOKE === '1' ? 100_000 : 2_000_000));
const ROUTES = 1_000;
const STATUSES = [200, 200, 200, 200, 200, 200, 304, 404, 502, 200];

const records = [];
for (let i = 0; i < 4096; i++) {
  const route = i % ROUTES;
  records.push({
    namespace: `ns-${route % 50}`,
    route: `app-${route}`,
    method: 'GET',
    host: `app-${route}-ns-${route % 50}.apps.localhost`,
    path: `/items/${i}?page=2`,
    status: STATUSES[i % STATUSES.length],
    durationSeconds: 0.0005 + (i % 97) * 0.0003,
    upstream: `10.0.${route % 250}.${i % 200}:8080`,
    upstreamError: i % 10 === 8 ? 'ECONNREFUSED' : undefined,
    clientIp: '127.0.0.1',
    tls: i % 3 === 0,
  });
}
const MASK = records.length - 1;

function nsPerCall(observer) {
  for (let i = 0; i < 200_000; i++) observer.observe(records[i & MASK]);
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) observer.observe(records[i & MASK]);
  return Number(process.hrtime.bigint() - start) / CALLS;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const metrics = new RouterMetrics();
const accessLog = openAccessLog({ file: '/dev/null' });
const subjects = {
  'metrics.observe': metrics,
  'accessLog.observe': accessLog,
  'composite (metrics + access log)': new CompositeObserver([metrics, accessLog]),
  'nothing (empty observe, loop cost)': { observe() {} },
};
const results = Object.fromEntries(Object.keys(subjects).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order so that no subject always runs first.
  const names = Object.keys(subjects);
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + round) % names.length];
    results[name].push(nsPerCall(subjects[name]));
  }
}
const renderStart = process.hrtime.bigint();
const text = metrics.render();
const renderMs = Number(process.hrtime.bigint() - renderStart) / 1e6;
await accessLog.close();

console.log(`node ${process.version}, ${ROUNDS} rounds of ${CALLS} calls, ${ROUTES} routes`);
for (const [name, values] of Object.entries(results)) {
  console.log(`${name.padEnd(36)} median ${median(values).toFixed(1).padStart(6)} ns/call  (min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)})`);
}
console.log(`scrape of ${ROUTES} routes: ${renderMs.toFixed(1)} ms, ${(text.length / 1024).toFixed(0)} KiB; access log batches: ${accessLog.writer.batches}, dropped lines: ${accessLog.writer.dropped}`);
