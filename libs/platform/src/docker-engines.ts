import type { NodeSpec } from '@paas/contracts/nodes';
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

/**
 * The Docker engine of a Node, as every service that drives nodes opens it (the deploy-service
 * for pods, the build-service for builds): `unix:///<socket>`, or `tcp://<host>:<port>` with
 * the TLS client certificates in `tlsDir` (`ca.pem`, `cert.pem`, `key.pem`, as
 * DOCKER_CERT_PATH has them). Throws when the files cannot be read. `timeoutMs` bounds every
 * request, streams included: leave it out for an engine that runs long work (a build, a pull).
 * Connections are kept open between calls, a few of them while idle (KEEP_ALIVE).
 */
export function dockerFor(engine: NodeSpec['engine'], timeoutMs?: number): Docker {
  if (engine.url.startsWith('unix://')) return keptAlive({ socketPath: engine.url.slice('unix://'.length), timeout: timeoutMs, agent: new http.Agent(KEEP_ALIVE) });
  const { hostname, port } = new URL(engine.url.replace(/^tcp:/, 'https:'));
  const dir = engine.tlsDir as string;
  const tls = { ca: readFileSync(path.join(dir, 'ca.pem')), cert: readFileSync(path.join(dir, 'cert.pem')), key: readFileSync(path.join(dir, 'key.pem')) };
  return keptAlive({ host: hostname, port: Number(port), protocol: 'https', ...tls, timeout: timeoutMs, agent: new https.Agent({ ...KEEP_ALIVE, ...tls }) });
}

/**
 * The node monitor asks every engine for `/_ping` each second: without keep-alive each ask is
 * a new connection (over TLS, a handshake). The engine does not close idle connections, so a
 * kept one is not met closing under a request; after a burst (fifty pods started side by
 * side) only a few stay open.
 */
const KEEP_ALIVE: http.AgentOptions = { keepAlive: true, maxFreeSockets: 4 };

/** dockerode hands its options to docker-modem, which takes an `agent`; dockerode's types leave it out. */
function keptAlive(options: Docker.DockerOptions & { agent: http.Agent }): Docker {
  return new Docker(options);
}

/** `work`, or a rejection once `timeoutMs` has passed without an answer (the work itself is not stopped). */
export function withinTime<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** A key that changes whenever the way to reach a node's engine does: a cached client is opened again then. */
export function engineKey(spec: Pick<NodeSpec, 'engine' | 'hostIP' | 'registryHost'>): string {
  return JSON.stringify([spec.engine.url, spec.engine.tlsDir ?? '', spec.hostIP, spec.registryHost]);
}
