import type { NewAppRequest } from '@paas/contracts/apps';
import { builderRefOfName, type BuildConfigInput, type DetectedStrategy } from '@paas/contracts/builds';
import type { DeploymentConfigInput, ServiceInput } from '@paas/contracts/deployments';
import type { ImageStreamInput } from '@paas/contracts/images';
import { parseByteQuantity } from '@paas/contracts/namespaces';
import { parseCpuQuantity } from '@paas/contracts/quotas';
import type { RouteBody } from '@paas/contracts/routes';
import { randomBytes } from 'node:crypto';

export interface AppManifests {
  imagestreams: ImageStreamInput;
  services: ServiceInput;
  routes: RouteBody;
  deploymentconfigs: DeploymentConfigInput;
  buildconfigs: BuildConfigInput;
}

/** Readiness once a pod has been Ready (Kubernetes' default); until then the deploy-service probes every 250 ms, so a new pod takes traffic soon after it answers. */
const READINESS_PERIOD_SECONDS = 10;
const OUTPUT_TAG = 'latest';

/** 120 random bits, URL-safe: the part of a webhook's URL that lets its caller start builds. */
function webhookSecret(): string {
  return randomBytes(15).toString('base64url');
}

/**
 * What `oc new-app` makes of a repository and how to build it (a builder, or its Dockerfile):
 * a BuildConfig that builds into an ImageStream tag, a DeploymentConfig triggered by that tag,
 * a Service over its pods and a Route to the Service, all labelled `app=<name>`.
 */
export function appManifests(app: NewAppRequest, build: DetectedStrategy): AppManifests {
  const labels = { app: app.name };
  const metadata = { name: app.name, labels };
  const selector = { deploymentconfig: app.name };
  const imageStreamTag = { kind: 'ImageStreamTag' as const, name: `${app.name}:${OUTPUT_TAG}` };
  const builder = build.type === 'Source' ? builderRefOfName(build.builder) : undefined;
  return {
    imagestreams: { metadata, spec: { tags: [] } },
    services: { metadata, spec: { selector, ports: [{ name: 'http', port: app.port, targetPort: app.port }] } },
    routes: { metadata, spec: { host: app.route.host, path: '/', to: { kind: 'Service', name: app.name } } },
    deploymentconfigs: {
      metadata,
      spec: {
        replicas: app.replicas,
        selector,
        template: {
          metadata: { labels: { ...labels, ...selector } },
          spec: {
            containers: [
              {
                name: app.name,
                image: '',
                env: app.env,
                ports: [{ containerPort: app.port, protocol: 'TCP' }],
                ...resourcesOf(app),
                readinessProbe: {
                  httpGet: { path: app.readinessPath, port: app.port },
                  initialDelaySeconds: 0,
                  periodSeconds: READINESS_PERIOD_SECONDS,
                  timeoutSeconds: 1,
                  failureThreshold: 3,
                },
              },
            ],
          },
        },
        triggers: [
          { type: 'ImageChange', imageChangeParams: { automatic: true, containerNames: [app.name], from: imageStreamTag } },
          { type: 'ConfigChange' },
        ],
        strategy: { type: 'Rolling', rollingParams: { maxSurge: 1, maxUnavailable: 0, timeoutSeconds: 600 } },
        paused: false,
        progressDeadlineSeconds: 60,
        minReadySeconds: 0,
        revisionHistoryLimit: 10,
      },
    },
    buildconfigs: {
      metadata,
      spec: {
        source: app.source.git
          ? { type: 'Git', git: { uri: app.source.git, ref: app.source.ref }, contextDir: app.source.contextDir }
          : { type: 'Binary', binary: app.source.binary, contextDir: app.source.contextDir },
        strategy: builder
          ? { type: 'Source', sourceStrategy: { from: builder, env: [], incremental: false } }
          : { type: 'Docker', dockerStrategy: { dockerfilePath: 'Dockerfile', buildArgs: [], noCache: false } },
        output: { to: imageStreamTag },
        // As `oc new-app` does: a webhook for GitHub and a generic one, each with a secret of its own,
        // and a new image of a builder stream tag rebuilds; none for a binary app, which builds when files are uploaded.
        triggers: app.source.git
          ? [{ type: 'ConfigChange' }, ...(builder?.kind === 'ImageStreamTag' ? [{ type: 'ImageChange' as const, imageChange: {} }] : []), { type: 'GitHub', secret: webhookSecret() }, { type: 'Generic', secret: webhookSecret() }]
          : [],
        runPolicy: 'Serial',
        successfulBuildsHistoryLimit: 5,
        failedBuildsHistoryLimit: 5,
        completionDeadlineSeconds: 1800,
      },
    },
  };
}

/** new-app's `limits` in the DeploymentConfig's terms (bytes and millicores); nothing when it sets none. */
function resourcesOf(app: NewAppRequest) {
  const memoryBytes = app.limits?.memory === undefined ? undefined : parseByteQuantity(app.limits.memory);
  const cpuMillis = app.limits?.cpu === undefined ? undefined : parseCpuQuantity(app.limits.cpu);
  if (memoryBytes === undefined && cpuMillis === undefined) return {};
  return { resources: { limits: { ...(memoryBytes === undefined ? {} : { memoryBytes }), ...(cpuMillis === undefined ? {} : { cpuMillis }) } } };
}
