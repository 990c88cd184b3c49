import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/**
 * A Docker engine pushing for a client forwards the client's User-Agent inside its own, as
 * `... UpstreamClient(<client UA>)` (with `(`, `)`, `;` and `\` backslash-escaped). A client
 * that puts `traceparent/<W3C traceparent>` in its User-Agent thus reaches us through the
 * engine, which sends no trace headers of its own.
 */
const TRACEPARENT_IN_USER_AGENT = /traceparent\/(00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})/;

const tracer = trace.getTracer('paas-registry');

/** The W3C traceparent a request carries in its User-Agent, if any. */
export function traceparentInUserAgent(userAgent: string | undefined): string | undefined {
  return userAgent ? TRACEPARENT_IN_USER_AGENT.exec(userAgent)?.[1] : undefined;
}

/** The context whose remote parent is `traceparent`, or undefined when it is not a valid one. */
export function contextOfTraceparent(traceparent: string): Context | undefined {
  const match = TRACEPARENT.exec(traceparent);
  if (!match) return undefined;
  const spanContext = { traceId: match[1], spanId: match[2], traceFlags: parseInt(match[3], 16) & TraceFlags.SAMPLED, isRemote: true };
  if (!trace.isSpanContextValid(spanContext)) return undefined;
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}

/**
 * Runs `work` in a span of its own. Its parent is the request's `traceparent` header (which
 * the HTTP instrumentation has already made the active context), else a traceparent in the
 * User-Agent (a Docker engine pushing for a client), else the active context.
 */
export function inClientTrace<T>(headers: { traceparent?: string | string[]; 'user-agent'?: string }, name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  const fromUserAgent = headers.traceparent ? undefined : traceparentInUserAgent(headers['user-agent']);
  const parent = (fromUserAgent && contextOfTraceparent(fromUserAgent)) || context.active();
  // The HTTP server span began a trace of its own: link it, so one trace leads to the other.
  const httpSpan = trace.getSpanContext(context.active());
  const links = fromUserAgent && httpSpan ? [{ context: httpSpan }] : [];
  const kind = fromUserAgent ? SpanKind.SERVER : SpanKind.INTERNAL;
  return tracer.startActiveSpan(name, { kind, attributes, links }, parent, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
