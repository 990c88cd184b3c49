import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** What the deploy-service tests label their images with, so that they can be removed afterwards. */
export const TEST_LABEL = 'paas.dev/test=deploy';

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** A tiny image without any registry: busybox-static, its httpd on 8080, and one page saying `text`. */
export function buildImage(tag: string, text: string): void {
  const root = mkdtempSync(path.join(tmpdir(), 'paas-deploy-it-'));
  try {
    mkdirSync(path.join(root, 'bin'));
    mkdirSync(path.join(root, 'www'));
    copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
    symlinkSync('busybox', path.join(root, 'bin/sh'));
    writeFileSync(path.join(root, 'www/index.html'), text);
    const tar = path.join(root, '..', `${path.basename(root)}.tar`);
    execFileSync('tar', ['-C', root, '-cf', tar, '.']);
    docker('import', '--change', `LABEL ${TEST_LABEL}`, '--change', 'CMD ["/bin/busybox","httpd","-f","-p","8080","-h","/www"]', tar, tag);
    rmSync(tar, { force: true });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A DeploymentConfig `web` of `image`, probed on `/`, rolled out on config changes. */
export function dcBody(image: string, replicas = 1) {
  return {
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { deploymentconfig: 'web' },
      template: {
        metadata: { labels: { app: 'web', deploymentconfig: 'web', 'paas.dev/test': 'deploy' } },
        spec: {
          containers: [
            {
              name: 'web',
              image,
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 0.2, timeoutSeconds: 1, failureThreshold: 3 },
            },
          ],
        },
      },
      triggers: [{ type: 'ConfigChange' }],
      strategy: { type: 'Rolling', rollingParams: { maxSurge: 1, maxUnavailable: 0, timeoutSeconds: 120 } },
    },
  };
}

export const SERVICE_BODY = { metadata: { name: 'web' }, spec: { selector: { deploymentconfig: 'web' }, ports: [{ port: 8080, targetPort: 8080 }] } };
