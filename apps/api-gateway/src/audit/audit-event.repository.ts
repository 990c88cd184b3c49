import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Schema, type Model } from 'mongoose';

export const AUDIT_COLLECTION = 'auditevents';

/** One API call that changed, or tried to change, something. No bodies: they may hold secrets. */
export interface AuditEvent {
  time: string;
  method: string;
  path: string;
  namespace?: string;
  statusCode: number;
  /** The caller; for a failed or refused login, the user name it was tried for. */
  user: string;
  /** The client's address, as the socket saw it (proxies are not trusted). */
  sourceIP?: string;
  /** Set on password checks: `LoginFailed` (wrong user name or password), `LoginThrottled` (refused: too many failures). */
  reason?: AuditReason;
  traceId?: string;
}

export type AuditReason = 'LoginFailed' | 'LoginThrottled';

export const auditEventSchema = new Schema<AuditEvent>(
  {
    time: { type: String, required: true },
    method: { type: String, required: true },
    path: { type: String, required: true },
    namespace: { type: String },
    statusCode: { type: Number, required: true },
    user: { type: String, required: true },
    sourceIP: { type: String },
    reason: { type: String },
    traceId: { type: String },
  },
  { collection: AUDIT_COLLECTION, versionKey: false },
);
auditEventSchema.index({ namespace: 1, time: -1 });

@Injectable()
export class AuditEventRepository {
  constructor(@InjectModel(AUDIT_COLLECTION) private readonly model: Model<AuditEvent>) {}

  async record(event: AuditEvent): Promise<void> {
    await this.model.create(event);
  }

  /** Newest first. */
  async list(filter: { namespace?: string; limit: number }): Promise<AuditEvent[]> {
    const query = filter.namespace ? { namespace: filter.namespace } : {};
    return this.model.find(query, { _id: 0 }).sort({ time: -1 }).limit(filter.limit).lean<AuditEvent[]>().exec();
  }
}
