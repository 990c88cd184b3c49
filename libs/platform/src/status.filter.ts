import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import { failureStatus, STATUS_REASONS, type Status, type StatusReason } from '@paas/contracts/status';
import { ApiError } from './api-error';

const REASON_OF_CODE = new Map<number, StatusReason>(
  (Object.entries(STATUS_REASONS) as [StatusReason, number][]).reverse().map(([reason, code]) => [code, reason]),
);

/**
 * Renders every error of an HTTP service as a Kubernetes `Status`: ApiErrors as they are,
 * framework errors (bad JSON, body too large, unknown route) with their 4xx, anything else
 * as a 500 that hides internals and is logged.
 */
@Catch()
export class StatusExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('StatusExceptionFilter');

  catch(error: unknown, host: ArgumentsHost) {
    const status = this.toStatus(error);
    if (status.code >= 500) this.logger.error(error instanceof Error ? error : String(error));
    const reply = host.switchToHttp().getResponse();
    const retryAfter = status.details?.retryAfterSeconds;
    // Fastify replies have `.code()`, Express responses `.status()`.
    if (typeof reply.code === 'function') {
      if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
      reply.code(status.code).header('content-type', 'application/json').send(status);
    } else {
      if (retryAfter !== undefined) reply.setHeader('retry-after', String(retryAfter));
      reply.status(status.code).json(status);
    }
  }

  private toStatus(error: unknown): Status {
    if (error instanceof ApiError) return error.status;
    const code = httpCodeOf(error);
    if (code && code < 500) {
      const reason = REASON_OF_CODE.get(code) ?? 'BadRequest';
      return failureStatus(reason, messageOf(error));
    }
    return failureStatus('InternalError', 'an internal error occurred; see the service log');
  }
}

function httpCodeOf(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  const candidate = error as { statusCode?: unknown; status?: unknown };
  const code = Number(candidate?.statusCode ?? candidate?.status);
  return Number.isInteger(code) && code >= 400 && code < 600 ? code : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof HttpException) {
    const response = error.getResponse();
    if (typeof response === 'object' && response && 'message' in response) {
      const message = (response as { message: unknown }).message;
      return Array.isArray(message) ? message.join('; ') : String(message);
    }
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
