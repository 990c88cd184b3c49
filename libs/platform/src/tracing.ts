import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Context } from '@opentelemetry/api';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { loadConfig } from './config';

let sdk: NodeSDK | undefined;

/** A credential carried in a URL path: a build webhook's secret (`/webhooks/{secret}/{type}`). */
const SECRET_IN_PATH = /(\/webhooks\/)[^/?#\s]+/g;

/** `text` (a URL or a path) with any credential in its path replaced: what audit records and traces may show. */
export function redactUrlSecrets(text: string): string {
  return text.replace(SECRET_IN_PATH, '$1<redacted>');
}

/**
 * Passes ended spans on with the credentials in their URL attributes redacted: the http and
 * Nest instrumentations record the request's URL (`http.target`, `http.url`, `url.path`, ...)
 * as received, and a span exported to Zipkin is readable by anyone with the dashboard.
 */
export class RedactingSpanProcessor implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}

  onStart(span: Span, parentContext: Context): void {
    this.next.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    const attributes = span.attributes as Record<string, unknown>;
    for (const [key, value] of Object.entries(attributes)) {
      if (typeof value === 'string' && value.includes('/webhooks/')) attributes[key] = redactUrlSecrets(value);
    }
    this.next.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

/**
 * The user agent of requests made on a timer, not on anyone's behalf (readiness probes): they
 * are not traced. A span per probe per second per pod would be most of an idle platform's
 * CPU (each is made, batched and posted to Zipkin) and would bury the traces of real work.
 */
export const UNTRACED_USER_AGENT = 'paas-probe/1.0';

/** Whether undici's instrumentation leaves this outgoing request alone: it carries UNTRACED_USER_AGENT. */
export function isUntracedRequest(request: { headers: string | (string | string[])[] }): boolean {
  const headers = Array.isArray(request.headers) ? request.headers.flat().join('\n') : request.headers;
  return headers.toLowerCase().includes(UNTRACED_USER_AGENT);
}

export interface TracingOptions {
  /**
   * Instrument Node's http server and undici (true): every HTTP request in and out is a
   * span. The router turns it off: the instrumentation wraps every listener of every request
   * even when it makes no span (~45 µs of CPU per proxied request), so its data plane traces
   * by hand, and only requests that arrive inside a trace.
   */
  http?: boolean;
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
      ? [new RedactingSpanProcessor(new BatchSpanProcessor(new ZipkinExporter({ url: zipkinUrl, serviceName }), { scheduledDelayMillis: 500 }))]
      : [],
    instrumentations: [
      ...(options.http === false
        ? []
        : [
            new HttpInstrumentation({
              ignoreIncomingRequestHook: (req) => ignoredPaths.has((req.url ?? '').split('?')[0]),
              // The exporter's own posts to Zipkin would otherwise trace themselves.
              ignoreOutgoingRequestHook: (req) => String(req.path ?? '').startsWith('/api/v2/spans'),
              // A call outside any trace is housekeeping (each node's engine pinged every second
              // by the node monitor, through dockerode): a trace of one span each, noise in the
              // dashboard and a cost at rest. Calls made for a request or a reconcile are kept.
              requireParentforOutgoingSpans: true,
            }),
            new UndiciInstrumentation({ ignoreRequestHook: isUntracedRequest, requireParentforSpans: true }),
          ]),
      new NestInstrumentation(),
      new MongoDBInstrumentation(),
    ],
  });
  sdk.start();
}

export async function stopTracing(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}
