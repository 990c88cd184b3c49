// Calls to the platform's gateway as its cluster-admin, for the steps of `up` that go through
// the API as an operator would (registering nodes, publishing the builder images).
import fs from 'node:fs';
import path from 'node:path';
import { PAAS_HOME, ports } from './config.mjs';

/** The cluster-admin's password, which the gateway writes at its first start. */
export const adminPassword = () => fs.readFileSync(path.join(PAAS_HOME, 'secrets', 'admin-password'), 'utf8').trim();

/**
 * `method url` on the gateway as the cluster-admin: its status and JSON body. A status of 400
 * or more throws, unless `accepted` names it.
 */
export async function asAdmin(method, url, body, accepted = []) {
  const res = await fetch(`http://127.0.0.1:${ports.gateway}${url}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`admin:${adminPassword()}`).toString('base64')}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body && JSON.stringify(body),
  });
  const answer = await res.json().catch(() => ({}));
  if (res.status >= 400 && !accepted.includes(res.status)) throw new Error(`${method} ${url}: ${res.status} ${answer.message ?? ''}`);
  return { status: res.status, body: answer };
}
