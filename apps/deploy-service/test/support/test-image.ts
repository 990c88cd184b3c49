import { buildWebImage } from '@paas/platform/testing';
import { execFileSync } from 'node:child_process';

/** What the deploy-service tests label their images with, so that they can be removed afterwards. */
export const TEST_LABEL = 'paas.dev/test=deploy';

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** A tiny image without any registry: busybox-static, its httpd on 8080, and one page saying `text`. */
export function buildImage(tag: string, text: string, command?: string): void {
  buildWebImage(tag, text, [`LABEL ${TEST_LABEL}`], command);
}

/**
 * A DeploymentConfig `web` of `image`, probed on `/`, rolled out on config changes; on the
 * host's own engine (node `local`), where the test built its image (no registry has it).
 */
export function dcBody(image: string, replicas = 1) {
  return {
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { deploymentconfig: 'web' },
      template: {
        metadata: { labels: { app: 'web', deploymentconfig: 'web', 'paas.dev/test': 'deploy' } },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': 'local' },
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
