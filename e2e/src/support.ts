import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_PASSWORD_FILE, ADMIN_USER } from '@paas/contracts/auth';
import { loadConfig } from '@paas/platform/config';
import { eventually } from '@paas/platform/testing';
import request from 'supertest';

export const GATEWAY_URL = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8000';
export const ROUTER_URL = process.env.ROUTER_URL ?? 'http://127.0.0.1:8080';
export const ZIPKIN_URL = process.env.ZIPKIN_QUERY_URL ?? 'http://127.0.0.1:9411';

let password: string | undefined;

/** The password the running gateway gave its cluster-admin (`PAAS_ADMIN_PASSWORD`, or the file it wrote). */
export function adminPassword(): string {
  password ??= process.env.PAAS_ADMIN_PASSWORD || readFileSync(path.join(loadConfig().home, ADMIN_PASSWORD_FILE), 'utf8').trim();
  return password;
}

/** The gateway's API as the cluster-admin (Basic credentials on every request). */
export const api = () => request.agent(GATEWAY_URL).auth(ADMIN_USER, adminPassword());

const keepAlive = new http.Agent({ keepAlive: true });

/** Lets the test process exit: keep-alive sockets to the router would hold it open. */
export function closeRouterConnections(): void {
  keepAlive.destroy();
}

/**
 * `*.localhost` does not resolve in Node here: talk to the router on loopback with a Host
 * header (node:http, since fetch does not let a caller set Host).
 */
export function throughRouter(host: string, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${ROUTER_URL}${urlPath}`, { headers: { host }, agent: keepAlive, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('router request timed out')));
    req.on('error', reject);
  });
}

/** A git repository on disk holding a dependency-free Node app that answers `text` (after `?ms=N` milliseconds and from which pod, if asked). */
export class AppRepository {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'paas-e2e-repo-'));

  constructor() {
    this.git('init', '--quiet', '--initial-branch=main');
    this.git('config', 'user.email', 'e2e@paas.test');
    this.git('config', 'user.name', 'e2e');
  }

  /** Commits a server answering `text`; answers the commit's id. */
  commitServer(text: string): string {
    writeFileSync(path.join(this.dir, 'package.json'), JSON.stringify({ name: 'hello', version: '1.0.0', main: 'server.js' }, null, 2));
    writeFileSync(
      path.join(this.dir, 'server.js'),
      // `/?ms=N` answers after N ms, naming the pod (its hostname): a request still in flight when
      // its pod is drained. No SIGTERM handler: the process ends at once, as many apps do.
      [
        `const text = ${JSON.stringify(text)};`,
        `require('node:http').createServer((req, res) => {`,
        `  const slow = new URL(req.url, 'http://app').searchParams.get('ms');`,
        `  if (slow) setTimeout(() => res.end(text + ' from ' + require('node:os').hostname()), Number(slow)); else res.end(text);`,
        `}).listen(process.env.PORT || 8080);`,
        '',
      ].join('\n'),
    );
    return this.commitAll(`serve ${text}`);
  }

  commitFile(name: string, content: string): string {
    writeFileSync(path.join(this.dir, name), content);
    return this.commitAll(`add ${name}`);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private commitAll(message: string): string {
    this.git('add', '-A');
    this.git('commit', '--quiet', '-m', message);
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: this.dir, encoding: 'utf8' }).trim();
  }

  private git(...args: string[]): void {
    execFileSync('git', args, { cwd: this.dir, stdio: 'ignore' });
  }
}

/** The containers of a namespace's pods on one engine (`engine`: the docker CLI's arguments to reach it). */
export const containersOn = (engine: string[], namespace: string) =>
  execFileSync('docker', [...engine, 'ps', '-aq', '--filter', `label=paas.dev/namespace=${namespace}`], { encoding: 'utf8' }).trim();

/** The containers of a namespace's pods, on every node's engine. */
export const containersIn = (namespace: string) =>
  engineArguments()
    .map((engine) => containersOn(engine, namespace))
    .join(' ')
    .trim();

/** The images one build made, on one engine (built there, or pulled by a pod). */
export const builtImages = (engine: string[], namespace: string, build: string) => [
  ...new Set(execFileSync('docker', [...engine, 'images', '-q', '--filter', `label=paas.dev/build=${namespace}.${build}`], { encoding: 'utf8' }).split('\n').filter(Boolean)),
];

/** Deletes the namespace through the API and waits for its pods' containers to go. */
export async function deleteNamespace(namespace: string): Promise<void> {
  await api().delete(`/api/v1/namespaces/${namespace}`);
  await eventually(`the containers of ${namespace} to be gone`, async () => (containersIn(namespace) === '' ? true : undefined), 30_000);
}

/**
 * The docker CLI's arguments for each engine of the running platform (`.paas/run/nodes.json`;
 * the host's alone when there is none): none for the host's socket, `-H` and the node's TLS
 * files for another node.
 */
export function engineArguments(): string[][] {
  const file = path.join(loadConfig().home, 'run', 'nodes.json');
  let nodes: { engineUrl: string; tlsDir?: string }[];
  try {
    nodes = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [[]];
  }
  return nodes.map(({ engineUrl, tlsDir }) => engineArgumentsFor(engineUrl, tlsDir));
}

/** The docker CLI's arguments to reach one engine: none for the host's socket (no TLS files), else `-H` and the TLS files. */
export function engineArgumentsFor(url: string, tlsDir?: string): string[] {
  return tlsDir ? ['-H', url, '--tlsverify', `--tlscacert=${tlsDir}/ca.pem`, `--tlscert=${tlsDir}/cert.pem`, `--tlskey=${tlsDir}/key.pem`] : [];
}

/** Removes the images the platform built for these builds (labelled by the build-service), on every node: built there or pulled by its pods. */
export function removeBuiltImages(namespace: string, builds: string[]): void {
  for (const engine of engineArguments()) {
    for (const build of builds) {
      const ids = builtImages(engine, namespace, build);
      if (ids.length) execFileSync('docker', [...engine, 'rmi', '-f', ...ids], { stdio: 'ignore' });
    }
  }
}

/** Runs `command` (its stdin `input`, when given), answering its stdout; a non-zero exit rejects with its stderr. */
export async function run(command: string, args: string[], input?: string): Promise<string> {
  const child = promisify(execFile)(command, args, { maxBuffer: 16 << 20 });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}

export function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 8);
}
