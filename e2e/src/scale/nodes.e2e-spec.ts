import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { buildWebImage, eventually } from '@paas/platform/testing';
import { assertFree, PrivateCopy } from './support';

/**
 * One extra Docker engine, started by the code `npm run up --nodes 2` uses
 * (scripts/lib/nodes.mjs) on a node network of its own (10.249, not up's 10.250), beside a
 * registry-service that also listens on the host end of the node's veth. Through its
 * TLS-verified socket the engine pulls an image pushed to that registry, runs it publishing a
 * port on the node's address, and the host reaches the container there; a client without
 * the platform's certificate is turned away.
 */
const OFFSET = 23_000;
const REGISTRY = 5000 + OFFSET;
const TEXT = 'served from node-1';

interface NodeEntry {
  name: string;
  engineUrl: string;
  tlsDir?: string;
  hostIP: string;
  registryHost: string;
}

function run(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout.trim());
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('an extra Docker engine as a node', () => {
  const copy = new PrivateCopy('nodes', { PAAS_PORT_OFFSET: String(OFFSET), PAAS_NODE_NET: '10.249', REGISTRY_AUTH: 'none' });
  const repository = `nodes-${copy.dbPrefix.slice(-8)}/web`;
  const pushed = `127.0.0.1:${REGISTRY}/${repository}:1`;
  let node: NodeEntry;
  let docker: string[] = [];

  beforeAll(async () => {
    await assertFree([REGISTRY, REGISTRY + 1]);
    await copy.upStep('start-nodes', '2');
    const nodes = JSON.parse(readFileSync(path.join(copy.home, 'run', 'nodes.json'), 'utf8')) as NodeEntry[];
    node = nodes.find((entry) => entry.name === 'node-1') as NodeEntry;
    const tls = node.tlsDir as string;
    docker = ['-H', node.engineUrl, '--tlsverify', `--tlscacert=${tls}/ca.pem`, `--tlscert=${tls}/cert.pem`, `--tlskey=${tls}/key.pem`];
    await copy.upStep('start-services', JSON.stringify({ 'registry-service': 1 }), JSON.stringify({ 'registry-service': { PAAS_EXTRA_LISTEN: node.registryHost.split(':')[0] } }));
  });

  afterAll(async () => {
    if (docker.length > 0) await run('docker', [...docker, 'rm', '-f', 'web']).catch(() => undefined);
    await copy.upStep('stop-services');
    await copy.upStep('stop-nodes');
    await run('docker', ['rmi', pushed]).catch(() => undefined);
    await copy.remove(['paas_registry']);
  });

  it('pulls from the platform registry over its veth, serves on its own address, and refuses clients without the certificate', async () => {
    expect(node).toMatchObject({ engineUrl: 'tcp://10.249.1.2:2376', hostIP: '10.249.1.2', registryHost: `10.249.1.1:${REGISTRY}` });
    buildWebImage(pushed, TEXT);
    await run('docker', ['push', pushed]);

    const fromNode = `${node.registryHost}/${repository}:1`;
    await run('docker', [...docker, 'pull', fromNode]);
    await run('docker', [...docker, 'run', '-d', '--name', 'web', '-p', `${node.hostIP}::8080`, fromNode]);
    const published = await run('docker', [...docker, 'port', 'web', '8080']);
    expect(published).toMatch(new RegExp(`^${node.hostIP.replace(/\./g, '\\.')}:\\d+$`));
    expect(await eventually('the container to answer on the node address', async () => httpGet(`http://${published}/`).catch(() => undefined), 20_000, 200)).toBe(TEXT);

    const withoutCertificate = ['-H', node.engineUrl, '--tlsverify', `--tlscacert=${node.tlsDir}/ca.pem`, 'version', '--format', '{{.Server.Version}}'];
    await expect(run('docker', withoutCertificate)).rejects.toThrow(/bad certificate/);
    await expect(run('docker', ['-H', node.engineUrl, 'version', '--format', '{{.Server.Version}}'])).rejects.toThrow();
  });
});
