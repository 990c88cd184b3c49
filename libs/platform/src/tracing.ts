import type { IncomingMessage } from 'node:http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { loadConfig } from './config';

let sdk: NodeSDK | undefined;

export interface TracingOptions {
  /**
   * Whether an incoming request is traced (health probes never are). The router traces its
   * data plane only for requests that arrive inside a trace (`traceparent`), so the hot
   * path costs no spans for everybody else.
   */
  traceIncoming?: (request: IncomingMessage) => boolean;
}

/**
 * Starts the OpenTelemetry SDK. Call it from a module imported first in `main.ts`, before
 * http, NestJS or mongodb are loaded, so their instrumentation patches take hold.
 */
export function startTracing(serviceName: string, options: TracingOptions = {}): void {
  if (sdk) return;
  const { zipkinUrl } = loadConfig();
  const ignoredPaths = new Set(['/healthz', '/readyz', '/metrics']);
  sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    spanProcessors: zipkinUrl
      ? [new BatchSpanProcessor(new ZipkinExporter({ url: zipkinUrl, serviceName }), { scheduledDelayMillis: 500 })]
      : [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => ignoredPaths.has((req.url ?? '').split('?')[0]) || (options.traceIncoming !== undefined && !options.traceIncoming(req)),
        // The exporter's own posts to Zipkin would otherwise trace themselves.
        ignoreOutgoingRequestHook: (req) => String(req.path ?? '').startsWith('/api/v2/spans'),
      }),
      new NestInstrumentation(),
      new MongoDBInstrumentation(),
      // A client call outside any trace (a proxied request nobody traces) makes no span.
      new UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
  sdk.start();
}

export async function stopTracing(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}
