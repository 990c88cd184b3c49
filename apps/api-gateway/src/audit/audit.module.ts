import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import { AUDIT_COLLECTION, AuditEventRepository, auditEventSchema } from './audit-event.repository';
import { AuditTrail } from './audit-trail';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';

@Module({
  imports: [MongooseModule.forFeature([{ name: AUDIT_COLLECTION, schema: auditEventSchema }])],
  controllers: [AuditController],
  providers: [AuditEventRepository, AuditTrail, { provide: APP_INTERCEPTOR, useClass: AuditInterceptor }],
  exports: [AuditTrail],
})
export class AuditModule {}
