import type { NodeSpec } from '@paas/contracts/nodes';
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The Docker engine of a Node, as every service that drives nodes opens it (the deploy-service
 * for pods, the build-service for builds): `unix:///<socket>`, or `tcp://<host>:<port>` with
 * the TLS client certificates in `tlsDir` (`ca.pem`, `cert.pem`, `key.pem`, as
 * DOCKER_CERT_PATH has them). Throws when the files cannot be read. `timeoutMs` bounds every
 * request, streams included: leave it out for an engine that runs long work (a build, a pull).
 */
export function dockerFor(engine: NodeSpec['engine'], timeoutMs?: number): Docker {
  if (engine.url.startsWith('unix://')) return new Docker({ socketPath: engine.url.slice('unix://'.length), timeout: timeoutMs });
  const { hostname, port } = new URL(engine.url.replace(/^tcp:/, 'https:'));
  const dir = engine.tlsDir as string;
  const file = (name: string) => readFileSync(path.join(dir, name));
  return new Docker({ host: hostname, port: Number(port), protocol: 'https', ca: file('ca.pem'), cert: file('cert.pem'), key: file('key.pem'), timeout: timeoutMs });
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
