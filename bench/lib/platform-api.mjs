// The running platform's API as the benchmarks call it: as the admin, through the gateway.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { PAAS_HOME, ports } from '../../scripts/lib/config.mjs';
import { sleep } from './processes.mjs';

export const GATEWAY = `http://127.0.0.1:${ports.gateway}`;
const password = () => readFileSync(path.join(PAAS_HOME, 'secrets', 'admin-password'), 'utf8').trim();
let admin;

/**
 * The status of `GET /` for `host` through a router's data plane (0 when it does not answer):
 * node:http, since fetch drops a Host header. `timeout` 0 waits as long as it takes.
 */
export function routerStatus(host, { port = ports.router, agent = false, timeout = 5_000 } = {}) {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent, timeout }, (res) => res.resume().on('end', () => resolve(res.statusCode))).on('error', () => resolve(0));
  });
}

const authorization = () => (admin ??= `Basic ${Buffer.from(`admin:${password()}`).toString('base64')}`);

/** `<method> /api/v1<url>` as the admin; a 4xx or 5xx is an error that says which call it was. */
export async function api(method, url, body) {
  const res = await fetch(`${GATEWAY}/api/v1${url}`, { method, headers: { authorization: authorization(), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body && JSON.stringify(body) }).catch((error) => {
    throw new Error(`${method} ${url}: ${error.cause?.message ?? error.message} (${new Date().toISOString()})`, { cause: error });
  });
  const answer = await res.json().catch(() => ({}));
  if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${answer.message ?? ''}`);
  return answer;
}

/** `GET /api/v1<url>` as the admin, as text (a build log). */
export async function apiText(url) {
  const res = await fetch(`${GATEWAY}/api/v1${url}`, { headers: { authorization: authorization() } });
  if (res.status >= 400) throw new Error(`GET ${url}: ${res.status}`);
  return res.text();
}

/** Polls `probe` until it answers truthy (errors count as not yet). */
export async function until(what, probe, timeoutMs = 300_000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}
