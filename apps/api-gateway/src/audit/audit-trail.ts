import { Injectable, Logger } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { ANONYMOUS } from '@paas/contracts/auth';
import type { FastifyRequest } from 'fastify';
import { redactUrlSecrets } from '@paas/platform/tracing';
import { principalOf } from '../auth/principal';
import { AuditEventRepository, type AuditReason } from './audit-event.repository';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Writes the audit events of calls that change (or try to change) something, with who made them. */
@Injectable()
export class AuditTrail {
  private readonly logger = new Logger(AuditTrail.name);
  /** Requests whose event is written already (a refused login): the guard and interceptor do not write another. */
  private readonly recorded = new WeakSet<FastifyRequest>();

  constructor(private readonly audit: AuditEventRepository) {}

  records(request: FastifyRequest): boolean {
    return MUTATING.has(request.method) && !this.recorded.has(request);
  }

  /** A failure to record is logged and never fails the call. */
  async record(request: FastifyRequest, statusCode: number, traceId = trace.getActiveSpan()?.spanContext().traceId): Promise<void> {
    if (!this.records(request)) return;
    await this.write(request, { statusCode, user: principalOf(request)?.name ?? ANONYMOUS, traceId });
  }

  /** A password check that failed or was refused, whatever the method: who it was tried for, from where. */
  async recordLogin(request: FastifyRequest, outcome: { user: string; statusCode: number; reason: AuditReason }): Promise<void> {
    this.recorded.add(request);
    await this.write(request, { ...outcome, user: outcome.user.slice(0, 253) });
  }

  private async write(request: FastifyRequest, event: { statusCode: number; user: string; reason?: AuditReason; traceId?: string }): Promise<void> {
    const path = redactUrlSecrets(request.url.split('?')[0]);
    const namespace = /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)\/namespaces\/([^/]+)/.exec(path)?.[1];
    const traceId = event.traceId ?? trace.getActiveSpan()?.spanContext().traceId;
    await this.audit
      .record({ time: new Date().toISOString(), method: request.method, path, namespace, sourceIP: request.ip, ...event, traceId })
      .catch((error: Error) => this.logger.error({ msg: `audit record failed: ${error.message}` }));
  }
}
