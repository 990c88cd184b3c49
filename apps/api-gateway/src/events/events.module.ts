import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { storedResourceSchema } from '@paas/platform/resource-repository';
import { EventRecorder } from './event-recorder';
import { EVENTS_COLLECTION, EventRepository } from './event.repository';
import { EventsController } from './events.controller';
import { ReadEvents } from './read-events.usecase';
import { RecordEvent } from './record-event.usecase';
import { RemoveEvents } from './remove-events.usecase';

/** Kubernetes Events: recorded from the domain events, served read-only, pruned, and removed with their namespace. */
@Module({
  imports: [MongooseModule.forFeature([{ name: EVENTS_COLLECTION, schema: storedResourceSchema(EVENTS_COLLECTION) }])],
  controllers: [EventsController],
  providers: [EventRepository, RecordEvent, RemoveEvents, ReadEvents, EventRecorder],
  exports: [RemoveEvents],
})
export class EventsModule {}
