import { Injectable, Logger } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { ANONYMOUS } from '@paas/contracts/auth';
import type { FastifyRequest } from 'fastify';
import { principalOf } from '../auth/principal';
import { AuditEventRepository } from './audit-event.repository';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Writes the audit events of calls that change (or try to change) something, with who made them. */
@Injectable()
export class AuditTrail {
  private readonly logger = new Logger(AuditTrail.name);

  constructor(private readonly audit: AuditEventRepository) {}

  records(request: FastifyRequest): boolean {
    return MUTATING.has(request.method);
  }

  /** A failure to record is logged and never fails the call. */
  async record(request: FastifyRequest, statusCode: number, traceId = trace.getActiveSpan()?.spanContext().traceId): Promise<void> {
    if (!this.records(request)) return;
    const path = request.url.split('?')[0];
    const namespace = /^\/api\/v1\/namespaces\/([^/]+)/.exec(path)?.[1];
    const user = principalOf(request)?.name ?? ANONYMOUS;
    await this.audit
      .record({ time: new Date().toISOString(), method: request.method, path, namespace, statusCode, user, traceId })
      .catch((error: Error) => this.logger.error({ msg: `audit record failed: ${error.message}` }));
  }
}
