// A tiny app without any registry or build: busybox-static's httpd on 8080 (or a shell
// command), `docker import`ed into the host's engine by the platform's test helper
// (libs/platform's buildWebImage, from its build), and the DeploymentConfig, Service and Route
// that run it on the node `local`, every object labelled `paas.dev/bench=<bench>`.
import { createRequire } from 'node:module';
import { REPO } from '../../scripts/lib/config.mjs';

const { buildWebImage } = createRequire(import.meta.url)(`${REPO}/libs/platform/dist/testing.js`);

/** Imports an image of a few hundred kB serving `page` at `/` (or running the shell `command`), labelled `label` (`key=value`). */
export function importTinyImage(image, { label, page = 'ok\n', command }) {
  buildWebImage(image, page, [`LABEL ${label}`], command);
}

/** A DeploymentConfig `name` of `image` on the host's engine, readiness-probed on `/` with the platform's defaults. */
export const dcBody = (bench, name, image, replicas) => ({
  metadata: { name, labels: { app: name, 'paas.dev/bench': bench } },
  spec: {
    replicas,
    selector: { deploymentconfig: name },
    template: {
      metadata: { labels: { app: name, deploymentconfig: name, 'paas.dev/bench': bench } },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': 'local' },
        containers: [
          { name: 'web', image, ports: [{ containerPort: 8080 }], resources: { limits: { memoryBytes: 16 << 20 } }, readinessProbe: { httpGet: { path: '/', port: 8080 } } },
        ],
      },
    },
    triggers: [{ type: 'ConfigChange' }],
    strategy: { type: 'Rolling', rollingParams: { maxSurge: 1, maxUnavailable: 0, timeoutSeconds: 600 } },
  },
});

export const serviceBody = (bench, name) => ({ metadata: { name, labels: { 'paas.dev/bench': bench } }, spec: { selector: { deploymentconfig: name }, ports: [{ port: 8080, targetPort: 8080 }] } });

export const routeBody = (bench, name) => ({ metadata: { name, labels: { 'paas.dev/bench': bench } }, spec: { to: { kind: 'Service', name } } });
